"""The three roles as data: which model permissions each group holds (docs/spec.md §7).

`sync_roles` makes the groups match this table exactly; the data migration and the `sync_roles`
command both call it, so editing a group in the admin can always be undone.
"""

from __future__ import annotations

MANAGER = "scheduling_manager"
BOOKER = "scheduling_booker"
VIEWER = "scheduling_viewer"

MODELS = ("resourcetype", "resource", "customer", "booking", "availability", "scheduleexception")
# A subscription's URL and a feed's token are secrets: managers only (docs/spec.md §16).
MANAGER_ONLY_MODELS = ("calendarsubscription", "resourcefeed")
ALL_ACTIONS = ("view", "add", "change", "delete")

# Webhook receivers see every booking: managers only.
WEBHOOKS = {f"{action}_webhookendpoint" for action in ALL_ACTIONS} | {"view_webhookdelivery", "change_webhookdelivery"}
# The e-mail outbox is read-only for everyone; "change" is the resend action.
OUTBOX_READ = {"view_notification", "view_reminder"}
OUTBOX_RESEND = {"change_notification"}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    MANAGER: {f"{action}_{model}" for model in MODELS + MANAGER_ONLY_MODELS for action in ALL_ACTIONS}
    | {"override_availability", "approve_booking", "manage_schedule", "book_resource"}
    | OUTBOX_READ
    | OUTBOX_RESEND
    | WEBHOOKS,
    BOOKER: {f"view_{model}" for model in MODELS}
    | {"add_booking", "change_booking", "add_customer", "change_customer", "book_resource"}
    | OUTBOX_READ
    | OUTBOX_RESEND,
    VIEWER: {f"view_{model}" for model in MODELS} | OUTBOX_READ,
}


def sync_roles(apps=None, *, strict: bool = True) -> dict[str, int]:
    """Create the groups and set their permissions to exactly the table above; idempotent.

    Migrations pass strict=False: an early migration runs before later models (and their
    permissions) exist, and the migration that adds them syncs again.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    # In a fresh migration run the permissions do not exist yet (post_migrate creates them later).
    create_permissions(global_apps.get_app_config("scheduling"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    counts = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(Permission.objects.filter(content_type__app_label="scheduling", codename__in=codenames))
        missing = codenames - {p.codename for p in permissions}
        if missing and strict:
            raise LookupError(f"Unknown permissions for {name}: {sorted(missing)}")
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts

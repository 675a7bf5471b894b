"""Admin: the e-mail outbox, read-only, so staff can answer "did the customer get the e-mail?".

Rows are written and sent only by `scheduling.services.notifications`; the one verb here is resend.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from scheduling.admin.permissions import LayeredPermissionAdmin
from scheduling.models import Booking, Notification, Reminder
from scheduling.permissions import can
from scheduling.services.notifications import notification_resend


class OutboxRowAdmin(LayeredPermissionAdmin):
    """An outbox's rows (notices, reminders, webhook deliveries): written by their services only,
    read here; deleted only along with what they belong to (`deleted_with`, the model whose delete
    right also deletes them, or the admin's delete collector would refuse it)."""

    deleted_with: type = Booking

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return can(request.user, "delete", model=self.deleted_with)

    def get_actions(self, request):
        # Read-only lists all the same: no bulk delete of rows on their own.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Notification)
class NotificationAdmin(OutboxRowAdmin):
    list_display = [
        "id",
        "booking_id",
        "event",
        "recipient_list",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "delivery_summary",
    ]
    list_filter = ["state", "event"]
    search_fields = ["recipients", "subject", "=booking__id"]
    date_hierarchy = "created_at"
    list_select_related = False  # the list shows booking_id, not the booking: no join needed
    actions = ["resend"]
    readonly_fields = [
        "booking", "event", "sequence", "recipient_lines", "subject", "state", "attempts", "last_error", "next_attempt_at",
        "sent_at", "esp_message_id", "delivery", "created_at", "updated_at", "text_body", "html_preview", "ics",
    ]  # fmt: skip

    @admin.display(description="recipients")
    def recipient_lines(self, notification: Notification) -> str:
        # Customer first (To), then the owner (Bcc), one per line.
        roles = ["to"] + ["bcc"] * (len(notification.recipients) - 1)
        return format_html(
            '<ul class="sched-recipients">{}</ul>',
            format_html_join("", "<li>{} <small>({})</small></li>", zip(notification.recipients, roles)),
        )

    @admin.display(description="HTML body")
    def html_preview(self, notification: Notification) -> str:
        # Rendered, but sandboxed: no script, no form, no navigation of this page; `srcdoc` is escaped.
        return format_html(
            '<iframe class="sched-mail-preview" sandbox="" srcdoc="{}" title="The e-mail as sent" '
            'style="width:100%;max-width:720px;height:420px;border:1px solid #ccc;background:#fff"></iframe>',
            notification.html_body,
        )

    @admin.display(description="recipients")
    def recipient_list(self, notification: Notification) -> str:
        return ", ".join(notification.recipients)

    @admin.display(description="delivery")
    def delivery_summary(self, notification: Notification) -> str:
        return ", ".join(f"{recipient}: {seen['event']}" for recipient, seen in notification.delivery.items()) or "—"

    @admin.action(description="Resend selected notices", permissions=["resend"])
    def resend(self, request, queryset):
        notices = list(queryset)
        with transaction.atomic():
            for notification in notices:
                notification_resend(notification=notification)
        self.message_user(
            request,
            ngettext("%d notice queued again.", "%d notices queued again.", len(notices)) % len(notices),
            messages.SUCCESS,
        )

    # Viewing follows the permission layer (view_notification); the outbox is written only by the
    # service, so nobody adds, edits or deletes rows here. Resending needs change_notification.
    def has_resend_permission(self, request) -> bool:
        return can(request.user, "change", model=Notification)



@admin.register(Reminder)
class ReminderAdmin(OutboxRowAdmin):
    """Reminders (docs/spec.md §15.3): read-only; planned and sent by `scheduling.services.reminders`."""

    list_display = ["id", "booking_id", "minutes_before", "state", "next_attempt_at", "attempts", "sent_at", "skipped"]
    list_filter = ["state"]
    search_fields = ["=booking__id"]
    readonly_fields = [
        "booking", "minutes_before", "state", "attempts", "last_error", "next_attempt_at", "sent_at", "skipped",
        "created_at", "updated_at",
    ]  # fmt: skip

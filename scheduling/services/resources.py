"""Resource writes with a rule beyond the row: the owner's schedule grant (docs/spec.md §7).

Resources are plain rows otherwise (the API's and the admin's generic model writes). The grant
follows ownership: the channels that can change an owner know the previous one from the row they
loaded, and tell `resource_owner_changed`, so a save costs no extra query to find it out.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from scheduling.models import Resource
from scheduling.permissions import SCHEDULE


def resource_owner_changed(*, resource: Resource, previous_owner_id: int | None) -> None:
    """Move the owner's `manage_schedule` grant from the previous owner to the current one."""
    if previous_owner_id == resource.owner_id:
        return
    if previous_owner_id is not None:
        previous = get_user_model().objects.filter(pk=previous_owner_id).first()
        if previous is not None:
            remove_perm(SCHEDULE, previous, resource)
    if resource.owner_id is not None:
        assign_perm(SCHEDULE, resource.owner, resource)


def resource_grants_drop(*, resource: Resource) -> None:
    # Guardian keys grants by a generic foreign key, which no database cascade reaches; a new
    # resource reusing the id must not inherit them.
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type__app_label="scheduling", content_type__model="resource", object_pk=str(resource.pk)).delete()

"""Resource writes with a rule beyond the row: the owner's schedule grant (docs/spec.md §7).

Resources are plain rows otherwise (the API's and the admin's generic model writes). The grant
follows ownership: the channels that can change an owner know the previous one from the row they
loaded, and tell `resource_owner_changed`, so a save costs no extra query to find it out.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from scheduling import engine
from scheduling.models import OCCUPYING, Booking, Resource
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


# --- Capacity (docs/spec.md §17.1) ------------------------------------------------------------------

CAPACITY_TOO_SMALL = "The resource's occupying bookings hold {load} unit(s) at {at}; the capacity cannot be less."
CAPACITY_QUANTITY = "An occupying booking holds {quantity} units; an exclusive resource (capacity 1) holds one per booking."


def resource_capacity_refusal(*, resource_id: int, capacity: int) -> None:
    """Raise ValidationError naming `capacity` if the occupying bookings of the resource would not
    fit in `capacity` units at some instant (a sweep over all of them), or nothing."""
    rows = Booking.objects.order_by().filter(OCCUPYING, resource_id=resource_id).values_list("occupied_start", "occupied_end", "quantity")
    loads = list(rows)
    if not loads:
        return
    if capacity == 1:
        largest = max(q for _, _, q in loads)
        if largest > 1:
            raise ValidationError({"capacity": CAPACITY_QUANTITY.format(quantity=largest)})
    start, end = min(s for s, _, _ in loads), max(e for _, e, _ in loads)
    for s, _, load in engine.load_profile(loads, start, end):
        if load > capacity:
            raise ValidationError({"capacity": CAPACITY_TOO_SMALL.format(load=load, at=s.isoformat())})


@contextmanager
def resource_capacity_change(*, resource: Resource, capacity: int | None):
    """Around the save of `resource` with a new `capacity` (None: unchanged): under the resource's
    row lock, refuse a capacity the bookings exceed (400 naming `capacity`), and after the save set
    the occupying bookings' `pooled` to the new rules, in the same transaction."""
    with transaction.atomic():
        if resource.pk is None or capacity is None:
            yield
            return
        previous = Resource.objects.select_for_update().values_list("capacity", flat=True).get(pk=resource.pk)
        if previous == capacity:
            yield
            return
        resource_capacity_refusal(resource_id=resource.pk, capacity=capacity)
        yield
        Booking.objects.filter(OCCUPYING, resource_id=resource.pk).exclude(pooled=capacity > 1).update(pooled=capacity > 1)

"""Booking policies (docs/spec.md §13): the rules of a resource, resolved from its type, as the
engine's plain `Policy`; the reads they need (a customer's bookings for quotas); approval and its
expiry.

The booking service asks these while it decides; the finders of free time (slots, available, the
palette, the calendar, `free_slots`) pass the same `Policy` to the engine, so they offer only what
the write would accept.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scheduling import engine, permissions
from scheduling.models import OCCUPYING, POLICY_FIELDS, Booking, BookingStatus, Customer, Resource, ResourceType
from scheduling.roles import MANAGER

logger = logging.getLogger(__name__)

# Any local ISO week around an instant lies within this distance of it.
_WEEK_REACH = dt.timedelta(days=8)


def resolved_values(resource: Resource, resource_type: ResourceType | None = None) -> dict:
    """Each policy field: the resource's own value, or its type's when the resource's is null."""
    resource_type = resource_type or resource.type
    return {name: _first_set(getattr(resource, name), getattr(resource_type, name)) for name in POLICY_FIELDS}


def _first_set(own, inherited):
    return inherited if own is None else own


def resource_policy(resource: Resource) -> engine.Policy:
    values = resolved_values(resource)
    values["buffer_before"] = values["buffer_before"] or 0
    values["buffer_after"] = values["buffer_after"] or 0
    values["requires_approval"] = bool(values["requires_approval"])
    return engine.Policy(**values)


def customer_starts(
    *, resource: Resource, customer: Customer | int, start: dt.datetime, ignore_booking_id: int | None = None
) -> list[dt.datetime]:
    """Starts of the customer's occupying bookings of the resource's type near `start` (one query).

    Near enough to hold every booking of the same local day or ISO week, whatever the zone.
    """
    return customer_starts_between(resource=resource, customer=customer, start=start, end=start, ignore_booking_id=ignore_booking_id)


def customer_starts_between(
    *, resource: Resource, customer: Customer | int, start: dt.datetime, end: dt.datetime, ignore_booking_id: int | None = None
) -> list[dt.datetime]:
    """Starts of the customer's occupying bookings of the resource's type that share a local day or
    ISO week with some instant of [start, end] (one query)."""
    rows = Booking.objects.order_by().filter(
        OCCUPYING,
        customer_id=getattr(customer, "pk", customer),
        resource__type_id=resource.type_id,
        start_at__gte=start - _WEEK_REACH,
        start_at__lt=end + _WEEK_REACH,
    )
    if ignore_booking_id is not None:
        rows = rows.exclude(pk=ignore_booking_id)
    return list(rows.values_list("start_at", flat=True))


def request_policy_conflicts(
    *,
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    policy: engine.Policy,
    customer: Customer | int | None = None,
    ignore_booking_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[engine.Conflict]:
    """The policy rules [start, end) breaks on `resource` for `customer` (quotas only with a customer)."""
    starts = None
    if customer is not None and (policy.quota_per_day or policy.quota_per_week):
        starts = customer_starts(resource=resource, customer=customer, start=start, ignore_booking_id=ignore_booking_id)
    return engine.policy_conflicts(
        start=start, end=end, policy=policy, zone_name=resource.timezone, now=now or timezone.now(), customer_starts=starts
    )


def deadline_conflict(*, booking: Booking, rule: str, by, now: dt.datetime | None = None) -> engine.Conflict | None:
    """The `cancel_deadline` / `change_deadline` refusal of this write by `by`, if any.

    Managers (holders of the override right) pass every deadline.
    """
    if permissions.can_override_availability(by):
        return None
    policy = resource_policy(booking.resource)
    minutes = getattr(policy, rule)
    if not engine.deadline_passed(start=booking.start_at, deadline_minutes=minutes, now=now or timezone.now()):
        return None
    verb = "cancel" if rule == "cancel_deadline" else "move or re-time"
    detail = f"Only a manager may {verb} a booking less than {minutes} minutes before it starts."
    return engine.Conflict(engine.ConflictKind.POLICY, None, booking.start_at, booking.end_at, rule=rule, detail=detail)


# --- Approval -------------------------------------------------------------------------------------


def can_approve(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("scheduling.approve_booking"))


def approval_expiry(policy: engine.Policy, now: dt.datetime | None = None) -> dt.datetime | None:
    if not policy.approval_timeout:
        return None
    return (now or timezone.now()) + dt.timedelta(minutes=policy.approval_timeout)


def approval_recipients(booking: Booking) -> list[str]:
    """The resource's owner; with none (or no address), the active managers with an address."""
    owner = booking.resource.owner
    if owner is not None and owner.is_active and owner.email:
        return [owner.email]
    managers = get_user_model().objects.filter(Q(groups__name=MANAGER) | Q(is_superuser=True), is_active=True).exclude(email="")
    return sorted({email.lower(): email for email in managers.values_list("email", flat=True)}.values())


def approvals_expired(now: dt.datetime | None = None):
    """Pending bookings whose approval time has run out (the partial index booking_approval_due_idx)."""
    return Booking.objects.filter(status=BookingStatus.PENDING, approval_expires_at__isnull=False, approval_expires_at__lte=now or timezone.now())


def approval_expire(*, booking_id: int) -> bool:
    """Cancel one booking whose approval time has run out; False when it is no longer due.

    Safe to run twice at once (two workers, a worker and cron): the service locks the row and the
    second caller finds it cancelled already, so the cancellation and its notice happen once.
    """
    from scheduling.services.bookings import booking_transition

    with transaction.atomic():
        # Locked and asked again under the lock: an approval or another worker may have come first.
        booking = approvals_expired().select_for_update().filter(pk=booking_id).first()
        if booking is None:
            return False
        if booking.group_id is None:
            booking_transition(booking=booking, to_status=BookingStatus.CANCELLED, by=permissions.SYSTEM)
        else:
            # A group's parts are cancelled together (docs/spec.md §14).
            from scheduling.services.groups import group_transition

            group_transition(group=booking.group, to_status=BookingStatus.CANCELLED, by=permissions.SYSTEM)
    return True


def approvals_expire_due(*, limit: int | None = None) -> int:
    """Cancel every booking whose approval time has run out: the cron safety net of the worker."""
    due = approvals_expired().order_by("approval_expires_at", "id").values_list("pk", flat=True)
    return sum(approval_expire(booking_id=pk) for pk in list(due[:limit] if limit else due))

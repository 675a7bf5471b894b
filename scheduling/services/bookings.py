"""Booking writes: the only place a booking changes (docs/spec.md §3).

Every write names its actor (`by`): the user behind a request, or `permissions.SYSTEM` for the
back-office's own commands. The service asks `scheduling.permissions` whether that actor may make
this write — the override rule included — so the API, the admin, the board and the commands only
translate input and errors, and no channel can decide differently from another.

Each write decides and writes in one transaction. On SQLite that transaction is BEGIN IMMEDIATE
(settings.py), which serialises writers; on PostgreSQL the resource row is locked so bookings of one
resource are checked one at a time, and the exclusion constraint catches anything that bypasses
this code. Either way an overlap surfaces as `BookingConflict`.

Side effects hang off the save: the service saves with `update_fields` naming what changed, and the
post_save receiver in `scheduling.signals` turns "created" or "status in update_fields" into an
outbox row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from scheduling import engine, permissions
from scheduling.models import Booking, BookingStatus, Customer, Notification, NotificationEvent, Resource
from scheduling.services import policies
from scheduling.services.availability import resource_conflicts, validate_interval
from scheduling.services.errors import BookingConflict, InvalidTransition, PartOfGroup, PartOfSession

CREATABLE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)

# The life cycle: (action, from, to). The transition table and the API's actions both come from it.
LIFE_CYCLE: tuple[tuple[str, BookingStatus, BookingStatus], ...] = (
    ("confirm", BookingStatus.PENDING, BookingStatus.CONFIRMED),
    ("cancel", BookingStatus.PENDING, BookingStatus.CANCELLED),
    ("cancel", BookingStatus.CONFIRMED, BookingStatus.CANCELLED),
    ("complete", BookingStatus.CONFIRMED, BookingStatus.COMPLETED),
    ("no_show", BookingStatus.CONFIRMED, BookingStatus.NO_SHOW),
)
TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset(to for _, source, to in LIFE_CYCLE if source == status) for status in BookingStatus
}
# Action name → target status: confirm, cancel, complete, no_show.
TRANSITION_ACTIONS: dict[str, BookingStatus] = {action: to for action, _, to in LIFE_CYCLE}

# What a booking write may change besides its status.
EDITABLE_FIELDS = ("resource", "customer", "start_at", "end_at", "notes", "override_availability", "quantity")
# Changing any of these re-checks availability; notes or the customer never do.
MOVING_FIELDS = frozenset({"resource", "start_at", "end_at", "override_availability", "quantity"})

OVERRIDE_REFUSED = "Only a manager may book outside working hours or over an exception (override_availability)."
DEADLOCK_DETECTED = "40P01"
APPROVAL_REFUSED = "This resource requires approval: the status of your booking is pending until an approver confirms it."


# --- Reads for forms: the write's own decision, without writing -------------------------------------


def booking_conflicts(
    *,
    resource: Resource,
    start_at: dt.datetime,
    end_at: dt.datetime,
    override_availability: bool = False,
    ignore_booking: Booking | int | None = None,
    customer: Customer | int | None = None,
    policy: engine.Policy | None = None,
    quantity: int = 1,
) -> list[engine.Conflict]:
    """What would stop these times on this resource, the override applied as given: time conflicts
    (buffers included; on a pool, too few free units for `quantity`), then the policy rules,
    measured from now (docs/spec.md §13, §17)."""
    start, end = validate_interval(start_at, end_at)
    ignore_id = getattr(ignore_booking, "pk", ignore_booking)
    policy = policies.resource_policy(resource) if policy is None else policy
    conflicts = resource_conflicts(resource, start, end, ignore_booking_id=ignore_id, policy=policy, quantity=quantity)
    conflicts += policies.request_policy_conflicts(
        resource=resource, start=start, end=end, policy=policy, customer=customer, ignore_booking_id=ignore_id
    )
    if override_availability:
        conflicts = [c for c in conflicts if not c.overridable]
    return conflicts


def booking_refusal(
    *, by, booking: Booking | None = None, changes: Mapping[str, Any], to_status: str | None = None
) -> None:
    """Raise what `booking_create` (no `booking`) or `booking_edit` would raise for this write, or nothing.

    A dry run for forms, so that a refused save is a form error; the write decides again under its lock.
    """
    if booking is None:
        _decide_create(by, _new_booking(by, changes, to_status or BookingStatus.PENDING))
        return
    current = Booking.objects.select_related("resource").get(pk=booking.pk)
    _decide_edit(by, current, changes, to_status)


# --- Writes ---------------------------------------------------------------------------------------------


def booking_create(
    *,
    by,
    resource: Resource,
    customer: Customer,
    start_at: dt.datetime,
    end_at: dt.datetime,
    status: str = BookingStatus.PENDING,
    notes: str = "",
    override_availability: bool = False,
    quantity: int = 1,
) -> Booking:
    booking = _new_booking(
        by,
        {
            "resource": resource,
            "customer": customer,
            "start_at": start_at,
            "end_at": end_at,
            "notes": notes,
            "override_availability": override_availability,
            "quantity": quantity,
        },
        status,
    )
    with transaction.atomic():
        booking.resource = _lock_resource(resource.pk)
        lock_customer_for_quotas(booking.customer_id, [booking.resource])
        _decide_create(by, booking)
        _save_or_conflict(booking)
        announce_approvals([booking])
    return booking


def booking_edit(
    *, booking: Booking, by, changes: Mapping[str, Any] | None = None, to_status: str | None = None
) -> Booking:
    """Change a booking's fields and/or its status in one write; `booking` is refreshed in place.

    A change of resource or times of an occupying booking re-checks availability; a move to a
    cancelled status frees the time first, so a cancelled booking may also be moved freely.
    `to_status` equal to the current status changes nothing.
    """
    return _edit(booking, by, changes or {}, to_status, step=False)


def booking_update(*, booking: Booking, by, **changes) -> Booking:
    return booking_edit(booking=booking, by=by, changes=changes)


def booking_transition(*, booking: Booking, to_status: str, by) -> Booking:
    """One step of the life cycle; asking for the current status is a refused transition."""
    return _edit(booking, by, {}, to_status, step=True)


def booking_confirm(*, booking: Booking, by) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.CONFIRMED, by=by)


def booking_cancel(*, booking: Booking, by) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.CANCELLED, by=by)


def booking_complete(*, booking: Booking, by) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.COMPLETED, by=by)


def booking_no_show(*, booking: Booking, by) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.NO_SHOW, by=by)


def booking_delete(*, booking: Booking, by) -> None:
    """Remove a booking and its notices (a cancellation is the usual way; deleting is for mistakes)."""
    with transaction.atomic():
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        _require(permissions.can(by, "delete", current), "You may not delete this booking.")
        _require_alone(current)
        current.delete()


def _edit(booking: Booking, by, changes: Mapping[str, Any], to_status: str | None, *, step: bool) -> Booking:
    with transaction.atomic():
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        _require_alone(current)
        changes = dict(changes)
        # The resource the booking will be on, locked and read fresh (is it still active?).
        target = _lock_resource(getattr(changes.get("resource"), "pk", current.resource_id))
        if "resource" in changes:
            changes["resource"] = target
        else:
            current.resource = target
        lock_customer_for_quotas(getattr(changes.get("customer"), "pk", current.customer_id), [target])
        changed = _decide_edit(by, current, changes, to_status, step=step)
        changed += occurrence_detach(current, changed)
        if changed:
            _save_or_conflict(current, update_fields=[*changed, "updated_at"])
        if "approval_expires_at" in changed:
            announce_approvals([current])
    _refresh(booking, current)
    return booking


# --- The decisions -----------------------------------------------------------------------------------


def _new_booking(by, fields: Mapping[str, Any], status: str) -> Booking:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not booking fields: {', '.join(sorted(unknown))}")
    if status not in CREATABLE_STATUSES:
        raise ValidationError({"status": f"A new booking is pending or confirmed, not {status!r}; use the transitions."})
    booking = Booking(status=status, created_by=permissions.user_or_none(by), **fields)
    booking.pooled = booking.resource.capacity > 1  # written under the pool rules (docs/spec.md §17.1)
    booking.start_at, booking.end_at = validate_interval(booking.start_at, booking.end_at)
    return booking


def _decide_create(by, booking: Booking, *, conflicts: list[engine.Conflict] | None = None, cleaned: bool = False) -> None:
    """Validation (400), then rights (403), then availability (409), in the order of docs/spec.md §3.

    A series or group writing many parts at once (docs/spec.md §14) passes each part's `conflicts`,
    read in bulk for all of them, and `cleaned` for parts that differ from one already cleaned
    only in their (validated) times.
    """
    if not cleaned:
        booking.full_clean(exclude=clean_exclude(booking))
    _require(permissions.can(by, "add", model=Booking, resource=booking.resource), f"You may not book resource {booking.resource_id}.")
    if not _holds_session(booking):
        _require_customer(by, booking.customer)
    _require(not booking.override_availability or permissions.can_override_availability(by), OVERRIDE_REFUSED)
    policy = policies.resource_policy(booking.resource)
    if policy.requires_approval and not policies.can_approve(by):
        _require(booking.status == BookingStatus.PENDING, APPROVAL_REFUSED)
    if policy.requires_approval and booking.status == BookingStatus.PENDING:
        booking.approval_expires_at = policies.approval_expiry(policy)
    _ensure_available(booking, policy, conflicts)


def _decide_edit(by, current: Booking, changes: Mapping[str, Any], to_status: str | None, *, step: bool = False) -> list[str]:
    """Apply `changes` and `to_status` to `current` if `by` may; the names of the fields that changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not booking fields: {', '.join(sorted(unknown))}")
    _require(permissions.can(by, "change", current), "You may not change this booking.")
    changed = {name: value for name, value in changes.items() if value != getattr(current, name)}
    _require_before_deadline(by, current, changed, to_status)
    if to_status is not None and (step or to_status != current.status):
        if to_status not in BookingStatus.values:
            raise ValidationError({"status": f"{to_status!r} is not a booking status."})
        if to_status not in TRANSITIONS[current.status]:
            raise InvalidTransition(current.status, to_status)
        changed["status"] = to_status
    if "resource" in changed:
        target = changed["resource"]
        _require(permissions.can(by, "change", model=Booking, resource=target), f"You may not book resource {target.pk}.")
    if "customer" in changed:
        _require_customer(by, changed["customer"])
    if changed.get("override_availability"):
        _require(permissions.can_override_availability(by), OVERRIDE_REFUSED)
    if changed.get("status") == BookingStatus.CONFIRMED and not policies.can_approve(by):
        _require(not policies.resource_policy(current.resource).requires_approval, APPROVAL_REFUSED)
    was_awaiting = _awaits_approval(current)
    for name, value in changed.items():
        setattr(current, name, value)
    if {"start_at", "end_at"} & changed.keys():
        current.start_at, current.end_at = validate_interval(current.start_at, current.end_at)
    if MOVING_FIELDS & changed.keys() and current.pooled != (current.resource.capacity > 1):
        # Written under the rules of the resource it is now on (docs/spec.md §17.1).
        current.pooled = changed["pooled"] = current.resource.capacity > 1
    current.full_clean(exclude=clean_exclude(current))
    if current.occupies and MOVING_FIELDS & changed.keys():
        if current.override_availability and not permissions.can_override_availability(by):
            # A manager's override is theirs to place: anyone else's move is checked without it.
            current.override_availability = False
            changed["override_availability"] = False
        policy = policies.resource_policy(current.resource)
        # A moved booking occupies the buffers in force now (docs/spec.md §13.2).
        for name in ("buffer_before", "buffer_after"):
            if getattr(current, name) != getattr(policy, name):
                setattr(current, name, getattr(policy, name))
                changed[name] = getattr(policy, name)
        _ensure_available(current, policy)
        moved_to_approval = "resource" in changed and policy.requires_approval and current.status in CREATABLE_STATUSES
        if moved_to_approval and not was_awaiting and not policies.can_approve(by):
            # Approved on one resource is not approved on another: it waits for an approver (§13.5).
            changed["status"] = current.status = BookingStatus.PENDING
            changed["approval_expires_at"] = current.approval_expires_at = policies.approval_expiry(policy)
        elif "resource" in changed and not policy.requires_approval and current.approval_expires_at is not None:
            changed["approval_expires_at"] = current.approval_expires_at = None  # nothing left to expire
    return list(changed)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _holds_session(booking: Booking) -> bool:
    """A session's booking (docs/spec.md §17.4): it has no customer of its own."""
    return booking.session_id is not None and booking.customer_id is None


def clean_exclude(booking: Booking) -> list[str]:
    return ["created_by", "customer"] if _holds_session(booking) else ["created_by"]


def _require_customer(by, customer: Customer) -> None:
    allowed = permissions.may_name_any_customer(by) or permissions.can(by, "view", customer)
    _require(allowed, f"You may not book for customer {customer.pk}.")


def _require_before_deadline(by, current: Booking, changed: Mapping[str, Any], to_status: str | None) -> None:
    """A non-manager may not cancel, move or re-time an occupying booking past its deadline (409)."""
    if not current.occupies:
        return
    rules = []
    if to_status == BookingStatus.CANCELLED and current.status != BookingStatus.CANCELLED:
        rules.append("cancel_deadline")
    if {"resource", "start_at", "end_at"} & changed.keys():
        rules.append("change_deadline")
    late = [c for rule in rules if (c := policies.deadline_conflict(booking=current, rule=rule, by=by))]
    if late:
        raise BookingConflict(late)


def _awaits_approval(booking: Booking) -> bool:
    return booking.status == BookingStatus.PENDING and policies.resource_policy(booking.resource).requires_approval


def announce_approvals(bookings: list[Booking]) -> None:
    """For the written bookings awaiting approval: one e-mail to the approvers (about the first; a
    series or group asks once), in this transaction, and each one's expiry to the worker after commit."""
    from scheduling.services.notifications import notification_record
    from scheduling.tasks import schedule_approval_expiry

    waiting = [b for b in bookings if _awaits_approval(b)]
    # One approval notice per booking (the outbox's rule): one moved onto another approval
    # resource after an earlier approval is not asked about twice by e-mail; its expiry still runs.
    if waiting and not Notification.objects.filter(booking_id=waiting[0].pk, event=NotificationEvent.APPROVAL).exists():
        notification_record(booking_id=waiting[0].pk, event=NotificationEvent.APPROVAL)
    for booking in waiting:
        if booking.approval_expires_at is not None:
            schedule_approval_expiry(booking.pk, booking.approval_expires_at)


def _require_alone(current: Booking) -> None:
    """A part of a group moves, changes status and goes only with its group (docs/spec.md §14)."""
    if current.group_id is not None:
        raise PartOfGroup(current.pk, current.group_id)
    if current.session_id is not None:
        raise PartOfSession(current.pk, current.session_id)


def occurrence_detach(current: Booking, changed: list[str]) -> list[str]:
    """An occurrence of a series moved or cancelled on its own stands apart from the series from then
    on (an exception date); the field that changed, if any."""
    moved = bool({"resource", "start_at", "end_at"} & set(changed))
    cancelled = "status" in changed and current.status == BookingStatus.CANCELLED
    if current.series_id is None or current.detached or not (moved or cancelled):
        return []
    current.detached = True
    return ["detached"]


def _ensure_available(booking: Booking, policy: engine.Policy | None = None, conflicts: list[engine.Conflict] | None = None) -> None:
    """Raise BookingConflict unless `booking` may occupy its time; under `policy`, it takes that
    policy's buffers. `conflicts` read in bulk beforehand (a series, a group) stand for the query."""
    if policy is not None:
        booking.buffer_before, booking.buffer_after = policy.buffer_before, policy.buffer_after
    # A pool's bookings are summed under the resource lock, not held by the exclusion constraint.
    booking.pooled = booking.resource.capacity > 1
    if conflicts is None:
        conflicts = _blocking_conflicts(booking, policy)
    elif booking.override_availability:
        conflicts = [c for c in conflicts if not c.overridable]
    if conflicts:
        raise BookingConflict(conflicts)


def _blocking_conflicts(booking: Booking, policy: engine.Policy | None = None) -> list[engine.Conflict]:
    return booking_conflicts(
        resource=booking.resource,
        start_at=booking.start_at,
        end_at=booking.end_at,
        override_availability=booking.override_availability,
        ignore_booking=booking.pk,
        customer=booking.customer_id,
        policy=policy,
        quantity=booking.quantity,
    )


# --- Internals --------------------------------------------------------------------------------------


def _lock_resource(resource_id: int) -> Resource:
    # A no-op on SQLite, where BEGIN IMMEDIATE already serialises writers.
    return Resource.objects.select_for_update().get(pk=resource_id)


def lock_customer_for_quotas(customer_id: int, resources: list[Resource]) -> None:
    """Quotas span every resource of the type, which the resource locks do not cover: writers for
    one customer take turns on the customer's row (after the resources', so always in that order)."""
    if any(policy.quota_per_day or policy.quota_per_week for policy in map(policies.resource_policy, resources)):
        Customer.objects.select_for_update().filter(pk=customer_id).first()


def _save_or_conflict(booking: Booking, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            booking.save(update_fields=update_fields)
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        # A writer that bypassed the service won the race: report what is there now.
        raise BookingConflict(_blocking_conflicts(booking) or []) from error
    except OperationalError as error:
        # Two writers checking the exclusion constraint against each other's rows (neither holding
        # the resource lock) may deadlock; PostgreSQL aborts one, which lost the race.
        if getattr(error.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
            raise
        raise BookingConflict(_blocking_conflicts(booking) or []) from error


def _refresh(target: Booking, source: Booking) -> None:
    for field in Booking._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = dict(source._state.fields_cache)

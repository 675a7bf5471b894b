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
from django.db import IntegrityError, transaction

from scheduling import engine, permissions
from scheduling.models import Booking, BookingStatus, Customer, Resource
from scheduling.services.availability import resource_conflicts, validate_interval
from scheduling.services.errors import BookingConflict, InvalidTransition, PartOfGroup

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
EDITABLE_FIELDS = ("resource", "customer", "start_at", "end_at", "notes", "override_availability")
# Changing any of these re-checks availability; notes or the customer never do.
MOVING_FIELDS = frozenset({"resource", "start_at", "end_at", "override_availability"})

OVERRIDE_REFUSED = "Only a manager may book outside working hours or over an exception (override_availability)."


# --- Reads for forms: the write's own decision, without writing -------------------------------------


def booking_conflicts(
    *,
    resource: Resource,
    start_at: dt.datetime,
    end_at: dt.datetime,
    override_availability: bool = False,
    ignore_booking: Booking | int | None = None,
) -> list[engine.Conflict]:
    """What would stop these times on this resource, the override applied as given."""
    start, end = validate_interval(start_at, end_at)
    conflicts = resource_conflicts(resource, start, end, ignore_booking_id=getattr(ignore_booking, "pk", ignore_booking))
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
        },
        status,
    )
    with transaction.atomic():
        booking.resource = _lock_resource(resource.pk)
        _decide_create(by, booking)
        _save_or_conflict(booking)
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
        changed = _decide_edit(by, current, changes, to_status, step=step)
        changed += occurrence_detach(current, changed)
        if changed:
            _save_or_conflict(current, update_fields=[*changed, "updated_at"])
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
    booking.start_at, booking.end_at = validate_interval(booking.start_at, booking.end_at)
    return booking


def _decide_create(by, booking: Booking, *, conflicts: list[engine.Conflict] | None = None, cleaned: bool = False) -> None:
    """Validation (400), then rights (403), then availability (409), in the order of docs/spec.md §3.

    A series or group writing many parts at once (docs/spec.md §14) passes each part's `conflicts`,
    read in bulk for all of them, and `cleaned` for parts that differ from one already cleaned
    only in their (validated) times.
    """
    if not cleaned:
        booking.full_clean(exclude=["created_by"])
    _require(permissions.can(by, "add", model=Booking, resource=booking.resource), f"You may not book resource {booking.resource_id}.")
    _require_customer(by, booking.customer)
    _require(not booking.override_availability or permissions.can_override_availability(by), OVERRIDE_REFUSED)
    _ensure_available(booking, conflicts)


def _decide_edit(by, current: Booking, changes: Mapping[str, Any], to_status: str | None, *, step: bool = False) -> list[str]:
    """Apply `changes` and `to_status` to `current` if `by` may; the names of the fields that changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not booking fields: {', '.join(sorted(unknown))}")
    _require(permissions.can(by, "change", current), "You may not change this booking.")
    changed = {name: value for name, value in changes.items() if value != getattr(current, name)}
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
    for name, value in changed.items():
        setattr(current, name, value)
    if {"start_at", "end_at"} & changed.keys():
        current.start_at, current.end_at = validate_interval(current.start_at, current.end_at)
    current.full_clean(exclude=["created_by"])
    if current.occupies and MOVING_FIELDS & changed.keys():
        if current.override_availability and not permissions.can_override_availability(by):
            # A manager's override is theirs to place: anyone else's move is checked without it.
            current.override_availability = False
            changed["override_availability"] = False
        _ensure_available(current)
    return list(changed)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _require_customer(by, customer: Customer) -> None:
    allowed = permissions.may_name_any_customer(by) or permissions.can(by, "view", customer)
    _require(allowed, f"You may not book for customer {customer.pk}.")


def _require_alone(current: Booking) -> None:
    """A part of a group moves, changes status and goes only with its group (docs/spec.md §14)."""
    if current.group_id is not None:
        raise PartOfGroup(current.pk, current.group_id)


def occurrence_detach(current: Booking, changed: list[str]) -> list[str]:
    """An occurrence of a series moved or cancelled on its own stands apart from the series from then
    on (an exception date); the field that changed, if any."""
    moved = bool({"resource", "start_at", "end_at"} & set(changed))
    cancelled = "status" in changed and current.status == BookingStatus.CANCELLED
    if current.series_id is None or current.detached or not (moved or cancelled):
        return []
    current.detached = True
    return ["detached"]


def _ensure_available(booking: Booking, conflicts: list[engine.Conflict] | None = None) -> None:
    if conflicts is None:
        conflicts = _blocking_conflicts(booking)
    elif booking.override_availability:
        conflicts = [c for c in conflicts if not c.overridable]
    if conflicts:
        raise BookingConflict(conflicts)


def _blocking_conflicts(booking: Booking) -> list[engine.Conflict]:
    return booking_conflicts(
        resource=booking.resource,
        start_at=booking.start_at,
        end_at=booking.end_at,
        override_availability=booking.override_availability,
        ignore_booking=booking.pk,
    )


# --- Internals --------------------------------------------------------------------------------------


def _lock_resource(resource_id: int) -> Resource:
    # A no-op on SQLite, where BEGIN IMMEDIATE already serialises writers.
    return Resource.objects.select_for_update().get(pk=resource_id)


def _save_or_conflict(booking: Booking, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            booking.save(update_fields=update_fields)
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        # A writer that bypassed the service won the race: report what is there now.
        raise BookingConflict(_blocking_conflicts(booking) or []) from error


def _refresh(target: Booking, source: Booking) -> None:
    for field in Booking._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = dict(source._state.fields_cache)

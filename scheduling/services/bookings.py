"""Booking writes: create, change or move, and the status life cycle (docs/spec.md §3).

Each write checks availability and writes in one transaction. On SQLite that transaction is
BEGIN IMMEDIATE (settings.py), which serialises writers; on PostgreSQL the resource row is locked
so bookings of one resource are checked one at a time, and the exclusion constraint catches
anything that bypasses this code. Either way an overlap surfaces as `BookingConflict`.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from scheduling import engine
from scheduling.models import Booking, BookingStatus, Customer, Resource
from scheduling.services.availability import _conflicts, validate_interval
from scheduling.services.errors import BookingConflict, InvalidTransition

# Kinds of conflict that a manager's override lets through; overlaps and inactive resources never.
OVERRIDABLE_KINDS = frozenset({"outside_availability", "exception"})
CREATABLE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)

TRANSITIONS: dict[str, frozenset[str]] = {
    BookingStatus.PENDING: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELLED}),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW}),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}

# Changing any of these re-checks availability; notes or the customer never do.
MOVING_FIELDS = ("resource", "start_at", "end_at", "override_availability")

_UNSET = object()


def booking_conflicts(
    *,
    resource: Resource,
    start_at: dt.datetime,
    end_at: dt.datetime,
    override_availability: bool = False,
    ignore_booking: Booking | int | None = None,
) -> list[engine.Conflict]:
    """What would stop this booking from being written: a dry run of the write's check, for forms."""
    validate_interval(start_at, end_at)
    conflicts = _conflicts(
        resource,
        start_at.astimezone(engine.UTC),
        end_at.astimezone(engine.UTC),
        ignore_booking_id=getattr(ignore_booking, "pk", ignore_booking),
    )
    if override_availability:
        conflicts = [c for c in conflicts if c.kind not in OVERRIDABLE_KINDS]
    return conflicts


def needs_recheck(changed_fields) -> bool:
    """Whether changing these fields of an occupying booking can create a conflict."""
    return any(name in MOVING_FIELDS for name in changed_fields)


def booking_create(
    *,
    resource: Resource,
    customer: Customer,
    start_at: dt.datetime,
    end_at: dt.datetime,
    status: str = BookingStatus.PENDING,
    notes: str = "",
    created_by=None,
    override_availability: bool = False,
) -> Booking:
    validate_interval(start_at, end_at)
    if status not in CREATABLE_STATUSES:
        raise ValidationError({"status": f"A new booking is pending or confirmed, not {status!r}; use the transitions."})
    booking = Booking(
        resource=resource,
        customer=customer,
        start_at=start_at.astimezone(engine.UTC),
        end_at=end_at.astimezone(engine.UTC),
        status=status,
        notes=notes,
        created_by=created_by,
        override_availability=override_availability,
    )
    booking.full_clean(exclude=["created_by"])
    with transaction.atomic():
        locked = _lock_resource(resource.pk)
        _ensure_available(booking, locked)
        _save_or_conflict(booking, locked)
    return booking


def booking_update(
    *,
    booking: Booking,
    resource: Resource | object = _UNSET,
    customer: Customer | object = _UNSET,
    start_at: dt.datetime | object = _UNSET,
    end_at: dt.datetime | object = _UNSET,
    notes: str | object = _UNSET,
    override_availability: bool | object = _UNSET,
) -> Booking:
    """Change a booking; when it occupies its resource and its resource or times change, re-check."""
    changes = {
        name: value
        for name, value in {
            "resource": resource,
            "customer": customer,
            "start_at": start_at,
            "end_at": end_at,
            "notes": notes,
            "override_availability": override_availability,
        }.items()
        if value is not _UNSET
    }
    with transaction.atomic():
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        moved = needs_recheck(name for name, value in changes.items() if value != getattr(current, name))
        for name, value in changes.items():
            setattr(current, name, value)
        validate_interval(current.start_at, current.end_at)
        current.start_at = current.start_at.astimezone(engine.UTC)
        current.end_at = current.end_at.astimezone(engine.UTC)
        current.full_clean(exclude=["created_by"])
        if moved and current.occupies:
            locked = _lock_resource(current.resource_id)
            _ensure_available(current, locked)
        _save_or_conflict(current, current.resource)
    _refresh(booking, current)
    return booking


def booking_transition(*, booking: Booking, to_status: str, by=None) -> Booking:
    if to_status not in BookingStatus.values:
        raise ValidationError({"status": f"{to_status!r} is not a booking status."})
    with transaction.atomic():
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if to_status not in TRANSITIONS[current.status]:
            raise InvalidTransition(current.status, to_status)
        current.status = to_status
        current.save(update_fields=["status", "updated_at"])
    _refresh(booking, current)
    return booking


def booking_confirm(*, booking: Booking, by=None) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.CONFIRMED, by=by)


def booking_cancel(*, booking: Booking, by=None) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.CANCELLED, by=by)


def booking_complete(*, booking: Booking, by=None) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.COMPLETED, by=by)


def booking_no_show(*, booking: Booking, by=None) -> Booking:
    return booking_transition(booking=booking, to_status=BookingStatus.NO_SHOW, by=by)


# --- Internals --------------------------------------------------------------------------------------


def _lock_resource(resource_id: int) -> Resource:
    # A no-op on SQLite, where BEGIN IMMEDIATE already serialises writers.
    return Resource.objects.select_for_update().get(pk=resource_id)


def _blocking_conflicts(booking: Booking, resource: Resource) -> list[engine.Conflict]:
    return booking_conflicts(
        resource=resource,
        start_at=booking.start_at,
        end_at=booking.end_at,
        override_availability=booking.override_availability,
        ignore_booking=booking.pk,
    )


def _ensure_available(booking: Booking, resource: Resource) -> None:
    conflicts = _blocking_conflicts(booking, resource)
    if conflicts:
        raise BookingConflict(conflicts)


def _save_or_conflict(booking: Booking, resource: Resource) -> None:
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        # A writer that bypassed the service won the race: report what is there now.
        raise BookingConflict(_blocking_conflicts(booking, resource) or []) from error


def _refresh(target: Booking, source: Booking) -> None:
    for field in Booking._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache = dict(source._state.fields_cache)

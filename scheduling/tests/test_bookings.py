"""The booking service (docs/spec.md §3): creation, moves, overrides and the status life cycle."""

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from scheduling.permissions import SYSTEM
from scheduling.models import Booking
from scheduling.services import bookings as service
from scheduling.services.errors import BookingConflict, InvalidTransition
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ScheduleExceptionFactory,
    UserFactory,
    utc,
)

pytestmark = pytest.mark.django_db


def create(resource, customer, start, end, by=SYSTEM, **kwargs):
    return service.booking_create(by=by, resource=resource, customer=customer, start_at=start, end_at=end, **kwargs)


def test_a_new_booking_is_pending_and_stored_in_utc(resource, customer):
    user = UserFactory(is_superuser=True)
    booking = create(resource, customer, dt.datetime.fromisoformat("2026-03-02T10:00:00+01:00"), utc(2026, 3, 2, 10), by=user)
    booking.refresh_from_db()
    assert (booking.status, booking.start_at, booking.created_by) == ("pending", utc(2026, 3, 2, 9), user)


def test_a_booking_may_be_created_confirmed(resource, customer):
    assert create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), status="confirmed").status == "confirmed"


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show", "bogus"])
def test_a_booking_cannot_be_created_in_another_status(resource, customer, status):
    with pytest.raises(ValidationError) as error:
        create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), status=status)
    assert "status" in error.value.message_dict
    assert not Booking.objects.exists()


def test_an_overlapping_booking_is_refused_and_nothing_is_written(resource, customer):
    first = create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    with pytest.raises(BookingConflict) as error:
        create(resource, customer, utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10, 30))
    assert [(c.kind, c.id) for c in error.value.conflicts] == [("booking", first.pk)]
    assert Booking.objects.count() == 1


def test_naive_or_reversed_times_are_refused(resource, customer):
    with pytest.raises(ValidationError):
        create(resource, customer, dt.datetime(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    with pytest.raises(ValidationError) as error:
        create(resource, customer, utc(2026, 3, 2, 10), utc(2026, 3, 2, 9))
    assert "end_at" in error.value.message_dict
    assert not Booking.objects.exists()


def test_outside_working_hours_is_refused_unless_overridden_and_the_override_is_recorded(customer):
    resource = ResourceFactory()
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    with pytest.raises(BookingConflict) as error:
        create(resource, customer, utc(2026, 3, 2, 18), utc(2026, 3, 2, 19))
    assert [c.kind for c in error.value.conflicts] == ["outside_availability"]
    booking = create(resource, customer, utc(2026, 3, 2, 18), utc(2026, 3, 2, 19), override_availability=True)
    booking.refresh_from_db()
    assert booking.override_availability is True


def test_an_exception_is_refused_unless_overridden(resource, customer):
    ScheduleExceptionFactory(resource=resource, start_at=utc(2026, 3, 2, 12), end_at=utc(2026, 3, 2, 13))
    with pytest.raises(BookingConflict):
        create(resource, customer, utc(2026, 3, 2, 12), utc(2026, 3, 2, 13))
    assert create(resource, customer, utc(2026, 3, 2, 12), utc(2026, 3, 2, 13), override_availability=True).pk


def test_nothing_overrides_an_overlap_or_an_inactive_resource(customer):
    resource = ResourceFactory()
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    with pytest.raises(BookingConflict):
        create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), override_availability=True)
    inactive = ResourceFactory(active=False)
    with pytest.raises(BookingConflict) as error:
        create(inactive, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), override_availability=True)
    assert [c.kind for c in error.value.conflicts] == ["inactive_resource"]


def test_a_cancelled_booking_frees_its_time(resource, customer):
    first = create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    service.booking_cancel(by=SYSTEM, booking=first)
    assert create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)).pk


def test_moving_a_booking_does_not_conflict_with_itself(resource, customer):
    booking = create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    service.booking_update(by=SYSTEM, booking=booking, start_at=utc(2026, 3, 2, 9, 30), end_at=utc(2026, 3, 2, 10, 30))
    booking.refresh_from_db()
    assert booking.start_at == utc(2026, 3, 2, 9, 30)


def test_moving_onto_another_booking_is_refused_and_nothing_changes(resource, customer):
    create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    second = create(resource, customer, utc(2026, 3, 2, 11), utc(2026, 3, 2, 12))
    with pytest.raises(BookingConflict):
        service.booking_update(by=SYSTEM, booking=second, start_at=utc(2026, 3, 2, 9, 30))
    second.refresh_from_db()
    assert second.start_at == utc(2026, 3, 2, 11)


def test_moving_to_another_resource_checks_that_resource(resource, customer):
    other = ResourceFactory()
    create(other, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    booking = create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    with pytest.raises(BookingConflict):
        service.booking_update(by=SYSTEM, booking=booking, resource=other)


def test_editing_notes_of_a_booking_now_outside_hours_does_not_recheck(resource, customer):
    booking = create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(12), end_time=dt.time(17))
    service.booking_update(by=SYSTEM, booking=booking, notes="Bring towels")
    booking.refresh_from_db()
    assert booking.notes == "Bring towels"


def test_a_cancelled_booking_can_be_moved_over_others(resource, customer):
    create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    cancelled = create(resource, customer, utc(2026, 3, 2, 11), utc(2026, 3, 2, 12))
    service.booking_cancel(by=SYSTEM, booking=cancelled)
    service.booking_update(by=SYSTEM, booking=cancelled, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.start_at, cancelled.end_at) == ("cancelled", utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))


ALLOWED = [
    ("pending", "confirmed"),
    ("pending", "cancelled"),
    ("confirmed", "cancelled"),
    ("confirmed", "completed"),
    ("confirmed", "no_show"),
]
STATUSES = ["pending", "confirmed", "cancelled", "completed", "no_show"]


@pytest.mark.parametrize(("current", "requested"), ALLOWED)
def test_allowed_transitions(current, requested):
    booking = BookingFactory(status=current)
    service.booking_transition(by=SYSTEM, booking=booking, to_status=requested)
    booking.refresh_from_db()
    assert booking.status == requested


@pytest.mark.parametrize(
    ("current", "requested"),
    [(c, r) for c in STATUSES for r in STATUSES if (c, r) not in ALLOWED],
)
def test_refused_transitions_name_both_statuses_and_change_nothing(current, requested):
    booking = BookingFactory(status=current)
    with pytest.raises(InvalidTransition) as error:
        service.booking_transition(by=SYSTEM, booking=booking, to_status=requested)
    assert (error.value.current, error.value.requested) == (current, requested)
    assert current in str(error.value) and requested in str(error.value)
    booking.refresh_from_db()
    assert booking.status == current


def test_transition_helpers_update_the_callers_instance():
    booking = BookingFactory(status="pending")
    service.booking_confirm(by=SYSTEM, booking=booking)
    assert booking.status == "confirmed"
    service.booking_complete(by=SYSTEM, booking=booking)
    assert booking.status == "completed"
    other = BookingFactory(status="confirmed", start_at=utc(2026, 5, 1, 9))
    service.booking_no_show(by=SYSTEM, booking=other)
    assert other.status == "no_show"


def test_an_unknown_status_is_a_validation_error():
    with pytest.raises(ValidationError):
        service.booking_transition(by=SYSTEM, booking=BookingFactory(), to_status="lost")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only")
def test_a_race_past_the_check_is_caught_by_the_constraint_as_a_conflict(resource, customer):
    first = create(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    with mock.patch.object(service, "_ensure_available"):
        with pytest.raises(BookingConflict) as error:
            create(resource, customer, utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10, 30))
    assert [(c.kind, c.id) for c in error.value.conflicts] == [("booking", first.pk)]
    assert Booking.objects.count() == 1

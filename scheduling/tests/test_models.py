"""Model defaults, validators and database constraints."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from scheduling.models import Availability, Booking, Resource, ScheduleException
from scheduling.tests.factories import AvailabilityFactory, BookingFactory, ResourceFactory, ResourceTypeFactory

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def test_resource_defaults(settings):
    resource = Resource.objects.create(name="Room", type=ResourceTypeFactory())
    assert (resource.active, resource.metadata, resource.owner, resource.timezone) == (True, {}, None, settings.TIME_ZONE)


@pytest.mark.parametrize(("field", "value"), [("timezone", "Mars/Olympus"), ("metadata", [1, 2])])
def test_resource_validators_name_the_field(field, value):
    resource = ResourceFactory.build(type=ResourceTypeFactory(), **{field: value})
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert field in error.value.message_dict


def test_colour_must_be_rrggbb_and_is_stored_lower_case():
    kind = ResourceTypeFactory(name="room", color="#AABBCC")
    kind.refresh_from_db()
    assert kind.color == "#aabbcc"
    kind.color = "blue"
    with pytest.raises(ValidationError):
        kind.full_clean()


@pytest.mark.parametrize(
    "make",
    [
        lambda r: Booking.objects.create(resource=r, customer=BookingFactory().customer, start_at=dt.datetime(2026, 1, 1, 10, tzinfo=UTC), end_at=dt.datetime(2026, 1, 1, 10, tzinfo=UTC)),
        lambda r: Booking.objects.create(resource=r, customer=BookingFactory().customer, start_at=dt.datetime(2026, 1, 1, 10, tzinfo=UTC), end_at=dt.datetime(2026, 1, 1, 11, tzinfo=UTC), status="lost"),
        lambda r: ScheduleException.objects.create(resource=r, start_at=dt.datetime(2026, 1, 1, 10, tzinfo=UTC), end_at=dt.datetime(2026, 1, 1, 9, tzinfo=UTC)),
        lambda r: Availability.objects.create(resource=r, weekday=7, start_time=dt.time(9), end_time=dt.time(10)),
        lambda r: Availability.objects.create(resource=r, weekday=1, start_time=dt.time(10), end_time=dt.time(9)),
    ],
    ids=["booking-end-after-start", "booking-status", "exception-end-after-start", "weekday-range", "availability-end-after-start"],
)
def test_database_constraints_refuse_bad_rows(make):
    resource = ResourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        make(resource)


def test_availability_may_end_at_midnight():
    row = AvailabilityFactory(start_time=dt.time(20), end_time=dt.time(0))
    assert str(row) == "Monday 20:00–24:00"


def test_a_resource_with_bookings_cannot_be_deleted():
    from django.db.models import ProtectedError

    booking = BookingFactory()
    with pytest.raises(ProtectedError):
        booking.resource.delete()


def test_string_forms_are_readable():
    booking = BookingFactory(resource=ResourceFactory(name="Studio A"))
    leave = ScheduleException(resource=booking.resource, start_at=booking.start_at, end_at=booking.end_at, reason="Leave")
    assert "Studio A" in str(booking) and "pending" in str(booking)
    assert "Leave" in str(leave)
    assert str(booking.customer) == booking.customer.name
    assert str(booking.resource.type) == booking.resource.type.name

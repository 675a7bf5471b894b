"""Free slots and "available <type> now" (docs/spec.md §2.4)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from scheduling.permissions import SYSTEM
from scheduling.models import Booking
from scheduling.services.availability import available_resources, free_slots
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
)

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
pytestmark = pytest.mark.django_db


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_slots_skip_bookings_exceptions_and_closed_hours():
    resource = ResourceFactory()
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(13))
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    ScheduleExceptionFactory(resource=resource, start_at=utc(2026, 3, 2, 12), end_at=utc(2026, 3, 2, 12, 30))
    slots = free_slots(resource, utc(2026, 3, 2, 0), utc(2026, 3, 3, 0), HOUR, dt.timedelta(minutes=30))
    assert [s.strftime("%H:%M") for s, _ in slots] == ["09:00", "11:00"]
    assert all(e - s == HOUR for s, e in slots)


def test_step_defaults_to_duration_and_slots_lie_inside_the_window(resource):
    slots = free_slots(resource, utc(2026, 3, 2, 9), utc(2026, 3, 2, 12, 30), HOUR)
    assert [s.hour for s, _ in slots] == [9, 10, 11]


def test_an_inactive_resource_has_no_slots():
    assert free_slots(ResourceFactory(active=False), utc(2026, 3, 2), utc(2026, 3, 3), HOUR) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end": utc(2026, 5, 10)}, "end"),
        ({"duration": dt.timedelta(0)}, "duration"),
        ({"step": dt.timedelta(minutes=-5)}, "step"),
        ({"start": dt.datetime(2026, 3, 2)}, "start"),
    ],
)
def test_bad_slot_queries_name_the_field(resource, kwargs, field):
    args = {"start": utc(2026, 3, 2), "end": utc(2026, 3, 3), "duration": HOUR, "step": None} | kwargs
    with pytest.raises(ValidationError) as error:
        free_slots(resource, args["start"], args["end"], args["duration"], args["step"])
    assert field in error.value.message_dict


def test_available_resources_of_a_type_are_those_free_for_the_whole_interval():
    trainer = ResourceTypeFactory(name="trainer")
    free = ResourceFactory(type=trainer, name="Free")
    booked = ResourceFactory(type=trainer, name="Booked")
    BookingFactory(resource=booked, start_at=utc(2026, 3, 2, 9, 30), end_at=utc(2026, 3, 2, 9, 45))
    on_leave = ResourceFactory(type=trainer, name="On leave")
    ScheduleExceptionFactory(resource=on_leave, start_at=utc(2026, 3, 2, 8), end_at=utc(2026, 3, 2, 18))
    closed = ResourceFactory(type=trainer, name="Closed")
    AvailabilityFactory(resource=closed, weekday=0, start_time=dt.time(9), end_time=dt.time(9, 30))
    working = ResourceFactory(type=trainer, name="Working")
    AvailabilityFactory(resource=working, weekday=0, start_time=dt.time(8), end_time=dt.time(12))
    ResourceFactory(type=trainer, name="Inactive", active=False)
    ResourceFactory(name="Other type")
    assert [r.name for r in available_resources(trainer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), user=SYSTEM)] == ["Free", "Working"]
    assert free.pk


def test_free_slots_cost_the_same_queries_at_100_and_at_100000_bookings(django_assert_num_queries):
    resource = ResourceFactory()
    customer = CustomerFactory()
    # Bookings of the resource far from the window, back to back, all occupying.
    far = utc(2000, 1, 1)  # 100,000 hours later is still 2011
    window = (utc(2026, 3, 2), utc(2026, 4, 1))

    def add(count, offset):
        Booking.objects.bulk_create(
            (
                Booking(resource=resource, customer=customer, start_at=far + (offset + i) * HOUR, end_at=far + (offset + i + 1) * HOUR, status="confirmed")
                for i in range(count)
            ),
            batch_size=5000,
        )

    add(100, 0)
    # 1: bookings overlapping the window; 2: exceptions overlapping it; 3: availability rows.
    with django_assert_num_queries(3):
        small = free_slots(resource, *window, HOUR)
    add(100_000 - 100, 100)
    with django_assert_num_queries(3):
        large = free_slots(resource, *window, HOUR)
    assert small == large and len(large) == 30 * 24


def test_available_resources_query_count_does_not_grow_with_resources(django_assert_num_queries):
    trainer = ResourceTypeFactory(name="trainer")
    for _ in range(3):
        ResourceFactory(type=trainer)
    # 1: resources of the type; 2: their bookings; 3: their exceptions; 4: their availability rows.
    with django_assert_num_queries(4):
        available_resources(trainer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), user=SYSTEM)
    for _ in range(30):
        AvailabilityFactory(resource=ResourceFactory(type=trainer))
    with django_assert_num_queries(4):
        assert len(available_resources(trainer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), user=SYSTEM)) == 33

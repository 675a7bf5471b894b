"""The availability check (docs/spec.md §2): DST, adjacency, unions, midnight, exceptions, status."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling.services.availability import check_availability
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ScheduleExceptionFactory,
    utc,
)

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def kinds(result):
    return [c.kind for c in result.conflicts]


def resource_working(zone, weekday, start, end, **kwargs):
    resource = ResourceFactory(timezone=zone, **kwargs)
    AvailabilityFactory(resource=resource, weekday=weekday, start_time=start, end_time=end)
    return resource


# --- DST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "inside_utc", "hour_off_utc"),
    [
        # Europe/Warsaw springs forward on Sunday 2026-03-29: 09:00 is CEST, 07:00 UTC.
        ("Europe/Warsaw", dt.date(2026, 3, 29), (7, 8), (6, 7)),
        # ...and falls back on Sunday 2026-10-25: 09:00 is CET, 08:00 UTC.
        ("Europe/Warsaw", dt.date(2026, 10, 25), (8, 9), (7, 8)),
        # America/New_York springs forward on Sunday 2026-03-08: 09:00 is EDT, 13:00 UTC.
        ("America/New_York", dt.date(2026, 3, 8), (13, 14), (12, 13)),
        # ...and falls back on Sunday 2026-11-01: 09:00 is EST, 14:00 UTC.
        ("America/New_York", dt.date(2026, 11, 1), (14, 15), (13, 14)),
    ],
)
def test_working_hours_follow_the_local_clock_on_dst_days(zone, day, inside_utc, hour_off_utc):
    resource = resource_working(zone, 6, dt.time(9), dt.time(17))
    at = lambda h: dt.datetime.combine(day, dt.time(h), tzinfo=UTC)  # noqa: E731

    assert check_availability(resource, at(inside_utc[0]), at(inside_utc[1])).available
    result = check_availability(resource, at(hour_off_utc[0]), at(hour_off_utc[1]))
    assert not result.available
    assert kinds(result) == ["outside_availability"]
    assert (result.conflicts[0].start_at, result.conflicts[0].end_at) == (at(hour_off_utc[0]), at(hour_off_utc[1]))


def test_summer_and_winter_map_the_same_wall_clock_to_different_utc():
    resource = resource_working("Europe/Warsaw", 0, dt.time(9), dt.time(17))
    assert check_availability(resource, utc(2026, 7, 6, 7), utc(2026, 7, 6, 15)).available  # CEST
    assert check_availability(resource, utc(2026, 1, 5, 8), utc(2026, 1, 5, 16)).available  # CET
    assert not check_availability(resource, utc(2026, 1, 5, 7), utc(2026, 1, 5, 15)).available


def test_a_datetime_given_with_any_offset_means_the_same_instant():
    resource = resource_working("Europe/Warsaw", 0, dt.time(9), dt.time(17))
    warsaw = ZoneInfo("Europe/Warsaw")
    start = dt.datetime(2026, 7, 6, 9, tzinfo=warsaw)
    assert check_availability(resource, start, start + dt.timedelta(hours=8)).available


# --- Intervals ----------------------------------------------------------------------------------


def test_adjacent_bookings_do_not_conflict(resource):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    assert check_availability(resource, utc(2026, 3, 2, 11), utc(2026, 3, 2, 12)).available
    assert check_availability(resource, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)).available


def test_overlapping_booking_is_reported_with_its_id_interval_and_status(resource):
    booking = BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11), status="confirmed")
    result = check_availability(resource, utc(2026, 3, 2, 10, 30), utc(2026, 3, 2, 12))
    assert not result.available
    (conflict,) = result.conflicts
    assert (conflict.kind, conflict.id, conflict.status) == ("booking", booking.pk, "confirmed")
    assert (conflict.start_at, conflict.end_at) == (booking.start_at, booking.end_at)


@pytest.mark.parametrize("status", ["pending", "confirmed", "completed", "no_show"])
def test_every_status_but_cancelled_occupies(resource, status):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11), status=status)
    assert kinds(check_availability(resource, utc(2026, 3, 2, 10), utc(2026, 3, 2, 11))) == ["booking"]


def test_cancelled_bookings_do_not_occupy(resource):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11), status="cancelled")
    assert check_availability(resource, utc(2026, 3, 2, 10), utc(2026, 3, 2, 11)).available


def test_bookings_of_other_resources_do_not_conflict(resource):
    BookingFactory(start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    assert check_availability(resource, utc(2026, 3, 2, 10), utc(2026, 3, 2, 11)).available


def test_the_ignored_booking_does_not_conflict_with_itself(resource):
    booking = BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    assert check_availability(resource, utc(2026, 3, 2, 10, 30), utc(2026, 3, 2, 11, 30), ignore_booking=booking).available
    assert check_availability(resource, utc(2026, 3, 2, 10, 30), utc(2026, 3, 2, 11, 30), ignore_booking=booking.pk).available


def test_exceptions_block_time_and_touching_ones_do_not(resource):
    leave = ScheduleExceptionFactory(resource=resource, start_at=utc(2026, 3, 2, 12), end_at=utc(2026, 3, 2, 13))
    result = check_availability(resource, utc(2026, 3, 2, 12, 30), utc(2026, 3, 2, 14))
    assert [(c.kind, c.id) for c in result.conflicts] == [("exception", leave.pk)]
    assert check_availability(resource, utc(2026, 3, 2, 13), utc(2026, 3, 2, 14)).available


def test_inactive_resource_conflicts_with_its_id():
    resource = ResourceFactory(active=False)
    result = check_availability(resource, utc(2026, 3, 2, 10), utc(2026, 3, 2, 11))
    assert [(c.kind, c.id) for c in result.conflicts] == [("inactive_resource", resource.pk)]


def test_no_availability_rows_means_bookable_around_the_clock(resource):
    assert check_availability(resource, utc(2026, 3, 1, 0), utc(2026, 3, 8, 0)).available


def test_several_windows_on_one_day_form_a_union():
    resource = resource_working("UTC", 0, dt.time(9), dt.time(12))
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(12), end_time=dt.time(17))
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(11), end_time=dt.time(13))
    assert check_availability(resource, utc(2026, 3, 2, 9), utc(2026, 3, 2, 17)).available


def test_a_gap_between_windows_is_reported_as_outside_availability():
    resource = resource_working("UTC", 0, dt.time(9), dt.time(12))
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(13), end_time=dt.time(17))
    result = check_availability(resource, utc(2026, 3, 2, 8), utc(2026, 3, 2, 18))
    assert [(c.kind, c.id, c.start_at.hour, c.end_at.hour) for c in result.conflicts] == [
        ("outside_availability", None, 8, 9),
        ("outside_availability", None, 12, 13),
        ("outside_availability", None, 17, 18),
    ]


def test_a_booking_may_span_midnight_across_adjacent_windows():
    resource = resource_working("Europe/Warsaw", 0, dt.time(20), dt.time(0))  # Monday until midnight
    AvailabilityFactory(resource=resource, weekday=1, start_time=dt.time(0), end_time=dt.time(6))
    warsaw = ZoneInfo("Europe/Warsaw")
    monday_22 = dt.datetime(2026, 3, 2, 22, tzinfo=warsaw)
    assert check_availability(resource, monday_22, monday_22 + dt.timedelta(hours=7)).available
    assert not check_availability(resource, monday_22, monday_22 + dt.timedelta(hours=9)).available


def test_conflicts_of_every_kind_are_listed_in_order():
    resource = resource_working("UTC", 0, dt.time(9), dt.time(17), active=False)
    booking = BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    leave = ScheduleExceptionFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    result = check_availability(resource, utc(2026, 3, 2, 8), utc(2026, 3, 2, 11))
    assert [(c.kind, c.id) for c in result.conflicts] == [
        ("inactive_resource", resource.pk),
        ("booking", booking.pk),
        ("exception", leave.pk),
        ("outside_availability", None),
    ]


# --- Bad input ----------------------------------------------------------------------------------


def test_naive_datetimes_are_refused_naming_the_field(resource):
    with pytest.raises(ValidationError) as error:
        check_availability(resource, dt.datetime(2026, 3, 2, 10), utc(2026, 3, 2, 11))
    assert "start_at" in error.value.message_dict


@pytest.mark.parametrize("end", [utc(2026, 3, 2, 10), utc(2026, 3, 2, 9)])
def test_end_not_after_start_is_refused_naming_end_at(resource, end):
    with pytest.raises(ValidationError) as error:
        check_availability(resource, utc(2026, 3, 2, 10), end)
    assert list(error.value.message_dict) == ["end_at"]


def test_spans_longer_than_366_days_are_refused_even_when_hostile(resource):
    with pytest.raises(ValidationError) as error:
        check_availability(resource, dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 12, 31, tzinfo=UTC))
    assert list(error.value.message_dict) == ["end_at"]


@pytest.mark.parametrize("start", [dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 12, 30, tzinfo=UTC)])
def test_instants_at_the_ends_of_the_calendar_are_refused_not_overflowed(start):
    resource = resource_working("Pacific/Kiritimati", 0, dt.time(9), dt.time(17))
    with pytest.raises(ValidationError) as error:
        check_availability(resource, start, start + dt.timedelta(hours=1))
    assert "start_at" in error.value.message_dict

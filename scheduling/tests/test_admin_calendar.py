"""The resource calendar (docs/spec.md §8.4): placement in real time, shading, filters, clicks, queries."""

import datetime as dt

import pytest
from django.urls import reverse

from scheduling.tests.factories import (
    AWKWARD_INSTANTS,
    NOW,
    WARSAW,
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
    utc,
)

pytestmark = pytest.mark.django_db
CALENDAR = reverse("admin:scheduling_resource_calendar")


def rows_of(response):
    return {row.resource.name: row for row in response.context["rows"]}


def spans(placed) -> list[tuple[float, float]]:
    return [(round(p.left, 4), round(p.width, 4)) for p in placed]


def test_a_booking_is_placed_by_its_real_start_and_end(client, manager):
    booking = BookingFactory(resource=ResourceFactory(name="R"), start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10, 30))
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2026-03-02"})
    assert response.status_code == 200
    assert spans(rows_of(response)["R"].bookings) == [(37.5, 6.25)]
    assert f'data-booking="{booking.pk}"'.encode() in response.content
    assert b"left:37.5000%;width:6.2500%" in response.content


def test_blocks_are_placed_in_the_viewers_time_zone_on_a_dst_day(client, manager, settings):
    """29 March 2026 in Warsaw has 23 hours; 03:00 local is the third real hour of the day."""
    settings.TIME_ZONE = "Europe/Warsaw"
    BookingFactory(resource=ResourceFactory(name="R"), start_at=utc(2026, 3, 29, 1), end_at=utc(2026, 3, 29, 2))
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2026-03-29"})
    assert spans(rows_of(response)["R"].bookings) == [(round(200 / 23, 4), round(100 / 23, 4))]
    assert len(response.context["slots"]) == 24
    assert [mark.label for mark in response.context["marks"]][:4] == ["00", "01", "03", "04"]


def test_a_block_crossing_the_range_is_clipped_to_it(client, manager):
    BookingFactory(resource=ResourceFactory(name="R"), start_at=utc(2026, 3, 1, 22), end_at=utc(2026, 3, 2, 3))
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2026-03-02"})
    assert spans(rows_of(response)["R"].bookings) == [(0.0, 12.5)]


def test_the_week_view_runs_monday_to_monday_with_prev_and_next(client, manager):
    BookingFactory(resource=ResourceFactory(name="R"), start_at=utc(2026, 3, 4, 12), end_at=utc(2026, 3, 4, 18))
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "week", "date": "2026-03-04"})
    rng = response.context["rng"]
    assert (rng.start, rng.end) == (utc(2026, 3, 2), utc(2026, 3, 9))
    assert spans(rows_of(response)["R"].bookings) == [(round(100 * 60 / 168, 4), round(100 * 6 / 168, 4))]
    assert "date=2026-02-23" in response.context["links"]["previous"]
    assert "date=2026-03-09" in response.context["links"]["next"]
    assert [mark.label for mark in response.context["marks"]] == ["Mon 2 Mar", "Tue 3 Mar", "Wed 4 Mar", "Thu 5 Mar", "Fri 6 Mar", "Sat 7 Mar", "Sun 8 Mar"]


def test_an_impossible_date_falls_back_to_today(client, manager):
    client.force_login(manager)
    response = client.get(CALENDAR, {"date": "2026-02-30", "view": "month"})
    assert response.status_code == 200
    assert response.context["rng"].view == "week"
    assert response.context["rng"].day == NOW.date() - dt.timedelta(days=NOW.weekday())


@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_without_a_date_the_calendar_shows_today_and_this_week_in_the_viewers_zone(client, manager, settings, time_machine, instant):
    settings.TIME_ZONE = "Europe/Warsaw"
    time_machine.move_to(instant, tick=False)
    today = instant.astimezone(WARSAW).date()
    monday = today - dt.timedelta(days=today.weekday())
    client.force_login(manager)

    week = client.get(CALENDAR)
    day = client.get(CALENDAR, {"view": "day"})

    def midnight(day):
        return dt.datetime.combine(day, dt.time(0), tzinfo=WARSAW)

    assert (week.context["rng"].start, week.context["rng"].end) == (midnight(monday), midnight(monday + dt.timedelta(days=7)))
    assert (day.context["rng"].start, day.context["rng"].end) == (midnight(today), midnight(today + dt.timedelta(days=1)))
    # The "now" line sits at the instant's real fraction of the range (a DST week has 167 or 169 hours).
    for response in (week, day):
        rng = response.context["rng"]
        assert response.context["now_left"] == pytest.approx(100 * (instant - rng.start) / (rng.end - rng.start), abs=1e-6)


def test_time_outside_working_hours_is_shaded_in_the_resources_own_zone(client, manager):
    resource = ResourceFactory(name="NY", timezone="America/New_York")
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))  # 14:00–22:00 UTC
    ResourceFactory(name="Always")  # no rows: bookable around the clock, nothing shaded
    client.force_login(manager)
    rows = rows_of(client.get(CALENDAR, {"view": "day", "date": "2026-03-02"}))
    assert spans(rows["NY"].off_hours) == [(0.0, round(100 * 14 / 24, 4)), (round(100 * 22 / 24, 4), round(100 * 2 / 24, 4))]
    assert rows["Always"].off_hours == []


def test_exceptions_are_drawn_as_blocked_time(client, manager):
    exception = ScheduleExceptionFactory(resource=ResourceFactory(name="R"), start_at=utc(2026, 3, 2, 12), end_at=utc(2026, 3, 2, 18), reason="Leave")
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2026-03-02"})
    assert spans(rows_of(response)["R"].exceptions) == [(50.0, 25.0)]
    assert f'data-exception="{exception.pk}"'.encode() in response.content


def test_cancelled_bookings_are_marked_and_can_be_hidden(client, manager):
    resource = ResourceFactory(name="R")
    BookingFactory(resource=resource, status="cancelled", start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    BookingFactory(resource=resource, status="confirmed", start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    client.force_login(manager)
    shown = client.get(CALENDAR, {"view": "day", "date": "2026-03-02"})
    assert [p.item.status for p in rows_of(shown)["R"].bookings] == ["cancelled", "confirmed"]
    assert b"cal-booking status-cancelled" in shown.content
    hidden = client.get(CALENDAR, {"view": "day", "date": "2026-03-02", "cancelled": "hide"})
    assert [p.item.status for p in rows_of(hidden)["R"].bookings] == ["confirmed"]


def test_rows_are_filtered_by_type_and_active(client, manager):
    rooms = ResourceTypeFactory(name="Room")
    ResourceFactory(name="Room 1", type=rooms)
    ResourceFactory(name="Room 2", type=rooms, active=False)
    ResourceFactory(name="Van")
    client.force_login(manager)
    assert set(rows_of(client.get(CALENDAR))) == {"Room 1", "Van"}
    assert set(rows_of(client.get(CALENDAR, {"type": rooms.pk, "active": "all"}))) == {"Room 1", "Room 2"}
    assert set(rows_of(client.get(CALENDAR, {"active": "0"}))) == {"Room 2"}


def test_only_rows_the_user_may_book_take_clicks(client, granted):
    """A grant holder sees A (granted) and books only there; B is invisible."""
    ResourceFactory(name="B")
    client.force_login(granted)
    response = client.get(CALENDAR)
    assert set(rows_of(response)) == {"A"}
    assert response.context["bookable"] == {rows_of(response)["A"].resource.pk}
    assert b"data-bookable" in response.content


def test_a_viewer_gets_no_click_to_book(client, viewer):
    ResourceFactory(name="R")
    client.force_login(viewer)
    response = client.get(CALENDAR)
    assert response.status_code == 200 and "R" in rows_of(response)
    assert response.context["bookable"] == set()
    assert b"data-bookable" not in response.content


def test_the_cells_carry_the_add_form_link_and_real_hours(client, manager):
    ResourceFactory(name="R")
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2026-03-02"})
    assert response.context["add_url"] == reverse("admin:scheduling_booking_add")
    assert response.context["slots"][9] == {"at": "2026-03-02T09:00:00+00:00", "label": "Mon 09:00"}


@pytest.mark.parametrize("bookings", [10, 200])
def test_the_calendar_renders_in_a_constant_number_of_queries(client, manager, django_assert_num_queries, bookings):
    resources = [ResourceFactory() for _ in range(bookings // 10)]
    for k in range(bookings):
        resource = resources[k % len(resources)]
        AvailabilityFactory(resource=resource, weekday=k % 7)
        BookingFactory(resource=resource, start_at=utc(2026, 3, 2) + dt.timedelta(hours=k // len(resources)))
    ScheduleExceptionFactory(resource=resources[0])
    client.force_login(manager)
    # session, user, the user's permissions, the group permissions, the resources' count (paging),
    # the page of resources (with types), bookings (with customers), exceptions, availability rows,
    # bookable resources, types for the filter; the clickable hours: occupying bookings with their
    # buffers, exceptions, availability rows.
    with django_assert_num_queries(14):
        response = client.get(CALENDAR, {"date": "2026-03-02"})
    assert sum(len(row.bookings) for row in response.context["rows"]) == bookings


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "2026-02-30", "junk"])
def test_dates_at_the_ends_of_the_calendar_show_today_instead_of_failing(client, manager, date):
    client.force_login(manager)
    response = client.get(reverse("admin:scheduling_resource_calendar"), {"date": date, "view": "week"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_a_type_id_in_other_digits_or_past_a_bigint_filters_nothing(client, manager, value):
    ResourceFactory(name="R")
    client.force_login(manager)
    response = client.get(CALENDAR, {"type": value})
    assert response.status_code == 200
    assert list(rows_of(response)) == ["R"]


def test_click_to_book_offers_only_the_hours_the_booking_rules_accept(client, manager):
    import time_machine

    from scheduling.tests.factories import ResourceTypeFactory

    ResourceFactory(name="Strict", type=ResourceTypeFactory(min_notice=60))
    open_resource = ResourceFactory(name="Open", type=ResourceTypeFactory(granularity=60))
    BookingFactory(resource=open_resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11), buffer_after=60)
    client.force_login(manager)
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        response = client.get(CALENDAR, {"date": "2026-03-02", "view": "day"})
    rows = {row.resource.name: row for row in response.context["rows"]}
    # At noon with an hour's notice, the first hour offered starts at 13:00 (a manager's override is not assumed).
    assert rows["Strict"].open_hours.split()[0] == "13"
    hours = [int(h) for h in rows["Open"].open_hours.split()]
    # 10:00 is booked and 11:00 is its buffer (the calendar is in the site's zone, UTC in tests).
    assert 9 in hours and 10 not in hours and 11 not in hours and 12 in hours
    assert b'class="cal-buffer"' in response.content

"""Groups and series through the API (docs/spec.md §14): the rules as HTTP answers and rows."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduling.models import Booking, BookingGroup, BookingSeries
from scheduling.tests.factories import API, AvailabilityFactory, BookingFactory, CustomerFactory, ResourceFactory, ResourceTypeFactory, client_for, iso, staff

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
WARSAW, NEW_YORK = ZoneInfo("Europe/Warsaw"), ZoneInfo("America/New_York")


@pytest.fixture
def trio(db):
    trainer_type, room_type = ResourceTypeFactory(name="Trainer"), ResourceTypeFactory(name="Room")
    return (
        ResourceFactory(name="Anna", type=trainer_type, timezone="Europe/Warsaw"),
        ResourceFactory(name="Studio", type=room_type, timezone="Europe/Warsaw"),
        CustomerFactory(),
    )


def group_body(resources, customer, start, end, **extra):
    return {"resources": [r.pk for r in resources], "customer": customer.pk, "start_at": iso(start), "end_at": iso(end), **extra}


START = dt.datetime(2030, 3, 4, 17, 0, tzinfo=UTC)
END = START + dt.timedelta(hours=1)


# --- Groups --------------------------------------------------------------------------------------


def test_a_group_books_every_resource_as_one_booking_each(api, trio):
    anna, studio, customer = trio

    response = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END))

    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) >= {"id", "resources", "customer", "start_at", "end_at", "status", "bookings"}
    assert sorted(data["resources"]) == sorted([anna.pk, studio.pk]) and data["status"] == "pending"
    parts = Booking.objects.filter(group_id=data["id"])
    assert sorted(parts.values_list("id", flat=True)) == sorted(data["bookings"])
    assert {(p.resource_id, p.start_at, p.end_at) for p in parts} == {(anna.pk, START, END), (studio.pk, START, END)}


def test_a_group_is_refused_whole_when_one_part_conflicts(api, trio):
    anna, studio, customer = trio
    taken = BookingFactory(resource=studio, start_at=START, end_at=END)

    response = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END))

    assert response.status_code == 409
    conflicts = response.json()["conflicts"]
    assert [(c["resource_id"], c["kind"], c["id"]) for c in conflicts] == [(studio.pk, "booking", taken.pk)]
    assert Booking.objects.count() == 1 and BookingGroup.objects.count() == 0


def test_group_check_answers_available_and_the_conflicts_with_their_resource(api, trio):
    anna, studio, _ = trio
    BookingFactory(resource=anna, start_at=START, end_at=END)
    body = {"resources": [anna.pk, studio.pk], "start_at": iso(START), "end_at": iso(END)}

    busy = api.post(f"{API}/booking_group/check", body).json()
    free = api.post(f"{API}/booking_group/check", {**body, "start_at": iso(END), "end_at": iso(END + dt.timedelta(hours=1))}).json()

    assert busy["available"] is False and [c["resource_id"] for c in busy["conflicts"]] == [anna.pk]
    assert free == {"available": True, "conflicts": []}


def test_moving_a_group_moves_every_part_or_none(api, trio):
    anna, studio, customer = trio
    group = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END)).json()
    later = START + dt.timedelta(hours=3)
    BookingFactory(resource=studio, start_at=later, end_at=later + dt.timedelta(hours=1))

    refused = api.patch(f"{API}/booking_group/{group['id']}", {"start_at": iso(later), "end_at": iso(later + dt.timedelta(hours=1))})
    moved = api.patch(f"{API}/booking_group/{group['id']}", {"start_at": iso(END), "end_at": iso(END + dt.timedelta(hours=1))})

    assert refused.status_code == 409 and [c["resource_id"] for c in refused.json()["conflicts"]] == [studio.pk]
    assert moved.status_code == 200 and moved.json()["start_at"] == iso(END)
    assert set(Booking.objects.filter(group_id=group["id"]).values_list("start_at", flat=True)) == {END}


def test_a_group_transition_changes_every_part(api, trio):
    anna, studio, customer = trio
    group = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END)).json()

    response = api.post(f"{API}/booking_group/{group['id']}/confirm")

    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    assert set(Booking.objects.filter(group_id=group["id"]).values_list("status", flat=True)) == {"confirmed"}


def test_a_part_cannot_be_moved_or_transitioned_alone(api, trio):
    anna, studio, customer = trio
    group = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END)).json()
    part = group["bookings"][0]

    moved = api.patch(f"{API}/booking/{part}", {"start_at": iso(END), "end_at": iso(END + dt.timedelta(hours=1))})
    cancelled = api.post(f"{API}/booking/{part}/cancel")

    for response in (moved, cancelled):
        assert response.status_code == 409 and f"group {group['id']}" in response.json()["detail"]
    assert set(Booking.objects.filter(group_id=group["id"]).values_list("status", "start_at")) == {("pending", START)}


def test_find_returns_only_times_when_every_type_has_a_free_resource(api, trio):
    anna, studio, _ = trio
    day = dt.datetime(2030, 3, 4, tzinfo=UTC)
    for resource in (anna, studio):
        AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(13))  # 08:00–12:00 UTC
    BookingFactory(resource=studio, start_at=day.replace(hour=9), end_at=day.replace(hour=10))
    BookingFactory(resource=anna, start_at=day.replace(hour=10), end_at=day.replace(hour=11))

    response = api.get(
        f"{API}/booking_group/find",
        {"types": f"{anna.type_id},{studio.type_id}", "start": iso(day), "end": iso(day + dt.timedelta(days=1)), "duration": 60},
    )

    assert response.status_code == 200, response.json()
    slots = response.json()["slots"]
    assert [s["start_at"] for s in slots] == [iso(day.replace(hour=8)), iso(day.replace(hour=11))]
    assert slots[0]["resources"] == [anna.pk, studio.pk]
    assert response.json()["next"] is None


def test_find_caps_the_answer_and_says_where_to_continue(api, trio):
    anna, studio, _ = trio
    day = dt.datetime(2030, 3, 4, tzinfo=UTC)
    query = {"types": f"{anna.type_id},{studio.type_id}", "start": iso(day), "end": iso(day + dt.timedelta(days=1)), "duration": 60}

    capped = api.get(f"{API}/booking_group/find", {**query, "limit": 2}).json()
    fine = api.get(f"{API}/booking_group/find", {**query, "step": 4})

    assert len(capped["slots"]) == 2 and capped["next"] == iso(day.replace(hour=2))
    assert fine.status_code == 400 and "step" in fine.json()


# --- Series --------------------------------------------------------------------------------------


def series_body(resource, customer, start, rule, **extra):
    return {"resource": resource.pk, "customer": customer.pk, "start_at": start.isoformat(), "end_at": (start + dt.timedelta(hours=1)).isoformat(), "rrule": rule, **extra}


@pytest.mark.parametrize("zone", ["Europe/Warsaw", "America/New_York"])
def test_a_weekly_series_keeps_its_local_hour_across_both_dst_changes(api, zone):
    resource, customer = ResourceFactory(timezone=zone), CustomerFactory()
    first = dt.datetime(2030, 1, 7, 18, 0, tzinfo=ZoneInfo(zone))  # a Monday in winter

    response = api.post(f"{API}/series/", series_body(resource, customer, first, "FREQ=WEEKLY;BYDAY=MO;UNTIL=20301231T000000Z"))

    assert response.status_code == 201, response.json()
    starts = [b.start_at.astimezone(ZoneInfo(zone)) for b in Booking.objects.filter(series_id=response.json()["id"])]
    assert len(starts) == 52 and len(response.json()["bookings"]) == 52
    assert {(s.hour, s.minute, s.weekday()) for s in starts} == {(18, 0, 0)}
    # Winter, summer and winter again: the UTC hour moves, the local one does not.
    assert len({s.utcoffset() for s in starts}) == 2
    assert starts[0].utcoffset() == starts[-1].utcoffset() != starts[26].utcoffset()


def test_skip_conflicts_books_the_rest_and_reports_exactly_the_conflicting_dates(api):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    taken = [first + dt.timedelta(weeks=2), first + dt.timedelta(weeks=5)]
    for start in taken:
        BookingFactory(resource=resource, start_at=start, end_at=start + dt.timedelta(minutes=30))

    response = api.post(f"{API}/series/", series_body(resource, customer, first, "FREQ=WEEKLY;COUNT=8", mode="skip_conflicts"))

    assert response.status_code == 201
    occurrences = response.json()["occurrences"]
    skipped = [o["start_at"] for o in occurrences if o["status"] == "skipped"]
    assert skipped == [iso(t.astimezone(UTC)) for t in taken]
    assert all(o["conflicts"] for o in occurrences if o["status"] == "skipped")
    assert not any(o["conflicts"] for o in occurrences if o["status"] == "booked")
    assert Booking.objects.filter(series_id=response.json()["id"]).count() == 6


def test_all_or_nothing_writes_nothing_on_one_conflict(api):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    BookingFactory(resource=resource, start_at=first + dt.timedelta(weeks=3), end_at=first + dt.timedelta(weeks=3, hours=1))

    response = api.post(f"{API}/series/", series_body(resource, customer, first, "FREQ=WEEKLY;COUNT=8", mode="all_or_nothing"))

    assert response.status_code == 409
    occurrences = response.json()["occurrences"]
    assert [bool(o["conflicts"]) for o in occurrences] == [False, False, False, True, False, False, False, False]
    assert Booking.objects.count() == 1 and BookingSeries.objects.count() == 0


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY",  # never ends
        "FREQ=DAILY;COUNT=501",  # more than 500
        "FREQ=WEEKLY;UNTIL=20330101T000000Z",  # more than two years
        "FREQ=MONTHLY;COUNT=30",  # the same by COUNT
        "FREQ=SOMETIMES;COUNT=2",
        "nonsense",
        "FREQ=WEEKLY;COUNT=x",
        "FREQ=HOURLY;COUNT=3",  # below a day: not a booking series
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1",  # never meets: dateutil would search until 9999
        "FREQ=WEEKLY;BYSETPOS=2;COUNT=2",
        "FREQ=DAILY;INTERVAL=0;COUNT=3",  # dateutil would repeat the first start three times
        "FREQ=DAILY;INTERVAL=-1;COUNT=3",
    ],
)
def test_a_rule_that_does_not_end_is_too_long_or_invalid_is_refused_naming_rrule(api, rule):
    resource, customer = ResourceFactory(), CustomerFactory()

    response = api.post(f"{API}/series/", series_body(resource, customer, START, rule))

    assert response.status_code == 400 and "rrule" in response.json()
    assert Booking.objects.count() == 0 and BookingSeries.objects.count() == 0


@pytest.mark.parametrize(("hours", "buffer_after"), [(25, 0), (23, 90)])
def test_occurrences_that_would_overlap_each_other_are_refused_naming_rrule(api, hours, buffer_after):
    """A daily series longer than a day, or whose buffers reach the next day's start, would double-book
    its own resource (SQLite has no exclusion constraint to catch it)."""
    resource = ResourceFactory(type=ResourceTypeFactory(buffer_after=buffer_after))
    body = series_body(resource, CustomerFactory(), START, "FREQ=DAILY;COUNT=3", end_at=(START + dt.timedelta(hours=hours)).isoformat())

    response = api.post(f"{API}/series/", body)

    assert response.status_code == 400 and "overlap" in response.json()["rrule"][0]
    assert Booking.objects.count() == 0 and BookingSeries.objects.count() == 0


def test_an_exdate_outside_the_years_a_series_can_reach_is_400_naming_exdates(api):
    resource, customer = ResourceFactory(), CustomerFactory()

    response = api.post(f"{API}/series/", series_body(resource, customer, START, "FREQ=WEEKLY;COUNT=2", exdates=["0001-01-01T00:00:00+01:00"]))

    assert response.status_code == 400 and "exdates" in response.json()


@pytest.mark.parametrize("until", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "2020-01-01T00:00:00Z"])
def test_extend_to_an_until_out_of_reach_is_400_naming_until(api, until):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    series = api.post(f"{API}/series/", series_body(resource, customer, dt.datetime(2030, 3, 4, 18, tzinfo=WARSAW), "FREQ=WEEKLY;COUNT=2")).json()

    response = api.post(f"{API}/series/{series['id']}/extend", {"until": until})

    assert response.status_code == 400 and "until" in response.json(), response.json()
    assert Booking.objects.count() == 2


def test_cancel_from_a_date_cancels_this_and_the_following_occurrences(api):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    series = api.post(f"{API}/series/", series_body(resource, customer, first, "FREQ=WEEKLY;COUNT=6")).json()

    response = api.post(f"{API}/series/{series['id']}/cancel", {"from": (first + dt.timedelta(weeks=4)).isoformat()})

    assert response.status_code == 200
    statuses = list(Booking.objects.filter(series_id=series["id"]).order_by("start_at").values_list("status", flat=True))
    assert statuses == ["pending"] * 4 + ["cancelled"] * 2
    assert [o["status"] for o in response.json()["occurrences"]] == ["booked"] * 4 + ["cancelled"] * 2


def test_an_occurrence_moved_alone_detaches_from_the_series(api):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    series = api.post(f"{API}/series/", series_body(resource, customer, first, "FREQ=WEEKLY;COUNT=3")).json()
    second = series["bookings"][1]

    moved = api.patch(f"{API}/booking/{second}", {"start_at": (first + dt.timedelta(weeks=1, hours=1)).isoformat(), "end_at": (first + dt.timedelta(weeks=1, hours=2)).isoformat()})
    api.post(f"{API}/series/{series['id']}/cancel", {"from": first.isoformat()})

    assert moved.status_code == 200
    booking = Booking.objects.get(pk=second)
    assert booking.detached and booking.recurrence_id == (first + dt.timedelta(weeks=1)).astimezone(UTC)
    assert booking.status == "pending"  # it stands apart: the series' cancel leaves it
    answer = api.get(f"{API}/series/{series['id']}").json()
    assert [o["status"] for o in answer["occurrences"]] == ["cancelled", "detached", "cancelled"]
    assert answer["exdates"] == [iso((first + dt.timedelta(weeks=1)).astimezone(UTC))]


def test_a_series_of_a_group_books_every_resource_at_every_occurrence(api, trio):
    anna, studio, customer = trio
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    body = {**series_body(anna, customer, first, "FREQ=WEEKLY;COUNT=4"), "resources": [anna.pk, studio.pk]}
    del body["resource"]

    response = api.post(f"{API}/series/", body)

    assert response.status_code == 201, response.json()
    assert len(response.json()["bookings"]) == 8
    assert BookingGroup.objects.filter(series_id=response.json()["id"]).count() == 4


def test_exdates_leave_out_the_named_dates_and_are_answered_as_the_starts_left_out(api):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    body = series_body(resource, customer, first, "FREQ=WEEKLY;COUNT=4", exdates=["2030-03-11", (first + dt.timedelta(weeks=3)).isoformat()])

    response = api.post(f"{API}/series/", body)

    assert response.status_code == 201
    assert [o["start_at"] for o in response.json()["occurrences"]] == [iso(first.astimezone(UTC)), iso((first + dt.timedelta(weeks=2)).astimezone(UTC))]
    assert response.json()["exdates"] == [iso((first + dt.timedelta(weeks=w)).astimezone(UTC)) for w in (1, 3)]


def test_extend_adds_occurrences_by_the_same_rule(api):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    series = api.post(f"{API}/series/", series_body(resource, customer, first, "FREQ=WEEKLY;COUNT=3")).json()

    response = api.post(f"{API}/series/{series['id']}/extend", {"count": 2})

    assert response.status_code == 200, response.json()
    starts = list(Booking.objects.filter(series_id=series["id"]).order_by("start_at").values_list("start_at", flat=True))
    assert starts == [(first + dt.timedelta(weeks=i)).astimezone(UTC) for i in range(5)]
    assert "COUNT=5" in response.json()["rrule"]


@pytest.mark.parametrize(
    ("rule", "expected_weeks", "rule_part"),
    [("FREQ=WEEKLY;COUNT=3", range(6), "COUNT=6"), ("FREQ=WEEKLY;UNTIL=20300318T235959Z", range(5), "UNTIL=20300401T170001Z")],
)
def test_extend_without_a_body_runs_the_rule_once_more(api, rule, expected_weeks, rule_part):
    resource, customer = ResourceFactory(timezone="Europe/Warsaw"), CustomerFactory()
    first = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)
    series = api.post(f"{API}/series/", series_body(resource, customer, first, rule)).json()

    response = api.post(f"{API}/series/{series['id']}/extend")

    assert response.status_code == 200, response.json()
    starts = list(Booking.objects.filter(series_id=series["id"]).order_by("start_at").values_list("start_at", flat=True))
    assert starts == [(first + dt.timedelta(weeks=i)).astimezone(UTC) for i in expected_weeks]
    assert rule_part in response.json()["rrule"]


def test_groups_and_series_have_their_history(api, trio):
    anna, studio, customer = trio
    group = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END)).json()
    api.post(f"{API}/booking_group/{group['id']}/confirm")
    first = dt.datetime(2030, 4, 1, 18, 0, tzinfo=WARSAW)
    series = api.post(f"{API}/series/", series_body(anna, customer, first, "FREQ=WEEKLY;COUNT=2")).json()

    group_history = api.get(f"{API}/booking_group/{group['id']}/history").json()
    series_history = api.get(f"{API}/series/{series['id']}/history").json()

    assert [e["changes"].get("status") for e in group_history["results"]][0] == ["pending", "confirmed"]
    assert group_history["results"][0]["channel"] == "api" and group_history["results"][0]["actor"] == "manager"
    assert series_history["count"] == 1 and "rrule" in series_history["results"][0]["changes"]


def test_a_viewer_may_not_book_a_group(viewer, trio):
    anna, studio, customer = trio

    response = client_for(viewer).post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END))

    assert response.status_code in (400, 403)
    assert Booking.objects.count() == 0


def test_the_queries_of_a_series_do_not_grow_with_its_occurrences(trio):
    """Busy time and working hours of every resource read once over the whole span, one insert of
    the groups and one of the parts (in batches on SQLite): 4 occurrences and 20 cost the same (the first occurrence's
    parts are validated in full, ~11 queries each with their savepoints; the notice reads 4)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.permissions import SYSTEM
    from scheduling.services import series as series_service

    anna, studio, customer = trio
    third = ResourceFactory(name="Bike", timezone="Europe/Warsaw")
    counts = []
    for index, count in enumerate((4, 20)):
        first = dt.datetime(2030, 3, 4, 18, tzinfo=WARSAW) + dt.timedelta(days=60 * index)
        with CaptureQueriesContext(connection) as queries:
            series_service.series_create(by=SYSTEM, resources=[anna, studio, third], customer=customer, start_at=first, end_at=first + dt.timedelta(hours=1), rrule=f"FREQ=DAILY;COUNT={count}")
        # The only term that grows: SQLite binds at most 999 parameters a statement, so the parts'
        # INSERT is split into batches of 999 // (columns) rows; and the audit trail's one row per part.
        counts.append(sum(not q["sql"].startswith(('INSERT INTO "scheduling_booking" ', 'INSERT INTO "auditlog_logentry"')) for q in queries.captured_queries))

    assert counts[0] == counts[1] and Booking.objects.count() == 3 * 24


def test_a_group_needs_the_right_to_book_every_one_of_its_resources(trio):
    """Rights are decided per part by the booking service: a grant on one resource books no group."""
    from guardian.shortcuts import assign_perm

    anna, studio, customer = trio
    booker = staff(username="anna-only")
    assign_perm("book_resource", booker, anna)
    assign_perm("manage_schedule", booker, studio)  # sees the studio, may not book it

    response = client_for(booker).post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END))

    assert response.status_code == 403 and response.json()["detail"] == f"You may not book resource {studio.pk}."
    assert Booking.objects.count() == 0 and BookingGroup.objects.count() == 0


def test_a_user_who_sees_one_part_sees_only_that_part_of_a_group_or_series(api, granted):
    """A grant on A shows the group and the series through A's parts, never B's bookings or B itself."""
    from scheduling.models import Resource

    a = Resource.objects.get(name="A")
    b, customer = ResourceFactory(name="B"), CustomerFactory()
    group = api.post(f"{API}/booking_group/", group_body([a, b], customer, START, END)).json()
    first = dt.datetime(2030, 4, 1, 18, 0, tzinfo=WARSAW)
    body = {**series_body(a, customer, first, "FREQ=WEEKLY;COUNT=2"), "resource": None, "resources": [a.pk, b.pk]}
    series = api.post(f"{API}/series/", {k: v for k, v in body.items() if v is not None}).json()
    mine = client_for(granted)

    seen_group = mine.get(f"{API}/booking_group/{group['id']}").json()
    seen_list = mine.get(f"{API}/booking_group/").json()["results"]
    seen_series = mine.get(f"{API}/series/{series['id']}").json()

    on_a = set(Booking.objects.filter(resource=a).values_list("pk", flat=True))
    assert seen_group["resources"] == [a.pk] and set(seen_group["bookings"]) <= on_a and seen_group["bookings"]
    # The group, and the two groups of the series' occurrences.
    assert [g["resources"] for g in seen_list] == [[a.pk]] * 3
    assert seen_series["resources"] == [a.pk] and set(seen_series["bookings"]) <= on_a and len(seen_series["bookings"]) == 2
    assert all(set(o["bookings"]) <= on_a for o in seen_series["occurrences"])


@pytest.mark.parametrize("resources", [[1, "a"], [{"x": 1}, {"y": 2}], [None, 1], [[1], 2], "12"])
def test_patching_a_groups_resources_with_junk_is_400_naming_resources(api, trio, resources):
    anna, studio, customer = trio
    group = api.post(f"{API}/booking_group/", group_body([anna, studio], customer, START, END)).json()

    response = api.patch(f"{API}/booking_group/{group['id']}", {"resources": resources}, format="json")

    assert response.status_code == 400 and "resources" in response.json()


def test_find_stops_after_its_budget_and_says_where_to_go_on(api, trio, monkeypatch):
    from scheduling.services import groups as group_service

    anna, studio, _ = trio
    monkeypatch.setattr(group_service, "MAX_FIND_CHECKS", 10)
    query = {"types": f"{anna.type_id},{studio.type_id}", "start": iso(START), "end": iso(START + dt.timedelta(days=2)), "duration": 60, "step": 60}

    answer = api.get(f"{API}/booking_group/find", query).json()

    # Ten checks of two one-resource types: five starts, each a slot; the sixth is where to go on.
    assert len(answer["slots"]) == 5 and answer["next"] == iso(START + dt.timedelta(hours=5))

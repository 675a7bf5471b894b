"""manage.py free_slots and free_slots_of_type (docs/spec.md §10.3): the front desk's view of a type."""

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from scheduling.services.availability import free_slots
from scheduling.services.reports import free_slots_of_type
from scheduling.tests.factories import (
    AWKWARD_INSTANTS,
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
)

pytestmark = pytest.mark.django_db
DAY = dt.date(2030, 3, 4)  # a Monday, safely in the future
WARSAW, NEW_YORK = ZoneInfo("Europe/Warsaw"), ZoneInfo("America/New_York")
HOUR = dt.timedelta(hours=1)


def at(zone, hour, minute=0, day=DAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


@pytest.fixture
def trainers():
    kind = ResourceTypeFactory(name="Trainer")
    anna = ResourceFactory(name="Anna", type=kind, timezone="Europe/Warsaw")
    AvailabilityFactory(resource=anna, weekday=0, start_time=dt.time(9), end_time=dt.time(13))
    BookingFactory(resource=anna, start_at=at(WARSAW, 10), end_at=at(WARSAW, 11), status="confirmed")
    BookingFactory(resource=anna, start_at=at(WARSAW, 11), end_at=at(WARSAW, 12), status="cancelled")  # frees its hour
    jake = ResourceFactory(name="Jake", type=kind, timezone="America/New_York")
    AvailabilityFactory(resource=jake, weekday=0, start_time=dt.time(6), end_time=dt.time(9))
    ScheduleExceptionFactory(resource=jake, start_at=at(NEW_YORK, 7), end_at=at(NEW_YORK, 8))
    ResourceFactory(name="Retired", type=kind, active=False)
    ResourceFactory(name="A room")  # another type
    return kind, anna, jake


def run(*args):
    out = io.StringIO()
    call_command("free_slots", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_each_active_resource_of_the_type_gets_its_local_day_slots(trainers):
    kind, anna, jake = trainers
    found = free_slots_of_type(resource_type=kind, day=DAY, duration=HOUR)
    assert [(r.resource.name, r.zone) for r in found] == [("Anna", "Europe/Warsaw"), ("Jake", "America/New_York")]
    assert found[0].slots == [(at(WARSAW, 9), at(WARSAW, 10)), (at(WARSAW, 11), at(WARSAW, 12)), (at(WARSAW, 12), at(WARSAW, 13))]
    assert found[1].slots == [(at(NEW_YORK, 6), at(NEW_YORK, 7)), (at(NEW_YORK, 8), at(NEW_YORK, 9))]


def test_the_slots_are_those_of_free_slots_for_each_resource(trainers):
    kind, anna, jake = trainers
    found = free_slots_of_type(resource_type=kind, day=DAY, duration=dt.timedelta(minutes=45), step=dt.timedelta(minutes=15))
    for row, zone in zip(found, (WARSAW, NEW_YORK)):
        assert row.slots == free_slots(row.resource, at(zone, 0), at(zone, 0, day=DAY + dt.timedelta(days=1)), dt.timedelta(minutes=45), dt.timedelta(minutes=15))


def test_slots_that_have_begun_are_left_out(trainers):
    kind, anna, jake = trainers
    found = free_slots_of_type(resource_type=kind, day=DAY, duration=HOUR, not_before=at(WARSAW, 11, 30))
    assert found[0].slots == [(at(WARSAW, 12), at(WARSAW, 13))]
    # Only today's begun slots are hidden by the command: a past day is shown whole.
    assert "no free slot" not in run("--type", "Trainer", "--on", "2020-03-02", "--duration", "60")


@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_on_today_the_command_leaves_out_the_slots_that_have_begun_and_other_days_are_whole(settings, time_machine, instant):
    settings.TIME_ZONE = "Europe/Warsaw"  # "today" is the server's day; here days with DST changes
    time_machine.move_to(instant, tick=False)
    ResourceFactory(name="Desk", type=ResourceTypeFactory(name="Desk"), timezone="Europe/Warsaw")  # open around the clock
    today = instant.astimezone(WARSAW).date()

    def listed(day):
        rows = csv.DictReader(io.StringIO(run("--type", "Desk", "--on", day.isoformat(), "--duration", "30", "--format", "csv")))
        return [dt.datetime.fromisoformat(row["start"]) for row in rows]

    def half_hours(day):  # the local day's grid, counted in real time (23 or 25 hours on DST days)
        start, end = (at(WARSAW, 0, day=d).astimezone(dt.UTC) for d in (day, day + dt.timedelta(days=1)))
        return [start + k * HOUR / 2 for k in range(int((end - start) / (HOUR / 2)))]

    assert listed(today) == [start for start in half_hours(today) if start >= instant]
    for other in (today - dt.timedelta(days=1), today + dt.timedelta(days=1)):
        assert listed(other) == half_hours(other)


def test_a_report_zone_reads_the_day_there(trainers):
    kind, anna, jake = trainers
    # 2030-03-04 on Kiritimati (UTC+14) is 03-03 10:00 – 03-04 10:00 UTC: it holds Anna's 09:00–10:00
    # (08:00 UTC) but ends before her 11:00 and before New York wakes up.
    found = free_slots_of_type(resource_type=kind, day=DAY, duration=HOUR, tz="Pacific/Kiritimati")
    assert [r.zone for r in found] == ["Pacific/Kiritimati", "Pacific/Kiritimati"]
    assert (found[0].slots, found[1].slots) == ([(at(WARSAW, 9), at(WARSAW, 10))], [])


def test_the_type_costs_four_queries_whatever_its_size(trainers, django_assert_num_queries):
    kind = trainers[0]
    # 1: the active resources of the type; 2: their occupying bookings of the day; 3: their
    # exceptions of the day; 4: their availability rows.
    with django_assert_num_queries(4):
        free_slots_of_type(resource_type=kind, day=DAY, duration=HOUR)
    for _ in range(20):
        AvailabilityFactory(resource=ResourceFactory(type=kind))
    with django_assert_num_queries(4):
        assert len(free_slots_of_type(resource_type=kind, day=DAY, duration=HOUR)) == 22


def test_table_lists_local_times_per_resource(trainers):
    out = run("--type", "trainer", "--on", "2030-03-04", "--duration", "60")
    assert out.splitlines()[0] == "Free Trainer slots on Monday 2030-03-04"
    assert "Anna (Europe/Warsaw)\n  09:00–10:00\n  11:00–12:00\n  12:00–13:00" in out
    assert "Jake (America/New_York)\n  06:00–07:00\n  08:00–09:00" in out
    assert "Retired" not in out


def test_csv_and_json_parse(trainers):
    kind, anna, jake = trainers
    rows = list(csv.DictReader(io.StringIO(run("--type", "Trainer", "--on", "2030-03-04", "--duration", "60", "--format", "csv"))))
    assert [(r["resource"], r["start"], r["end"]) for r in rows][:2] == [
        ("Anna", "2030-03-04T09:00:00+01:00", "2030-03-04T10:00:00+01:00"),
        ("Anna", "2030-03-04T11:00:00+01:00", "2030-03-04T12:00:00+01:00"),
    ]
    assert len(rows) == 5
    data = json.loads(run("--type", str(kind.pk), "--on", "2030-03-04", "--duration", "60", "--step", "30", "--format", "json"))
    assert (data["type"], data["on"], data["duration_minutes"], data["step_minutes"]) == ("Trainer", "2030-03-04", 60, 30)
    assert [r["name"] for r in data["resources"]] == ["Anna", "Jake"]
    assert data["resources"][1]["slots"][0] == {"start": "2030-03-04T06:00:00-05:00", "end": "2030-03-04T07:00:00-05:00"}


def test_a_type_without_active_resources_says_so():
    ResourceTypeFactory(name="Boat")
    assert "No active resource of this type." in run("--type", "Boat", "--on", "2030-03-04", "--duration", "60")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "Unicorn", "--on", "2030-03-04", "--duration", "60"], "--type: Unknown resource type 'Unicorn'"),
        (["--type", "Trainer", "--on", "2030-03-04", "--duration", "0"], "--duration: The duration must be positive."),
        (["--type", "Trainer", "--on", "2030-03-04", "--duration", "30", "--step", "-5"], "--step: The step must be positive."),
        (["--type", "Trainer", "--on", "2030-03-04", "--duration", "30", "--tz", "Mars/Olympus"], "--tz: "),
        (["--type", "Trainer", "--on", "monday", "--duration", "30"], "'monday' is not a date"),
        (["--type", "Trainer", "--on", "2030-03-04", "--duration", "an hour"], "invalid int value"),
    ],
)
def test_bad_options_fail_with_a_message_naming_the_option(trainers, args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_a_past_day_shows_its_slots_and_the_ends_of_the_calendar_are_clear_errors():
    from io import StringIO

    from django.core.management import CommandError, call_command

    from scheduling.tests.factories import ResourceFactory, ResourceTypeFactory

    trainer = ResourceTypeFactory(name="Coach")
    ResourceFactory(type=trainer, name="Ann")
    out = StringIO()
    call_command("free_slots", "--type", "Coach", "--on", "2026-03-02", "--duration", "60", "--format", "csv", stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 1 + 24
    for day in ("0001-01-01", "9999-12-31"):
        with pytest.raises(CommandError):
            call_command("free_slots", "--type", "Coach", "--on", day, "--duration", "60", stdout=StringIO())
        with pytest.raises(CommandError):
            call_command("availability_report", "--from", day, "--to", day, stdout=StringIO())

"""Utilisation figures (docs/spec.md §10.1) and the availability_report command (§10.2).

The hand-computed scene: one trainer in Europe/Warsaw over Saturday 2026-03-28 … Monday 2026-03-30,
across the spring-forward night (Sunday 02:00 → 03:00):

- works Sat 09–17 (8 h), all of Sunday (00:00–00:00, a 23-hour day), Mon 09–17 (8 h): 39 h;
- leave from Fri 12:00 to Sat 11:00 straddles the start: 2 h of it fall in working time (Sat 09–11);
  leave from Mon 16:00 to Tue 10:00 straddles the end: 1 h (Mon 16–17). Exceptions 3 h;
- bookings: confirmed Sun 01:00–05:00 local (3 real hours across the skipped hour), completed Sat
  14–16 (2 h), cancelled Sat 12–14 (no hours), and a confirmed override booking Fri 23:00 – Sat 01:00
  that straddles the start (1 h inside the period, outside working hours). Booked 6 h;
- available 39 − 3 = 36 h; free 36 − (3 + 2) = 31 h; utilisation 6 / 36 = 16.7 %.
"""

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from scheduling.management import cli
from scheduling.services.reports import Figures, find_type, select_resources, utilisation_report
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
)

pytestmark = pytest.mark.django_db
WARSAW = ZoneInfo("Europe/Warsaw")
H = dt.timedelta(hours=1)
SAT, SUN, MON = dt.date(2026, 3, 28), dt.date(2026, 3, 29), dt.date(2026, 3, 30)


def warsaw(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WARSAW)


@pytest.fixture
def trainers():
    return ResourceTypeFactory(name="Trainer")


@pytest.fixture
def scene(trainers):
    trainer = ResourceFactory(name="Anna", type=trainers, timezone="Europe/Warsaw")
    AvailabilityFactory(resource=trainer, weekday=5, start_time=dt.time(9), end_time=dt.time(17))
    AvailabilityFactory(resource=trainer, weekday=6, start_time=dt.time(0), end_time=dt.time(0))
    AvailabilityFactory(resource=trainer, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    ScheduleExceptionFactory(resource=trainer, start_at=warsaw(SAT - dt.timedelta(days=1), 12), end_at=warsaw(SAT, 11))
    ScheduleExceptionFactory(resource=trainer, start_at=warsaw(MON, 16), end_at=warsaw(MON + dt.timedelta(days=1), 10))
    BookingFactory(resource=trainer, start_at=warsaw(SUN, 1), end_at=warsaw(SUN, 5), status="confirmed")
    BookingFactory(resource=trainer, start_at=warsaw(SAT, 14), end_at=warsaw(SAT, 16), status="completed")
    BookingFactory(resource=trainer, start_at=warsaw(SAT, 12), end_at=warsaw(SAT, 14), status="cancelled")
    BookingFactory(resource=trainer, start_at=warsaw(SAT - dt.timedelta(days=1), 23), end_at=warsaw(SAT, 1), status="confirmed", override_availability=True)
    # Outside the period: counted nowhere.
    BookingFactory(resource=trainer, start_at=warsaw(MON + dt.timedelta(days=1), 9), end_at=warsaw(MON + dt.timedelta(days=1), 10), status="pending")
    return trainer


def report_of(resources, first=SAT, last=MON, tz=None):
    return utilisation_report(first_day=first, last_day=last, resources=resources, tz=tz, daily=True)


def run(*args):
    out = io.StringIO()
    call_command("availability_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- §10.1.3 figures ---------------------------------------------------------------------------------


def test_hours_match_the_hand_computed_scene_across_dst_boundary_leave_and_a_cancelled_booking(scene):
    [row] = report_of(select_resources()).resources
    assert row.figures == Figures(working=39 * H, exceptions=3 * H, booked=6 * H, free=31 * H)
    assert row.figures.available == 36 * H
    assert row.figures.utilisation == 16.7
    assert row.bookings == {"pending": 0, "confirmed": 2, "cancelled": 1, "completed": 1, "no_show": 0}


def test_days_are_local_days_and_add_up_to_the_period(scene):
    [row] = report_of(select_resources()).resources
    assert row.days == [
        Figures(working=8 * H, exceptions=2 * H, booked=3 * H, free=4 * H),  # Sat: 1 h override + 2 h
        Figures(working=23 * H, exceptions=0 * H, booked=3 * H, free=20 * H),  # Sun: 23 hours long
        Figures(working=8 * H, exceptions=1 * H, booked=0 * H, free=7 * H),
    ]
    assert sum(row.days, Figures()) == row.figures


def test_a_report_zone_moves_the_day_boundaries_but_not_the_period_total_here(scene):
    [row] = report_of(select_resources(), tz="UTC").resources
    # Sunday's local midnight is Saturday 23:00 UTC, so the UTC Saturday gains an hour of work.
    assert [d.working for d in row.days] == [9 * H, 22 * H, 8 * H]
    # The UTC period starts an hour later (Sat 00:00 local = Fri 23:00 UTC): the override booking's
    # last hour (Sat 00:00–01:00 local = Fri 23:00–Sat 00:00 UTC) falls outside.
    assert row.figures.booked == 5 * H
    assert row.figures.working == 39 * H


def test_exceptions_count_only_inside_working_hours(trainers):
    resource = ResourceFactory(type=trainers, timezone="UTC")
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    # Two overlapping exceptions over Monday 08–18: the 8 working hours, once.
    ScheduleExceptionFactory(resource=resource, start_at=dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC), end_at=dt.datetime(2026, 3, 2, 18, tzinfo=dt.UTC))
    ScheduleExceptionFactory(resource=resource, start_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), end_at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC))
    # Leave on Sunday, a day off, costs nothing.
    ScheduleExceptionFactory(resource=resource, start_at=dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC), end_at=dt.datetime(2026, 3, 1, 18, tzinfo=dt.UTC))
    [row] = report_of(select_resources(), dt.date(2026, 3, 1), dt.date(2026, 3, 2)).resources
    assert (row.figures.working, row.figures.exceptions, row.figures.free) == (8 * H, 8 * H, 0 * H)
    assert row.figures.utilisation is None


def test_a_resource_without_availability_rows_works_around_the_clock(trainers):
    ResourceFactory(type=trainers, timezone="Europe/Warsaw")
    [row] = report_of(select_resources()).resources
    assert row.figures.working == (24 + 23 + 24) * H


def test_bookings_outside_working_hours_can_push_utilisation_over_100(trainers):
    resource = ResourceFactory(type=trainers, timezone="UTC")
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(10))
    BookingFactory(resource=resource, start_at=dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC), end_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), override_availability=True)
    [row] = report_of(select_resources(), dt.date(2026, 3, 2), dt.date(2026, 3, 2)).resources
    assert (row.figures.booked, row.figures.free, row.figures.utilisation) == (2 * H, 0 * H, 200.0)


def test_free_hours_are_what_free_slots_offers(scene):
    from scheduling.services.availability import free_slots

    [row] = report_of(select_resources()).resources
    start, end = warsaw(SAT, 0), warsaw(MON + dt.timedelta(days=1), 0)
    slots = free_slots(scene, start, end, dt.timedelta(minutes=15))
    assert len(slots) * dt.timedelta(minutes=15) == row.figures.free


# --- §10.1.2 selection, §10.1.4 totals ------------------------------------------------------------------


def test_type_totals_sum_their_resources(scene, trainers):
    ResourceFactory(name="Bob", type=trainers, timezone="UTC")
    room = ResourceFactory(name="Room", timezone="UTC")
    report = report_of(select_resources())
    assert [t.type.name for t in report.types] == sorted(["Trainer", room.type.name])
    trainer_total = next(t for t in report.types if t.type == trainers)
    assert trainer_total.resources == 2
    assert trainer_total.figures.working == 39 * H + 72 * H
    assert trainer_total.figures.utilisation == round(100 * 6 / (36 + 72), 1)
    assert trainer_total.bookings["confirmed"] == 2


def test_default_selection_is_the_active_resources_ordered_by_type_and_name(trainers):
    rooms = ResourceTypeFactory(name="Room")
    ResourceFactory(name="Zed", type=trainers)
    ResourceFactory(name="Amy", type=trainers)
    ResourceFactory(name="Hall", type=rooms)
    ResourceFactory(name="Retired", type=trainers, active=False)
    assert [r.resource.name for r in report_of(select_resources()).resources] == ["Hall", "Amy", "Zed"]
    assert [r.resource.name for r in report_of(select_resources(resource_type=trainers)).resources] == ["Amy", "Zed"]


def test_a_resource_named_by_id_is_reported_even_when_inactive(trainers):
    retired = ResourceFactory(type=trainers, active=False)
    assert [r.resource for r in report_of(select_resources(resource_ids=[retired.pk])).resources] == [retired]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"resource_ids": [999_999]}, "resource"),
        ({"resource_ids": ["other"], "resource_type": "trainers"}, "resource"),
    ],
)
def test_bad_resource_selections_name_the_field(trainers, kwargs, field):
    other = ResourceFactory()
    kwargs = {k: ([other.pk] if v == ["other"] else trainers if v == "trainers" else v) for k, v in kwargs.items()}
    with pytest.raises(ValidationError) as error:
        select_resources(**kwargs)
    assert field in error.value.message_dict


def test_types_are_found_by_name_regardless_of_case_or_by_id(trainers):
    assert find_type("trainer") == trainers
    assert find_type(str(trainers.pk)) == trainers
    with pytest.raises(ValidationError) as error:
        find_type("Unicorn")
    assert "known types: Trainer" in error.value.message_dict["type"][0]


@pytest.mark.parametrize(
    ("first", "last", "tz", "field"),
    [
        (MON, SAT, None, "to"),
        (dt.date(2026, 1, 1), dt.date(2027, 1, 2), None, "to"),  # 367 days
        (SAT, MON, "Mars/Olympus", "tz"),
    ],
)
def test_bad_periods_and_zones_name_the_field(first, last, tz, field):
    with pytest.raises(ValidationError) as error:
        report_of(select_resources(), first, last, tz)
    assert field in error.value.message_dict


def test_an_empty_selection_is_an_empty_report_not_an_error():
    report = report_of(select_resources())
    assert (report.resources, report.types) == ([], [])
    assert "No resource matches." in run("--from", "2026-03-28", "--to", "2026-03-30")


# --- §10.1.5 cost ------------------------------------------------------------------------------------


def _fleet(count, trainers):
    for i in range(count):
        resource = ResourceFactory(type=trainers, timezone=["Europe/Warsaw", "America/New_York", "UTC"][i % 3])
        AvailabilityFactory(resource=resource, weekday=i % 7)
        ScheduleExceptionFactory(resource=resource, start_at=warsaw(SAT, 10))
        for day in range(0, 28, 3):
            BookingFactory(resource=resource, start_at=warsaw(dt.date(2026, 3, 1) + dt.timedelta(days=day), 10), status=["confirmed", "cancelled"][day % 2])


def test_the_report_costs_five_queries_whatever_the_resources_and_days(trainers, django_assert_num_queries):
    # 1: the resources with their type; 2: their availability rows; 3: their exceptions in the
    # period; 4: their bookings in the period (all statuses); 5: the classes held, with seats taken.
    _fleet(2, trainers)
    with django_assert_num_queries(5):
        small = report_of(select_resources(), dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    _fleet(30, trainers)
    with django_assert_num_queries(5):
        large = report_of(select_resources(resource_type=trainers), dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (len(small.resources), len(large.resources), len(large.resources[0].days)) == (2, 32, 31)


def test_days_are_split_only_when_asked_for(scene):
    [row] = utilisation_report(first_day=SAT, last_day=MON, resources=select_resources()).resources
    assert row.days == []
    assert row.figures.working == 39 * H


# --- §10.1.6 and §10.2: the command ---------------------------------------------------------------------


def test_csv_parses_with_a_row_per_resource_and_a_total_per_type(scene):
    rows = list(csv.DictReader(io.StringIO(run("--from", "2026-03-28", "--to", "2026-03-30", "--format", "csv"))))
    assert [r["row"] for r in rows] == ["resource", "type_total"]
    anna = rows[0]
    assert (anna["resource_id"], anna["resource"], anna["type"], anna["timezone"]) == (str(scene.pk), "Anna", "Trainer", "Europe/Warsaw")
    assert [float(anna[k]) for k in ("working_hours", "exception_hours", "booked_hours", "free_hours", "utilisation_pct")] == [39, 3, 6, 31, 16.7]
    assert (anna["confirmed"], anna["cancelled"], anna["completed"]) == ("2", "1", "1")
    assert rows[1]["resource"] == "" and rows[1]["working_hours"] == anna["working_hours"]


def test_json_parses_with_resources_types_and_statuses(scene):
    data = json.loads(run("--from", "2026-03-28", "--to", "2026-03-30", "--format", "json", "--type", "trainer"))
    assert (data["from"], data["to"], data["timezone"]) == ("2026-03-28", "2026-03-30", None)
    [anna] = data["resources"]
    assert anna | {"bookings": None} == {
        "id": scene.pk,
        "name": "Anna",
        "type_id": scene.type_id,
        "type": "Trainer",
        "timezone": "Europe/Warsaw",
        "working_hours": 39.0,
        "exception_hours": 3.0,
        "booked_hours": 6.0,
        "booked_unit_hours": 6.0,
        "free_hours": 31.0,
        "utilisation_pct": 16.7,
        "seats": 0,
        "seats_taken": 0,
        "fill_pct": None,
        "bookings": None,
    }
    assert anna["bookings"] == {"pending": 0, "confirmed": 2, "cancelled": 1, "completed": 1, "no_show": 0}
    assert data["types"][0]["resources"] == 1


def test_table_lists_resources_and_type_totals(scene):
    out = run("--from", "2026-03-28", "--to", "2026-03-30", "--resource", str(scene.pk), "--tz", "Europe/Warsaw")
    assert "Utilisation 2026-03-28 – 2026-03-30 (Europe/Warsaw)" in out
    anna = next(line for line in out.splitlines() if line.startswith("Anna"))
    assert anna.split()[2:7] == ["39.00", "3.00", "6.00", "31.00", "16.7"]
    assert "Total Trainer  1 resource" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-03-30", "--to", "2026-03-28"], "--to: 2026-03-28 is before 2026-03-30."),
        (["--from", "2026-03-28", "--to", "2026-03-30", "--type", "Unicorn"], "--type: Unknown resource type 'Unicorn'"),
        (["--from", "2026-03-28", "--to", "2026-03-30", "--resource", "999999"], "--resource: Unknown resource id(s): 999999."),
        (["--from", "2026-03-28", "--to", "2026-03-30", "--tz", "Mars/Olympus"], "--tz: "),
        (["--from", "2026-02-30", "--to", "2026-03-30"], "'2026-02-30' is not a date; use YYYY-MM-DD."),
        (["--from", "2026-03-28", "--to", "2026-03-30", "--resource", "x"], "'x' is not an id"),
        (["--from", "2026-03-28", "--to", "2026-03-30", "--format", "xml"], "invalid choice"),
    ],
)
def test_bad_options_fail_with_a_message_naming_the_option(args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)
    assert error.value.returncode != 0


@pytest.mark.parametrize(("args", "status"), [(["--from", "tomorrow", "--to", "2026-03-30"], 2), (["--from", "2026-03-30", "--to", "2026-03-01"], 1)])
def test_errors_exit_non_zero_from_the_shell(args, status):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "manage.py", "availability_report", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == status
    assert done.stdout == ""
    assert "--" in done.stderr


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(("stream", "drawn"), [(Terminal, True), (io.StringIO, False)])
def test_the_progress_bar_is_drawn_only_on_a_terminal(scene, monkeypatch, stream, drawn):
    monkeypatch.setattr(cli, "SHOW_AFTER_SECONDS", 0)
    out, err = stream(), stream()
    call_command("availability_report", "--from", "2026-03-28", "--to", "2026-03-30", "--format", "csv", stdout=out, stderr=err)
    assert ("Bookings" in err.getvalue(), "Resources" in err.getvalue()) == (drawn, drawn)
    assert "Resources" not in out.getvalue()
    assert out.getvalue().startswith("row,resource_id")

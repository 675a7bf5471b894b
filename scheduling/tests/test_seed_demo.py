"""The bulk generator: seed_demo --resources N --bookings M (docs/spec.md §10.4).

The quick start's demo week without options is covered by test_demo.py.
"""

import datetime as dt
import io
import math
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.demo import BulkPlan, default_days, default_start
from scheduling.management import cli
from scheduling.models import Availability, Booking, Customer, Resource, ScheduleException
from scheduling.services.availability import check_availability
from scheduling.tests.factories import AWKWARD_INSTANTS, WARSAW

pytestmark = pytest.mark.django_db
START = "2026-03-02"


def seed(*args, stdout=None, stderr=None):
    out = stdout or io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


def bulk(resources=8, bookings=200, *extra):
    return seed("--resources", str(resources), "--bookings", str(bookings), "--start", START, "--days", "14", *extra)


def snapshot():
    rows = Booking.objects.values_list("resource__name", "resource__timezone", "customer__email", "start_at", "end_at", "status")
    leave = ScheduleException.objects.values_list("resource__name", "start_at", "end_at")
    hours = Availability.objects.values_list("resource__name", "weekday", "start_time", "end_time")
    return sorted(rows), sorted(leave), sorted(hours)


def wipe():
    Booking.objects.all().delete()
    Resource.objects.all().delete()
    Customer.objects.all().delete()


def test_the_same_arguments_give_the_same_rows():
    bulk()
    first = snapshot()
    wipe()
    bulk()
    assert snapshot() == first
    wipe()
    bulk(8, 200, "--seed", "8")
    assert snapshot()[0] != first[0]


def test_bookings_are_spread_evenly_and_counted_exactly():
    out = bulk(8, 203)
    assert "Loaded 8 resources, 10 customers, 8 exceptions, 203 bookings." in out
    per_resource = Counter(Booking.objects.values_list("resource_id", flat=True))
    assert sorted(per_resource.values()) == [25] * 5 + [26] * 3


def test_every_generated_booking_obeys_the_availability_rules():
    bulk(8, 120)
    for booking in Booking.objects.select_related("resource"):
        result = check_availability(booking.resource, booking.start_at, booking.end_at, ignore_booking=booking)
        # Inside working hours, outside leave, clear of every other occupying booking.
        assert result.available, (booking, result.conflicts)


def test_no_two_bookings_of_a_resource_overlap_whatever_their_status():
    bulk(4, 300)
    by_resource = {}
    for resource_id, start, end in Booking.objects.order_by("resource_id", "start_at").values_list("resource_id", "start_at", "end_at"):
        previous = by_resource.get(resource_id)
        assert previous is None or previous <= start
        by_resource[resource_id] = end


def test_a_large_enough_load_has_every_status_history_before_the_middle_and_upcoming_after():
    bulk(4, 400)
    middle = BulkPlan(resources=4, bookings=400, seed=7, start=dt.date(2026, 3, 2), days=14).middle
    statuses = set(Booking.objects.values_list("status", flat=True))
    assert statuses == {"pending", "confirmed", "cancelled", "completed", "no_show"}
    assert not Booking.objects.filter(end_at__gt=middle, status__in=["completed", "no_show"]).exists()
    assert not Booking.objects.filter(end_at__lte=middle, status="pending").exists()


def test_resources_cover_every_pattern_zone_and_type():
    bulk(16, 0)
    resources = Resource.objects.all()
    assert {r.timezone for r in resources} == {"Europe/Warsaw", "America/New_York", "Asia/Tokyo", "UTC"}
    assert {r.type.name for r in resources} == {"Trainer", "Room", "Vehicle"}
    # Four patterns: Mon–Fri (5 rows), every day (7), night shift (14), around the clock (none).
    rows = Counter(Availability.objects.values_list("resource_id", flat=True))
    assert sorted(Counter(rows.get(r.pk, 0) for r in resources).items()) == [(0, 4), (5, 4), (7, 4), (14, 4)]


def test_rows_are_written_in_batches():
    with CaptureQueriesContext(connection) as queries:
        # 40 rows of a booking's 21 columns stay under SQLite's 999 parameters per statement.
        bulk(4, 230, "--batch-size", "40")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "scheduling_booking"')]
    # Batches of 40, each split further where the database takes fewer parameters per statement (SQLite).
    fields = [f for f in Booking._meta.concrete_fields if not f.primary_key]
    per_insert = min(40, connection.ops.bulk_batch_size(fields, [None] * 40))
    assert len(inserts) == 5 * math.ceil(40 / per_insert) + math.ceil(30 / per_insert)
    assert Booking.objects.count() == 230


def test_a_resource_too_crowded_for_its_working_time_fails_with_nothing_written():
    # The first resource works Mon–Fri 08–16: on one Monday that is 32 cells of 15 minutes.
    with pytest.raises(CommandError, match="not enough working time for 33 bookings; raise --days"):
        seed("--resources", "1", "--bookings", "33", "--start", START, "--days", "1")
    assert not Resource.objects.exists() and not Booking.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resources", "5"], "--resources and --bookings go together"),
        (["--bookings", "5"], "--resources and --bookings go together"),
        (["--days", "5"], "--start and --days apply to the bulk generator"),
        (["--resources", "0", "--bookings", "5"], "0 is less than 1"),
        (["--resources", "3", "--bookings", "-1"], "-1 is less than 0"),
        (["--resources", "many", "--bookings", "5"], "'many' is not an integer"),
        (["--resources", "3", "--bookings", "5", "--start", "soon"], "'soon' is not a date"),
    ],
)
def test_bad_sizes_fail_with_a_message(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Resource.objects.exists()


def test_if_empty_leaves_existing_data_alone():
    bulk(2, 10)
    out = seed("--resources", "5", "--bookings", "50", "--if-empty")
    assert "nothing loaded" in out
    assert (Resource.objects.count(), Booking.objects.count()) == (2, 10)


def test_the_output_says_how_to_generate_the_same_data_again():
    out = bulk(3, 30, "--seed", "11")
    assert "seed_demo --resources 3 --bookings 30 --seed 11 --start 2026-03-02 --days 14" in out


def test_defaults_give_about_three_bookings_per_resource_per_day_centred_on_this_week():
    assert default_days(1000, 1_000_000) == 334
    assert default_days(10, 5) == 7
    # Wednesday 2026-11-25, 34 days: the span starts 17 days before Monday 2026-11-23.
    start = default_start(34, dt.date(2026, 11, 25))
    assert start == dt.date(2026, 11, 6)
    assert BulkPlan(resources=1, bookings=1, seed=1, start=start, days=34).middle.date() == dt.date(2026, 11, 23)


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(("stream", "drawn"), [(Terminal, True), (io.StringIO, False)])
def test_the_progress_bar_is_drawn_only_on_a_terminal(monkeypatch, stream, drawn):
    monkeypatch.setattr(cli, "SHOW_AFTER_SECONDS", 0)
    err = stream()
    seed("--resources", "2", "--bookings", "20", "--start", START, "--days", "14", stdout=stream(), stderr=err)
    assert ("Bookings" in err.getvalue()) is drawn


@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_without_start_and_days_the_defaults_are_used_and_printed(settings, time_machine, instant):
    settings.TIME_ZONE = "Europe/Warsaw"
    time_machine.move_to(instant, tick=False)
    out = seed("--resources", "2", "--bookings", "10")
    today = instant.astimezone(WARSAW).date()
    start = today - dt.timedelta(days=today.weekday() + 3)  # 7 days centred on this week's Monday
    assert f"--start {start} --days 7" in out
    assert Booking.objects.count() == 10
    assert min(Booking.objects.values_list("start_at", flat=True)).date() >= start

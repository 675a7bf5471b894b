"""Public holidays (docs/spec.md §16.4): `manage.py import_holidays`, whole local days, idempotent."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from scheduling.models import ExceptionKind, ScheduleException
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.services.errors import BookingConflict
from scheduling.tests.factories import CustomerFactory, ResourceFactory, ResourceTypeFactory

UTC = dt.timezone.utc
# Poland's public holidays of 2027: 14, Easter Sunday (28 March) on the day summer time begins.
PL_2027 = 14


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def run(*args) -> str:
    out = StringIO()
    call_command("import_holidays", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def trainers(db):
    kind = ResourceTypeFactory(name="Trainer")
    return [ResourceFactory(type=kind, timezone="Europe/Warsaw"), ResourceFactory(type=kind, timezone="America/New_York")]


def holidays_of(resource) -> list[ScheduleException]:
    return list(ScheduleException.objects.filter(resource=resource, kind=ExceptionKind.HOLIDAY).order_by("start_at"))


def test_imported_twice_adds_nothing_the_second_time(trainers):
    first = run("--country", "PL", "--year", "2027", "--type", "Trainer")
    rows = sorted(ScheduleException.objects.values_list("id", "resource_id", "start_at", "end_at", "reason"))

    second = run("--country", "PL", "--year", "2027", "--type", "Trainer")

    assert first == f"created={2 * PL_2027} resources=2"
    assert second == "created=0 resources=2"
    assert sorted(ScheduleException.objects.values_list("id", "resource_id", "start_at", "end_at", "reason")) == rows


def test_a_holiday_is_local_midnight_to_midnight_in_each_resource_zone(trainers):
    warsaw, new_york = trainers

    run("--country", "PL", "--year", "2027", "--resource", str(warsaw.pk), str(new_york.pk))

    new_year = holidays_of(warsaw)[0]
    assert (new_year.start_at, new_year.end_at, new_year.reason) == (utc(2026, 12, 31, 23), utc(2027, 1, 1, 23), "Holiday: New Year's Day")
    easter = next(h for h in holidays_of(warsaw) if h.reason == "Holiday: Easter Sunday")
    assert (easter.start_at, easter.end_at) == (utc(2027, 3, 27, 23), utc(2027, 3, 28, 22))  # 23 hours: summer time begins
    assert holidays_of(new_york)[0].start_at == utc(2027, 1, 1, 5)


def test_a_holiday_blocks_a_booking_like_leave(trainers):
    warsaw = trainers[0]
    run("--country", "PL", "--year", "2027", "--resource", str(warsaw.pk))

    with pytest.raises(BookingConflict) as refused:
        booking_service.booking_create(by=SYSTEM, resource=warsaw, customer=CustomerFactory(), start_at=utc(2027, 5, 3, 8), end_at=utc(2027, 5, 3, 9))

    assert [c.reason for c in refused.value.conflicts] == ["Holiday: National Day of the Third of May"]


def test_a_subdivision_adds_its_own_holidays(db):
    munich = ResourceFactory(timezone="Europe/Berlin")

    run("--country", "DE", "--subdivision", "BY", "--year", "2027", "--resource", str(munich.pk))

    assert "Holiday: Epiphany" in {h.reason for h in holidays_of(munich)}


def test_without_a_selection_every_resource_gets_the_holidays(trainers):
    assert run("--country", "PL", "--year", "2027") == f"created={2 * PL_2027} resources=2"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--resource", "٣"], "Not a resource id"),
        (["--resource", "0"], "Not a resource id"),
        (["--resource", "999999"], "No resource with id 999999"),
        (["--type", "Nobody"], "No resource type"),
        (["--country", "XX"], "XX"),
        (["--country", "DE", "--subdivision", "ZZ"], "ZZ"),
        (["--year", "99999"], "year"),
    ],
)
def test_bad_arguments_are_a_command_error_and_write_nothing(trainers, args, message):
    defaults = {"--country": "PL", "--year": "2027"}
    given = dict(zip(args[::2], args[1::2]))
    argv = [item for pair in {**defaults, **given}.items() for item in pair]

    with pytest.raises(CommandError, match=message):
        run(*argv)

    assert not ScheduleException.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_write_each_holiday_once():
    """Four imports at once, each on its own connection: the unique constraint keeps one row per day."""
    from scheduling.services.holidays import holidays_import
    from scheduling.tests.test_concurrency import run_concurrently

    resource = ResourceFactory(timezone="Europe/Warsaw")

    outcomes = run_concurrently(lambda _: holidays_import(by=SYSTEM, country="PL", year=2027, resources=[resource]), 4)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert ScheduleException.objects.filter(resource=resource, kind=ExceptionKind.HOLIDAY).count() == PL_2027

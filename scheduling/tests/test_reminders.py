"""Reminder e-mails (docs/spec.md §15.3), with a frozen clock: due `reminder_before` minutes before
the start, exactly once, re-planned by a move, sent late after a worker outage while the booking
has not started and skipped once it has, never for a cancelled booking."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from io import StringIO

from scheduling.models import Reminder
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.services import reminders
from scheduling.tests.factories import AvailabilityFactory, CustomerFactory, ResourceFactory, ResourceTypeFactory

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
BOOKED_AT = dt.datetime(2026, 2, 23, 12, tzinfo=UTC)
MONDAY_9 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def clock():
    with time_machine.travel(BOOKED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def room(db):
    resource = ResourceFactory(name="Room A", type=ResourceTypeFactory(name="Room", reminder_before=[1440, 60]), timezone="Europe/Warsaw")
    for weekday in range(7):
        AvailabilityFactory(resource=resource, weekday=weekday, start_time=dt.time(0), end_time=dt.time(0))
    return resource


@pytest.fixture
def ola(db):
    return CustomerFactory(name="Ola", email="ola@example.com")


def book(room, ola, start=MONDAY_9):
    return booking_service.booking_create(by=SYSTEM, resource=room, customer=ola, start_at=start, end_at=start + HOUR)


def run_worker(clock, at: dt.datetime) -> list[str]:
    """The cron run at `at`: the subjects of the reminders it sent."""
    clock.move_to(at)
    before = len(mail.outbox)
    call_command("send_notifications", stdout=StringIO())
    return [m.subject for m in mail.outbox[before:] if m.subject.startswith("Reminder")]


def test_each_reminder_goes_out_at_its_time_exactly_once(clock, room, ola):
    book(room, ola)
    assert sorted(Reminder.objects.values_list("minutes_before", "next_attempt_at")) == [
        (60, MONDAY_9 - HOUR),
        (1440, MONDAY_9 - 24 * HOUR),
    ]
    assert run_worker(clock, MONDAY_9 - 24 * HOUR - dt.timedelta(seconds=1)) == []
    assert run_worker(clock, MONDAY_9 - 24 * HOUR) == ["Reminder: Room A, Mon 2 Mar 2026 10:00"]
    assert run_worker(clock, MONDAY_9 - 2 * HOUR) == []
    assert run_worker(clock, MONDAY_9 - HOUR) == ["Reminder: Room A, Mon 2 Mar 2026 10:00"]
    assert run_worker(clock, MONDAY_9 - dt.timedelta(minutes=30)) == []
    assert mail.outbox[-1].to == ["ola@example.com"]
    assert "A reminder of your booking" in mail.outbox[-1].body


def test_a_move_re_plans_the_reminders_even_one_already_sent(clock, room, ola):
    booking = book(room, ola)
    assert run_worker(clock, MONDAY_9 - 24 * HOUR) == ["Reminder: Room A, Mon 2 Mar 2026 10:00"]
    tuesday = MONDAY_9 + 24 * HOUR
    booking_service.booking_update(booking=booking, by=SYSTEM, start_at=tuesday, end_at=tuesday + HOUR)
    assert run_worker(clock, MONDAY_9 - HOUR) == []  # the old time's 60-minute reminder is gone
    assert run_worker(clock, tuesday - 24 * HOUR) == ["Reminder: Room A, Tue 3 Mar 2026 10:00"]
    assert run_worker(clock, tuesday - HOUR) == ["Reminder: Room A, Tue 3 Mar 2026 10:00"]
    assert run_worker(clock, tuesday - dt.timedelta(minutes=1)) == []


def test_after_a_worker_outage_due_reminders_go_out_late_once_before_the_start(clock, room, ola):
    book(room, ola)
    # The worker is down from a day before until 30 minutes before the start: both are late.
    assert run_worker(clock, MONDAY_9 - dt.timedelta(minutes=30)) == ["Reminder: Room A, Mon 2 Mar 2026 10:00"] * 2
    assert run_worker(clock, MONDAY_9 - dt.timedelta(minutes=10)) == []


def test_after_an_outage_past_the_start_the_reminders_are_skipped(clock, room, ola):
    booking = book(room, ola)
    assert run_worker(clock, MONDAY_9 + dt.timedelta(minutes=5)) == []
    assert set(Reminder.objects.filter(booking=booking).values_list("state", "skipped")) == {("sent", reminders.STARTED)}


def test_a_cancelled_booking_gets_no_reminder(clock, room, ola):
    booking = book(room, ola)
    booking_service.booking_cancel(booking=booking, by=SYSTEM)
    assert run_worker(clock, MONDAY_9 - 24 * HOUR) == []
    assert run_worker(clock, MONDAY_9 - HOUR) == []
    assert set(Reminder.objects.values_list("skipped", flat=True)) == {reminders.CANCELLED}


def test_a_reminder_time_already_past_when_booking_is_not_planned(clock, room, ola):
    clock.move_to(MONDAY_9 - 2 * HOUR)
    book(room, ola)
    assert list(Reminder.objects.values_list("minutes_before", flat=True)) == [60]


def test_a_type_without_reminders_plans_none(clock, ola):
    plain = ResourceFactory(type=ResourceTypeFactory(name="Plain"))
    AvailabilityFactory(resource=plain, weekday=0, start_time=dt.time(0), end_time=dt.time(0))
    book(plain, ola)
    assert not Reminder.objects.exists()


def test_a_failed_reminder_is_retried_and_sent_once(clock, room, ola, settings):
    book(room, ola)
    settings.EMAIL_BACKEND = "scheduling.tests.test_reminders.RefusingBackend"
    assert run_worker(clock, MONDAY_9 - 24 * HOUR) == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_worker(clock, MONDAY_9 - 24 * HOUR + dt.timedelta(minutes=5)) == ["Reminder: Room A, Mon 2 Mar 2026 10:00"]
    assert run_worker(clock, MONDAY_9 - 23 * HOUR) == []
    assert Reminder.objects.get(minutes_before=1440).attempts == 2


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.mark.parametrize("value", [[0], [-5], ["60"], [60, 60], [1, 2, 3, 4, 5, 6], {"a": 1}, [True]])
def test_reminder_before_refuses_what_is_not_a_short_list_of_minutes(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ResourceTypeFactory.build(name="X", reminder_before=value).full_clean()

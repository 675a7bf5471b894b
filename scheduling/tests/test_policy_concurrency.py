"""Races under booking policies (docs/spec.md §13): buffers hold like bookings, an expiring approval
is cancelled once. Each thread has its own connection; run on SQLite and on PostgreSQL."""

import contextlib
import datetime as dt
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import connection

from scheduling import roles
from scheduling.models import Booking, Notification, NotificationEvent, Resource
from scheduling.permissions import SYSTEM
from scheduling.services import bookings
from scheduling.services.bookings import booking_create
from scheduling.services.errors import BookingConflict
from scheduling.tests.factories import CustomerFactory, ResourceFactory, ResourceTypeFactory, UserFactory
from scheduling.tests.test_concurrency import THREADS, run_concurrently, widened_race_window

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
START = dt.datetime(2030, 3, 5, 0, tzinfo=UTC)


@contextlib.contextmanager
def constraint_only():
    """On PostgreSQL, skip the resource lock, so that only the exclusion constraint stands in the way."""
    if connection.vendor != "postgresql":
        yield
        return
    with mock.patch.object(bookings, "_lock_resource", lambda pk: Resource.objects.get(pk=pk)):
        yield


@pytest.mark.django_db(transaction=True)
def test_twenty_back_to_back_bookings_that_only_the_buffers_make_overlap():
    # Slot i is [i h, i+1 h); 30 minutes after each makes slot i meet slot i+1 and no other.
    resource = ResourceFactory(type=ResourceTypeFactory(buffer_after=30))
    customer = CustomerFactory()

    def book(index):
        begin = START + index * HOUR
        try:
            return booking_create(by=SYSTEM, resource=resource, customer=customer, start_at=begin, end_at=begin + HOUR)
        except BookingConflict as conflict:
            return conflict

    with widened_race_window(), constraint_only():
        outcomes = run_concurrently(book, THREADS)

    escaped = [o for o in outcomes if not isinstance(o, (Booking, BookingConflict))]
    assert escaped == [], f"{connection.vendor}: {escaped!r}"
    won = {i for i, o in enumerate(outcomes) if isinstance(o, Booking)}
    # No two neighbours both won, and every loser lost to a neighbour that won.
    assert not any(i + 1 in won for i in won)
    assert all((i - 1 in won or i + 1 in won) for i in range(THREADS) if i not in won)
    assert Booking.objects.filter(resource=resource).count() == len(won)
    winner_ids = {outcomes[i].pk for i in won}
    losers = [o for o in outcomes if isinstance(o, BookingConflict)]
    assert all({c.id for c in o.conflicts} <= winner_ids for o in losers)
    if connection.vendor != "postgresql":
        # Without the lock on PostgreSQL, a writer aborted in a deadlock may not see the winner yet.
        assert all(o.conflicts for o in losers)


@pytest.mark.django_db(transaction=True)  # the workers run in threads with their own connections
def test_an_expired_approval_is_cancelled_once_with_one_notice_by_two_workers(settings):
    from django_tasks_db.management.commands.db_worker import Worker

    from scheduling.tasks import expire_approval

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    resource = ResourceFactory(type=ResourceTypeFactory(requires_approval=True, approval_timeout=60), owner=UserFactory())
    booker = UserFactory()
    booker.groups.add(Group.objects.get(name=roles.BOOKER))
    now = dt.datetime(2030, 3, 4, 8, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        booking = booking_create(by=booker, resource=resource, customer=CustomerFactory(), start_at=START, end_at=START + HOUR)
        # A second copy of the expiry, as a restart or the cron run would leave one: two workers race.
        expire_approval.using(run_after=booking.approval_expires_at).enqueue(booking.pk)

    def work(index):
        Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id=f"worker-{index}", excluded_queue_names=[],
        ).run()  # fmt: skip

    with time_machine.travel(now + HOUR + dt.timedelta(seconds=1), tick=False):
        outcomes = run_concurrently(work, 2)
        call_command("expire_approvals", stdout=StringIO())  # the cron run finds nothing left
    assert outcomes == [None, None]
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert Notification.objects.filter(booking=booking, event=NotificationEvent.CANCELLED).count() == 1
    cancelled_mails = [m for m in mail.outbox if m.subject.startswith("Booking cancelled")]
    assert len(cancelled_mails) == 1


@pytest.mark.django_db
def test_the_cron_run_cancels_a_pending_booking_exactly_when_its_approval_time_is_up():
    resource = ResourceFactory(type=ResourceTypeFactory(requires_approval=True, approval_timeout=60))
    now = dt.datetime(2030, 3, 4, 8, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        booking = booking_create(by=SYSTEM, resource=resource, customer=CustomerFactory(), start_at=START, end_at=START + HOUR)
    for moment, expected in ((now + HOUR - dt.timedelta(seconds=1), "pending"), (now + HOUR, "cancelled")):
        with time_machine.travel(moment, tick=False):
            call_command("expire_approvals", stdout=StringIO())
        booking.refresh_from_db()
        assert booking.status == expected


@pytest.mark.django_db(transaction=True)
def test_one_customer_booking_ten_resources_of_a_type_at_once_gets_only_the_quota():
    room_type = ResourceTypeFactory(quota_per_day=1)
    rooms = [ResourceFactory(type=room_type) for _ in range(10)]
    customer = CustomerFactory()

    def book(index):
        try:
            return booking_create(by=SYSTEM, resource=rooms[index], customer=customer, start_at=START, end_at=START + HOUR)
        except BookingConflict as conflict:
            return conflict

    with widened_race_window():
        outcomes = run_concurrently(book, len(rooms))
    assert [type(o).__name__ for o in outcomes].count("Booking") == 1, outcomes
    assert sorted({c.rule for o in outcomes if isinstance(o, BookingConflict) for c in o.conflicts}) == ["quota_per_day"]

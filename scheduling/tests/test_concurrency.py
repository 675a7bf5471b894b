"""Twenty bookers at once: exactly one wins, nineteen get the conflict, nothing escapes.

Each thread has its own database connection (Django's connections are per thread). On PostgreSQL
the resource row lock and the exclusion constraint decide; on SQLite, BEGIN IMMEDIATE.
"""

import contextlib
import datetime as dt
import threading
import time
from unittest import mock

import pytest
from django.db import connection, connections

from scheduling.permissions import SYSTEM
from scheduling.models import Booking
from scheduling.services import bookings
from scheduling.services.bookings import booking_create
from scheduling.services.errors import BookingConflict
from scheduling.tests.factories import CustomerFactory, ResourceFactory

UTC = dt.timezone.utc
THREADS = 20


def run_concurrently(target, count):
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def worker(index):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = target(index)
        except BaseException as error:  # noqa: BLE001 - the test inspects whatever escaped
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@contextlib.contextmanager
def widened_race_window(seconds: float = 0.02):
    """Sleep between the availability check and the write, where a race would slip through."""
    check = bookings.resource_conflicts

    def slow_check(*args, **kwargs):
        conflicts = check(*args, **kwargs)
        time.sleep(seconds)
        return conflicts

    with mock.patch.object(bookings, "resource_conflicts", slow_check):
        yield


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_overlapping_bookings_exactly_one_wins():
    resource = ResourceFactory()
    customer = CustomerFactory()
    start = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)

    def book(index):
        # Every request overlaps every other: starts spread over 19 minutes, each lasts an hour.
        begin = start + dt.timedelta(minutes=index)
        try:
            return booking_create(by=SYSTEM, resource=resource, customer=customer, start_at=begin, end_at=begin + dt.timedelta(hours=1))
        except BookingConflict as conflict:
            return conflict

    with widened_race_window():
        outcomes = run_concurrently(book, THREADS)

    winners = [o for o in outcomes if isinstance(o, Booking)]
    conflicts = [o for o in outcomes if isinstance(o, BookingConflict)]
    escaped = [o for o in outcomes if not isinstance(o, (Booking, BookingConflict))]
    assert escaped == [], f"{connection.vendor}: {escaped!r}"
    assert (len(winners), len(conflicts)) == (1, THREADS - 1)
    assert all(c.conflicts and c.conflicts[0].id == winners[0].pk for c in conflicts)
    assert Booking.objects.filter(resource=resource).count() == 1

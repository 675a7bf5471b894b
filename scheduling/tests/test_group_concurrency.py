"""Twenty groups that share one resource, booked at once: one wins whole, nineteen get the conflict,
no partial group is left (docs/spec.md §14). Each thread has its own connection."""

import contextlib
import datetime as dt
import time
from unittest import mock

import pytest
from django.db import connection

from scheduling.models import Booking, BookingGroup
from scheduling.permissions import SYSTEM
from scheduling.services import groups
from scheduling.services.errors import GroupConflict
from scheduling.tests.factories import CustomerFactory, ResourceFactory
from scheduling.tests.test_concurrency import THREADS, run_concurrently

UTC = dt.timezone.utc
START = dt.datetime(2030, 3, 4, 9, tzinfo=UTC)

# Parts whose group does not hold every resource it was booked with (two per group here).
PARTS_WITHOUT_A_COMPLETE_GROUP = """
    SELECT COUNT(*) FROM scheduling_booking b
    WHERE b.group_id IS NOT NULL
      AND (SELECT COUNT(*) FROM scheduling_booking p WHERE p.group_id = b.group_id) <> 2
"""


@contextlib.contextmanager
def widened_race_window(seconds: float = 0.02):
    """Sleep between the bulk availability read and the write, where a race would slip through."""
    read = groups.conflicts_by_interval

    def slow_read(*args, **kwargs):
        found = read(*args, **kwargs)
        time.sleep(seconds)
        return found

    with mock.patch.object(groups, "conflicts_by_interval", slow_read):
        yield


def book_groups_at_once():
    shared, customer = ResourceFactory(name="Shared"), CustomerFactory()
    own = [ResourceFactory() for _ in range(THREADS)]

    def book(index):
        try:
            return groups.group_create(by=SYSTEM, resources=[shared, own[index]], customer=customer, start_at=START, end_at=START + dt.timedelta(hours=1))
        except GroupConflict as conflict:
            return conflict

    return run_concurrently(book, THREADS)


def assert_one_whole_group(outcomes):
    winners = [o for o in outcomes if isinstance(o, BookingGroup)]
    refused = [o for o in outcomes if isinstance(o, GroupConflict)]
    escaped = [o for o in outcomes if not isinstance(o, (BookingGroup, GroupConflict))]
    assert escaped == [], f"{connection.vendor}: {escaped!r}"
    assert (len(winners), len(refused)) == (1, THREADS - 1)
    with connection.cursor() as cursor:
        cursor.execute(PARTS_WITHOUT_A_COMPLETE_GROUP)
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT COUNT(*) FROM scheduling_booking")
        assert cursor.fetchone()[0] == 2
    assert BookingGroup.objects.count() == 1 and Booking.objects.filter(group=winners[0]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_groups_sharing_a_resource_exactly_one_is_booked_whole():
    with widened_race_window():
        outcomes = book_groups_at_once()

    assert_one_whole_group(outcomes)


@pytest.mark.django_db(transaction=True)
def test_without_the_locks_the_exclusion_constraint_still_refuses_every_other_group_whole():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's immediate transaction is the lock; PostgreSQL's constraint is what is tested here")

    def no_lock(resources):
        return sorted(resources, key=lambda r: r.pk)

    with widened_race_window(), mock.patch.object(groups, "lock_resources", no_lock):
        outcomes = book_groups_at_once()

    assert_one_whole_group(outcomes)

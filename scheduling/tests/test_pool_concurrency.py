"""Forty clients race for the units of a pool of five (docs/spec.md §17.1).

Each thread has its own APIClient and so its own database connection; the intervals overlap
partially (a new one every 7 minutes, each an hour long), so a pairwise test would not do: only the
sum at every instant counts. Run on SQLite (BEGIN IMMEDIATE) and PostgreSQL (the resource row lock).
"""

import datetime as dt

import pytest
from django.db import connection

from scheduling import roles
from scheduling.models import Booking
from scheduling.tests.factories import API, CustomerFactory, ResourceFactory, at, client_for, iso, staff
from scheduling.tests.test_concurrency import run_concurrently, widened_race_window

CLIENTS = 40
CAPACITY = 5

# The units held at the start of each occupied range (where a maximum is reached), summed in SQL.
PEAK = """
SELECT MAX(held) FROM (
    SELECT SUM(b.quantity) AS held
    FROM scheduling_booking p JOIN scheduling_booking b
      ON b.resource_id = p.resource_id AND b.status <> 'cancelled'
     AND b.occupied_start <= p.occupied_start AND p.occupied_start < b.occupied_end
    WHERE p.resource_id = %s AND p.status <> 'cancelled'
    GROUP BY p.id
) AS peaks
"""


def peak_units(resource_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(PEAK, [resource_id])
        return cursor.fetchone()[0] or 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_forty_clients_never_hold_more_than_five_units_at_any_instant():
    pool = ResourceFactory(capacity=CAPACITY)
    customer = CustomerFactory()
    clients = [client_for(staff(roles.BOOKER, username=f"desk{i}")) for i in range(CLIENTS)]

    def book(index):
        begin = at(9) + dt.timedelta(minutes=7 * index)
        body = {"resource": pool.pk, "customer": customer.pk, "start_at": iso(begin), "end_at": iso(begin + dt.timedelta(hours=1)), "quantity": 1}
        response = clients[index].post(f"{API}/booking", body, format="json")
        return response.status_code, response.json()

    with widened_race_window():
        outcomes = run_concurrently(book, CLIENTS)

    statuses = [o[0] if isinstance(o, tuple) else o for o in outcomes]
    assert set(statuses) <= {201, 409}, f"{connection.vendor}: {outcomes!r}"
    assert statuses.count(201) >= CAPACITY and statuses.count(409) > 0
    for status, body in outcomes:
        if status == 409:
            assert body["conflicts"] and {c["kind"] for c in body["conflicts"]} == {"capacity"}, body
            assert all(c["id"] is None and c["remaining"] == 0 for c in body["conflicts"]), body
    assert Booking.objects.filter(resource=pool).count() == statuses.count(201)
    assert peak_units(pool.pk) <= CAPACITY
    # The sweep itself finds an overbooking (it would have caught one).
    Booking.objects.filter(resource=pool).update(quantity=CAPACITY)
    assert peak_units(pool.pk) > CAPACITY

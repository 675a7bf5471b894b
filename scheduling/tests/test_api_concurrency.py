"""Twenty clients book the same hour through the API at once: one 201, nineteen 409, one row.

Each thread has its own APIClient and so its own database connection (Django's connections are
per thread); the request goes through authentication, the serializer, the permission layer and the
booking service exactly as in production. PostgreSQL: the resource row lock and the exclusion
constraint decide; SQLite: BEGIN IMMEDIATE.
"""

import time
from unittest import mock

import pytest

from scheduling.models import Booking
from scheduling.services import bookings
from scheduling.tests.api.personas import API, at, client_for, iso, user_in
from scheduling.tests.factories import CustomerFactory, ResourceFactory
from scheduling.tests.test_concurrency import THREADS, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_api_bookings_one_201_nineteen_409():
    resource = ResourceFactory()
    customer = CustomerFactory()
    clients = [client_for(user_in("scheduling_booker", f"desk{i}")) for i in range(THREADS)]

    def book(index):
        begin = at(9, index)  # every request overlaps every other
        response = clients[index].post(f"{API}/booking", {"resource": resource.pk, "customer": customer.pk, "start_at": iso(begin), "end_at": iso(at(10, index))})
        return response.status_code, response.json()

    check = bookings._conflicts

    def slow_check(*args, **kwargs):
        # Widen the window between the check and the write, where a race would slip through.
        conflicts = check(*args, **kwargs)
        time.sleep(0.02)
        return conflicts

    with mock.patch.object(bookings, "_conflicts", slow_check):
        outcomes = run_concurrently(book, THREADS)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * (THREADS - 1), outcomes
    winner = next(body for status, body in outcomes if status == 201)
    assert all(body["conflicts"][0]["id"] == winner["id"] for status, body in outcomes if status == 409)
    assert list(Booking.objects.filter(resource=resource).values_list("pk", flat=True)) == [winner["id"]]

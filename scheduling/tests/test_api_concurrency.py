"""Twenty clients book the same hour through the API at once: one 201, nineteen 409, one row.

Each thread has its own APIClient and so its own database connection (Django's connections are
per thread); the request goes through authentication, the serializer, the permission layer and the
booking service exactly as in production. PostgreSQL: the resource row lock and the exclusion
constraint decide; SQLite: BEGIN IMMEDIATE.
"""

import pytest

from scheduling import roles
from scheduling.models import Booking
from scheduling.tests.factories import API, CustomerFactory, ResourceFactory, at, client_for, iso, staff
from scheduling.tests.test_concurrency import THREADS, run_concurrently, widened_race_window


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_api_bookings_one_201_nineteen_409():
    resource = ResourceFactory()
    customer = CustomerFactory()
    clients = [client_for(staff(roles.BOOKER, username=f"desk{i}")) for i in range(THREADS)]

    def book(index):
        begin = at(9, index)  # every request overlaps every other
        response = clients[index].post(f"{API}/booking", {"resource": resource.pk, "customer": customer.pk, "start_at": iso(begin), "end_at": iso(at(10, index))})
        return response.status_code, response.json()

    with widened_race_window():
        outcomes = run_concurrently(book, THREADS)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * (THREADS - 1), outcomes
    winner = next(body for status, body in outcomes if status == 201)
    assert all(body["conflicts"][0]["id"] == winner["id"] for status, body in outcomes if status == 409)
    assert list(Booking.objects.filter(resource=resource).values_list("pk", flat=True)) == [winner["id"]]

"""Every list endpoint reads a constant number of queries, whatever the number of rows.

Serializers write foreign keys as ids (no join, no per-row query) and the permission filter is a
subquery of the list query. As a manager (role permissions) a list page costs 6 queries:
  1. the failed authentications of the client's IP (the shared cache; docs/spec.md §6.8),
  2. the token and its user (TokenAuthentication, select_related),
  3. the user's own permissions, 4. the permissions of the user's groups (ModelBackend, once),
  5. COUNT(*) for the paginator, 6. the page itself.
As the owner of resource A (a guardian grant, no group) the same 6: the grant is a subquery of
5 and 6 (guardian reads the permissions' content types once per process, hence a warm-up request).
A user with a booking grant listing customers: the same 6 (customers booked on the granted
resources, or registered by the user while holding a grant, are subqueries too).
"""

import datetime as dt

import pytest

from scheduling.tests.factories import (
    API,
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
    client_for,
)

pytestmark = pytest.mark.django_db


def add_rows(route, scene, count, user):
    """`count` more rows that the owner of A (and the managers) can see; customers registered by `user`."""
    for i in range(count):
        start = dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i)
        {
            "resource_type": lambda: ResourceFactory(type=ResourceTypeFactory(name=f"kind {i}"), owner=scene.owner),
            "resource": lambda: ResourceFactory(type=scene.type, owner=scene.owner),
            "customer": lambda: CustomerFactory(created_by=user),
            "booking": lambda: BookingFactory(resource=scene.a, customer=scene.customer, start_at=start, end_at=start + dt.timedelta(minutes=30)),
            "availability": lambda: AvailabilityFactory(resource=scene.a, weekday=i % 7),
            "exception": lambda: ScheduleExceptionFactory(resource=scene.a, start_at=start, end_at=start + dt.timedelta(minutes=30)),
        }[route]()


@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize(
    ("route", "who", "queries"),
    [
        *[(route, "manager", 6) for route in ("resource_type", "resource", "customer", "booking", "availability", "exception")],
        *[(route, "owner", 6) for route in ("resource_type", "resource", "booking", "availability", "exception")],
        ("customer", "a_booker", 6),
    ],
)
def test_a_list_costs_the_same_queries_at_5_and_50_rows(route, who, queries, rows, scene, manager, a_booker, django_assert_num_queries):
    user = {"manager": manager, "owner": scene.owner, "a_booker": a_booker}[who]
    add_rows(route, scene, rows, user)
    client = client_for(user)
    client.get(f"{API}/{route}")  # warms Django's ContentType cache, as in any running process

    with django_assert_num_queries(queries):
        response = client.get(f"{API}/{route}")

    assert response.status_code == 200
    assert response.json()["count"] >= rows

"""The API's permission matrix (docs/spec.md §6.6): every role × every route and action × every method, from ONE table.

Each row is a route, a method, the body that an allowed user would send, and the exact status for
each role. A refused request (4xx) must leave the database exactly as it was. `owner` is in no group
and owns resource A (so holds manage_schedule on A only). The scene and the users are written once
for the module (`cast`); each case runs in a savepoint rolled back after it, so none sees another's
writes. The rules that the matrix shows only in part are in test_api_grants.py.
"""

from __future__ import annotations

import json

import pytest

from scheduling import roles
from scheduling.tests.factories import API, at, build_scene, client_for, iso, snapshot, staff

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "booker", "manager", "owner", "superuser")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Statuses that recur: reads everyone signed in may do; a write only some roles may attempt.
READ = (401, 200, 200, 200, 200, 200)
HIDDEN_FROM_OWNER = (401, 200, 200, 200, 404, 200)
MANAGERS = (401, 403, 403, 200, 403, 200)
MANAGERS_CREATE = (401, 403, 403, 201, 403, 201)
MANAGERS_DELETE = (401, 403, 403, 204, 403, 204)
MANAGERS_PROTECTED = (401, 403, 403, 409, 403, 409)
# A method the route does not offer: 405 once the user passes the permission the method implies
# (a read for GET, a change otherwise).
NO_CHANGE_ON_MODEL = (401, 403, 403, 405, 403, 405)
BOOKERS_CHANGE_405 = (401, 403, 405, 405, 403, 405)
SCHEDULERS_CHANGE_405 = (401, 403, 403, 405, 405, 405)
READ_405 = (401, 405, 405, 405, 405, 405)
PUBLIC = (200,) * 6
PUBLIC_405 = (405,) * 6
BOOKERS = (401, 403, 200, 200, 403, 200)
BOOKERS_CREATE = (401, 403, 201, 201, 403, 201)
SCHEDULERS = (401, 403, 403, 200, 200, 200)
SCHEDULERS_CREATE = (401, 403, 403, 201, 201, 201)
SCHEDULERS_DELETE = (401, 403, 403, 204, 204, 204)
OWNER_404 = (401, 403, 403, 200, 404, 200)
BOOKERS_OWNER_403 = (401, 403, 200, 200, 403, 200)


def window(s):
    return f"start={iso(at(0))}&end={iso(at(0, day=1))}&duration=60"


def booking_body(s):
    return {"resource": s.a.pk, "customer": s.customer.pk, "start_at": iso(at(13)), "end_at": iso(at(14))}


def availability_body(s):
    return {"resource": s.a.pk, "weekday": 1, "start_time": "08:00", "end_time": "12:00"}


def exception_body(s):
    return {"resource": s.a.pk, "start_at": iso(at(9, day=2)), "end_at": iso(at(10, day=2)), "reason": "Course"}


def type_body(s):
    return {"name": "Room", "color": "#112233"}


def resource_body(s):
    return {"name": "C", "type": s.type.pk}


def customer_body(s):
    return {"name": "Dora", "email": "dora@example.com"}


def check_body(resource_attr):
    return lambda s: {"resource_id": getattr(s, resource_attr).pk, "start_at": iso(at(13)), "end_at": iso(at(14))}


def everything(url, body, **statuses):
    """One row per method for a route; `statuses` gives each method's tuple (missing: unmapped)."""
    return [(url, method, body, statuses[method]) for method in METHODS if method in statuses]


# (url template over the scene, method, body factory, statuses for ROLES)
TABLE = [
    # --- resource types ---
    *everything("/resource_type", type_body, GET=READ, POST=MANAGERS_CREATE, PUT=NO_CHANGE_ON_MODEL, PATCH=NO_CHANGE_ON_MODEL, DELETE=NO_CHANGE_ON_MODEL),
    *everything("/resource_type/{s.type.pk}", type_body, GET=READ, POST=NO_CHANGE_ON_MODEL, PUT=MANAGERS, PATCH=MANAGERS, DELETE=MANAGERS_PROTECTED),
    ("/resource_type/{s.spare_type.pk}", "DELETE", None, MANAGERS_DELETE),
    # --- resources ---
    *everything("/resource", resource_body, GET=READ, POST=MANAGERS_CREATE, PUT=NO_CHANGE_ON_MODEL, PATCH=NO_CHANGE_ON_MODEL, DELETE=NO_CHANGE_ON_MODEL),
    *everything("/resource/{s.a.pk}", resource_body, GET=READ, POST=NO_CHANGE_ON_MODEL, PUT=MANAGERS, PATCH=MANAGERS, DELETE=MANAGERS_PROTECTED),
    ("/resource/{s.spare.pk}", "DELETE", None, MANAGERS_DELETE),
    ("/resource/{s.b.pk}", "GET", None, HIDDEN_FROM_OWNER),
    ("/resource/{s.b.pk}", "PATCH", resource_body, MANAGERS),
    *everything(
        "/resource/{s.a.pk}/slots?" + "{window}",
        None,
        GET=READ,
        POST=NO_CHANGE_ON_MODEL,
        PUT=NO_CHANGE_ON_MODEL,
        PATCH=NO_CHANGE_ON_MODEL,
        DELETE=NO_CHANGE_ON_MODEL,
    ),
    ("/resource/{s.b.pk}/slots?{window}", "GET", None, HIDDEN_FROM_OWNER),
    *everything(
        "/resource/available?type={s.type.pk}&start_at=2030-03-04T13:00:00Z&end_at=2030-03-04T14:00:00Z",
        None,
        GET=READ,
        POST=NO_CHANGE_ON_MODEL,
        PUT=NO_CHANGE_ON_MODEL,
        PATCH=NO_CHANGE_ON_MODEL,
        DELETE=NO_CHANGE_ON_MODEL,
    ),
    # --- customers: bookers may add and change them; the owner sees none ---
    *everything("/customer", customer_body, GET=READ, POST=BOOKERS_CREATE, PUT=BOOKERS_CHANGE_405, PATCH=BOOKERS_CHANGE_405, DELETE=BOOKERS_CHANGE_405),
    *everything(
        "/customer/{s.customer.pk}",
        customer_body,
        GET=HIDDEN_FROM_OWNER,
        POST=BOOKERS_CHANGE_405,
        PUT=BOOKERS_OWNER_403,
        PATCH=BOOKERS_OWNER_403,
        DELETE=MANAGERS_PROTECTED,
    ),
    ("/customer/{s.spare_customer.pk}", "DELETE", None, MANAGERS_DELETE),
    # --- bookings ---
    *everything("/booking", booking_body, GET=READ, POST=BOOKERS_CREATE, PUT=BOOKERS_CHANGE_405, PATCH=BOOKERS_CHANGE_405, DELETE=BOOKERS_CHANGE_405),
    *everything(
        "/booking/{s.booking_a.pk}",
        booking_body,
        GET=READ,
        POST=BOOKERS_CHANGE_405,
        PUT=BOOKERS,
        PATCH=BOOKERS,
        DELETE=MANAGERS_DELETE,
    ),
    ("/booking/{s.booking_b.pk}", "GET", None, HIDDEN_FROM_OWNER),
    ("/booking/{s.booking_b.pk}", "PATCH", lambda s: {"notes": "x"}, BOOKERS_OWNER_403),
    *[
        row
        for name, booking in (("confirm", "booking_a"), ("cancel", "booking_a"), ("complete", "confirmed_a"), ("no_show", "confirmed_a"))
        for row in everything(
            "/booking/{s.%s.pk}/%s" % (booking, name),
            None,
            GET=READ_405,
            POST=BOOKERS,
            PUT=BOOKERS_CHANGE_405,
            PATCH=BOOKERS_CHANGE_405,
            DELETE=BOOKERS_CHANGE_405,
        )
    ],
    *everything(
        "/booking/check_availability",
        check_body("a"),
        GET=READ_405,
        POST=READ,
        PUT=BOOKERS_CHANGE_405,
        PATCH=BOOKERS_CHANGE_405,
        DELETE=BOOKERS_CHANGE_405,
    ),
    ("/booking/check_availability", "POST", check_body("b"), HIDDEN_FROM_OWNER),
    # --- working hours and exceptions: managers, and the owner on their own resource ---
    *everything(
        "/availability",
        availability_body,
        GET=READ,
        POST=SCHEDULERS_CREATE,
        PUT=SCHEDULERS_CHANGE_405,
        PATCH=SCHEDULERS_CHANGE_405,
        DELETE=SCHEDULERS_CHANGE_405,
    ),
    *everything(
        "/availability/{s.availability_a.pk}",
        availability_body,
        GET=READ,
        POST=SCHEDULERS_CHANGE_405,
        PUT=SCHEDULERS,
        PATCH=SCHEDULERS,
        DELETE=SCHEDULERS_DELETE,
    ),
    ("/availability/{s.availability_b.pk}", "GET", None, HIDDEN_FROM_OWNER),
    ("/availability/{s.availability_b.pk}", "PATCH", lambda s: {"end_time": "24:00"}, OWNER_404),
    *everything(
        "/exception",
        exception_body,
        GET=READ,
        POST=SCHEDULERS_CREATE,
        PUT=SCHEDULERS_CHANGE_405,
        PATCH=SCHEDULERS_CHANGE_405,
        DELETE=SCHEDULERS_CHANGE_405,
    ),
    *everything(
        "/exception/{s.exception_a.pk}",
        exception_body,
        GET=READ,
        POST=SCHEDULERS_CHANGE_405,
        PUT=SCHEDULERS,
        PATCH=SCHEDULERS,
        DELETE=SCHEDULERS_DELETE,
    ),
    ("/exception/{s.exception_b.pk}", "GET", None, HIDDEN_FROM_OWNER),
    ("/exception/{s.exception_b.pk}", "DELETE", None, (401, 403, 403, 204, 404, 204)),
    # --- the schema and its viewers are public ---
    *[row for path in ("/api/schema/", "/api/docs/", "/api/redoc/") for row in everything(path, None, GET=PUBLIC, POST=PUBLIC_405, PUT=PUBLIC_405, PATCH=PUBLIC_405, DELETE=PUBLIC_405)],
]

CASES = [
    pytest.param(url, method, body, role, statuses[index], id=f"{role}-{method}-{url}")
    for url, method, body, statuses in TABLE
    for index, role in enumerate(ROLES)
]


@pytest.fixture(scope="module")
def cast(module_db, django_db_blocker):
    """The scene and one user per role, written once for the module's hundreds of cases."""
    with django_db_blocker.unblock():
        scene = build_scene()
        groups = {"viewer": roles.VIEWER, "booker": roles.BOOKER, "manager": roles.MANAGER}
        users = {role: staff(group, username=role) for role, group in groups.items()}
        users.update(anonymous=None, owner=scene.owner, superuser=staff(username="superuser", is_superuser=True))
        for user in users.values():
            client_for(user)  # writes the user's token once
    return scene, users


@pytest.mark.parametrize(("url", "method", "body", "role", "expected"), CASES)
def test_permission_matrix(db, cast, url, method, body, role, expected):
    scene, users = cast
    path = url.format(s=scene, window=window(scene))
    path = path if path.startswith("/api/") else API + path
    before = snapshot()

    response = client_for(users[role]).generic(method, path, data=_json(body(scene) if body else None), content_type="application/json")

    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        assert snapshot() == before


def _json(data):
    return json.dumps(data) if data is not None else ""

"""The API's permission matrix (docs/spec.md §6.6): every role × every route and action × every method, from ONE table.

Each row is a route, a method, the body that an allowed user would send, and the exact status for
each role. A refused request (4xx) must leave the database exactly as it was. Roles: see personas.py;
`owner` is in no group and owns resource A (so holds manage_schedule on A only).
"""

from __future__ import annotations

import json

import pytest
from guardian.shortcuts import assign_perm

from scheduling.models import Availability, Booking, ScheduleException
from scheduling.tests.api.personas import (  # noqa: F401 - fixtures
    API,
    a_booker,
    at,
    booker,
    build_scene,
    client_for,
    iso,
    manager,
    outsider,
    scene,
    snapshot,
    superuser,
    user_in,
    viewer,
)

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


def persona(role, scene):
    if role == "anonymous":
        return None
    if role == "owner":
        return scene.owner
    extra = {"is_superuser": True, "is_staff": True} if role == "superuser" else {}
    return user_in({"viewer": "scheduling_viewer", "booker": "scheduling_booker", "manager": "scheduling_manager"}.get(role), role, **extra)


@pytest.mark.parametrize(("url", "method", "body", "role", "expected"), CASES)
def test_permission_matrix(url, method, body, role, expected):
    scene = build_scene()
    client = client_for(persona(role, scene))
    path = url.format(s=scene, window=window(scene))
    path = path if path.startswith("/api/") else API + path
    before = snapshot()

    response = client.generic(method, path, data=_json(body(scene) if body else None), content_type="application/json")

    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        assert snapshot() == before


def _json(data):
    return json.dumps(data) if data is not None else ""


# --- The rules of §6.6 that the matrix shows only in part ----------------------------------------


def test_a_user_with_a_booking_grant_on_a_books_a_but_not_b(scene, a_booker):
    client = client_for(a_booker)

    on_a = client.post(f"{API}/booking", {"resource": scene.a.pk, "customer": scene.customer.pk, "start_at": iso(at(13)), "end_at": iso(at(14))})
    assert on_a.status_code == 201
    assert Booking.objects.filter(pk=on_a.json()["id"], resource=scene.a, created_by=a_booker).exists()

    before = snapshot()
    on_b = client.post(f"{API}/booking", {"resource": scene.b.pk, "customer": scene.customer.pk, "start_at": iso(at(13)), "end_at": iso(at(14))})
    assert on_b.status_code == 403
    assert snapshot() == before


def test_an_id_outside_a_grant_users_view_is_403_whether_or_not_it_exists(scene, a_booker, manager):
    body = {"customer": scene.customer.pk, "start_at": iso(at(13)), "end_at": iso(at(14))}

    invisible = client_for(a_booker).post(f"{API}/booking", {**body, "resource": scene.b.pk})
    unknown = client_for(a_booker).post(f"{API}/booking", {**body, "resource": 999999})
    unknown_to_a_manager = client_for(manager).post(f"{API}/booking", {**body, "resource": 999999})

    assert (invisible.status_code, unknown.status_code) == (403, 403)
    assert invisible.json().keys() == unknown.json().keys() == {"detail"}
    assert unknown_to_a_manager.status_code == 400 and "resource" in unknown_to_a_manager.json()


def test_a_booking_grant_user_does_not_see_the_bookings_of_b(scene, a_booker):
    client = client_for(a_booker)

    listed = client.get(f"{API}/booking").json()["results"]

    assert {b["resource"] for b in listed} == {scene.a.pk}
    assert client.get(f"{API}/booking/{scene.booking_b.pk}").status_code == 404
    assert client.get(f"{API}/booking?resource={scene.b.pk}").json()["count"] == 0


def test_a_visible_resource_without_the_booking_grant_is_403_not_400(scene, a_booker):
    # Seeing B (through the schedule grant) is not the right to book it.
    assign_perm("manage_schedule", a_booker, scene.b)
    before = snapshot()

    response = client_for(a_booker).post(f"{API}/booking", {"resource": scene.b.pk, "customer": scene.customer.pk, "start_at": iso(at(13)), "end_at": iso(at(14))})

    assert response.status_code == 403
    assert snapshot() == before


def test_moving_a_booking_to_a_resource_without_the_grant_is_403(scene, a_booker):
    assign_perm("manage_schedule", a_booker, scene.b)
    before = snapshot()

    response = client_for(a_booker).patch(f"{API}/booking/{scene.booking_a.pk}", {"resource": scene.b.pk, "start_at": iso(at(15)), "end_at": iso(at(16))})

    assert response.status_code == 403
    assert snapshot() == before


def test_an_owner_edits_the_availability_of_their_resource_but_not_of_another(scene):
    client = client_for(scene.owner)

    own = client.patch(f"{API}/availability/{scene.availability_a.pk}", {"end_time": "24:00"})
    other = client.patch(f"{API}/availability/{scene.availability_b.pk}", {"end_time": "24:00"})

    assert (own.status_code, other.status_code) == (200, 404)
    scene.availability_a.refresh_from_db()
    scene.availability_b.refresh_from_db()
    assert (scene.availability_a.end_time.hour, scene.availability_b.end_time.hour) == (0, 18)


def test_an_owner_who_sees_another_resource_still_may_not_edit_its_schedule(scene):
    assign_perm("book_resource", scene.owner, scene.b)
    client = client_for(scene.owner)
    before = snapshot()

    created = client.post(f"{API}/availability", {"resource": scene.b.pk, "weekday": 2, "start_time": "08:00", "end_time": "12:00"})
    changed = client.patch(f"{API}/exception/{scene.exception_b.pk}", {"reason": "mine now"})
    moved = client.patch(f"{API}/availability/{scene.availability_a.pk}", {"resource": scene.b.pk})

    assert (created.status_code, changed.status_code, moved.status_code) == (403, 403, 403)
    assert snapshot() == before


def test_an_owner_adds_leave_to_their_own_resource(scene):
    response = client_for(scene.owner).post(f"{API}/exception", {"resource": scene.a.pk, "start_at": iso(at(9, day=3)), "end_at": iso(at(17, day=3))})

    assert response.status_code == 201
    assert ScheduleException.objects.filter(resource=scene.a, start_at=at(9, day=3)).exists()


def test_the_owner_loses_the_schedule_right_when_ownership_moves(scene, manager):
    client_for(manager).patch(f"{API}/resource/{scene.a.pk}", {"owner": manager.pk})

    response = client_for(scene.owner).patch(f"{API}/availability/{scene.availability_a.pk}", {"end_time": "24:00"})

    # Not a schedule manager of anything any more, so not even allowed to try.
    assert response.status_code == 403
    assert Availability.objects.get(pk=scene.availability_a.pk).end_time.hour == 18


def test_an_outsider_sees_empty_lists_and_404s(scene, outsider):
    client = client_for(outsider)

    lists = [client.get(f"{API}/{route}") for route in ("resource_type", "resource", "customer", "booking", "availability", "exception")]

    assert [(r.status_code, r.json()["count"]) for r in lists] == [(200, 0)] * 6
    assert client.get(f"{API}/resource/{scene.a.pk}").status_code == 404
    assert client.post(f"{API}/booking/check_availability", check_body("a")(scene)).status_code == 404


def test_only_a_manager_may_set_override_availability(scene, booker, manager):
    body = {"resource": scene.a.pk, "customer": scene.customer.pk, "start_at": iso(at(20)), "end_at": iso(at(21)), "override_availability": True}
    before = snapshot()

    refused = client_for(booker).post(f"{API}/booking", body)
    assert refused.status_code == 403 and "override_availability" in refused.json()["detail"]
    assert snapshot() == before

    allowed = client_for(manager).post(f"{API}/booking", body)
    assert allowed.status_code == 201
    assert Booking.objects.get(pk=allowed.json()["id"]).override_availability is True


def test_a_booker_may_not_move_a_booking_that_carries_an_override(scene, booker):
    """The move is checked without the manager's override, and refused with what it would break."""
    Booking.objects.filter(pk=scene.booking_a.pk).update(override_availability=True)
    before = snapshot()

    moved = client_for(booker).patch(f"{API}/booking/{scene.booking_a.pk}", {"start_at": iso(at(19)), "end_at": iso(at(20))})
    assert moved.status_code == 409
    assert [c["kind"] for c in moved.json()["conflicts"]] == ["outside_availability"]
    assert snapshot() == before

    noted = client_for(booker).patch(f"{API}/booking/{scene.booking_a.pk}", {"notes": "Bring shoes", "override_availability": True})
    assert noted.status_code == 200  # not a move: the manager's decision stands
    assert Booking.objects.get(pk=scene.booking_a.pk).notes == "Bring shoes"

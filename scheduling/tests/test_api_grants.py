"""Object grants and ownership in the API (issue 4, docs/spec.md §7): what the permission matrix in
test_api_permissions.py shows only in part — a grant on one resource is not a right on another,
ids outside a user's view, the owner's schedule right, and the manager-only override."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from scheduling.models import Availability, Booking, ScheduleException
from scheduling.tests.factories import API, at, client_for, iso, snapshot

pytestmark = pytest.mark.django_db


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
    check = {"resource_id": scene.a.pk, "start_at": iso(at(13)), "end_at": iso(at(14))}
    assert client.post(f"{API}/booking/check_availability", check).status_code == 404


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

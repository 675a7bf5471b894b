"""Bookings through the API (docs/spec.md §6.4): the service's rules as HTTP answers."""

import datetime as dt

import pytest

from scheduling.models import Booking
from scheduling.tests.factories import API, BookingFactory, ResourceFactory, at, client_for, iso, snapshot

pytestmark = pytest.mark.django_db


def body(scene, start, end, **extra):
    return {"resource": scene.a.pk, "customer": scene.customer.pk, "start_at": start, "end_at": end, **extra}


def test_a_booking_is_created_pending_by_the_requesting_user_and_answered_in_utc(api, scene, manager):
    response = api.post(f"{API}/booking", body(scene, "2030-03-04T14:00:00+01:00", "2030-03-04T15:00:00+01:00"))

    assert response.status_code == 201
    data = response.json()
    assert (data["start_at"], data["end_at"], data["status"], data["created_by"]) == ("2030-03-04T13:00:00Z", "2030-03-04T14:00:00Z", "pending", manager.pk)
    assert Booking.objects.get(pk=data["id"]).start_at == at(13)


def test_a_booking_may_be_created_confirmed_but_in_no_other_status(api, scene):
    confirmed = api.post(f"{API}/booking", body(scene, iso(at(13)), iso(at(14)), status="confirmed"))
    before = snapshot()
    cancelled = api.post(f"{API}/booking", body(scene, iso(at(15)), iso(at(16)), status="cancelled"))

    assert (confirmed.status_code, confirmed.json()["status"]) == (201, "confirmed")
    assert cancelled.status_code == 400 and "status" in cancelled.json()
    assert snapshot() == before


def test_a_naive_datetime_is_refused_naming_the_field(api, scene):
    before = snapshot()

    response = api.post(f"{API}/booking", body(scene, "2030-03-04T13:00:00", iso(at(14))))

    assert response.status_code == 400
    assert list(response.json()) == ["start_at"] and "offset" in response.json()["start_at"][0]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2030-03-04T14:00:00Z", "2030-03-04T13:00:00Z", "end_at"),
        ("2030-03-04T14:00:00Z", "2030-03-04T14:00:00Z", "end_at"),
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "end_at"),
        ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z", "start_at"),
        ("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z", "start_at"),
        ("0001-01-01T00:00:00+05:00", "2030-01-01T00:00:00Z", "start_at"),
        ("not a date", "2030-03-04T13:00:00Z", "start_at"),
    ],
)
def test_a_bad_interval_is_refused_naming_the_field(api, scene, start, end, field):
    before = snapshot()

    response = api.post(f"{API}/booking", body(scene, start, end))

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_a_conflicting_booking_is_409_with_the_conflicts_and_nothing_written(api, scene):
    before = snapshot()

    response = api.post(f"{API}/booking", body(scene, iso(at(9, 30)), iso(at(10, 30))))

    assert response.status_code == 409
    assert response.json()["conflicts"] == [
        {"kind": "booking", "id": scene.booking_a.pk, "start_at": "2030-03-04T09:00:00Z", "end_at": "2030-03-04T10:00:00Z", "status": "pending"}
    ]
    assert response.json()["detail"]
    assert snapshot() == before


def test_a_booking_outside_working_hours_is_409_outside_availability(api, scene):
    response = api.post(f"{API}/booking", body(scene, iso(at(17)), iso(at(19))))

    assert response.status_code == 409
    assert response.json()["conflicts"] == [{"kind": "outside_availability", "id": None, "start_at": "2030-03-04T18:00:00Z", "end_at": "2030-03-04T19:00:00Z"}]


def test_a_manager_may_override_working_hours(api, scene):
    response = api.post(f"{API}/booking", body(scene, iso(at(17)), iso(at(19)), override_availability=True))

    assert response.status_code == 201
    assert Booking.objects.get(pk=response.json()["id"]).override_availability is True


def test_moving_a_booking_into_a_conflict_is_409_and_leaves_it(api, scene):
    before = snapshot()

    response = api.patch(f"{API}/booking/{scene.confirmed_a.pk}", {"start_at": iso(at(9, 30)), "end_at": iso(at(11, 30))})

    assert response.status_code == 409 and response.json()["conflicts"][0]["id"] == scene.booking_a.pk
    assert snapshot() == before


def test_a_booking_is_moved_and_edited_by_put_and_patch(api, scene):
    put = api.put(f"{API}/booking/{scene.booking_a.pk}", body(scene, iso(at(13)), iso(at(14)), notes="Moved"))
    patch = api.patch(f"{API}/booking/{scene.booking_a.pk}", {"notes": "Bring shoes"})

    assert (put.status_code, patch.status_code) == (200, 200)
    booking = Booking.objects.get(pk=scene.booking_a.pk)
    assert (booking.start_at, booking.notes, patch.json()["start_at"]) == (at(13), "Bring shoes", "2030-03-04T13:00:00Z")


def test_status_is_not_writable_by_put_or_patch(api, scene):
    before = snapshot()

    response = api.patch(f"{API}/booking/{scene.booking_a.pk}", {"status": "confirmed"})

    assert response.status_code == 400
    assert "/confirm" in response.json()["status"][0]
    assert snapshot() == before


def test_a_get_body_can_be_put_back_unchanged(api, scene):
    current = api.get(f"{API}/booking/{scene.booking_a.pk}").json()

    response = api.put(f"{API}/booking/{scene.booking_a.pk}", current)

    assert response.status_code == 200 and response.json()["status"] == "pending"


@pytest.mark.parametrize(("action", "booking", "status"), [("confirm", "booking_a", "confirmed"), ("cancel", "booking_a", "cancelled"), ("complete", "confirmed_a", "completed"), ("no_show", "confirmed_a", "no_show")])
def test_each_transition_answers_the_booking(api, scene, action, booking, status):
    target = getattr(scene, booking)

    response = api.post(f"{API}/booking/{target.pk}/{action}")

    assert (response.status_code, response.json()["status"], response.json()["id"]) == (200, status, target.pk)
    assert Booking.objects.get(pk=target.pk).status == status


def test_an_illegal_transition_is_409_naming_both_statuses(api, scene):
    before = snapshot()

    response = api.post(f"{API}/booking/{scene.booking_a.pk}/complete/")

    assert response.status_code == 409
    data = response.json()
    assert (data["current"], data["requested"]) == ("pending", "completed")
    assert "pending" in data["detail"] and "completed" in data["detail"]
    assert snapshot() == before


def test_a_cancelled_booking_frees_the_time_and_keeps_its_notes_editable(api, scene):
    api.post(f"{API}/booking/{scene.booking_a.pk}/cancel")

    noted = api.patch(f"{API}/booking/{scene.booking_a.pk}", {"notes": "Called to cancel"})
    rebooked = api.post(f"{API}/booking", body(scene, iso(at(9)), iso(at(10))))

    assert (noted.status_code, rebooked.status_code) == (200, 201)


def test_a_manager_deletes_a_booking(api, scene):
    response = api.delete(f"{API}/booking/{scene.booking_a.pk}")

    assert response.status_code == 204
    assert not Booking.objects.filter(pk=scene.booking_a.pk).exists()


def test_long_notes_are_kept_whole(api, scene):
    response = api.post(f"{API}/booking", body(scene, iso(at(13)), iso(at(14)), notes="n" * 10_000))

    assert response.status_code == 201
    assert len(Booking.objects.get(pk=response.json()["id"]).notes) == 10_000


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("resource={s.a.pk}", {"booking_a", "confirmed_a"}),
        ("customer={s.customer.pk}", {"booking_a", "confirmed_a", "booking_b"}),
        ("resource_type={s.type.pk}", {"booking_a", "confirmed_a", "booking_b"}),
        ("type={s.spare_type.pk}", set()),
        ("status=confirmed", {"confirmed_a"}),
        ("status=confirmed&status=pending", {"booking_a", "confirmed_a", "booking_b"}),
        ("start=2030-03-04T10:00:00Z&end=2030-03-04T11:00:00Z", set()),
        ("start=2030-03-04T09:59:00Z&end=2030-03-04T11:01:00Z", {"booking_a", "confirmed_a", "booking_b"}),
        ("start=2030-03-04T11:30:00%2B00:00", {"confirmed_a"}),
        ("end=2030-03-04T09:30:00Z", {"booking_a", "booking_b"}),
        ("resource=999999999", set()),
    ],
)
def test_bookings_are_filtered(api, scene, query, expected):
    response = api.get(f"{API}/booking?{query.format(s=scene)}")

    assert response.status_code == 200
    names = {name for name in ("booking_a", "confirmed_a", "booking_b") if getattr(scene, name).pk in {b["id"] for b in response.json()["results"]}}
    assert names == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2030-03-04T10:00:00", "start"),
        ("start=2030-03-04T10:00:00Z&end=2030-03-04T10:00:00Z", "end"),
        ("status=lost", "status"),
        ("resource=abc", "resource"),
        ("resource=99999999999999999999999", "resource"),
        ("start=0001-01-01T00:00:00%2B05:00", "start"),
    ],
)
def test_a_malformed_filter_is_400_naming_it(api, scene, query, field):
    response = api.get(f"{API}/booking?{query}")

    assert response.status_code == 400 and field in response.json()


def test_bookings_are_listed_in_a_stable_order(api, scene):
    twin = BookingFactory(resource=ResourceFactory(type=scene.type), customer=scene.customer, start_at=at(9), end_at=at(10))

    ids = [b["id"] for b in api.get(f"{API}/booking").json()["results"]]

    assert ids == [scene.booking_a.pk, scene.booking_b.pk, twin.pk, scene.confirmed_a.pk]


def test_a_viewer_may_read_bookings_but_not_write(scene, viewer):
    client = client_for(viewer)
    before = snapshot()

    listed = client.get(f"{API}/booking")
    created = client.post(f"{API}/booking", body(scene, iso(at(13)), iso(at(14))))

    assert (listed.status_code, listed.json()["count"], created.status_code) == (200, 3, 403)
    assert snapshot() == before


def test_the_booking_window_filter_takes_either_bound_alone(api, scene):
    late = BookingFactory(resource=scene.b, customer=scene.customer, start_at=at(9) + dt.timedelta(days=7), end_at=at(10) + dt.timedelta(days=7))

    response = api.get(f"{API}/booking?start={iso(at(12))}")

    assert [b["id"] for b in response.json()["results"]] == [late.pk]

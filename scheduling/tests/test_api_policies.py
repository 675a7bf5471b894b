"""Booking policies through the API (docs/spec.md §13): the fields on resource_type and resource,
their validation, the policy conflict shape, deadlines as 409, approval as 403."""

import datetime as dt

import pytest
import time_machine

from scheduling.models import Booking, Resource, ResourceType
from scheduling.tests.factories import API, CustomerFactory, ResourceFactory, ResourceTypeFactory, client_for, iso

UTC = dt.timezone.utc
NOW = dt.datetime(2030, 3, 4, 8, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

POLICY = {
    "buffer_before": 5,
    "buffer_after": 10,
    "min_notice": 60,
    "max_horizon": 30,
    "min_duration": 30,
    "max_duration": 120,
    "granularity": 15,
    "cancel_deadline": 1440,
    "change_deadline": 720,
    "quota_per_day": 1,
    "quota_per_week": 3,
    "requires_approval": True,
    "approval_timeout": 240,
}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_resource_type_reads_and_writes_every_policy_field(manager):
    api = client_for(manager)
    response = api.post(f"{API}/resource_type/", {"name": "Rooms", **POLICY}, format="json")
    assert response.status_code == 201, response.json()
    assert {k: response.json()[k] for k in POLICY} == POLICY
    stored = ResourceType.objects.get(name="Rooms")
    assert {k: getattr(stored, k) for k in POLICY} == POLICY


def test_a_new_type_has_no_rules_and_a_resource_inherits_with_null(manager):
    api = client_for(manager)
    type_id = api.post(f"{API}/resource_type/", {"name": "Plain"}, format="json").json()["id"]
    assert api.get(f"{API}/resource_type/{type_id}/").json() == {
        "id": type_id, "name": "Plain", "color": "#4f46e5",
        **dict.fromkeys(POLICY, None), "buffer_before": 0, "buffer_after": 0, "requires_approval": False, "reminder_before": [],
        "offer_hold": 60,
    }  # fmt: skip
    body = api.post(f"{API}/resource/", {"name": "R", "type": type_id, "min_duration": 45}, format="json").json()
    assert body["min_duration"] == 45 and body["buffer_after"] is None and body["requires_approval"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"buffer_before": -1}, "buffer_before"),
        ({"min_notice": -5}, "min_notice"),
        ({"min_duration": 60, "max_duration": 30}, "max_duration"),
        ({"granularity": 7}, "granularity"),
        ({"granularity": 2000}, "granularity"),
        ({"requires_approval": "yes"}, "requires_approval"),
        ({"quota_per_day": 1.5}, "quota_per_day"),
    ],
)
def test_invalid_policy_values_are_400_naming_the_field_and_nothing_is_written(manager, body, field):
    api = client_for(manager)
    response = api.post(f"{API}/resource_type/", {"name": "Bad", **body}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not ResourceType.objects.filter(name="Bad").exists()


def test_a_resource_override_is_checked_against_its_type(manager):
    room_type = ResourceTypeFactory(min_duration=60)
    response = client_for(manager).post(f"{API}/resource/", {"name": "R", "type": room_type.pk, "max_duration": 30}, format="json")
    assert response.status_code == 400 and "max_duration" in response.json()
    assert not Resource.objects.filter(name="R").exists()


def test_a_policy_refusal_is_409_with_the_policy_conflict_shape(booker):
    resource = ResourceFactory(type=ResourceTypeFactory(min_notice=120))
    start, end = NOW + HOUR, NOW + 2 * HOUR
    response = client_for(booker).post(
        f"{API}/booking/",
        {"resource": resource.pk, "customer": CustomerFactory().pk, "start_at": iso(start), "end_at": iso(end)},
        format="json",
    )
    assert response.status_code == 409
    (conflict,) = response.json()["conflicts"]
    assert set(conflict) == {"kind", "rule", "id", "start_at", "end_at", "detail"}
    assert (conflict["kind"], conflict["rule"], conflict["id"]) == ("policy", "min_notice", None)
    assert (conflict["start_at"], conflict["end_at"]) == (iso(start), iso(end))
    assert not Booking.objects.exists()


def test_check_availability_reports_policy_and_quota_conflicts(booker):
    resource = ResourceFactory(type=ResourceTypeFactory(granularity=30, quota_per_day=1))
    customer = CustomerFactory()
    Booking.objects.create(resource=resource, customer=customer, start_at=NOW + 2 * HOUR, end_at=NOW + 3 * HOUR, status="confirmed")
    body = {"resource_id": resource.pk, "start_at": iso(NOW + 5 * HOUR + 10 * MINUTE), "end_at": iso(NOW + 6 * HOUR), "customer_id": customer.pk}
    answer = client_for(booker).post(f"{API}/booking/check_availability/", body, format="json").json()
    assert answer["available"] is False
    assert [(c["kind"], c["rule"]) for c in answer["conflicts"]] == [("policy", "granularity"), ("policy", "quota_per_day")]


def test_a_booker_cancelling_past_the_deadline_is_409_naming_the_rule_and_a_manager_may(booker, manager):
    resource = ResourceFactory(type=ResourceTypeFactory(cancel_deadline=120))
    booking = Booking.objects.create(resource=resource, customer=CustomerFactory(), start_at=NOW + HOUR, end_at=NOW + 2 * HOUR)
    response = client_for(booker).post(f"{API}/booking/{booking.pk}/cancel/", format="json")
    assert response.status_code == 409
    assert [(c["kind"], c["rule"]) for c in response.json()["conflicts"]] == [("policy", "cancel_deadline")]
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert client_for(manager).post(f"{API}/booking/{booking.pk}/cancel/", format="json").status_code == 200


def test_a_booker_moving_past_the_change_deadline_is_409(booker):
    resource = ResourceFactory(type=ResourceTypeFactory(change_deadline=120))
    booking = Booking.objects.create(resource=resource, customer=CustomerFactory(), start_at=NOW + HOUR, end_at=NOW + 2 * HOUR)
    response = client_for(booker).patch(f"{API}/booking/{booking.pk}/", {"end_at": iso(NOW + 3 * HOUR)}, format="json")
    assert response.status_code == 409
    assert [c["rule"] for c in response.json()["conflicts"]] == ["change_deadline"]


def test_on_an_approval_type_a_booker_asking_confirmed_is_403_naming_status(booker):
    resource = ResourceFactory(type=ResourceTypeFactory(requires_approval=True))
    body = {"resource": resource.pk, "customer": CustomerFactory().pk, "start_at": iso(NOW + 5 * HOUR), "end_at": iso(NOW + 6 * HOUR)}
    response = client_for(booker).post(f"{API}/booking/", {**body, "status": "confirmed"}, format="json")
    assert response.status_code == 403 and "status" in response.json()["detail"]
    created = client_for(booker).post(f"{API}/booking/", body, format="json")
    assert (created.status_code, created.json()["status"]) == (201, "pending")
    assert client_for(booker).post(f"{API}/booking/{created.json()['id']}/confirm/").status_code == 403


def test_slots_offer_only_what_the_write_accepts(booker):
    resource = ResourceFactory(type=ResourceTypeFactory(min_notice=90, granularity=60, buffer_after=30))
    query = {"start": iso(NOW), "end": iso(NOW + 6 * HOUR), "duration": 60, "step": 30}
    slots = client_for(booker).get(f"{API}/resource/{resource.pk}/slots/", query).json()["slots"]
    assert [s["start_at"] for s in slots][:2] == [iso(NOW + 2 * HOUR), iso(NOW + 3 * HOUR)]

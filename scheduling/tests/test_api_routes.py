"""Every other route of the API (docs/spec.md §6): CRUD, the availability questions, authentication,
and the error answers to malformed and hostile input."""

import datetime as dt

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from scheduling.models import Availability, Customer, Resource, ResourceType, ScheduleException
from scheduling.tests.factories import (
    API,
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ScheduleExceptionFactory,
    at,
    client_for,
    iso,
    snapshot,
)

pytestmark = pytest.mark.django_db

ROUTES = ("resource_type", "resource", "customer", "booking", "availability", "exception")


# --- Routes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("slash", ["", "/"])
def test_every_route_answers_with_and_without_a_trailing_slash_never_by_redirect(api, scene, route, slash):
    listed = api.get(f"{API}/{route}{slash}")
    first = listed.json()["results"][0]["id"]
    detail = api.get(f"{API}/{route}/{first}{slash}")

    assert (listed.status_code, detail.status_code) == (200, 200)
    assert detail.json()["id"] == first


@pytest.mark.parametrize("path", ["/booking/abc", "/booking/0.5", "/booking/99999999999999999999", "/nowhere", "/booking/1/nothing"])
def test_unknown_paths_and_ids_are_json_404s(api, scene, path):
    response = api.get(f"{API}{path}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and "detail" in response.json()


def test_lists_are_paginated_with_a_capped_page_size(api, scene):
    two = api.get(f"{API}/booking?page_size=2").json()
    huge = api.get(f"{API}/booking?page_size=100000000000000000000")
    beyond = api.get(f"{API}/booking?page=99999999999999999999")

    assert (two["count"], len(two["results"]), two["next"] is not None) == (3, 2, True)
    assert (huge.status_code, len(huge.json()["results"])) == (200, 3)
    assert beyond.status_code == 404


# --- Resource types and resources ---------------------------------------------------------------------


def test_a_resource_type_is_created_updated_and_deleted(api):
    created = api.post(f"{API}/resource_type", {"name": "Room", "color": "#AABBCC"})
    pk = created.json()["id"]
    renamed = api.put(f"{API}/resource_type/{pk}", {"name": "Hall", "color": "#000000"})
    recoloured = api.patch(f"{API}/resource_type/{pk}", {"color": "#FFFFFF"})
    deleted = api.delete(f"{API}/resource_type/{pk}")

    assert (created.status_code, created.json()["color"]) == (201, "#aabbcc")
    assert (renamed.status_code, renamed.json()["name"], recoloured.json()["color"]) == (200, "Hall", "#ffffff")
    assert deleted.status_code == 204 and not ResourceType.objects.filter(pk=pk).exists()


@pytest.mark.parametrize(("data", "field"), [({"name": "Trainer", "color": "#000000"}, "name"), ({"name": "Room", "color": "red"}, "color"), ({"color": "#000000"}, "name")])
def test_a_bad_resource_type_is_400_naming_the_field(api, scene, data, field):
    before = snapshot()

    response = api.post(f"{API}/resource_type", data)

    assert response.status_code == 400 and field in response.json()
    assert snapshot() == before


def test_deleting_a_type_that_has_resources_is_409_and_removes_nothing(api, scene):
    before = snapshot()

    response = api.delete(f"{API}/resource_type/{scene.type.pk}")

    assert response.status_code == 409 and "Nothing was removed" in response.json()["detail"]
    assert snapshot() == before


def test_a_resource_is_created_with_the_domain_defaults(api, scene, settings):
    response = api.post(f"{API}/resource", {"name": "C", "type": scene.type.pk})

    assert response.status_code == 201
    data = response.json()
    assert (data["active"], data["metadata"], data["owner"], data["timezone"]) == (True, {}, None, settings.TIME_ZONE)


def test_a_resource_round_trips_every_field(api, scene, manager):
    data = {"name": "Pool", "type": scene.type.pk, "active": False, "metadata": {"lanes": 6, "tags": ["indoor"]}, "owner": manager.pk, "timezone": "Europe/Warsaw"}

    response = api.post(f"{API}/resource", data)

    assert response.status_code == 201
    assert {k: response.json()[k] for k in data} == data
    assert Resource.objects.get(pk=response.json()["id"]).owner == manager


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": {"key": "nul\u0000"}}, "metadata"),
        ({"metadata": None}, "metadata"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"type": 999999}, "type"),
        ({"type": 1.5}, "type"),
        ({"name": "x" * 201}, "name"),
        ({"name": "a\u0000b"}, "name"),
        ({"owner": 10**30}, "owner"),
    ],
)
def test_a_bad_resource_is_400_naming_the_field(api, scene, data, field):
    before = snapshot()

    response = api.post(f"{API}/resource", {"name": "C", "type": scene.type.pk, **data})

    assert response.status_code == 400 and field in response.json()
    assert snapshot() == before


def test_deleting_a_resource_with_bookings_is_409_and_keeps_its_schedule(api, scene):
    before = snapshot()

    response = api.delete(f"{API}/resource/{scene.a.pk}")

    assert response.status_code == 409
    assert snapshot() == before


def test_deleting_a_resource_without_bookings_takes_its_schedule_along(api, scene):
    AvailabilityFactory(resource=scene.spare)

    response = api.delete(f"{API}/resource/{scene.spare.pk}")

    assert response.status_code == 204
    assert not Availability.objects.filter(resource_id=scene.spare.pk).exists()


@pytest.mark.parametrize(("query", "names"), [("type={s.type.pk}", ["A", "B", "Spare"]), ("active=false", ["Old"]), ("active=true&type={s.spare_type.pk}", [])])
def test_resources_are_filtered_by_type_and_active(api, scene, query, names):
    ResourceFactory(name="Old", type=scene.spare_type, active=False)

    response = api.get(f"{API}/resource?{query.format(s=scene)}")

    assert [r["name"] for r in response.json()["results"]] == names


def test_an_unreadable_boolean_filter_is_400(api, scene):
    assert api.get(f"{API}/resource?active=maybe").status_code == 400


# --- Customers ----------------------------------------------------------------------------------------


def test_a_customer_is_created_without_a_phone_and_edited(api):
    created = api.post(f"{API}/customer", {"name": "Ada", "email": "ada@example.com"})
    patched = api.patch(f"{API}/customer/{created.json()['id']}", {"phone": "+48 600 000 000"})

    assert (created.status_code, created.json()["phone"], patched.json()["phone"]) == (201, "", "+48 600 000 000")


def test_a_bad_email_is_400_naming_it(api):
    response = api.post(f"{API}/customer", {"name": "Ada", "email": "not-an-email"})

    assert response.status_code == 400 and "email" in response.json()
    assert not Customer.objects.exists()


def test_deleting_a_customer_with_bookings_is_409(api, scene):
    before = snapshot()

    response = api.delete(f"{API}/customer/{scene.customer.pk}")

    assert response.status_code == 409
    assert snapshot() == before


# --- Working hours and exceptions --------------------------------------------------------------------


@pytest.mark.parametrize("end", ["24:00", "24:00:00", "00:00"])
def test_end_time_24_00_means_midnight_and_is_answered_00_00_00(api, scene, end):
    response = api.post(f"{API}/availability", {"resource": scene.a.pk, "weekday": 6, "start_time": "20:00", "end_time": end})

    assert (response.status_code, response.json()["end_time"]) == (201, "00:00:00")
    assert Availability.objects.get(pk=response.json()["id"]).end_time == dt.time(0, 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"start_time": "24:00"}, "start_time"),
        ({"end_time": "07:00"}, "end_time"),
        ({"end_time": "08:00"}, "end_time"),
        ({"end_time": "0900"}, "end_time"),
        ({"end_time": "09:00+01:00"}, "end_time"),
        ({"weekday": 7}, "weekday"),
        ({"weekday": 10**30}, "weekday"),
        ({"resource": None}, "resource"),
    ],
)
def test_a_bad_availability_row_is_400_naming_the_field(api, scene, data, field):
    before = snapshot()

    response = api.post(f"{API}/availability", {"resource": scene.a.pk, "weekday": 2, "start_time": "08:00", "end_time": "12:00", **data})

    assert response.status_code == 400 and field in response.json()
    assert snapshot() == before


def test_availability_is_filtered_by_resource_and_weekday(api, scene):
    AvailabilityFactory(resource=scene.a, weekday=3)

    by_resource = api.get(f"{API}/availability?resource={scene.a.pk}").json()["results"]
    by_day = api.get(f"{API}/availability?resource={scene.a.pk}&weekday=3").json()["results"]

    assert [(r["resource"], r["weekday"]) for r in by_resource] == [(scene.a.pk, 0), (scene.a.pk, 3)]
    assert len(by_day) == 1


def test_an_exception_is_created_moved_and_filtered(api, scene):
    created = api.post(f"{API}/exception", {"resource": scene.a.pk, "start_at": "2030-03-06T09:00:00+01:00", "end_at": "2030-03-06T17:00:00+01:00"})
    moved = api.patch(f"{API}/exception/{created.json()['id']}", {"end_at": "2030-03-06T18:00:00+01:00", "reason": "Course"})
    in_window = api.get(f"{API}/exception?resource={scene.a.pk}&start=2030-03-06T00:00:00Z&end=2030-03-07T00:00:00Z").json()["results"]

    assert (created.status_code, created.json()["start_at"], created.json()["reason"]) == (201, "2030-03-06T08:00:00Z", "")
    assert (moved.status_code, moved.json()["end_at"]) == (200, "2030-03-06T17:00:00Z")
    assert [e["id"] for e in in_window] == [created.json()["id"]]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [("2030-03-06T10:00:00Z", "2030-03-06T09:00:00Z", "end_at"), ("2030-03-06T10:00:00", "2030-03-06T11:00:00Z", "start_at"), ("0001-01-01T00:00:00Z", "2030-03-06T11:00:00Z", "start_at")],
)
def test_a_bad_exception_is_400_naming_the_field(api, scene, start, end, field):
    before = snapshot()

    response = api.post(f"{API}/exception", {"resource": scene.a.pk, "start_at": start, "end_at": end})

    assert response.status_code == 400 and field in response.json()
    assert snapshot() == before


def test_leave_may_last_years(api, scene):
    response = api.post(f"{API}/exception", {"resource": scene.spare.pk, "start_at": "2030-01-01T00:00:00Z", "end_at": "2040-01-01T00:00:00Z"})

    assert response.status_code == 201


# --- check_availability -------------------------------------------------------------------------------


def ask(client, resource, start, end, **extra):
    return client.post(f"{API}/booking/check_availability", {"resource_id": resource.pk, "start_at": start, "end_at": end, **extra})


def test_a_free_interval_is_available(api, scene):
    response = ask(api, scene.a, iso(at(13)), iso(at(14)))

    assert response.json() == {"available": True, "conflicts": [], "remaining": 1}


def test_every_kind_of_conflict_is_answered_in_order(api, scene):
    Resource.objects.filter(pk=scene.a.pk).update(active=False)
    leave = ScheduleExceptionFactory(resource=scene.a, start_at=at(8, 45), end_at=at(9))

    response = ask(api, scene.a, "2030-03-04T08:30:00+01:00", iso(at(9, 30)))

    assert response.status_code == 200
    assert response.json()["available"] is False
    assert [(c["kind"], c["id"]) for c in response.json()["conflicts"]] == [
        ("inactive_resource", scene.a.pk),
        ("booking", scene.booking_a.pk),
        ("exception", leave.pk),
        ("outside_availability", None),
    ]
    inactive, booking, _, outside = response.json()["conflicts"]
    assert (inactive["start_at"], inactive["end_at"]) == ("2030-03-04T07:30:00Z", "2030-03-04T09:30:00Z")
    assert booking["status"] == "pending" and "status" not in outside
    assert (outside["start_at"], outside["end_at"]) == ("2030-03-04T07:30:00Z", "2030-03-04T08:00:00Z")


def test_the_booking_being_moved_is_not_a_conflict_with_itself(api, scene):
    response = ask(api, scene.a, iso(at(9, 30)), iso(at(10, 30)), booking_id=scene.booking_a.pk)

    assert response.json() == {"available": True, "conflicts": [], "remaining": 1}


def test_a_viewer_may_check_availability_and_nothing_is_written(scene, viewer):
    before = snapshot()

    response = ask(client_for(viewer), scene.a, iso(at(9)), iso(at(10)))

    assert (response.status_code, response.json()["available"]) == (200, False)
    assert snapshot() == before


def test_check_availability_of_an_unknown_resource_is_404(api, scene):
    response = api.post(f"{API}/booking/check_availability", {"resource_id": 999999, "start_at": iso(at(9)), "end_at": iso(at(10))})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"end_at": "2030-03-04T09:00:00Z"}, "end_at"),
        ({"end_at": "2031-03-06T09:00:00Z"}, "end_at"),
        ({"start_at": "0001-01-01T00:00:00Z", "end_at": "9999-12-31T23:59:59+00:00"}, "end_at"),
        ({"start_at": "2030-03-04T09:00:00"}, "start_at"),
        ({"resource_id": "A"}, "resource_id"),
        ({"resource_id": 10**40}, "resource_id"),
        ({"booking_id": -1}, "booking_id"),
    ],
)
def test_a_malformed_question_is_400_naming_the_field(api, scene, data, field):
    question = {"resource_id": scene.a.pk, "start_at": iso(at(9)), "end_at": iso(at(10)), **data}

    response = api.post(f"{API}/booking/check_availability", question)

    assert response.status_code == 400 and field in response.json()


# --- slots and available ------------------------------------------------------------------------------


def test_slots_lie_wholly_inside_the_window_on_the_duration_grid(api, scene):
    response = api.get(f"{API}/resource/{scene.a.pk}/slots?start=2030-03-04T07:00:00Z&end=2030-03-04T13:30:00Z&duration=60")

    assert response.status_code == 200
    assert response.json()["resource"] == scene.a.pk
    assert [s["start_at"][11:16] for s in response.json()["slots"]] == ["08:00", "10:00", "12:00"]
    assert response.json()["slots"][0] == {"start_at": "2030-03-04T08:00:00Z", "end_at": "2030-03-04T09:00:00Z"}


def test_slots_take_a_step(api, scene):
    response = api.get(f"{API}/resource/{scene.a.pk}/slots?start=2030-03-04T12:00:00Z&end=2030-03-04T14:00:00Z&duration=60&step=30")

    assert [s["start_at"][11:16] for s in response.json()["slots"]] == ["12:00", "12:30", "13:00"]


def test_an_inactive_resource_has_no_slots(api, scene):
    Resource.objects.filter(pk=scene.b.pk).update(active=False)

    response = api.get(f"{API}/resource/{scene.b.pk}/slots?start=2030-03-04T12:00:00Z&end=2030-03-04T14:00:00Z&duration=60")

    assert response.json() == {"resource": scene.b.pk, "slots": [], "next": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2030-03-01T00:00:00Z&end=2030-05-03T00:00:00Z&duration=60", "end"),
        ("start=2030-03-04T00:00:00Z&end=2030-03-05T00:00:00Z&duration=0", "duration"),
        ("start=2030-03-04T00:00:00Z&end=2030-03-05T00:00:00Z&duration=99999999999999999999", "duration"),
        ("start=2030-03-04T00:00:00Z&end=2030-03-05T00:00:00Z", "duration"),
        ("start=2030-03-04T00:00:00&end=2030-03-05T00:00:00Z&duration=60", "start"),
        ("start=2030-03-04T00:00:00Z&end=2030-03-04T00:00:00Z&duration=60", "end"),
        ("start=2030-03-04T00:00:00Z&end=2030-03-05T00:00:00Z&duration=60&step=-5", "step"),
    ],
)
def test_malformed_slot_questions_are_400_naming_the_parameter(api, scene, query, field):
    response = api.get(f"{API}/resource/{scene.a.pk}/slots?{query}")

    assert response.status_code == 400 and field in response.json()


def test_slots_of_an_unknown_resource_are_404(api, scene):
    assert api.get(f"{API}/resource/999999/slots?start=2030-03-04T00:00:00Z&end=2030-03-05T00:00:00Z&duration=60").status_code == 404


def test_available_lists_the_free_resources_of_the_type_by_name(api, scene):
    response = api.get(f"{API}/resource/available?type={scene.type.pk}&start_at={iso(at(9))}&end_at={iso(at(10))}")

    # A and B are booked 9–10; Spare (no working hours) is free around the clock.
    assert response.status_code == 200
    assert [r["name"] for r in response.json()] == ["Spare"]


def test_available_now_includes_every_free_resource(api, scene):
    response = api.get(f"{API}/resource/available?type={scene.type.pk}&start_at={iso(at(13))}&end_at={iso(at(14))}")

    assert [r["name"] for r in response.json()] == ["A", "B", "Spare"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("type=999999&start_at=2030-03-04T09:00:00Z&end_at=2030-03-04T10:00:00Z", 404, None),
        ("start_at=2030-03-04T09:00:00Z&end_at=2030-03-04T10:00:00Z", 400, "type"),
        ("type={s.type.pk}&start_at=2030-03-04T09:00:00Z&end_at=2030-03-04T08:00:00Z", 400, "end_at"),
        ("type={s.type.pk}&start_at=2030-03-04T09:00:00Z", 400, "end_at"),
    ],
)
def test_malformed_or_unknown_available_questions(api, scene, query, status, field):
    response = api.get(f"{API}/resource/available?{query.format(s=scene)}")

    assert response.status_code == status
    assert field is None or field in response.json()


# --- Authentication -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_requests_get_401_and_no_data(scene, route):
    response = client_for().get(f"{API}/{route}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token" and set(response.json()) == {"detail"}


def test_a_bad_token_is_401(scene):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token nope")

    assert client.get(f"{API}/booking").status_code == 401


def test_the_session_of_the_admin_login_works_and_still_needs_csrf(scene, manager):
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(manager)

    read = browser.get(f"{API}/booking", HTTP_ACCEPT="text/html")
    write = browser.post(f"{API}/customer", {"name": "Eve", "email": "eve@example.com"})

    assert read.status_code == 200 and b"<html" in read.content.lower()
    assert write.status_code == 403 and not Customer.objects.filter(name="Eve").exists()


def test_drf_create_token_makes_a_token_that_authenticates(scene, manager, capsys):
    call_command("drf_create_token", manager.username)
    key = Token.objects.get(user=manager).key
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert key in capsys.readouterr().out
    assert client.get(f"{API}/booking").status_code == 200


# --- Hostile bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ('"\\ud800"', "application/json", 400),
        ('{"name": "\\udfff", "email": "a@example.com"}', "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("null", "application/json", 400),
        ("name=Eve", "text/plain", 415),
        ("\xff\xfe", "application/json", 400),
        ('{"name": NaN, "email": "a@example.com"}', "application/json", 400),
    ],
)
def test_hostile_bodies_are_4xx_and_write_nothing(api, scene, payload, content_type, status):
    before = snapshot()

    response = api.generic("POST", f"{API}/customer", payload, content_type=content_type)

    assert response.status_code == status, response.content[:300]
    assert snapshot() == before


def test_a_form_encoded_body_is_415_as_the_schema_lists_only_json(api, scene):
    response = api.post(f"{API}/customer", {"name": "Eve", "email": "eve@example.com"}, format="multipart")

    assert response.status_code == 415 and not Customer.objects.filter(name="Eve").exists()


def test_busy_resources_are_answered_without_overflow_near_the_calendar_edge(api, scene):
    BookingFactory(resource=scene.spare, customer=scene.customer, start_at=dt.datetime(9998, 12, 31, 1, tzinfo=dt.timezone.utc), end_at=dt.datetime(9998, 12, 31, 2, tzinfo=dt.timezone.utc))
    AvailabilityFactory(resource=scene.spare, weekday=5)

    response = ask(api, scene.spare, "9998-12-31T00:00:00Z", "9998-12-31T23:59:59Z")

    assert response.status_code == 200 and response.json()["available"] is False


@pytest.mark.parametrize(("value", "expected"), [("true", ["A"]), ("True", ["A"]), ("1", ["A"]), ("false", []), ("False", []), ("0", [])])
def test_the_active_filter_accepts_the_usual_spellings(api, scene, value, expected):
    from scheduling.models import Resource

    Resource.objects.exclude(name="A").update(active=False)
    response = api.get(f"{API}/resource?active={value}")
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == expected if expected else "A" not in names and names


def test_a_database_outage_is_503_with_retry_after_not_500(api, scene):
    from unittest import mock

    from django.db import OperationalError

    from scheduling.services import availability as availability_service

    body = {"resource_id": scene.a.pk, "start_at": iso(at(9)), "end_at": iso(at(10))}
    with mock.patch.object(availability_service, "check_availability", side_effect=OperationalError("server closed the connection")):
        response = api.post(f"{API}/booking/check_availability", body, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "retry" in response.json()["detail"]

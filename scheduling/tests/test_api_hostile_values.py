"""Hostile values through the API: extreme pages, dates at and past the calendar's ends,
very long texts, bodies of the wrong type or size. Each is a clear 4xx (or a bounded 2xx), never a
5xx, and a refused write leaves the database as it was. Malformed JSON and the other hostile bodies
are in test_api_routes.py."""

import datetime as dt

import pytest

from scheduling.ids import MAX_ID, parse_id
from scheduling.models import Booking
from scheduling.tests.factories import API, snapshot

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def booking_body(scene, start="2030-03-04T09:00:00Z", end="2030-03-04T10:00:00Z", **extra) -> dict:
    return {"resource": scene.spare.pk, "customer": scene.customer.pk, "start_at": start, "end_at": end, "override_availability": True, **extra}


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e3", "9" * 400])
def test_an_impossible_page_is_a_json_404(api, scene, page):
    response = api.get(f"{API}/booking?page={page}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_page_last_is_the_last_page(api, scene):
    response = api.get(f"{API}/booking?page=last")

    assert response.status_code == 200 and response.json()["next"] is None


# Below 1 or not a number is a 400 (test_api_refusals.py); above the cap is served as the cap.
@pytest.mark.parametrize(("page_size", "served"), [("10000000000", 200), ("9" * 400, 200), ("201", 200), (None, 50)])
def test_no_page_size_is_the_default_and_one_above_the_cap_is_the_cap(api, scene, page_size, served):
    start = dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc)
    # More bookings than the cap (200), one hour after another.
    Booking.objects.bulk_create(
        Booking(resource=scene.spare, customer=scene.customer, start_at=start + i * HOUR, end_at=start + (i + 1) * HOUR) for i in range(250)
    )

    response = api.get(f"{API}/booking" + (f"?page_size={page_size}" if page_size is not None else ""))

    assert response.status_code == 200
    assert len(response.json()["results"]) == served


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z"),
        ("0001-01-01T00:30:00+01:00", "0001-01-01T02:00:00+01:00"),
        ("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z"),
        ("9999-12-31T23:00:00-05:00", "9999-12-31T23:30:00-05:00"),
        ("10000-01-01T00:00:00Z", "10000-01-01T01:00:00Z"),
    ],
)
def test_a_booking_in_year_1_or_9999_or_beyond_is_400_naming_start_at_and_writes_nothing(api, scene, start, end):
    before = snapshot()

    response = api.post(f"{API}/booking", booking_body(scene, start, end))

    assert response.status_code == 400
    assert "start_at" in response.json()
    assert snapshot() == before


def test_ten_thousand_character_notes_are_stored_whole(api, scene):
    response = api.post(f"{API}/booking", booking_body(scene, notes="é" * 10_000))

    assert response.status_code == 201
    assert Booking.objects.get(pk=response.json()["id"]).notes == "é" * 10_000


def test_a_body_over_the_upload_limit_is_4xx_and_writes_nothing(api, scene, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    before = snapshot()

    response = api.post(f"{API}/booking", booking_body(scene, notes="x" * 200_000))

    assert 400 <= response.status_code < 500
    assert snapshot() == before


@pytest.mark.parametrize(("content_type", "status"), [("application/xml", 415), ("text/csv", 415), ("", 415)])
def test_a_booking_in_a_body_of_the_wrong_type_is_415_and_writes_nothing(api, scene, content_type, status):
    before = snapshot()

    response = api.generic("POST", f"{API}/booking", "<booking/>", content_type=content_type)

    assert response.status_code == status, response.content[:300]
    assert snapshot() == before


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (7, 7), ("²", None), ("١", None), ("-1", None), ("0", None), (str(MAX_ID + 1), None), ("1.5", None), (True, None), (None, None), ("", None)])
def test_an_id_is_ascii_digits_within_a_bigint_or_nothing(value, expected):
    assert parse_id(value) == expected


def test_an_id_in_other_digits_in_a_body_is_400_not_500(api):
    body = {"resource": "²", "customer": "1", "start_at": "2026-03-02T09:00:00Z", "end_at": "2026-03-02T10:00:00Z"}
    response = api.post(f"{API}/booking", body, format="json")
    assert response.status_code == 400
    assert "resource" in response.json()
    assert not Booking.objects.exists()

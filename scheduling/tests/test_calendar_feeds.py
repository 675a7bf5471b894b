"""Calendar feeds out (docs/spec.md §16.2): the feed as a calendar app reads it, parsed by `icalendar`."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar
import pytest
import time_machine
from django.test import Client

from scheduling.models import ResourceFeed
from scheduling.services.notifications import booking_uid
from scheduling.tests.factories import API, client_for
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory, ScheduleExceptionFactory

UTC = dt.timezone.utc
NOW = dt.datetime(2027, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def room(db):
    return ResourceFactory(name="Room 1", timezone="Europe/Warsaw")


@pytest.fixture
def booking(room):
    customer = CustomerFactory(name="Carla Customer")
    return BookingFactory(resource=room, customer=customer, start_at=NOW + dt.timedelta(days=2), status="confirmed", notes="Bring the key")


def feed_url(user, resource) -> str:
    response = client_for(user).get(f"{API}/resource/{resource.pk}/feed")
    assert response.status_code == 200, response.content
    return response.json()["url"]


def subscribe(url: str) -> tuple[int, icalendar.Calendar | None]:
    """What a calendar app does: GET the URL, no credentials but the URL itself."""
    response = Client().get(urlsplit(url).path)
    if response.status_code != 200:
        return response.status_code, None
    assert response["Content-Type"].startswith("text/calendar")
    return 200, icalendar.Calendar.from_ical(response.content)


def events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_manager_reads_the_feed_url_and_a_calendar_app_subscribes(manager, room, booking):  # noqa: F811
    leave = ScheduleExceptionFactory(resource=room, start_at=NOW + dt.timedelta(days=3), reason="Painting")

    answer = client_for(manager).get(f"{API}/resource/{room.pk}/feed").json()
    status, calendar = subscribe(answer["url"])

    assert answer["details"] is False
    assert answer["url"].startswith("http://testserver/feeds/resource/") and answer["url"].endswith(".ics")
    assert status == 200
    found = events(calendar)
    assert set(found) == {booking_uid(booking), f"exception-{leave.pk}@localhost"}
    event = found[booking_uid(booking)]
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (booking.start_at, booking.end_at)
    assert {str(e["SUMMARY"]) for e in found.values()} == {"Busy"}


def test_without_details_no_customer_name_or_notes_leave_the_server(manager, room, booking):  # noqa: F811
    response = Client().get(urlsplit(feed_url(manager, room)).path)

    assert b"Carla" not in response.content
    assert b"Bring the key" not in response.content


def test_with_details_the_feed_shows_the_customer_and_the_notes(manager, room, booking):  # noqa: F811
    answer = client_for(manager).post(f"{API}/resource/{room.pk}/feed/rotate", {"details": True}, format="json").json()

    _, calendar = subscribe(answer["url"])

    assert answer["details"] is True
    event = events(calendar)[booking_uid(booking)]
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"])) == ("Carla Customer", "Bring the key")


def test_uids_are_stable_across_reads_moves_and_rotation(manager, room, booking):  # noqa: F811
    first_url = feed_url(manager, room)
    _, before = subscribe(first_url)
    booking.start_at += dt.timedelta(hours=3)
    booking.end_at += dt.timedelta(hours=3)
    booking.save()

    rotated = client_for(manager).post(f"{API}/resource/{room.pk}/feed/rotate").json()["url"]
    _, after = subscribe(rotated)

    assert rotated != first_url
    assert set(events(before)) == set(events(after)) == {booking_uid(booking)}
    assert events(after)[booking_uid(booking)].decoded("DTSTART") == booking.start_at


def test_the_url_stays_the_same_until_rotated_and_the_old_one_is_404_after(manager, room):  # noqa: F811
    first = feed_url(manager, room)
    assert feed_url(manager, room) == first

    client_for(manager).post(f"{API}/resource/{room.pk}/feed/rotate")

    assert subscribe(first)[0] == 404


def test_an_unknown_or_revoked_token_is_404(manager, room):  # noqa: F811
    url = feed_url(manager, room)
    ResourceFeed.objects.get(resource=room).delete()  # revoked in the admin

    assert subscribe(url)[0] == 404
    assert Client().get("/feeds/resource/" + "A" * 43 + ".ics").status_code == 404
    assert Client().get("/feeds/resource/short.ics").status_code == 404


def test_the_token_is_long_random_and_found_by_its_digest(manager, room):  # noqa: F811
    url = feed_url(manager, room)
    feed = ResourceFeed.objects.get(resource=room)

    assert len(feed.token) >= 43 and feed.token in url
    assert feed.token_digest != feed.token and len(feed.token_digest) == 64


def test_the_feed_holds_occupying_rows_of_a_bounded_window(manager, room, booking):  # noqa: F811
    cancelled = BookingFactory(resource=room, start_at=NOW + dt.timedelta(days=5), status="cancelled")
    too_old = BookingFactory(resource=room, start_at=NOW - dt.timedelta(days=40))
    too_far = BookingFactory(resource=room, start_at=NOW + dt.timedelta(days=400))
    recent = BookingFactory(resource=room, start_at=NOW - dt.timedelta(days=20), status="completed")

    _, calendar = subscribe(feed_url(manager, room))

    uids = set(events(calendar))
    assert uids == {booking_uid(booking), booking_uid(recent)}
    assert not {booking_uid(cancelled), booking_uid(too_old), booking_uid(too_far)} & uids


def test_only_managers_read_or_rotate_a_feed(booker, outsider, room):  # noqa: F811
    for path in (f"{API}/resource/{room.pk}/feed", f"{API}/resource/{room.pk}/feed/rotate"):
        method = "post" if path.endswith("rotate") else "get"
        assert getattr(client_for(booker), method)(path).status_code == 403
        assert getattr(client_for(outsider), method)(path).status_code == 404
    assert not ResourceFeed.objects.exists()


def test_rotate_refuses_details_that_are_not_a_boolean(manager, room):  # noqa: F811
    response = client_for(manager).post(f"{API}/resource/{room.pk}/feed/rotate", {"details": "yes"}, format="json")

    assert response.status_code == 400
    assert "details" in response.json()
    assert not ResourceFeed.objects.exists()


def test_patch_changes_the_details_choice_and_keeps_the_url(manager, room, booking):  # noqa: F811
    url = feed_url(manager, room)

    answer = client_for(manager).patch(f"{API}/resource/{room.pk}/feed", {"details": True}, format="json").json()

    assert answer == {"url": url, "details": True}
    _, calendar = subscribe(url)
    assert str(events(calendar)[booking_uid(booking)]["SUMMARY"]) == "Carla Customer"

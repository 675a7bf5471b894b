"""The calendar you can read and change (docs/spec.md §12.9): moves through the booking service,
dense days as counts, paged rows."""

import datetime as dt

import pytest
from django.urls import reverse

from scheduling.models import Notification
from scheduling.tests.factories import utc
from scheduling.tests.factories import AvailabilityFactory, BookingFactory, CustomerFactory, ResourceFactory

pytestmark = pytest.mark.django_db
CALENDAR = reverse("admin:scheduling_resource_calendar")


def move(client, booking, start, end, resource=None):
    data = {"start_at": start.isoformat(), "end_at": end.isoformat()}
    if resource is not None:
        data["resource"] = resource.pk
    return client.post(reverse("admin:scheduling_booking_move", args=[booking.pk]), data)


def test_a_move_goes_through_the_service_and_the_customer_hears_of_it(client, booker):
    room_a, room_b = ResourceFactory(name="A1"), ResourceFactory(name="B1")
    booking = BookingFactory(resource=room_a, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10), notify=True)
    client.force_login(booker)
    response = move(client, booking, utc(2026, 3, 2, 11), utc(2026, 3, 2, 12, 30), room_b)
    assert response.status_code == 200
    assert response.json() == {
        "id": booking.pk, "resource": room_b.pk, "start_at": "2026-03-02T11:00:00+00:00",
        "end_at": "2026-03-02T12:30:00+00:00", "label": "Mon 2 Mar 2026 11:00–12:30 (UTC)",
    }  # fmt: skip
    booking.refresh_from_db()
    assert (booking.resource, booking.start_at, booking.end_at) == (room_b, utc(2026, 3, 2, 11), utc(2026, 3, 2, 12, 30))
    assert list(Notification.objects.filter(booking=booking).values_list("event", flat=True).order_by("sequence")) == ["created", "rescheduled"]


def test_a_refused_move_says_why_like_the_form_and_changes_nothing(client, booker):
    room = ResourceFactory()
    AvailabilityFactory(resource=room, weekday=0, start_time=dt.time(8), end_time=dt.time(12))
    taken = BookingFactory(resource=room, customer=CustomerFactory(name="Ola"), start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    booking = BookingFactory(resource=room, start_at=utc(2026, 3, 2, 8), end_at=utc(2026, 3, 2, 9))
    client.force_login(booker)
    response = move(client, booking, utc(2026, 3, 2, 10, 30), utc(2026, 3, 2, 12, 30))
    assert response.status_code == 409
    assert response.json()["conflicts"] == [
        f"Overlaps booking #{taken.pk} (Ola, pending) Mon 2 Mar 2026 10:00–11:00 (UTC)",
        "Outside working hours: Mon 2 Mar 2026 12:00–12:30 (UTC)",
    ]
    booking.refresh_from_db()
    assert booking.start_at == utc(2026, 3, 2, 8)


def test_moves_follow_the_rights_404_for_the_invisible_403_for_a_viewer_400_for_bad_times(client, viewer, granted):
    hidden = BookingFactory(resource=ResourceFactory(name="Elsewhere"))
    client.force_login(granted)
    assert move(client, hidden, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)).status_code == 404
    client.force_login(viewer)
    response = move(client, hidden, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    assert response.status_code == 403 and response.json() == {"error": "You may not change this booking."}
    url = reverse("admin:scheduling_booking_move", args=[hidden.pk])
    assert client.post(url, {"start_at": "2026-03-02T09:00", "end_at": "2026-03-02T10:00+00:00"}).status_code == 400
    assert client.get(url).status_code == 405


def test_a_busy_day_of_the_week_is_one_count_that_opens_the_day(client, manager):
    room = ResourceFactory()
    for hour in range(8, 14):
        BookingFactory(resource=room, start_at=utc(2026, 3, 3, hour), end_at=utc(2026, 3, 3, hour, 45))
    BookingFactory(resource=room, start_at=utc(2026, 3, 4, 9), end_at=utc(2026, 3, 4, 10))
    client.force_login(manager)
    page = client.get(CALENDAR, {"date": "2026-03-02"}).content.decode()
    assert page.count('class="cal-dense"') == 1 and ">6 bookings</a>" in page and "view=day&amp;date=2026-03-03" in page
    assert page.count('class="cal-booking status-') == 1  # Wednesday's booking alone, drawn as itself


def test_no_calendar_page_carries_more_than_a_hundred_resources(client, manager):
    ResourceFactory.create_batch(105)
    client.force_login(manager)
    first = client.get(CALENDAR, {"rows": "500"})
    assert len(first.context["rows"]) == 100 and first.context["paging"].pages == 2
    second = client.get(CALENDAR, {"rows": "500", "page": "2"})
    assert len(second.context["rows"]) == 5
    assert len(client.get(CALENDAR).context["rows"]) == 50  # the default page


def test_the_calendar_searches_resources_by_name(client, manager):
    ResourceFactory(name="Sala Wisła")
    ResourceFactory(name="Hudson Room")
    client.force_login(manager)
    assert [row.resource.name for row in client.get(CALENDAR, {"q": "wis"}).context["rows"]] == ["Sala Wisła"]

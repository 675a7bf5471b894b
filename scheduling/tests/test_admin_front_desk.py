"""The front desk (docs/spec.md §12): the Today page, refusals in the admin's frame, the outbox
preview, API docs that stay on the site."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from scheduling.models import Notification, NotificationState
from scheduling.tests.factories import staff, utc
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


@time_machine.travel(NOW, tick=False)
def test_today_lists_todays_bookings_per_resource_in_time_order_with_their_status(client, booker, settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    room_a, room_b = ResourceFactory(name="Room A"), ResourceFactory(name="Room B")
    BookingFactory(resource=room_b, customer=CustomerFactory(name="Late"), start_at=utc(2026, 3, 2, 15), end_at=utc(2026, 3, 2, 16))
    BookingFactory(resource=room_b, customer=CustomerFactory(name="Early"), start_at=utc(2026, 3, 2, 7), end_at=utc(2026, 3, 2, 8), status="confirmed")
    BookingFactory(resource=room_a, customer=CustomerFactory(name="Tomorrow"), start_at=utc(2026, 3, 3, 9), end_at=utc(2026, 3, 3, 10))
    client.force_login(booker)
    response = client.get(INDEX)
    days = [(d.resource.name, [b.customer.name for b in d.bookings]) for d in response.context["resource_days"]]
    assert days == [("Room B", ["Early", "Late"])]
    page = response.content.decode()
    assert "08:00–09:00</time> Early" in page  # Warsaw time
    assert [b.customer.name for b in response.context["waiting"]] == ["Late", "Tomorrow"]
    assert "All models" in page and reverse("admin:scheduling_booking_changelist") in page  # Django's index stays


@time_machine.travel(NOW, tick=False)
def test_today_shows_failed_notices_only_to_who_may_read_the_outbox(client, manager, granted):
    booking = BookingFactory(resource=ResourceFactory(name="A2"), notify=True)
    Notification.objects.filter(booking=booking).update(state=NotificationState.FAILED, last_error="SMTPServerDisconnected: gone")
    client.force_login(manager)
    assert [n.booking_id for n in client.get(INDEX).context["failed"]] == [booking.pk]
    client.force_login(granted)
    response = client.get(INDEX)
    assert "failed" not in response.context and "SMTPServerDisconnected" not in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_holder_of_grants_sees_today_only_on_the_resources_the_grants_cover(client, granted):
    mine = granted.userobjectpermission_set.get().content_object
    BookingFactory(resource=mine, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    BookingFactory(resource=ResourceFactory(name="Not mine"), start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    client.force_login(granted)
    assert [d.resource.name for d in client.get(INDEX).context["resource_days"]] == ["A"]


def test_the_site_is_branded_from_settings_with_a_favicon(client, booker, settings):
    settings.SITE_HEADER, settings.SITE_TITLE = "Gym Front Desk", "Gym"
    client.force_login(booker)
    page = client.get(INDEX).content.decode()
    assert "Gym Front Desk" in page and "| Gym</title>" in page and "scheduling/favicon.svg" in page


def test_a_refused_admin_page_keeps_the_admin_frame_with_a_sentence_and_a_way_back(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("admin:scheduling_booking_add"), HTTP_REFERER="http://testserver/admin/scheduling/booking/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You may not open this page" in page and 'id="site-name"' in page
    assert 'href="http://testserver/admin/scheduling/booking/"' in page and "Go to Today" in page


def test_a_refusal_outside_the_admin_is_not_framed(client, outsider):
    client.force_login(outsider)
    response = client.get("/api/scheduling/booking/1/confirm/")  # JSON API answers stay the API's
    assert 'id="site-name"' not in response.content.decode()


def test_the_outbox_shows_the_html_rendered_in_a_sandbox_and_recipients_as_a_list(client, manager):
    booking = BookingFactory(resource=ResourceFactory(owner=staff(username="trainer", email="t@example.com")), notify=True)
    notice = Notification.objects.get(booking=booking)
    client.force_login(manager)
    page = client.get(reverse("admin:scheduling_notification_change", args=[notice.pk])).content.decode()
    assert '<iframe class="sched-mail-preview" sandbox=""' in page and "srcdoc=\"&lt;!DOCTYPE html&gt;" in page
    assert f"<li>{booking.customer.email} <small>(to)</small></li><li>t@example.com <small>(bcc)</small></li>" in page


@pytest.mark.parametrize("url", ["/api/redoc/", "/api/docs/"])
def test_the_api_docs_pages_load_nothing_from_another_host(client, url):
    response = client.get(url)
    page = response.content.decode()
    assert "https://" not in page and "http://" not in page.replace("http://testserver", "")
    # What the bundles would fetch elsewhere (ReDoc's footer logo) the browser refuses itself.
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]


def test_the_check_availability_example_uses_small_ids_and_explains_the_body(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/scheduling/booking/check_availability/"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {e["value"]["resource_id"] for e in examples.values()} <= {1, 2}
    assert "booking_id" in operation["description"]

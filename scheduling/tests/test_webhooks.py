"""Signed webhooks (docs/spec.md §15.2): events from the one write path, the Standard Webhooks
signature checked by an independent implementation, delivery to a real local HTTP server with
retries, the address rules, and the managers-only API."""

import base64
import datetime as dt
import http.server
import json
import threading

import pytest
import standardwebhooks
import time_machine
from django.core.exceptions import ValidationError

from scheduling.api.serializers import BookingSerializer
from scheduling.models import WebhookDelivery, WebhookEndpoint, new_webhook_secret
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.services import webhooks
from scheduling.tests.factories import API, client_for
from scheduling.tests.factories import staff as api_user
from scheduling import roles

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
ALL_EVENTS = [
    "booking.created", "booking.confirmed", "booking.cancelled", "booking.rescheduled", "booking.completed", "booking.no_show",
]  # fmt: skip


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers each POST with the next scripted status; records what it got."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body.decode()))
        status = self.server.script.pop(0) if self.server.script else 200
        self.send_response(status)
        if status in (301, 302, 307, 308):
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received, server.script = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()
    server.server_close()


def endpoint(url="https://hooks.example.com/in", events=ALL_EVENTS, **kwargs) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, events=events, secret=new_webhook_secret(), **kwargs)


def book(resource, customer, **kwargs):
    return booking_service.booking_create(
        by=SYSTEM, resource=resource, customer=customer, start_at=START, end_at=START + dt.timedelta(hours=1), **kwargs
    )


def events_sent(booking=None):
    rows = WebhookDelivery.objects.order_by("id")
    return list((rows.filter(booking=booking) if booking else rows).values_list("event", flat=True))


# --- Events from the one write path ----------------------------------------------------------------


def test_every_booking_write_announces_its_event(resource, customer):
    endpoint()
    booking = book(resource, customer)
    booking_service.booking_update(booking=booking, by=SYSTEM, start_at=START + dt.timedelta(hours=2), end_at=START + dt.timedelta(hours=3))
    booking_service.booking_confirm(booking=booking, by=SYSTEM)
    booking_service.booking_complete(booking=booking, by=SYSTEM)
    other = book(resource, customer)
    booking_service.booking_cancel(booking=other, by=SYSTEM)
    assert events_sent(booking) == ["booking.created", "booking.rescheduled", "booking.confirmed", "booking.completed"]
    assert events_sent(other) == ["booking.created", "booking.cancelled"]


def test_a_change_of_notes_announces_nothing(resource, customer):
    endpoint()
    booking = book(resource, customer)
    booking_service.booking_update(booking=booking, by=SYSTEM, notes="bring a towel")
    assert events_sent() == ["booking.created"]


def test_an_endpoint_gets_only_its_events_and_an_inactive_one_nothing(resource, customer):
    cancellations = endpoint(events=["booking.cancelled"])
    endpoint(active=False)
    booking = book(resource, customer)
    booking_service.booking_cancel(booking=booking, by=SYSTEM)
    assert list(WebhookDelivery.objects.values_list("endpoint_id", "event")) == [(cancellations.pk, "booking.cancelled")]


def test_the_body_carries_the_apis_booking_representation(resource, customer):
    endpoint()
    booking = book(resource, customer)
    body = json.loads(WebhookDelivery.objects.get().body)
    assert body["type"] == "booking.created"
    assert dt.datetime.fromisoformat(body["timestamp"])
    assert body["data"] == {"booking": json.loads(json.dumps(BookingSerializer(booking).data, default=str))}
    assert body["data"]["booking"]["id"] == booking.pk


def test_a_refused_write_leaves_no_delivery(resource, customer):
    endpoint()
    book(resource, customer)
    with pytest.raises(Exception):
        book(resource, customer)  # overlaps the first
    assert events_sent() == ["booking.created"]


# --- Signature -------------------------------------------------------------------------------------


def test_the_signature_passes_an_independent_standard_webhooks_verifier(resource, customer):
    hook = endpoint()
    book(resource, customer)
    delivery = WebhookDelivery.objects.get()
    timestamp = int(dt.datetime.now(UTC).timestamp())
    headers = webhooks.webhook_headers(delivery, hook.secret, timestamp)
    verified = standardwebhooks.Webhook(hook.secret).verify(delivery.body, headers)
    assert verified["type"] == "booking.created"
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook.secret).verify(delivery.body.replace("created", "cancelled"), headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_webhook_secret()).verify(delivery.body, headers)


def test_the_signature_matches_the_specifications_example():
    # The example of the Standard Webhooks specification (its README), computed by hand there.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = webhooks.webhook_signature(
        secret=secret, message_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body='{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# --- Delivery to a real receiver ------------------------------------------------------------------


def test_a_receiver_failing_twice_gets_three_attempts_one_success_and_nothing_after(receiver, resource, customer):
    hook = endpoint(url=receiver.url)
    receiver.script = [500, 503, 200]
    with time_machine.travel(NOW, tick=False) as clock:
        book(resource, customer)
        delivery = WebhookDelivery.objects.get()
        for _ in range(6):  # every due run for hours: the retries come due one after the other
            webhooks.webhooks_deliver_due()
            clock.shift(dt.timedelta(minutes=30))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("sent", 3, 200)
    assert [entry["status"] for entry in delivery.attempt_log] == [500, 503, 200]
    assert len(receiver.received) == 3
    ids = {headers["webhook-id"] for _, headers, _ in receiver.received}
    assert ids == {delivery.message_id}
    for _, headers, body in receiver.received:  # each checked at the time it arrived
        with time_machine.travel(int(headers["webhook-timestamp"]), tick=False):
            assert standardwebhooks.Webhook(hook.secret).verify(body, headers)["type"] == "booking.created"
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.received) == 3


def test_retries_back_off_exponentially(receiver, resource, customer, settings):
    endpoint(url=receiver.url)
    receiver.script = [500, 500]
    with time_machine.travel(NOW, tick=False) as clock:
        book(resource, customer)
        delivery = WebhookDelivery.objects.get()
        webhooks.webhook_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == NOW + dt.timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS)
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "skipped"  # not due yet
        clock.shift(dt.timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS))
        webhooks.webhook_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == timezone_now() + dt.timedelta(seconds=2 * settings.NOTIFICATION_RETRY_SECONDS)


def timezone_now():
    return dt.datetime.now(UTC)


def test_a_redirect_is_a_failure_and_is_not_followed(receiver, resource, customer):
    endpoint(url=receiver.url)
    receiver.script = [302]
    book(resource, customer)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "failed"
    assert [path for path, _, _ in receiver.received] == ["/hook"]
    delivery.refresh_from_db()
    assert delivery.last_error == "WebhookRejected: HTTP 302"


def test_a_resend_delivers_again_with_the_same_webhook_id(receiver, resource, customer):
    endpoint(url=receiver.url)
    book(resource, customer)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "sent"
    webhooks.webhook_resend(delivery=delivery)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "sent"
    assert [headers["webhook-id"] for _, headers, _ in receiver.received] == [delivery.message_id] * 2


# --- Address rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/in", "https://127.0.0.1/in", "https://10.1.2.3/in", "https://[::1]/in", "https://169.254.169.254/", "https://localhost/in"],
)
def test_plain_http_and_private_addresses_are_refused_in_production(url):
    with pytest.raises(ValidationError):
        WebhookEndpoint(url=url, events=ALL_EVENTS, secret=new_webhook_secret()).full_clean()


def test_private_addresses_are_checked_again_at_send_time(receiver, resource, customer, settings):
    endpoint(url=receiver.url)  # stored while private addresses were allowed
    book(resource, customer)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("UnsafeAddress")
    assert receiver.received == []


# --- API -------------------------------------------------------------------------------------------


def test_a_manager_registers_an_endpoint_and_gets_a_generated_secret():
    manager = api_user(roles.MANAGER, username="manager")
    answer = client_for(manager).post(f"{API}/webhook/", {"url": "https://hooks.example.com/in", "events": ["booking.created"]}, format="json")
    assert answer.status_code == 201, answer.content
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert WebhookEndpoint.objects.get().secret == secret
    assert client_for(manager).get(f"{API}/webhook/{answer.json()['id']}").json()["secret"] == secret


def test_a_manager_may_give_the_secret():
    manager = api_user(roles.MANAGER, username="manager")
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = {"url": "https://hooks.example.com/in", "events": ["booking.created"], "secret": secret}
    assert client_for(manager).post(f"{API}/webhook/", body, format="json").json()["secret"] == secret


@pytest.mark.parametrize(
    "field, value",
    [("url", "https://127.0.0.1/in"), ("url", "http://hooks.example.com/in"), ("events", ["booking.exploded"]), ("events", []), ("secret", "not-a-secret")],
)
def test_a_bad_endpoint_is_400_naming_the_field(field, value):
    manager = api_user(roles.MANAGER, username="manager")
    body = {"url": "https://hooks.example.com/in", "events": ["booking.created"], field: value}
    answer = client_for(manager).post(f"{API}/webhook/", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not WebhookEndpoint.objects.exists()


def test_webhooks_are_for_managers_only():
    hook = endpoint()
    booker = client_for(api_user(roles.BOOKER, username="booker"))
    assert booker.get(f"{API}/webhook/").json()["results"] == []
    assert booker.get(f"{API}/webhook/{hook.pk}").status_code == 404
    body = {"url": "https://hooks.example.com/in", "events": ["booking.created"]}
    assert booker.post(f"{API}/webhook/", body, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


# --- Admin -----------------------------------------------------------------------------------------


def admin_client(role=roles.MANAGER):
    from django.test import Client

    user = api_user(role, username=f"staff-{role}")
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_adds_an_endpoint_in_the_admin_and_a_secret_is_generated():
    from django.urls import reverse

    form = {"url": "https://hooks.example.com/in", "events": ["booking.created", "booking.cancelled"], "secret": "", "active": "on"}
    answer = admin_client().post(reverse("admin:scheduling_webhookendpoint_add"), form)
    assert answer.status_code == 302
    hook = WebhookEndpoint.objects.get()
    assert hook.secret.startswith("whsec_") and hook.events == ["booking.created", "booking.cancelled"]


def test_the_admin_lists_deliveries_with_their_attempts_and_resends_them(receiver, resource, customer):
    from django.urls import reverse

    endpoint(url=receiver.url)
    receiver.script = [500]
    book(resource, customer)
    delivery = WebhookDelivery.objects.get()
    webhooks.webhook_deliver(delivery_id=delivery.pk)
    client = admin_client()
    page = client.get(reverse("admin:scheduling_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and "HTTP 500" in page.content.decode()
    answer = client.post(
        reverse("admin:scheduling_webhookdelivery_changelist"), {"action": "resend", "_selected_action": [delivery.pk]}
    )
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)


def test_webhook_endpoints_are_not_shown_to_bookers_in_the_admin():
    from django.urls import reverse

    assert admin_client(roles.BOOKER).get(reverse("admin:scheduling_webhookendpoint_changelist")).status_code == 403

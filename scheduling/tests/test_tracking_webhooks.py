"""anymail tracking webhooks are served only while secured, refuse unauthenticated posts, never
answer 5xx to a body, and a future timestamp cannot freeze a notice (docs/spec.md §9.7)."""

import base64
import datetime as dt
import hashlib
import hmac
import json
from unittest import mock

import pytest
from anymail.signals import AnymailTrackingEvent
from django.urls import include, path

from scheduling.models import Notification
from scheduling.services import notifications
from scheduling.tests.factories import NoticedBookingFactory
from scheduling.webhooks import TRACKING_ROUTES, check_unguarded_webhooks

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
SECRET = "hook:secret"
MAILGUN_KEY = "mailgun-signing-key"
# The ESPs that anymail checks by basic auth alone (or whose own signature is optional).
BASIC_AUTH_ESPS = [esp for esp, route in TRACKING_ROUTES.items() if not route.signing_required]
SIGNED_ESPS = [esp for esp, route in TRACKING_ROUTES.items() if route.signing_required]
NAMED_IN_THE_ISSUE = ["postmark", "sendgrid", "mailgun", "amazon_ses", "brevo"]

# This module is also the URLconf of the system-check test: anymail's own URLs, unguarded.
urlpatterns = [path("anymail/", include("anymail.urls"))]


def basic_auth(credentials: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def url(esp: str) -> str:
    return f"/anymail/{esp}/tracking/"


@pytest.fixture
def notice(resource, customer):
    return Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))


def forged_bounce(notice) -> dict:
    """A Postmark bounce for `notice`, dated in the future, as an attacker would post it."""
    return {
        "RecordType": "Bounce", "Type": "HardBounce", "Email": "victim@example.com", "BouncedAt": "2099-01-01T00:00:00Z",
        "MessageID": "pm-1", "Metadata": {"notification_id": str(notice.pk)}, "ID": 42,
    }  # fmt: skip


def post(client, esp, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url(esp), data, content_type="application/json", **extra)


def mailgun_signed(body: dict, key: str = MAILGUN_KEY) -> dict:
    timestamp, token = "1772366400", "t" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, **body}


# --- Served only while secured ------------------------------------------------------------------


@pytest.mark.parametrize("esp", TRACKING_ROUTES)
def test_without_a_secret_every_tracking_route_is_404_and_writes_nothing(client, settings, notice, esp):
    settings.ANYMAIL = {}

    assert post(client, esp, forged_bounce(notice)).status_code == 404
    assert client.get(url(esp)).status_code == 404
    notice.refresh_from_db()
    assert notice.delivery == {}


@pytest.mark.parametrize("esp", SIGNED_ESPS)
def test_a_signed_esp_is_not_served_by_the_basic_auth_secret_alone(client, settings, notice, esp):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}

    assert post(client, esp, "{}", **basic_auth(SECRET)).status_code == 404


def test_anymail_inbound_routes_are_not_mounted(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}

    assert post(client, "postmark", "{}").status_code == 401
    assert client.post("/anymail/postmark/inbound/", "{}", content_type="application/json").status_code == 404


# --- Unauthenticated posts are refused ----------------------------------------------------------


@pytest.mark.parametrize("esp", BASIC_AUTH_ESPS)
@pytest.mark.parametrize("auth", [{}, basic_auth("hook:wrong"), {"HTTP_AUTHORIZATION": "Bearer x"}])
def test_a_post_without_the_basic_auth_secret_is_401_and_writes_nothing(client, settings, notice, esp, auth):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}

    response = post(client, esp, forged_bounce(notice), **auth)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="anymail"'
    notice.refresh_from_db()
    assert notice.delivery == {}


@pytest.mark.parametrize("key", [None, "someone-elses-key"])
def test_a_mailgun_post_without_the_right_signature_is_403_and_writes_nothing(client, settings, notice, key):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    event = {"event-data": {"event": "failed", "severity": "permanent", "timestamp": 1772366400, "recipient": "victim@example.com",
                            "user-variables": {"notification_id": str(notice.pk)}, "message": {"headers": {"message-id": "m"}}}}  # fmt: skip
    body = event if key is None else mailgun_signed(event, key)

    assert post(client, "mailgun", body).status_code == 403
    notice.refresh_from_db()
    assert notice.delivery == {}


def test_a_signed_mailgun_post_is_tracked(client, settings, notice):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    event = {"event-data": {"event": "delivered", "timestamp": 1772355600, "recipient": "a@example.com",
                            "user-variables": {"notification_id": str(notice.pk)}, "message": {"headers": {"message-id": "m"}}}}  # fmt: skip

    assert post(client, "mailgun", mailgun_signed(event)).status_code == 200
    notice.refresh_from_db()
    assert notice.delivery == {"a@example.com": {"event": "delivered", "at": "2026-03-01T09:00:00+00:00"}}


# --- Never a 5xx on a body ------------------------------------------------------------------------

GARBAGE = [
    "",
    "not json",
    "null",
    "[]",
    "{}",
    '"text"',
    "[" * 100_000 + "]" * 100_000,
    json.dumps({"RecordType": 5, "Metadata": [1], "Type": None}),
    json.dumps([{"event": "bounce", "timestamp": "x", "email": None}]),
    json.dumps({"Type": "Notification", "MessageId": "1", "Message": "{"}),
    json.dumps({"items": []}),
    json.dumps({"event": "hard_bounce", "email": "\u0000", "ts_event": "x", "tags": 7}),
    b"\xff\xfe\x00garbage",
]


@pytest.mark.parametrize("esp", BASIC_AUTH_ESPS)
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_an_authenticated_post_of_garbage_is_a_4xx_never_a_5xx(client, settings, notice, esp, body):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}

    response = post(client, esp, body, **basic_auth(SECRET), HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification", HTTP_X_AMZ_SNS_MESSAGE_ID="1")

    assert 400 <= response.status_code < 500 or response.status_code == 200
    notice.refresh_from_db()
    assert notice.delivery == {}


@pytest.mark.parametrize("esp", NAMED_IN_THE_ISSUE)
def test_an_authenticated_post_that_is_not_json_is_400(client, settings, esp):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}

    response = post(client, esp, mailgun_signed({}) if esp == "mailgun" else "not json", **basic_auth(SECRET))

    assert response.status_code == 400


def test_a_garbage_event_in_a_signed_mailgun_post_is_400(client, settings, notice):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}

    response = post(client, "mailgun", mailgun_signed({"event-data": {"event": 5, "timestamp": "x", "recipient": ["a"]}}))

    assert response.status_code == 400
    notice.refresh_from_db()
    assert notice.delivery == {}


def test_a_recipient_holding_a_nul_is_ignored_not_a_database_error(client, settings, notice):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    body = {**forged_bounce(notice), "Email": "a\u0000@example.com", "BouncedAt": "2026-03-01T08:00:00Z"}

    assert post(client, "postmark", body, **basic_auth(SECRET)).status_code == 200
    notice.refresh_from_db()
    assert notice.delivery == {}


# --- The notice -------------------------------------------------------------------------------------


def test_an_authenticated_postmark_bounce_is_tracked(client, settings, notice):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    body = {**forged_bounce(notice), "Email": "a@example.com", "BouncedAt": "2026-03-01T08:00:00Z"}

    assert post(client, "postmark", body, **basic_auth(SECRET)).status_code == 200
    notice.refresh_from_db()
    assert notice.delivery == {"a@example.com": {"event": "bounced", "at": "2026-03-01T08:00:00+00:00"}}


def tracking_event(notice, event_type: str, timestamp: dt.datetime) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(
        event_type=event_type, timestamp=timestamp, recipient="a@example.com", metadata={"notification_id": str(notice.pk)}
    )


def test_a_future_timestamp_is_clamped_to_now_so_a_later_real_event_replaces_it(notice):
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        notifications.notification_track(event=tracking_event(notice, "bounced", dt.datetime(2099, 1, 1, tzinfo=UTC)))
    notice.refresh_from_db()
    assert notice.delivery["a@example.com"] == {"event": "bounced", "at": NOW.isoformat()}

    with mock.patch("django.utils.timezone.now", return_value=NOW + dt.timedelta(hours=1)):
        notifications.notification_track(event=tracking_event(notice, "delivered", NOW + dt.timedelta(minutes=5)))
    notice.refresh_from_db()
    assert notice.delivery["a@example.com"] == {"event": "delivered", "at": (NOW + dt.timedelta(minutes=5)).isoformat()}


def test_a_future_time_stored_before_the_clamp_does_not_outrank_a_new_event(notice):
    Notification.objects.filter(pk=notice.pk).update(delivery={"a@example.com": {"event": "bounced", "at": "2099-01-01T00:00:00+00:00"}})

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        notifications.notification_track(event=tracking_event(notice, "delivered", NOW - dt.timedelta(hours=1)))

    notice.refresh_from_db()
    assert notice.delivery["a@example.com"]["event"] == "delivered"


def test_an_older_event_still_does_not_replace_a_newer_one(notice):
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        notifications.notification_track(event=tracking_event(notice, "opened", NOW - dt.timedelta(hours=1)))
        notifications.notification_track(event=tracking_event(notice, "delivered", NOW - dt.timedelta(hours=2)))
    notice.refresh_from_db()
    assert notice.delivery["a@example.com"]["event"] == "opened"


# --- Deploy check ---------------------------------------------------------------------------------


def test_the_deploy_check_warns_when_anymail_views_are_mounted_without_the_guard(settings):
    settings.ROOT_URLCONF = __name__

    warnings = check_unguarded_webhooks()

    assert warnings and {warning.id for warning in warnings} == {"scheduling.W001"}
    assert any("anymail/postmark/tracking/" in warning.msg for warning in warnings)


def test_the_deploy_check_is_quiet_for_the_projects_urls():
    assert check_unguarded_webhooks() == []

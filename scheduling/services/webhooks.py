"""Signed webhooks about bookings through the outbox (docs/spec.md §15.2).

`webhook_deliveries_record` writes one `WebhookDelivery` per active endpoint that wants the event,
in the booking's own transaction, and enqueues each delivery after commit. `webhook_deliver` sends
one through `scheduling.services.outbox` (the claim that lets exactly one worker send, the backoff,
the attempt budget — shared with the e-mail notices), signed as the Standard Webhooks specification
says; a 2xx answer is a success, anything else (an error, a timeout, a redirect, 4xx/5xx) a failure
retried later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from django.utils import timezone

from scheduling import outbound
from scheduling.models import (
    Booking,
    BookingStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    new_webhook_secret,
    webhook_secret_key,
)
from scheduling.services import outbox

EVENT_OF_STATUS = {
    BookingStatus.CONFIRMED: WebhookEvent.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: WebhookEvent.BOOKING_CANCELLED,
    BookingStatus.COMPLETED: WebhookEvent.BOOKING_COMPLETED,
    BookingStatus.NO_SHOW: WebhookEvent.BOOKING_NO_SHOW,
}
# A save naming one of these moved the booking (another time or another resource).
MOVING_FIELDS = frozenset({"start_at", "end_at", "resource"})


class WebhookRejected(Exception):
    """The receiver answered, but not with a 2xx."""


def secret_or_new(value: str | None) -> str:
    """The secret a manager gave, or a new one when they gave none."""
    return value or new_webhook_secret()


# --- Writing the outbox ---------------------------------------------------------------------------


def booking_webhook_events(*, created: bool, update_fields, status: str) -> list[str]:
    """The events a save of a booking announces, read from the save as `notifications.booking_event` does.

    A new row is "created"; a save naming `status` is that transition; a save naming the times or
    the resource is "rescheduled". A save without `update_fields` announces nothing.
    """
    if created:
        return [WebhookEvent.BOOKING_CREATED]
    if update_fields is None:
        return []
    events = []
    if MOVING_FIELDS & set(update_fields):
        events.append(WebhookEvent.BOOKING_RESCHEDULED)
    if "status" in update_fields and status in EVENT_OF_STATUS:
        events.append(EVENT_OF_STATUS[status])
    return events


def webhook_deliveries_record(*, booking_id: int, events: list[str], endpoints: list[WebhookEndpoint] | None = None) -> list[WebhookDelivery]:
    """One delivery per (event, endpoint that wants it), written in the current transaction;
    `endpoints`, the active ones read once, when many bookings are announced together."""
    if not events:
        return []
    if endpoints is None:
        endpoints = active_endpoints()
    wanted = [(event, endpoint) for event in events for endpoint in endpoints if event in endpoint.events]
    if not wanted:
        return []
    representation = _booking_representation(booking_id)
    now = timezone.now()
    deliveries = []
    for event, endpoint in wanted:
        body = json.dumps(
            {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": {"booking": representation}},
            separators=(",", ":"),
        )
        deliveries.append(
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                booking_id=booking_id,
                event=event,
                message_id=f"msg_{uuid.uuid4().hex}",
                body=body,
                next_attempt_at=now,
            )
        )
    for delivery in deliveries:
        _deliver_after_commit(delivery.pk)
    return deliveries


def active_endpoints() -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(active=True).order_by("id"))


def _booking_representation(booking_id: int) -> dict:
    # The API's own representation, so a receiver reads what GET /api/scheduling/booking/{id} shows.
    from scheduling.api.serializers import BookingSerializer

    booking = Booking.objects.get(pk=booking_id)
    return json.loads(json.dumps(BookingSerializer(booking).data, default=str))


def _deliver_after_commit(delivery_id: int) -> None:
    from scheduling.tasks import deliver_webhook

    outbox.enqueue_after_commit(deliver_webhook, delivery_id)


# --- Signing (Standard Webhooks) -------------------------------------------------------------------


def webhook_signature(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's decoded bytes."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(webhook_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(delivery: WebhookDelivery, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "scheduling-back-office-webhooks",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=secret, message_id=delivery.message_id, timestamp=timestamp, body=delivery.body
        ),
    }


# --- Delivery -------------------------------------------------------------------------------------


def webhook_deliver(*, delivery_id: int) -> str:
    """Send one due delivery once; its state afterwards, or "skipped" when it was not due."""
    from scheduling.tasks import deliver_webhook

    return outbox.deliver(WebhookDelivery, delivery_id, _post, task=deliver_webhook)


def webhooks_deliver_due(*, limit: int | None = None) -> dict[str, int]:
    return outbox.deliver_due(WebhookDelivery, lambda pk: webhook_deliver(delivery_id=pk), limit=limit)


def webhook_resend(*, delivery: WebhookDelivery) -> None:
    """Due now with a fresh attempt budget, delivered after commit (staff action); same webhook-id."""
    outbox.reset(delivery)
    _deliver_after_commit(delivery.pk)


def _post(delivery: WebhookDelivery) -> dict:
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    started = timezone.now()
    status = None
    try:
        if not endpoint.active:
            raise WebhookRejected("The endpoint is inactive.")
        headers = webhook_headers(delivery, endpoint.secret, int(started.timestamp()))
        status = outbound.post(endpoint.url, delivery.body.encode(), headers)
        if not 200 <= status < 300:
            raise WebhookRejected(f"HTTP {status}")
    except Exception as error:
        _log_attempt(delivery, started, status, f"{type(error).__name__}: {error}")
        raise
    _log_attempt(delivery, started, status, "")
    return {"response_status": status}


def _log_attempt(delivery: WebhookDelivery, at, status: int | None, error: str) -> None:
    # The row is claimed by this worker alone until the lease ends, so appending is safe.
    entry = {"at": at.isoformat(), "status": status, "error": error[:500]}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempt_log=[*delivery.attempt_log, entry], response_status=status
    )

"""Booking e-mails through a transactional outbox (docs/spec.md §9).

`notification_record` writes the notice — recipients and the rendered message — in the booking's own
transaction and enqueues its delivery after commit. `notification_deliver` claims a due row, sends it
through Django's mail API (SMTP or any anymail ESP, a settings choice) and records the outcome; a
failure is stored with a next attempt time, never raised, so the request that saved the booking
never fails because of a mail server.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
from dataclasses import dataclass

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from scheduling.ids import parse_id
from scheduling.models import Booking, BookingStatus, Notification, NotificationEvent, NotificationState
from scheduling.validators import validate_single_line

logger = logging.getLogger(__name__)

# Longer than any send may take (EMAIL_TIMEOUT, an ESP's HTTP timeout), so a row being sent is
# never claimed twice; a process that dies mid-send makes the row due again when it ends.
CLAIM_LEASE = dt.timedelta(minutes=10)
MAX_RETRY_DELAY = dt.timedelta(hours=6)

# The status changes that are news to the customer; completion and no-show are not.
EVENT_OF_STATUS = {
    BookingStatus.CONFIRMED: NotificationEvent.CONFIRMED,
    BookingStatus.CANCELLED: NotificationEvent.CANCELLED,
}
SUBJECT_TITLES = {
    NotificationEvent.CREATED: "Booking received",
    NotificationEvent.CONFIRMED: "Booking confirmed",
    NotificationEvent.CANCELLED: "Booking cancelled",
}
# SEQUENCE follows the life cycle, which never goes back, so each notice supersedes the previous one.
ICS_SEQUENCE = {NotificationEvent.CREATED: 0, NotificationEvent.CONFIRMED: 1, NotificationEvent.CANCELLED: 2}
ICS_STATUS = {BookingStatus.PENDING: "TENTATIVE", BookingStatus.CANCELLED: "CANCELLED"}

_muted = contextvars.ContextVar("notifications_muted", default=False)


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text_body: str
    html_body: str
    ics: str


# --- Writing the outbox ---------------------------------------------------------------------------


def booking_event(*, created: bool, update_fields, status: str) -> str | None:
    """The notice a save of a booking calls for, if any.

    The booking service saves an existing booking with `update_fields` naming what changed, so a
    save that names `status` is a transition; a save without `update_fields` announces nothing.
    """
    if created:
        return NotificationEvent.CREATED
    if update_fields is None or "status" not in update_fields:
        return None
    return EVENT_OF_STATUS.get(status)


def booking_recipients(booking: Booking) -> list[str]:
    """The customer's address, then the resource owner's; each once, blanks left out."""
    owner = booking.resource.owner
    candidates = [booking.customer.email, owner.email if owner else ""]
    recipients: list[str] = []
    for address in candidates:
        if address and address.lower() not in {r.lower() for r in recipients}:
            recipients.append(address)
    return recipients


def notification_record(*, booking_id: int, event: str) -> Notification | None:
    """Write the notice of `event` in the current transaction and deliver it after commit.

    Reads the booking back (one query) so the notice shows what was committed, with its relations.
    """
    if _muted.get():
        return None
    booking = Booking.objects.select_related("resource__owner", "customer").get(pk=booking_id)
    recipients = booking_recipients(booking)
    if not recipients:
        return None
    rendered = render_notice(booking, event, recipients)
    notification = Notification.objects.create(
        booking=booking,
        event=event,
        recipients=recipients,
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
        ics=rendered.ics,
        next_attempt_at=timezone.now(),
    )
    _deliver_after_commit(notification.pk)
    return notification


@contextlib.contextmanager
def notifications_muted():
    """Write no notices inside the block: for bulk loads that must not mail anyone (demo data)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def _deliver_after_commit(notification_id: int) -> None:
    # The task module imports this one, hence the import here.
    from scheduling.tasks import deliver_notification

    # robust: a task backend that cannot enqueue (database worker's table unreachable…) must not
    # turn a committed booking into an error; the row stays due for `send_notifications`.
    transaction.on_commit(lambda: deliver_notification.enqueue(notification_id), robust=True)


# --- Rendering ------------------------------------------------------------------------------------


def render_notice(booking: Booking, event: str, recipients: list[str]) -> RenderedNotice:
    """Subject, text, HTML and .ics of a notice, with times in the resource's time zone."""
    context = {"booking": booking, "resource": booking.resource, "event": event, "zone": booking.resource.timezone}
    with timezone.override(booking.resource.zone):
        local_start = timezone.localtime(booking.start_at)
        when = f"{local_start:%a} {local_start.day} {local_start:%b %Y %H:%M}"
        subject = f"{SUBJECT_TITLES[event]}: {booking.resource.name}, {when}"
        text_body = render_to_string(f"scheduling/email/{event}.txt", context)
        html_body = render_to_string(f"scheduling/email/{event}.html", context)
    return RenderedNotice(
        subject=subject, text_body=text_body, html_body=html_body, ics=booking_ics(booking, event, recipients)
    )


def booking_ics(booking: Booking, event: str, recipients: list[str]) -> str:
    """An iTIP calendar object: REQUEST for created/confirmed, CANCEL for cancelled, one UID per booking."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//scheduling back-office//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event == NotificationEvent.CANCELLED else "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", booking_uid(booking))
    vevent.add("dtstamp", timezone.now())
    vevent.add("dtstart", booking.start_at)
    vevent.add("dtend", booking.end_at)
    vevent.add("sequence", ICS_SEQUENCE[event])
    vevent.add("status", ICS_STATUS.get(booking.status, "CONFIRMED"))
    vevent.add("summary", booking.resource.name)
    if booking.notes:
        vevent.add("description", booking.notes)
    vevent.add("organizer", icalendar.vCalAddress(f"mailto:{_from_address()}"))
    for address in recipients:
        vevent.add("attendee", icalendar.vCalAddress(f"mailto:{address}"))
    calendar.add_component(vevent)
    return calendar.to_ical().decode()


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.pk}@{mail_domain()}"


def mail_domain() -> str:
    """The domain of the sender address: the right-hand side of every UID the back-office makes."""
    return _from_address().rpartition("@")[2] or "localhost"


def _from_address() -> str:
    # DEFAULT_FROM_EMAIL may carry a display name: "Bookings <bookings@example.com>".
    return settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">").strip()


# --- Delivery -------------------------------------------------------------------------------------


def notification_deliver(*, notification_id: int) -> str:
    """Send one due notice once; returns its state afterwards, or "skipped" when it was not due."""
    notification = _claim(notification_id)
    if notification is None:
        return "skipped"
    try:
        message_id = _send(notification)
    except Exception as error:  # noqa: BLE001 — any backend failure is recorded, never raised
        _record_failure(notification, error)
        return NotificationState.FAILED
    _record_success(notification, message_id)
    return NotificationState.SENT


def notifications_deliver_due(*, limit: int | None = None) -> dict[str, int]:
    """Deliver every due notice, oldest due first: the retry run of `send_notifications`."""
    due = notifications_due().order_by("next_attempt_at", "id").values_list("pk", flat=True)
    outcomes = {NotificationState.SENT.value: 0, NotificationState.FAILED.value: 0, "skipped": 0}
    for notification_id in list(due[:limit] if limit else due):
        outcomes[notification_deliver(notification_id=notification_id)] += 1
    return outcomes


def notifications_due():
    return Notification.objects.filter(_due_condition(timezone.now()))


def notification_resend(*, notification: Notification) -> None:
    """Make a notice due now with a fresh attempt budget, and deliver it after commit (staff action)."""
    Notification.objects.filter(pk=notification.pk).update(
        state=NotificationState.PENDING, attempts=0, last_error="", next_attempt_at=timezone.now(), updated_at=timezone.now()
    )
    _deliver_after_commit(notification.pk)


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff: the base delay doubled for every attempt after the first, capped."""
    delay = dt.timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS) * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_RETRY_DELAY)


def _due_condition(now: dt.datetime) -> Q:
    return Q(
        state__in=[NotificationState.PENDING, NotificationState.FAILED],
        next_attempt_at__lte=now,
        attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS,
    )


def _claim(notification_id: int) -> Notification | None:
    # One conditional UPDATE: of two workers racing for a row, exactly one sees a row count of 1.
    now = timezone.now()
    claimed = Notification.objects.filter(_due_condition(now), pk=notification_id).update(
        attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE, updated_at=now
    )
    return Notification.objects.get(pk=notification_id) if claimed else None


def _send(notification: Notification) -> str:
    recipients = notification.recipients
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.text_body,
        to=recipients[:1],
        bcc=recipients[1:],
    )
    message.attach_alternative(notification.html_body, "text/html")
    message.attach(f"booking-{notification.booking_id}.ics", notification.ics, "text/calendar")
    # anymail sends these to the ESP, whose tracking webhooks echo them back; other backends ignore them.
    message.metadata = {"notification_id": str(notification.pk), "booking_id": str(notification.booking_id)}
    message.tags = [f"booking-{notification.event}"]
    message.send()
    return _esp_message_id(message)


def _esp_message_id(message) -> str:
    status = getattr(message, "anymail_status", None)
    if status is None or status.message_id is None:
        return ""
    if isinstance(status.message_id, set):
        return " ".join(sorted(str(i) for i in status.message_id))[:255]
    return str(status.message_id)[:255]


def _record_success(notification: Notification, message_id: str) -> None:
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        state=NotificationState.SENT,
        sent_at=now,
        next_attempt_at=None,
        last_error="",
        esp_message_id=message_id,
        updated_at=now,
    )


def _record_failure(notification: Notification, error: Exception) -> None:
    now = timezone.now()
    gave_up = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    next_attempt_at = None if gave_up else now + retry_delay(notification.attempts)
    logger.warning("Notice %s failed (attempt %s): %s", notification.pk, notification.attempts, error)
    Notification.objects.filter(pk=notification.pk).update(
        state=NotificationState.FAILED,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=next_attempt_at,
        updated_at=now,
    )
    if next_attempt_at is not None:
        _retry_later(notification.pk, next_attempt_at)


def _retry_later(notification_id: int, run_after: dt.datetime) -> None:
    # A backend that can defer (django_tasks_db) retries by itself; the immediate backend cannot,
    # and `send_notifications` picks the row up when it is due.
    from scheduling.tasks import deliver_notification

    if deliver_notification.get_backend().supports_defer:
        deliver_notification.using(run_after=run_after).enqueue(notification_id)


# --- Tracking (anymail webhooks) ------------------------------------------------------------------


def notification_track(*, event) -> Notification | None:
    """Store an anymail tracking event (delivered, bounced…) on its notice, per recipient."""
    with transaction.atomic():
        notification = _tracked_notification(event)
        if notification is None:
            return None
        recipient = event.recipient or "*"
        if not _is_address(recipient):
            return None
        now = timezone.now()
        at = event.timestamp or now
        if timezone.is_naive(at):
            at = timezone.make_aware(at, dt.timezone.utc)
        # A timestamp from the future (a wrong clock, a forged post) would outrank every real
        # event that follows; clamped to now, the next real event replaces it.
        at = min(at, now)
        stored = notification.delivery.get(recipient)
        # Webhooks arrive out of order: keep the newer event, unless the stored one claims a time
        # still to come (written before the clamp), which no real event could ever beat.
        if stored and now >= dt.datetime.fromisoformat(stored["at"]) > at:
            return notification
        notification.delivery[recipient] = {"event": event.event_type, "at": at.isoformat()}
        notification.save(update_fields=["delivery", "updated_at"])
    return notification


def _is_address(recipient) -> bool:
    """A key we may store: an e-mail address's length, no control characters (jsonb refuses NUL)."""
    if not isinstance(recipient, str) or len(recipient) > 254:
        return False
    try:
        validate_single_line(recipient)
    except ValidationError:
        return False
    return True


def _tracked_notification(event) -> Notification | None:
    locked = Notification.objects.select_for_update()
    notification_id = parse_id(str((event.metadata or {}).get("notification_id", "")))
    if notification_id is not None:
        return locked.filter(pk=notification_id).first()
    if event.message_id:
        return locked.filter(esp_message_id=str(event.message_id)).first()
    return None

"""Booking e-mails through a transactional outbox (docs/spec.md §9).

`notification_record` writes the notice — recipients and the rendered message — in the booking's own
transaction and enqueues its delivery after commit. `notification_deliver` claims a due row, sends it
through Django's mail API (SMTP or any anymail ESP, a settings choice) and records the outcome
(`scheduling.services.outbox`, shared with the webhooks); a failure is stored with a next attempt
time, never raised, so the request that saved the booking
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
from django.db.models import F, Max, Q
from django.template.loader import render_to_string
from django.utils import timezone

from scheduling.ids import parse_id
from scheduling.services import outbox
from scheduling.services.policies import approval_recipients
from scheduling.models import Booking, BookingStatus, Notification, NotificationEvent, NotificationState
from scheduling.validators import validate_single_line

logger = logging.getLogger(__name__)

# The status changes that are news to the customer; completion and no-show are not.
EVENT_OF_STATUS = {
    BookingStatus.CONFIRMED: NotificationEvent.CONFIRMED,
    BookingStatus.CANCELLED: NotificationEvent.CANCELLED,
}
SUBJECT_TITLES = {
    NotificationEvent.CREATED: "Booking received",
    NotificationEvent.CONFIRMED: "Booking confirmed",
    NotificationEvent.CANCELLED: "Booking cancelled",
    NotificationEvent.APPROVAL: "Booking awaiting approval",
    NotificationEvent.RESCHEDULED: "Booking rescheduled",
    NotificationEvent.OFFERED: "Seat offered",
}
# The fields whose change moves a booking ("resource_id" when a caller names the column).
MOVE_FIELDS = frozenset({"start_at", "end_at", "resource", "resource_id"})
# A move is news while the booking is still to happen; a cancelled or finished one is not announced.
MOVE_ANNOUNCED_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})
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
    save that names `status` is a transition, and one that names the time or the resource is a move
    (a transition that is news wins: a confirmation carries the new time anyway); a save without
    `update_fields` announces nothing.
    """
    if created:
        return NotificationEvent.CREATED
    if update_fields is None:
        return None
    fields = set(update_fields)
    if "status" in fields and status in EVENT_OF_STATUS:
        return EVENT_OF_STATUS[status]
    if fields & MOVE_FIELDS and status in MOVE_ANNOUNCED_STATUSES:
        return NotificationEvent.RESCHEDULED
    return None


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
    recipients = approval_recipients(booking) if event == NotificationEvent.APPROVAL else booking_recipients(booking)
    if not recipients:
        return None
    sequence = next_sequence(booking, event)
    rendered = render_notice(booking, event, recipients, sequence=sequence)
    return notification_store(booking=booking, event=event, recipients=recipients, rendered=rendered, sequence=sequence)


def notification_store(
    *, booking: Booking, event: str, recipients: list[str], rendered: RenderedNotice, sequence: int, attendance=None
) -> Notification | None:
    """Write a rendered notice to the outbox and deliver it after commit (group and series notices
    render their own message: scheduling.services.group_notices)."""
    if _muted.get():
        return None
    notification = Notification.objects.create(
        booking=booking,
        attendance=attendance,
        event=event,
        sequence=sequence,
        recipients=recipients,
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
        ics=rendered.ics,
        next_attempt_at=timezone.now(),
    )
    _deliver_after_commit(notification.pk)
    return notification


def next_sequence(booking: Booking, event: str, *, scope=None) -> int:
    """The iCalendar SEQUENCE of the next notice: one more than the last notice of the booking (the
    booking row is locked by the writing service), or of `scope`, the notices of a group or series
    that share one UID (docs/spec.md §14.4)."""
    if scope is None and event == NotificationEvent.CREATED:
        return 0
    notices = Notification.objects.filter(booking=booking) if scope is None else scope
    last = notices.aggregate(last=Max("sequence"))["last"]
    return 0 if last is None else last + 1


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

    outbox.enqueue_after_commit(deliver_notification, notification_id)


# --- Rendering ------------------------------------------------------------------------------------


def render_notice(booking: Booking, event: str, recipients: list[str], *, sequence: int = 0) -> RenderedNotice:
    """Subject, text, HTML and .ics of a notice, with times in the resource's time zone."""
    context = {"booking": booking, "resource": booking.resource, "event": event, "zone": booking.resource.timezone}
    with timezone.override(booking.resource.zone):
        local_start = timezone.localtime(booking.start_at)
        when = f"{local_start:%a} {local_start.day} {local_start:%b %Y %H:%M}"
        subject = f"{subject_title(booking, event)}: {booking.resource.name}, {when}"
        text_body = render_to_string(f"scheduling/email/{event}.txt", context)
        html_body = render_to_string(f"scheduling/email/{event}.html", context)
    return RenderedNotice(
        subject=subject, text_body=text_body, html_body=html_body, ics=booking_ics(booking, event, recipients, sequence=sequence)
    )


def subject_title(booking: Booking, event: str) -> str:
    # A booking created already confirmed is news of a confirmation, not of a request received.
    if event == NotificationEvent.CREATED and booking.status == BookingStatus.CONFIRMED:
        return SUBJECT_TITLES[NotificationEvent.CONFIRMED]
    return SUBJECT_TITLES[event]


def booking_ics(booking: Booking, event: str, recipients: list[str], *, sequence: int = 0) -> str:
    """An iTIP calendar object: REQUEST, or CANCEL for cancelled; one UID per booking, SEQUENCE rising."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//scheduling back-office//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event == NotificationEvent.CANCELLED else "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", booking_uid(booking))
    vevent.add("dtstamp", timezone.now())
    vevent.add("dtstart", booking.start_at)
    vevent.add("dtend", booking.end_at)
    vevent.add("sequence", sequence)
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
    from scheduling.tasks import deliver_notification

    return outbox.deliver(Notification, notification_id, _send, task=deliver_notification)


def notifications_deliver_due(*, limit: int | None = None) -> dict[str, int]:
    """Deliver every due notice, oldest due first: the retry run of `send_notifications`."""
    return outbox.deliver_due(Notification, lambda pk: notification_deliver(notification_id=pk), limit=limit)


def notifications_due():
    return outbox.due(Notification)


def notification_resend(*, notification: Notification) -> None:
    """Make a notice due now with a fresh attempt budget, and deliver it after commit (staff action)."""
    outbox.reset(notification)
    _deliver_after_commit(notification.pk)


retry_delay = outbox.retry_delay


def _send(notification: Notification) -> dict:
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
    return {"esp_message_id": _esp_message_id(message)}


def _esp_message_id(message) -> str:
    status = getattr(message, "anymail_status", None)
    if status is None or status.message_id is None:
        return ""
    if isinstance(status.message_id, set):
        return " ".join(sorted(str(i) for i in status.message_id))[:255]
    return str(status.message_id)[:255]


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

"""Booking e-mails over real SMTP: an aiosmtpd server on a free loopback port, started by the test.

These tests commit for real (transaction=True), so notices are delivered by the default, immediate
task backend right after the booking commits, exactly as in a request.
"""

import datetime as dt
import email
import email.policy
import socket
import threading
import time
from io import StringIO
from unittest import mock

import icalendar
import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from scheduling.permissions import SYSTEM
from scheduling import roles
from scheduling.models import Booking, Notification
from scheduling.services import bookings as booking_service
from scheduling.services import notifications
from scheduling.tests.factories import CustomerFactory, ResourceFactory, UserFactory, client_for, staff, utc

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An SMTP server that keeps what it receives, and can go down and come back on its port."""

    def __init__(self, port: int, delay: float = 0.0):
        self.port = port
        self.delay = delay
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # a slow server: keeps a send in flight while another worker tries
        self.received.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=email.policy.default))
        )
        return "250 Message accepted"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()
        self.controller = None


@pytest.fixture
def smtp(settings):
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    settings.DEFAULT_FROM_EMAIL = "Bookings <bookings@gym.example>"
    yield server
    if server.controller is not None:
        server.stop()


@pytest.fixture
def trainer(db):
    return ResourceFactory(
        name="Anna", owner=UserFactory(username="anna", email="anna@gym.example"), timezone="Europe/Warsaw"
    )


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Jan Nowak", email="jan@example.com")


def book(resource, customer, hour=9, **kwargs):
    return booking_service.booking_create(
        by=SYSTEM,
        resource=resource, customer=customer, start_at=utc(2026, 3, 2, hour), end_at=utc(2026, 3, 2, hour + 1), **kwargs
    )


def calendar_of(message) -> icalendar.Calendar:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_content())


def later(seconds):
    """Time passes: django's clock (and so the due query) moves `seconds` ahead."""
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(seconds=seconds))


def test_the_three_events_deliver_the_right_messages_to_the_right_recipients_with_a_valid_ics(smtp, trainer, customer):
    booking = book(trainer, customer)
    booking_service.booking_confirm(by=SYSTEM, booking=booking)
    booking_service.booking_cancel(by=SYSTEM, booking=booking)

    assert [rcpts for rcpts, _ in smtp.received] == [["jan@example.com", "anna@gym.example"]] * 3
    messages = [message for _, message in smtp.received]
    assert [m["Subject"] for m in messages] == [
        "Booking received: Anna, Mon 2 Mar 2026 10:00",
        "Booking confirmed: Anna, Mon 2 Mar 2026 10:00",
        "Booking cancelled: Anna, Mon 2 Mar 2026 10:00",
    ]
    # The owner is a blind copy: the customer's message does not reveal the trainer's address.
    assert {(m["To"], m["Bcc"], m["From"]) for m in messages} == {
        ("jan@example.com", None, "Bookings <bookings@gym.example>")
    }
    texts = [m.get_body(("plain",)).get_content() for m in messages]
    assert all("Monday 2 March 2026, 10:00 (Europe/Warsaw)" in text for text in texts)
    assert ["Status:    Pending" in texts[0], "Status:    Confirmed" in texts[1], "Status:    Cancelled" in texts[2]] == [
        True
    ] * 3
    assert all("Anna" in m.get_body(("html",)).get_content() for m in messages)

    calendars = [calendar_of(m) for m in messages]
    assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [c.walk("VEVENT")[0] for c in calendars]
    assert {str(e["UID"]) for e in events} == {f"booking-{booking.pk}@gym.example"}
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]
    assert {(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events} == {(utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))}
    assert list(Notification.objects.order_by("id").values_list("event", "state", "attempts")) == [
        ("created", "sent", 1),
        ("confirmed", "sent", 1),
        ("cancelled", "sent", 1),
    ]


def test_with_the_smtp_server_down_bookings_succeed_fast_and_their_notices_wait_failed(smtp, trainer, customer):
    smtp.stop()
    started = time.monotonic()
    booking = book(trainer, customer)
    booking_service.booking_confirm(by=SYSTEM, booking=booking)
    elapsed = time.monotonic() - started

    assert elapsed < 1.0, f"two booking writes took {elapsed:.2f}s with the mail server down"
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    rows = list(Notification.objects.order_by("id"))
    assert [(n.event, n.state, n.attempts, n.sent_at) for n in rows] == [
        ("created", "failed", 1, None),
        ("confirmed", "failed", 1, None),
    ]
    assert all(n.last_error.startswith("ConnectionRefusedError") for n in rows)
    assert all(timezone.now() < n.next_attempt_at <= timezone.now() + dt.timedelta(seconds=60) for n in rows)


def test_api_booking_requests_succeed_fast_with_the_smtp_server_down(smtp, trainer, customer):
    smtp.stop()
    client = client_for(staff(roles.MANAGER, username="desk"))
    body = {
        "resource": trainer.pk,
        "customer": customer.pk,
        "start_at": "2026-03-02T09:00:00Z",
        "end_at": "2026-03-02T10:00:00Z",
    }
    started = time.monotonic()
    created = client.post("/api/scheduling/booking", body, format="json")
    cancelled = client.post(f"/api/scheduling/booking/{created.json()['id']}/cancel", format="json")
    elapsed = time.monotonic() - started

    assert (created.status_code, cancelled.status_code) == (201, 200)
    assert elapsed < 1.0, f"two API requests took {elapsed:.2f}s with the mail server down"
    assert Booking.objects.get().status == "cancelled"
    assert list(Notification.objects.order_by("id").values_list("event", "state")) == [
        ("created", "failed"),
        ("cancelled", "failed"),
    ]


def test_after_the_server_returns_the_retry_delivers_each_notice_exactly_once(smtp, trainer, customer):
    smtp.stop()
    first, second = book(trainer, customer, hour=9), book(trainer, customer, hour=11)
    booking_service.booking_confirm(by=SYSTEM, booking=first)
    assert Notification.objects.filter(state="failed").count() == 3
    smtp.start()

    out = StringIO()
    call_command("send_notifications", stdout=out)  # not due yet: the backoff holds
    assert (out.getvalue().strip(), smtp.received) == ("sent=0 failed=0 skipped=0", [])
    with later(61):
        call_command("send_notifications", stdout=out)
        call_command("send_notifications", stdout=out)  # a second run, or a second host, finds nothing
    with later(3600):
        call_command("send_notifications", stdout=out)

    subjects = sorted(message["Subject"] for _, message in smtp.received)
    assert subjects == sorted(
        [
            "Booking received: Anna, Mon 2 Mar 2026 10:00",
            "Booking confirmed: Anna, Mon 2 Mar 2026 10:00",
            "Booking received: Anna, Mon 2 Mar 2026 12:00",
        ]
    )
    assert out.getvalue().split("\n")[1:4] == [
        "sent=3 failed=0 skipped=0",
        "sent=0 failed=0 skipped=0",
        "sent=0 failed=0 skipped=0",
    ]
    assert set(Notification.objects.values_list("state", "attempts", "last_error")) == {("sent", 2, "")}
    assert {n.booking_id for n in Notification.objects.all()} == {first.pk, second.pk}


def test_a_notice_raced_by_two_workers_is_sent_once(smtp, trainer, customer):
    smtp.stop()
    book(trainer, customer)
    notice = Notification.objects.get()
    smtp.delay = 0.3
    smtp.start()
    outcomes = []

    def worker():
        try:
            outcomes.append(notifications.notification_deliver(notification_id=notice.pk))
        finally:
            connection.close()  # each thread has its own connection; leave none open

    with later(61):
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(smtp.received) == 1
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == ("sent", 2)


def test_a_rolled_back_booking_transaction_leaves_no_row_and_sends_nothing(smtp, trainer, customer):
    with pytest.raises(RuntimeError), transaction.atomic():
        book(trainer, customer)
        raise RuntimeError("something after the booking fails")
    assert (Booking.objects.count(), Notification.objects.count(), smtp.received) == (0, 0, [])


def test_a_failed_notice_gives_up_after_the_last_attempt_and_resend_delivers_it(smtp, trainer, customer, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    smtp.stop()
    book(trainer, customer)
    with later(61):
        call_command("send_notifications", stdout=StringIO())
    notice = Notification.objects.get()
    assert (notice.state, notice.attempts, notice.next_attempt_at) == ("failed", 2, None)
    smtp.start()
    with later(86400):
        call_command("send_notifications", stdout=StringIO())
    assert smtp.received == []  # given up: only staff bring it back
    notifications.notification_resend(notification=notice)  # autocommit: delivered at once
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, len(smtp.received)) == ("sent", 1, 1)

"""Booking e-mails (docs/spec.md §9): the outbox rows, rendering, delivery outcomes, tracking, admin.

Real SMTP delivery, outages and retries are in test_notifications_smtp.py.
"""

import datetime as dt
from io import StringIO
from unittest import mock

import icalendar
import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from scheduling.permissions import SYSTEM
from scheduling import tasks
from scheduling.models import Booking, Notification
from scheduling.services import bookings as booking_service
from scheduling.services import notifications
from scheduling.tests.factories import NoticedBookingFactory, CustomerFactory, ResourceFactory, UserFactory

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def create(resource, customer, **kwargs):
    return booking_service.booking_create(
        by=SYSTEM,
        resource=resource, customer=customer, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10), **kwargs
    )


def notices(booking):
    return list(Notification.objects.filter(booking=booking).order_by("id").values_list("event", flat=True))


@pytest.fixture
def owned_resource(db):
    return ResourceFactory(
        name="Room A", owner=UserFactory(username="trainer", email="trainer@example.com"), timezone="Europe/Warsaw"
    )


@pytest.fixture
def failing_backend(settings):
    # A backend that always raises, like an SMTP server that refuses connections.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with mock.patch(
        "anymail.backends.test.EmailBackend.post_to_esp", side_effect=ConnectionRefusedError(111, "Connection refused")
    ):
        yield


# --- Which notices are written ---------------------------------------------------------------------


def test_a_new_booking_writes_a_created_notice_in_its_own_transaction(owned_resource, customer):
    booking = create(owned_resource, customer)
    notice = Notification.objects.get(booking=booking)
    assert (notice.event, notice.state, notice.attempts, notice.recipients) == (
        "created",
        "pending",
        0,
        [customer.email, "trainer@example.com"],
    )
    assert notice.next_attempt_at <= timezone.now()
    assert notice.subject == "Booking received: Room A, Mon 2 Mar 2026 10:00"


def test_a_booking_created_confirmed_writes_one_notice_not_two(resource, customer):
    booking = create(resource, customer, status="confirmed")
    assert notices(booking) == ["created"]
    assert "The booking below is confirmed." in Notification.objects.get(booking=booking).text_body


def test_confirming_and_cancelling_write_one_notice_each(resource, customer):
    booking = create(resource, customer)
    booking_service.booking_confirm(by=SYSTEM, booking=booking)
    booking_service.booking_cancel(by=SYSTEM, booking=booking)
    assert notices(booking) == ["created", "confirmed", "cancelled"]


def test_completion_no_show_moves_and_note_edits_write_no_notice(resource, customer):
    done, absent = create(resource, customer, status="confirmed"), NoticedBookingFactory(
        resource=resource, customer=customer, status="confirmed", start_at=utc(2026, 3, 2, 12)
    )
    booking_service.booking_complete(by=SYSTEM, booking=done)
    booking_service.booking_no_show(by=SYSTEM, booking=absent)
    booking_service.booking_update(by=SYSTEM, booking=done, start_at=utc(2026, 3, 2, 14), end_at=utc(2026, 3, 2, 15), notes="moved")
    assert notices(done) == ["created"] and notices(absent) == ["created"]


def test_a_save_that_leaves_the_status_out_is_not_a_transition(resource, customer):
    booking = create(resource, customer)
    booking.status = "confirmed"
    booking.save(update_fields=["notes"])
    assert notices(booking) == ["created"]


def test_a_save_that_does_not_name_its_fields_announces_nothing(resource, customer):
    """The service names what it changed; a bare save (outside the one write path) is not news."""
    stored = create(resource, customer)
    copy = Booking(**{field.attname: getattr(stored, field.attname) for field in Booking._meta.concrete_fields})
    copy.status = "confirmed"
    copy.save()
    assert notices(stored) == ["created"]


def test_a_status_change_read_with_the_status_deferred_is_still_noticed(resource, customer):
    stored = create(resource, customer)
    deferred = Booking.objects.only("id", "notes").get(pk=stored.pk)
    deferred.status = "cancelled"
    deferred.save(update_fields=["status"])
    assert notices(stored) == ["created", "cancelled"]


def test_loaded_fixtures_write_no_notice(resource, customer):
    stamp = utc(2026, 3, 1, 8)
    booking = Booking(
        resource=resource,
        customer=customer,
        start_at=utc(2026, 3, 2, 9),
        end_at=utc(2026, 3, 2, 10),
        status="confirmed",
        created_at=stamp,
        updated_at=stamp,
    )
    booking.save_base(raw=True)  # what loaddata does
    assert notices(booking) == []


def test_each_event_is_noticed_at_most_once_per_booking(resource, customer):
    booking = create(resource, customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        notifications.notification_record(booking_id=booking.pk, event="created")
    assert notices(booking) == ["created"]


def test_recipients_are_the_customer_and_the_owner_with_an_address_each_once(customer):
    with_owner = ResourceFactory(owner=UserFactory(email="Owner@example.com"))
    without_address = ResourceFactory(owner=UserFactory(email=""))
    same_person = ResourceFactory(owner=UserFactory(email=customer.email.upper()))
    rows = {
        r: Notification.objects.get(booking=create(r, customer)).recipients
        for r in (with_owner, without_address, same_person)
    }
    assert rows == {
        with_owner: [customer.email, "Owner@example.com"],
        without_address: [customer.email],
        same_person: [customer.email],
    }


def test_no_address_at_all_queues_nothing(resource):
    booking = create(resource, CustomerFactory(email=""))
    assert notices(booking) == []


def test_a_rolled_back_booking_leaves_no_notice(resource, customer):
    with pytest.raises(RuntimeError), transaction.atomic():
        create(resource, customer)
        raise RuntimeError("the caller's transaction fails after the booking")
    assert not Booking.objects.exists() and not Notification.objects.exists()


def test_muted_notifications_write_no_notice(resource, customer):
    with notifications.notifications_muted():
        muted = create(resource, customer)
    after = booking_service.booking_confirm(by=SYSTEM, booking=muted)
    assert notices(muted) == ["confirmed"] and notices(after) == ["confirmed"]


def test_writing_a_notice_reads_the_booking_once_and_inserts_once(owned_resource, customer, django_assert_num_queries):
    booking = NoticedBookingFactory(resource=owned_resource, customer=customer)
    Notification.objects.all().delete()
    # 1. the booking with its resource, the resource's owner and the customer (one join)
    # 2. INSERT the notice
    with django_assert_num_queries(2):
        notifications.notification_record(booking_id=booking.pk, event="confirmed")


# --- Rendering ----------------------------------------------------------------------------------------


def test_the_message_shows_local_times_in_the_resource_time_zone_status_and_notes(owned_resource, customer):
    booking = create(owned_resource, customer, notes="Bring <ID> & cash")
    notice = Notification.objects.get(booking=booking)
    # 09:00 UTC is 10:00 in Warsaw in March (CET).
    assert "Starts:    Monday 2 March 2026, 10:00 (Europe/Warsaw)" in notice.text_body
    assert "Ends:      Monday 2 March 2026, 11:00 (Europe/Warsaw)" in notice.text_body
    assert "Status:    Pending" in notice.text_body and "Notes:     Bring <ID> & cash" in notice.text_body
    assert "Room A" in notice.html_body and "Bring &lt;ID&gt; &amp; cash" in notice.html_body
    assert "Monday 2 March 2026, 10:00 (Europe/Warsaw)" in notice.html_body


@pytest.mark.parametrize(
    ("event", "method", "status", "sequence"),
    [
        ("created", "REQUEST", "TENTATIVE", 0),
        ("confirmed", "REQUEST", "CONFIRMED", 1),
        ("cancelled", "CANCEL", "CANCELLED", 2),
    ],
)
def test_the_calendar_attachment_requests_or_cancels_one_event_per_booking(
    owned_resource, customer, settings, event, method, status, sequence
):
    settings.DEFAULT_FROM_EMAIL = "Bookings <bookings@gym.example>"
    booking = create(owned_resource, customer)
    if event != "created":
        booking_service.booking_transition(by=SYSTEM, booking=booking, to_status=event)
    calendar = icalendar.Calendar.from_ical(Notification.objects.get(booking=booking, event=event).ics)
    (vevent,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == method
    assert (str(vevent["UID"]), str(vevent["STATUS"]), vevent["SEQUENCE"]) == (
        f"booking-{booking.pk}@gym.example",
        status,
        sequence,
    )
    assert (vevent.decoded("DTSTART"), vevent.decoded("DTEND")) == (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    assert str(vevent["ORGANIZER"]) == "mailto:bookings@gym.example"
    assert sorted(str(a) for a in vevent["ATTENDEE"]) == sorted(
        f"mailto:{a}" for a in [customer.email, "trainer@example.com"]
    )


# --- Delivery -----------------------------------------------------------------------------------------


def test_delivery_waits_for_the_commit(resource, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        booking = create(resource, customer)
    assert len(callbacks) == 1 and mail.outbox == []
    callbacks[0]()
    notice = Notification.objects.get(booking=booking)
    assert (notice.state, notice.attempts, notice.next_attempt_at, len(mail.outbox)) == ("sent", 1, None, 1)


def test_a_sent_message_carries_text_html_and_the_ics_to_the_customer_and_bcc_the_owner(
    owned_resource, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(owned_resource, customer)
    (message,) = mail.outbox
    notice = Notification.objects.get(booking=booking)
    assert (message.to, message.bcc, message.subject, message.body) == (
        [customer.email],
        ["trainer@example.com"],
        notice.subject,
        notice.text_body,
    )
    assert message.alternatives[0][1] == "text/html"
    assert message.attachments == [(f"booking-{booking.pk}.ics", notice.ics, "text/calendar")]


def test_an_esp_backend_is_a_settings_only_switch(resource, customer, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(resource, customer)
    (message,) = mail.outbox
    notice = Notification.objects.get(booking=booking)
    params = message.anymail_test_params
    assert params["metadata"] == {"notification_id": str(notice.pk), "booking_id": str(booking.pk)}
    assert params["tags"] == ["booking-created"] and params["subject"] == notice.subject
    assert [a.name for a in params["attachments"]] == [f"booking-{booking.pk}.ics"]
    assert (notice.state, notice.esp_message_id) == ("sent", "0")


def test_per_recipient_message_ids_from_an_esp_are_all_kept(owned_resource, customer, settings):
    from anymail.message import AnymailRecipientStatus

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=owned_resource, customer=customer))
    per_recipient = lambda self, response, payload, message: {  # noqa: E731
        address: AnymailRecipientStatus(message_id=f"id-{n}", status="queued")
        for n, address in enumerate(payload.recipient_emails)
    }
    with mock.patch("anymail.backends.test.EmailBackend.parse_recipient_status", per_recipient):
        notifications.notification_deliver(notification_id=notice.pk)
    notice.refresh_from_db()
    assert (notice.state, notice.esp_message_id) == ("sent", "id-0 id-1")


def test_a_failure_is_recorded_with_the_error_and_a_next_attempt_not_raised(
    resource, customer, failing_backend, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(resource, customer)
    notice = Notification.objects.get(booking=booking)
    assert (notice.state, notice.attempts, notice.sent_at) == ("failed", 1, None)
    assert notice.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert timezone.now() + dt.timedelta(seconds=50) < notice.next_attempt_at <= timezone.now() + dt.timedelta(seconds=60)


def test_the_retry_delay_doubles_with_each_attempt_and_is_capped(settings):
    settings.NOTIFICATION_RETRY_SECONDS = 60
    assert [notifications.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert notifications.retry_delay(30) == dt.timedelta(hours=6)


def test_after_the_last_attempt_a_notice_stays_failed_with_nothing_scheduled(resource, customer, settings, failing_backend):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    booking = NoticedBookingFactory(resource=resource, customer=customer)
    notice = Notification.objects.get(booking=booking)
    assert notifications.notification_deliver(notification_id=notice.pk) == "failed"
    Notification.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())  # the retry time has come
    assert notifications.notification_deliver(notification_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.next_attempt_at) == ("failed", 2, None)
    assert notifications.notification_deliver(notification_id=notice.pk) == "skipped"
    assert not notifications.notifications_due().exists()


def test_a_notice_not_yet_due_or_already_sent_is_not_sent_again(resource, customer):
    booking = NoticedBookingFactory(resource=resource, customer=customer)
    notice = Notification.objects.get(booking=booking)
    assert notifications.notification_deliver(notification_id=notice.pk) == "sent"
    assert notifications.notification_deliver(notification_id=notice.pk) == "skipped"
    assert tasks.deliver_notification.call(notice.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_a_task_backend_that_cannot_enqueue_does_not_fail_the_committed_booking(
    resource, customer, django_capture_on_commit_callbacks
):
    with mock.patch("django_tasks.backends.immediate.ImmediateBackend.enqueue", side_effect=RuntimeError("queue down")):
        with django_capture_on_commit_callbacks(execute=True):
            booking = create(resource, customer)
    notice = Notification.objects.get(booking=booking)
    assert (notice.state, notice.attempts) == ("pending", 0)
    assert list(notifications.notifications_due()) == [notice]


@pytest.mark.django_db(transaction=True)  # the worker closes database connections as it goes
def test_a_deferring_task_backend_delivers_in_the_worker_and_schedules_the_retry(
    resource, customer, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(resource, customer)
    notice = Notification.objects.get(booking=booking)
    assert (notice.state, mail.outbox) == ("pending", [])  # queued, not sent by the request
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with mock.patch("anymail.backends.test.EmailBackend.post_to_esp", side_effect=TimeoutError("timed out")):
        call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    notice.refresh_from_db()
    retry = DBTaskResult.objects.get(status="READY")
    assert (notice.state, retry.run_after, retry.args_kwargs) == (
        "failed",
        notice.next_attempt_at,
        {"args": [notice.pk], "kwargs": {}},
    )
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    Notification.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())  # the retry time has come
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, len(mail.outbox)) == ("sent", 2, 1)


def test_send_notifications_delivers_what_is_due_and_reports_counts(resource, customer):
    due = [
        Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, h)))
        for h in (9, 11)
    ]
    later = Notification.objects.get(
        booking=NoticedBookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, 13))
    )
    Notification.objects.filter(pk=later.pk).update(state="failed", next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert out.getvalue().strip() == "sent=2 failed=0 skipped=0"
    assert sorted(Notification.objects.filter(state="sent").values_list("pk", flat=True)) == sorted(n.pk for n in due)
    assert Notification.objects.get(pk=later.pk).state == "failed"


def test_send_notifications_limit_caps_one_run(resource, customer):
    for hour in (9, 11, 13):
        NoticedBookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, hour))
    call_command("send_notifications", "--limit", "2", stdout=StringIO())
    assert Notification.objects.filter(state="sent").count() == 2


def test_resend_makes_a_notice_due_now_with_a_fresh_attempt_budget(
    resource, customer, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    Notification.objects.filter(pk=notice.pk).update(
        state="failed", attempts=1, next_attempt_at=None, last_error="SMTPException: gone"
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notification_resend(notification=notice)
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.last_error, len(mail.outbox)) == ("sent", 1, "", 1)


# --- Tracking -----------------------------------------------------------------------------------------


def tracking_event(**kwargs):
    return AnymailTrackingEvent(
        **{"event_type": "delivered", "timestamp": utc(2026, 3, 1, 8), "recipient": "a@example.com", **kwargs}
    )


def test_a_tracking_event_is_stored_on_its_notice_by_recipient(resource, customer):
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    Notification.objects.filter(pk=notice.pk).update(esp_message_id="msg-1")
    tracking.send(sender=object, event=tracking_event(metadata={"notification_id": str(notice.pk)}), esp_name="Test")
    tracking.send(
        sender=object,
        event=tracking_event(event_type="bounced", recipient="b@example.com", message_id="msg-1"),
        esp_name="Test",
    )
    notice.refresh_from_db()
    assert notice.delivery == {
        "a@example.com": {"event": "delivered", "at": "2026-03-01T08:00:00+00:00"},
        "b@example.com": {"event": "bounced", "at": "2026-03-01T08:00:00+00:00"},
    }
    assert notice.state == "pending"  # tracking reports what the ESP saw; it does not resend or mark


def test_an_older_tracking_event_does_not_replace_a_newer_one(resource, customer):
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    meta = {"notification_id": str(notice.pk)}
    notifications.notification_track(event=tracking_event(event_type="opened", metadata=meta, timestamp=utc(2026, 3, 1, 9)))
    notifications.notification_track(
        event=tracking_event(event_type="delivered", metadata=meta, timestamp=dt.datetime(2026, 3, 1, 8))
    )
    notice.refresh_from_db()
    assert notice.delivery["a@example.com"]["event"] == "opened"


def test_a_tracking_event_of_no_known_notice_is_ignored(resource, customer):
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    for event in (tracking_event(), tracking_event(message_id="unknown"), tracking_event(metadata={"notification_id": "x"})):
        assert notifications.notification_track(event=event) is None
    notice.refresh_from_db()
    assert notice.delivery == {}


def test_an_esp_webhook_post_updates_the_notice(client, resource, customer, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:secret"}
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    payload = {
        "RecordType": "Bounce", "Type": "HardBounce", "Email": customer.email, "BouncedAt": "2026-03-01T08:00:00Z",
        "MessageID": "pm-1", "Metadata": {"notification_id": str(notice.pk)}, "ID": 42,
    }  # fmt: skip
    response = client.post(
        reverse("anymail:postmark_tracking_webhook"),
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic aG9vazpzZWNyZXQ=",
    )
    assert response.status_code == 200
    notice.refresh_from_db()
    assert notice.delivery == {customer.email: {"event": "bounced", "at": "2026-03-01T08:00:00+00:00"}}


# --- Admin --------------------------------------------------------------------------------------------


@pytest.fixture
def staff_with_outbox_rights(db):
    from django.contrib.auth.models import Permission

    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_notification", "change_notification"]))
    return user


def test_staff_with_view_rights_see_the_outbox_filtered_by_state(client, staff_with_outbox_rights, resource, customer):
    sent, failed = (
        Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, h)))
        for h in (9, 11)
    )
    Notification.objects.filter(pk=sent.pk).update(state="sent")
    Notification.objects.filter(pk=failed.pk).update(state="failed", last_error="SMTPException: nope")
    client.force_login(staff_with_outbox_rights)
    url = reverse("admin:scheduling_notification_changelist")
    response = client.get(url, {"state__exact": "failed"})
    assert response.status_code == 200
    assert [n.pk for n in response.context["cl"].result_list] == [failed.pk]
    assert client.get(reverse("admin:scheduling_notification_change", args=[failed.pk])).status_code == 200


def test_the_outbox_list_reads_a_constant_number_of_queries(client, staff_with_outbox_rights, resource, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff_with_outbox_rights)
    url = reverse("admin:scheduling_notification_changelist")

    def queries_for_the_list():
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context)

    NoticedBookingFactory(resource=resource, customer=customer)
    with_one = queries_for_the_list()
    for hour in range(10, 22):
        NoticedBookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, hour))
    # Session, user, the user's and groups' permissions, the sidebar's permission checks (the
    # permission layer's, one per registered model), two counts, the page of rows, the date
    # hierarchy's range and days. None of them is per row: the row shows booking_id, no join.
    assert queries_for_the_list() == with_one


def test_the_outbox_admin_is_read_only(client, staff_with_outbox_rights, resource, customer):
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    client.force_login(staff_with_outbox_rights)
    assert client.get(reverse("admin:scheduling_notification_add")).status_code == 403
    assert (
        client.post(reverse("admin:scheduling_notification_change", args=[notice.pk]), {"subject": "x"}).status_code == 403
    )
    assert client.post(reverse("admin:scheduling_notification_delete", args=[notice.pk]), {"post": "yes"}).status_code == 403
    assert Notification.objects.get(pk=notice.pk).subject == notice.subject


def test_staff_without_outbox_rights_do_not_see_it(client, resource, customer):
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:scheduling_notification_changelist")).status_code == 403
    assert client.get(reverse("admin:scheduling_notification_change", args=[notice.pk])).status_code in (302, 403)


def test_the_resend_action_queues_the_selected_notices_again(client, staff_with_outbox_rights, resource, customer):
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    Notification.objects.filter(pk=notice.pk).update(
        state="failed", attempts=8, next_attempt_at=None, last_error="SMTPException: nope"
    )
    client.force_login(staff_with_outbox_rights)
    response = client.post(
        reverse("admin:scheduling_notification_changelist"),
        {"action": "resend", "_selected_action": [notice.pk]},
        follow=True,
    )
    assert response.status_code == 200 and "1 notice queued again." in response.content.decode()
    notice.refresh_from_db()
    # The admin request's transaction is the test's, so delivery waits for a commit that never comes.
    assert (notice.state, notice.attempts, notice.last_error) == ("pending", 0, "")
    assert list(notifications.notifications_due()) == [notice]


def test_resend_needs_the_change_right(client, resource, customer):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    notice = Notification.objects.get(booking=NoticedBookingFactory(resource=resource, customer=customer))
    Notification.objects.filter(pk=notice.pk).update(state="failed", next_attempt_at=None)
    client.force_login(viewer)
    client.post(reverse("admin:scheduling_notification_changelist"), {"action": "resend", "_selected_action": [notice.pk]})
    notice.refresh_from_db()
    assert (notice.state, notice.next_attempt_at) == ("failed", None)

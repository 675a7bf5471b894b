"""Busy times in (docs/spec.md §16.3): an external ICS served by a local HTTP server on 127.0.0.1.

The clock is frozen at 2027-03-20 (a Saturday) so the window and the DST change in Warsaw on
2027-03-28 are fixed; nothing depends on today's date.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
import time_machine
from django.core.management import call_command
from guardian.shortcuts import assign_perm

from scheduling import outbound
from scheduling.models import CalendarSubscription, ExceptionKind, ScheduleException
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.services import calendars
from scheduling.services.errors import BookingConflict
from scheduling.tests.factories import API, client_for
from scheduling.tests.factories import staff as api_user
from scheduling.tests.factories import CustomerFactory, ResourceFactory

UTC = dt.timezone.utc
NOW = dt.datetime(2027, 3, 20, 12, 0, tzinfo=UTC)

WARSAW_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Warsaw
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE"""


def calendar(*events: str) -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", WARSAW_TZ, *events, "END:VCALENDAR", ""])
    return body.replace("\r\n", "\n").replace("\n", "\r\n").encode()


# Weekly 10:00–11:00 Warsaw time over the change to summer time (2027-03-28): 09:00Z, then 08:00Z.
WEEKLY = """BEGIN:VEVENT
UID:gym@example.org
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Warsaw:20270322T100000
DTEND;TZID=Europe/Warsaw:20270322T110000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Gym (private)
END:VEVENT"""
DENTIST = """BEGIN:VEVENT
UID:dentist@example.org
DTSTAMP:20270101T000000Z
DTSTART:20270324T140000Z
DTEND:20270324T150000Z
SUMMARY:Dentist
END:VEVENT"""
FREE = """BEGIN:VEVENT
UID:free@example.org
DTSTAMP:20270101T000000Z
DTSTART:20270325T140000Z
DTEND:20270325T150000Z
TRANSP:TRANSPARENT
SUMMARY:Maybe
END:VEVENT"""


class CalendarServer:
    """Serves `body` at any path with an ETag; answers 304 to a matching If-None-Match, or `status`."""

    def __init__(self):
        self.body = calendar()
        self.etag = '"v1"'
        self.status = 200
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(dict(self.headers))
                if server.status != 200:
                    self.send_response(server.status)
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere.ics")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == server.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", server.etag)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/trainer.ics"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def publish(self, body: bytes, etag: str) -> None:
        self.body, self.etag = body, etag

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = CalendarServer()
    yield running
    running.stop()


@pytest.fixture
def private_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def trainer(db):
    return ResourceFactory(name="Trainer Tom", timezone="Europe/Warsaw")


@pytest.fixture
def subscription(trainer, server):
    return calendars.calendar_subscription_create(by=SYSTEM, resource=trainer, url=server.url, name="Tom's calendar")


def busy(subscription) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
    rows = ScheduleException.objects.filter(subscription=subscription).order_by("start_at")
    return [(r.source_uid, r.source_recurrence, r.start_at, r.end_at) for r in rows]


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- Import ------------------------------------------------------------------------------------------


def test_recurring_event_keeps_its_wall_clock_time_across_the_dst_change(clock, private_allowed, server, subscription):
    server.publish(calendar(WEEKLY, DENTIST, FREE), '"v1"')

    assert calendars.calendar_sync(subscription=subscription) == "updated"

    assert [(uid, start, end) for uid, _, start, end in busy(subscription)] == [
        ("gym@example.org", utc(2027, 3, 22, 9), utc(2027, 3, 22, 10)),
        ("dentist@example.org", utc(2027, 3, 24, 14), utc(2027, 3, 24, 15)),
        ("gym@example.org", utc(2027, 3, 29, 8), utc(2027, 3, 29, 9)),  # summer time: 10:00 is 08:00Z
        ("gym@example.org", utc(2027, 4, 5, 8), utc(2027, 4, 5, 9)),
    ]
    rows = ScheduleException.objects.filter(subscription=subscription)
    assert {r.kind for r in rows} == {ExceptionKind.EXTERNAL}
    assert {r.reason for r in rows} == {"Busy in Tom's calendar"}  # the source, not the private summary
    subscription.refresh_from_db()
    assert (subscription.last_synced_at, subscription.last_error, subscription.etag) == (NOW, "", '"v1"')


def test_imported_busy_time_blocks_a_booking_naming_its_source(clock, private_allowed, server, subscription, trainer):
    server.publish(calendar(WEEKLY), '"v1"')
    calendars.calendar_sync(subscription=subscription)

    with pytest.raises(BookingConflict) as refused:
        booking_service.booking_create(
            by=SYSTEM, resource=trainer, customer=CustomerFactory(), start_at=utc(2027, 3, 29, 8, 30), end_at=utc(2027, 3, 29, 9, 30)
        )

    (conflict,) = refused.value.conflicts
    assert (conflict.kind, conflict.reason) == ("exception", "Busy in Tom's calendar")
    assert "Busy in Tom's calendar" in str(refused.value)


def test_imported_busy_time_is_a_409_through_the_api(clock, private_allowed, server, subscription, trainer, manager):  # noqa: F811
    server.publish(calendar(WEEKLY), '"v1"')
    calendars.calendar_sync(subscription=subscription)
    body = {"resource": trainer.pk, "customer": CustomerFactory().pk, "start_at": "2027-03-29T10:30:00+02:00", "end_at": "2027-03-29T11:30:00+02:00"}

    response = client_for(manager).post(f"{API}/booking/", body, format="json")

    assert response.status_code == 409
    assert response.json()["conflicts"][0]["kind"] == "exception"
    assert response.json()["conflicts"][0]["reason"] == "Busy in Tom's calendar"
    assert not trainer.bookings.exists()


def test_a_second_sync_updates_in_place_and_removes_what_left_the_source(clock, private_allowed, server, subscription):
    server.publish(calendar(WEEKLY, DENTIST), '"v1"')
    calendars.calendar_sync(subscription=subscription)
    dentist_id = ScheduleException.objects.get(source_uid="dentist@example.org").pk
    moved = DENTIST.replace("20270324T140000Z", "20270326T090000Z").replace("20270324T150000Z", "20270326T100000Z")
    server.publish(calendar(moved), '"v2"')

    assert calendars.calendar_sync(subscription=subscription) == "updated"

    dentist = ScheduleException.objects.get(source_uid="dentist@example.org")
    assert (dentist.pk, dentist.start_at) == (dentist_id, utc(2027, 3, 26, 9))
    assert [uid for uid, *_ in busy(subscription)] == ["dentist@example.org"]  # the gym is gone from the source


def test_a_moved_occurrence_of_a_series_is_updated_in_place(clock, private_allowed, server, subscription):
    server.publish(calendar(WEEKLY), '"v1"')
    calendars.calendar_sync(subscription=subscription)
    second = ScheduleException.objects.get(start_at=utc(2027, 3, 29, 8))
    override = """BEGIN:VEVENT
UID:gym@example.org
DTSTAMP:20270101T000000Z
RECURRENCE-ID;TZID=Europe/Warsaw:20270329T100000
DTSTART;TZID=Europe/Warsaw:20270329T170000
DTEND;TZID=Europe/Warsaw:20270329T180000
SUMMARY:Gym later
END:VEVENT"""
    server.publish(calendar(WEEKLY, override), '"v2"')

    calendars.calendar_sync(subscription=subscription)

    second.refresh_from_db()
    assert (second.start_at, second.end_at) == (utc(2027, 3, 29, 15), utc(2027, 3, 29, 16))
    assert ScheduleException.objects.filter(subscription=subscription).count() == 3


def test_not_modified_answer_changes_no_row_and_sends_the_validator(clock, private_allowed, server, subscription):
    server.publish(calendar(WEEKLY), '"v1"')
    calendars.calendar_sync(subscription=subscription)
    before = busy(subscription)

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        assert calendars.calendar_sync(subscription=subscription) == "not_modified"

    assert server.requests[-1]["If-None-Match"] == '"v1"'
    assert busy(subscription) == before
    subscription.refresh_from_db()
    assert subscription.last_synced_at == NOW + dt.timedelta(hours=1)


@pytest.mark.parametrize("failure", ["server error", "not a calendar", "redirect"])
def test_a_broken_source_keeps_what_was_imported(clock, private_allowed, server, subscription, failure):
    server.publish(calendar(WEEKLY), '"v1"')
    calendars.calendar_sync(subscription=subscription)
    before = busy(subscription)
    if failure == "server error":
        server.status = 500
    elif failure == "redirect":
        server.status = 302
    else:
        server.publish(b"<html>Sign in</html>", '"v2"')

    assert calendars.calendar_sync(subscription=subscription) == "failed"

    assert busy(subscription) == before
    subscription.refresh_from_db()
    assert subscription.last_error
    assert subscription.last_synced_at == NOW
    assert len(server.requests) == 2  # the redirect was not followed


def test_an_answer_over_the_size_limit_is_an_error(clock, private_allowed, server, subscription, monkeypatch):
    server.publish(calendar(WEEKLY, DENTIST), '"v1"')
    monkeypatch.setattr(calendars, "MAX_BYTES", 100)

    assert calendars.calendar_sync(subscription=subscription) == "failed"

    subscription.refresh_from_db()
    assert "larger than 100 bytes" in subscription.last_error
    assert not busy(subscription)


def test_events_beyond_the_window_are_not_imported(clock, private_allowed, server, subscription):
    far = DENTIST.replace("20270324", "20271224")  # 279 days ahead: past the 180-day window
    server.publish(calendar(far), '"v1"')

    calendars.calendar_sync(subscription=subscription)

    assert not busy(subscription)


def test_all_day_and_floating_times_are_read_in_the_resource_zone(clock, private_allowed, server, subscription):
    all_day = "BEGIN:VEVENT\nUID:off@x\nDTSTAMP:20270101T000000Z\nDTSTART;VALUE=DATE:20270328\nDTEND;VALUE=DATE:20270329\nEND:VEVENT"
    floating = "BEGIN:VEVENT\nUID:float@x\nDTSTAMP:20270101T000000Z\nDTSTART:20270330T090000\nDTEND:20270330T100000\nEND:VEVENT"
    server.publish(calendar(all_day, floating), '"v1"')

    calendars.calendar_sync(subscription=subscription)

    assert [(uid, s, e) for uid, _, s, e in busy(subscription)] == [
        ("off@x", utc(2027, 3, 27, 23), utc(2027, 3, 28, 22)),  # the 23-hour day of the change
        ("float@x", utc(2027, 3, 30, 7), utc(2027, 3, 30, 8)),
    ]


# --- SSRF rules ---------------------------------------------------------------------------------------


def test_a_loopback_source_is_refused_when_saved_and_again_when_fetched(clock, server, trainer, settings):
    with pytest.raises(ValidationError) as refused:
        calendars.calendar_subscription_create(by=SYSTEM, resource=trainer, url=server.url, name="Tom's calendar")
    assert "url" in refused.value.message_dict
    # Saved while private addresses were allowed (on-premise), fetched after they no longer are.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    subscription = calendars.calendar_subscription_create(by=SYSTEM, resource=trainer, url=server.url, name="Tom's calendar")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    assert calendars.calendar_sync(subscription=subscription) == "failed"

    subscription.refresh_from_db()
    # A plain-http loopback URL fails the first rule it meets (https only in production).
    assert subscription.last_error in ("Only https:// URLs are accepted.", "127.0.0.1 resolves to 127.0.0.1, a private, loopback or reserved address.")
    assert server.requests == []  # refused before connecting


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.216.34/cal.ics",
        "file:///etc/passwd",
        "http://10.1.2.3/cal.ics",
        "http://192.168.0.1/cal.ics",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/cal.ics",
        "http://[::ffff:127.0.0.1]/cal.ics",
        "http://0.0.0.0/cal.ics",
        "http://localhost/cal.ics",
    ],
)
def test_check_url_refuses_other_schemes_and_non_public_addresses(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(outbound.UnsafeAddress):
        outbound.check_url(url)


def test_check_url_accepts_a_public_address(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    checked = outbound.check_url("https://93.184.216.34:8443/a/cal.ics?key=1")
    assert (checked.scheme, checked.port, checked.target, checked.addresses) == ("https", 8443, "/a/cal.ics?key=1", ("93.184.216.34",))


# --- Schedule ----------------------------------------------------------------------------------------


def test_the_scheduled_sync_runs_once_per_interval(clock, private_allowed, server, subscription, settings):
    server.publish(calendar(WEEKLY), '"v1"')

    assert calendars.calendar_sync_due(subscription_id=subscription.pk) == "updated"
    assert calendars.calendar_sync_due(subscription_id=subscription.pk) == "skipped"  # a duplicate task

    subscription.refresh_from_db()
    assert subscription.next_sync_at == NOW + dt.timedelta(minutes=settings.CALENDAR_SYNC_MINUTES)
    assert len(server.requests) == 1


def test_a_new_subscription_is_enqueued_for_a_worker_that_can_defer(settings, trainer, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from scheduling.tasks import sync_calendar

    backend = sync_calendar.get_backend()
    backend.clear()
    with django_capture_on_commit_callbacks(execute=True):
        created = calendars.calendar_subscription_create(by=SYSTEM, resource=trainer, url="https://calendar.example.org/t.ics")

    (result,) = backend.results
    assert (result.task.func, result.args, result.task.run_after) == (sync_calendar.func, [created.pk], created.next_sync_at)


def test_sync_calendars_command_fetches_every_subscription_now(clock, private_allowed, server, subscription):
    server.publish(calendar(WEEKLY), '"v1"')
    out = StringIO()

    call_command("sync_calendars", stdout=out)

    assert out.getvalue().strip() == "updated=1 not_modified=0 failed=0"
    assert len(busy(subscription)) == 3


def test_deleting_a_subscription_removes_its_busy_times(clock, private_allowed, server, subscription):
    server.publish(calendar(WEEKLY), '"v1"')
    calendars.calendar_sync(subscription=subscription)

    calendars.calendar_subscription_delete(by=SYSTEM, subscription=subscription)

    assert not ScheduleException.objects.filter(kind=ExceptionKind.EXTERNAL).exists()


# --- API ---------------------------------------------------------------------------------------------

ROUTE = f"{API}/calendar_subscription/"


def test_manager_creates_a_subscription_with_read_only_sync_fields(manager, trainer):  # noqa: F811
    body = {"resource": trainer.pk, "url": "https://calendar.example.org/t.ics", "last_error": "x", "last_synced_at": "2027-01-01T00:00:00Z"}

    response = client_for(manager).post(ROUTE, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {
        "id": response.json()["id"],
        "resource": trainer.pk,
        "url": "https://calendar.example.org/t.ics",
        "name": "",
        "last_synced_at": None,
        "last_error": "",
    }
    assert CalendarSubscription.objects.get().last_error == ""


def test_a_subscription_url_must_be_http_or_https(manager, trainer):  # noqa: F811
    response = client_for(manager).post(ROUTE, {"resource": trainer.pk, "url": "ftp://calendar.example.org/t.ics"}, format="json")

    assert response.status_code == 400
    assert "url" in response.json()
    assert not CalendarSubscription.objects.exists()


def test_schedule_keeper_of_the_resource_may_subscribe_it_and_a_booker_may_not(booker, trainer):  # noqa: F811
    keeper = api_user(username="keeper")
    assign_perm("manage_schedule", keeper, trainer)
    other = ResourceFactory()
    body = {"resource": trainer.pk, "url": "https://calendar.example.org/t.ics"}

    assert client_for(keeper).post(ROUTE, body, format="json").status_code == 201
    assert client_for(keeper).post(ROUTE, {**body, "resource": other.pk}, format="json").status_code in (400, 403)
    assert client_for(booker).post(ROUTE, body, format="json").status_code == 403
    assert CalendarSubscription.objects.count() == 1


def test_bookers_and_viewers_do_not_see_subscriptions(booker, viewer, trainer):  # noqa: F811
    created = CalendarSubscription.objects.create(resource=trainer, url="https://calendar.example.org/secret-token.ics")

    for user in (booker, viewer):
        assert client_for(user).get(ROUTE).json()["results"] == []
        assert client_for(user).get(f"{ROUTE}{created.pk}/").status_code == 404


# --- Bounded work (a tiny hostile calendar must not pin a CPU) -----------------------------------------

MINUTELY = """BEGIN:VEVENT
UID:tick@x
DTSTAMP:20250101T000000Z
DTSTART:{start}
DTEND:{start}
RRULE:FREQ=MINUTELY
END:VEVENT"""
HALF_HOURLY_FREE = """BEGIN:VEVENT
UID:maybe@x
DTSTAMP:20270101T000000Z
DTSTART:20270319T000000Z
DTEND:20270319T001500Z
TRANSP:TRANSPARENT
RRULE:FREQ=HOURLY;BYMINUTE=0,30
END:VEVENT"""


def _fails_quickly_keeping_the_import(subscription, server, body, then=lambda: None) -> str:
    server.publish(calendar(WEEKLY), '"v1"')
    assert calendars.calendar_sync(subscription=subscription) == "updated"
    before = busy(subscription)
    assert before
    server.publish(body, '"v2"')
    then()
    began = time.monotonic()

    assert calendars.calendar_sync(subscription=subscription) == "failed"

    assert time.monotonic() - began < 10  # a behaviour bound: unbounded, this takes minutes
    assert busy(subscription) == before
    subscription.refresh_from_db()
    return subscription.last_error


@pytest.mark.slow
@pytest.mark.parametrize("start", ["20250101T000000Z", "19700101T000000Z"])
def test_a_rule_repeating_every_minute_since_long_ago_is_refused_quickly(clock, private_allowed, server, subscription, start):
    error = _fails_quickly_keeping_the_import(subscription, server, calendar(MINUTELY.format(start=start)))

    assert "repeats too often to expand" in error


def test_free_occurrences_count_against_the_cap(clock, private_allowed, server, subscription):
    # 2 × 24 × 182 transparent occurrences in the window: none busy, all walked.
    error = _fails_quickly_keeping_the_import(subscription, server, calendar(HALF_HOURLY_FREE))

    assert error == "The calendar has more than 5000 occurrences in the next 180 days."


def test_reading_a_calendar_is_bounded_in_time(clock, private_allowed, server, subscription, monkeypatch):
    no_time = lambda: monkeypatch.setattr(calendars, "PARSE_BUDGET_SECONDS", -1)  # noqa: E731

    error = _fails_quickly_keeping_the_import(subscription, server, calendar(WEEKLY, DENTIST), then=no_time)

    assert error == "The calendar took more than -1 seconds to read; nothing was changed."


def test_a_daily_rule_since_1970_is_still_read(clock, private_allowed, server, subscription):
    daily = DENTIST.replace("20270324T14", "19700101T14").replace("20270324T15", "19700101T15").replace("SUMMARY", "RRULE:FREQ=DAILY\nSUMMARY")
    server.publish(calendar(daily), '"v1"')

    assert calendars.calendar_sync(subscription=subscription) == "updated"

    assert len(busy(subscription)) == 181  # every day at 14:00 from 2027-03-19 to 2027-09-15

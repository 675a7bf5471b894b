"""Busy times in: calendar subscriptions and their sync into exceptions (docs/spec.md §16.3).

A subscription names an external ICS URL (a trainer's personal calendar). A sync fetches it under
the SSRF rules of `scheduling.outbound`, expands its recurring events inside a window, and keeps each
busy occurrence as a ScheduleException of kind `external`, updated in place by (UID, recurrence).
A failed sync records its error and changes no exception: what was imported keeps blocking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
import recurring_ical_events
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from scheduling import engine, permissions
from scheduling.models import CalendarSubscription, ExceptionKind, Resource, ScheduleException
from scheduling.outbound import FetchError, UnsafeAddress, http_get

logger = logging.getLogger(__name__)

SYNC_PAST = dt.timedelta(days=1)
SYNC_FUTURE = dt.timedelta(days=180)
MAX_OCCURRENCES = 5000
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 10
DEADLINE_SECONDS = 30
EDITABLE_FIELDS = ("resource", "url", "name")
# The expansion walks each rule from its DTSTART (dateutil cannot jump): a rule may need at most this
# many repetitions up to the window's end, all rules together, estimated before any is expanded.
MAX_RULE_REPETITIONS = 100_000
PARSE_BUDGET_SECONDS = 5  # wall clock for reading one calendar once fetched
EXPANSION_STEP = dt.timedelta(days=30)
_RULE_PERIOD_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400, "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
_RULE_SPREAD = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH")


class CalendarTooCostly(ValueError):
    """The calendar would take too long to expand; its message says why."""


@dataclass(frozen=True)
class Occurrence:
    uid: str
    recurrence: str  # "" for a single event
    start_at: dt.datetime
    end_at: dt.datetime


# --- Writes of the subscription itself --------------------------------------------------------------


def calendar_subscription_create(*, by, resource: Resource, url: str, name: str = "") -> CalendarSubscription:
    _require(permissions.can(by, "add", model=CalendarSubscription, resource=resource), f"You may not subscribe resource {resource.pk} to calendars.")
    subscription = CalendarSubscription(resource=resource, url=url, name=name, next_sync_at=timezone.now())
    subscription.full_clean()
    with transaction.atomic():
        subscription.save()
        _sync_later(subscription.pk, subscription.next_sync_at)
    return subscription


def calendar_subscription_update(*, by, subscription: CalendarSubscription, **changes) -> CalendarSubscription:
    """Change the resource, URL or name; a new URL is fetched afresh, a new resource takes the imported rows along."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not subscription fields: {', '.join(sorted(unknown))}")
    _require(permissions.can(by, "change", subscription), "You may not change this subscription.")
    target = changes.get("resource")
    if target is not None and target.pk != subscription.resource_id:
        _require(permissions.can(by, "add", model=CalendarSubscription, resource=target), f"You may not subscribe resource {target.pk} to calendars.")
    url_changed = "url" in changes and changes["url"] != subscription.url
    for name, value in changes.items():
        setattr(subscription, name, value)
    if url_changed:
        subscription.etag = subscription.last_modified = ""
        subscription.next_sync_at = timezone.now()
    subscription.full_clean()
    with transaction.atomic():
        subscription.save()
        subscription.exceptions.exclude(resource=subscription.resource_id).update(resource=subscription.resource_id)
        if url_changed:
            _sync_later(subscription.pk, subscription.next_sync_at)
    return subscription


def calendar_subscription_delete(*, by, subscription: CalendarSubscription) -> None:
    """Remove the subscription and the busy times it imported."""
    _require(permissions.can(by, "delete", subscription), "You may not delete this subscription.")
    subscription.delete()


# --- Sync ---------------------------------------------------------------------------------------------


def calendar_sync(*, subscription: CalendarSubscription, by=permissions.SYSTEM, now: dt.datetime | None = None) -> str:
    """Fetch and import one subscription now: "updated", "not_modified" or "failed" (the error is
    on the row). Never raises for a broken source."""
    _require(permissions.can(by, "change", subscription), "You may not sync this subscription.")
    now = now or timezone.now()
    headers = {}
    if subscription.etag:
        headers["If-None-Match"] = subscription.etag
    if subscription.last_modified:
        headers["If-Modified-Since"] = subscription.last_modified
    try:
        answer = http_get(subscription.url, headers=headers, timeout=TIMEOUT_SECONDS, deadline=DEADLINE_SECONDS, max_bytes=MAX_BYTES)
        if answer.status == 304:
            _record(subscription, last_synced_at=now, last_error="")
            return "not_modified"
        if answer.status != 200:
            raise FetchError(f"The server answered {answer.status}" + (" (redirects are not followed)." if 300 <= answer.status < 400 else "."))
        occurrences = parse_busy_times(answer.body, zone_name=subscription.resource.timezone, start=now - SYNC_PAST, end=now + SYNC_FUTURE)
    except (UnsafeAddress, FetchError, ValueError) as error:
        logger.info("Calendar subscription %s failed: %s", subscription.pk, error)
        _record(subscription, last_error=str(error)[:2000] or type(error).__name__)
        return "failed"
    with transaction.atomic():
        locked = CalendarSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
        if locked is None:
            return "failed"  # deleted while it was being fetched: nothing to keep
        _store(locked, occurrences, window_start=now - SYNC_PAST)
        _record(
            locked,
            last_synced_at=now,
            last_error="",
            etag=answer.headers.get("etag", "")[:255],
            last_modified=answer.headers.get("last-modified", "")[:64],
        )
    subscription.refresh_from_db()
    return "updated"


def calendars_sync_all(*, by=permissions.SYSTEM) -> dict[str, int]:
    """Sync every subscription now (`manage.py sync_calendars`); counts by outcome."""
    outcomes = {"updated": 0, "not_modified": 0, "failed": 0}
    interval = _interval()
    # Ids first: no cursor stays open across the fetches, which may take DEADLINE_SECONDS each.
    for pk in list(CalendarSubscription.objects.order_by("pk").values_list("pk", flat=True)):
        subscription = CalendarSubscription.objects.select_related("resource").filter(pk=pk).first()
        if subscription is None:
            continue  # deleted meanwhile
        outcomes[calendar_sync(subscription=subscription, by=by)] += 1
        CalendarSubscription.objects.filter(pk=pk).update(next_sync_at=timezone.now() + interval)
    return outcomes


def calendar_sync_due(*, subscription_id: int) -> str:
    """The worker's scheduled sync of one subscription: claim it if due, sync, plan the next run.

    The claim (next_sync_at <= now → now + interval, one UPDATE) makes a duplicate task a no-op,
    so the chain of tasks never multiplies.
    """
    now = timezone.now()
    following = now + _interval()
    claimed = CalendarSubscription.objects.filter(pk=subscription_id, next_sync_at__lte=now).update(next_sync_at=following)
    if not claimed:
        return "skipped"
    subscription = CalendarSubscription.objects.select_related("resource").get(pk=subscription_id)
    outcome = calendar_sync(subscription=subscription, now=now)
    _sync_later(subscription_id, following)
    return outcome


# --- Parsing ------------------------------------------------------------------------------------------


def parse_busy_times(body: bytes, *, zone_name: str, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """The busy occurrences of an ICS body that overlap [start, end).

    Floating times and all-day dates are read in `zone_name`; transparent and cancelled events are free.
    Raises ValueError for a body that is not a calendar, CalendarTooCostly (a ValueError) for one with
    more than MAX_OCCURRENCES occurrences in the window (free ones included), rules that repeat more
    than MAX_RULE_REPETITIONS times up to `end`, or one that takes longer than PARSE_BUDGET_SECONDS.
    """
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except Exception as error:  # noqa: BLE001 — the parser raises many kinds for hostile input
        raise ValueError(f"Not an iCalendar file: {error}") from error
    if calendar.name != "VCALENDAR":
        raise ValueError("Not an iCalendar file: no VCALENDAR.")
    began = time.monotonic()
    recurring = {str(e.get("UID", "")) for e in calendar.walk("VEVENT") if any(k in e for k in ("RRULE", "RDATE", "RECURRENCE-ID"))}
    found: list[Occurrence] = []
    iterated = 0  # every occurrence the expansion yields, busy or not, counts against the cap
    try:
        _check_rule_cost(calendar, zone_name, end, began)
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        step_start = start
        while step_start < end:
            # Steps of a month, not `query.after`: that asks for ever smaller spans (15 min), each
            # walking every rule again from its DTSTART.
            step_end = min(step_start + EXPANSION_STEP, end)
            for event in query.between(step_start, step_end):
                _within_budget(began)
                iterated += 1
                if iterated > MAX_OCCURRENCES:
                    raise CalendarTooCostly(f"The calendar has more than {MAX_OCCURRENCES} occurrences in the next {SYNC_FUTURE.days} days.")
                occurrence = _busy(event, recurring, zone_name, start, end)
                if occurrence is not None:
                    found.append(occurrence)
            step_start = step_end
    except CalendarTooCostly:
        raise
    except Exception as error:  # noqa: BLE001 — a malformed rule or date in the source
        raise ValueError(f"The calendar could not be read: {error}") from error
    unique: dict[tuple[str, str], Occurrence] = {}
    for occurrence in sorted(found, key=lambda o: (o.start_at, o.end_at, o.uid, o.recurrence)):
        unique.setdefault((occurrence.uid, occurrence.recurrence), occurrence)
    return list(unique.values())


def _within_budget(began: float) -> None:
    if time.monotonic() - began > PARSE_BUDGET_SECONDS:
        raise CalendarTooCostly(f"The calendar took more than {PARSE_BUDGET_SECONDS} seconds to read; nothing was changed.")


def _check_rule_cost(calendar, zone_name: str, end: dt.datetime, began: float) -> None:
    """Refuse, before expanding anything, rules that repeat too often since their DTSTART: an
    upper bound of the repetitions up to `end` (periods × the values of every BY… part)."""
    total = 0
    for event in calendar.walk("VEVENT"):
        _within_budget(began)
        rules = event.get("RRULE")
        if rules is None or event.get("DTSTART") is None:
            continue
        first = _utc(event.get("DTSTART").dt, zone_name)
        for rule in rules if isinstance(rules, list) else [rules]:
            freq = str((rule.get("FREQ") or [""])[0]).upper()
            if freq not in _RULE_PERIOD_SECONDS:
                continue  # not a rule recurring_ical_events expands: it skips the series
            interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
            last = end
            if rule.get("UNTIL"):
                last = min(last, _utc(rule.get("UNTIL")[0], zone_name))
            periods = max(0.0, (last - first).total_seconds()) / (_RULE_PERIOD_SECONDS[freq] * interval) + 1
            total += math.ceil(periods) * math.prod(len(rule.get(part) or [None]) for part in _RULE_SPREAD)
            if total > MAX_RULE_REPETITIONS:
                raise CalendarTooCostly(
                    f"A repeating event ({freq}, since {first:%Y-%m-%d}) repeats too often to expand: more than "
                    f"{MAX_RULE_REPETITIONS} repetitions from its start to the end of the window."
                )


def _busy(event, recurring: set[str], zone_name: str, start: dt.datetime, end: dt.datetime) -> Occurrence | None:
    start_at, end_at = _utc(event.get("DTSTART").dt, zone_name), _end_utc(event, zone_name)
    if start_at >= end or end_at <= start:
        return None
    if start_at >= end_at or str(event.get("TRANSP", "")).upper() == "TRANSPARENT" or str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    uid = _source_uid(event)
    recurrence = ""
    if str(event.get("UID", "")) in recurring and event.get("RECURRENCE-ID") is not None:
        recurrence = _stamp(event.get("RECURRENCE-ID").dt)
    return Occurrence(uid, recurrence, start_at, end_at)


def _utc(value, zone_name: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # floating: the resource's wall clock
            return engine.wall_span_to_utc(value, value + dt.timedelta(seconds=1), zone_name)[0][0]
        return value.astimezone(engine.UTC)
    return engine.whole_days_to_utc(value, value + dt.timedelta(days=1), zone_name)[0]


def _end_utc(event, zone_name: str) -> dt.datetime:
    value = event.get("DTEND").dt if event.get("DTEND") is not None else event.get("DTSTART").dt
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        # An all-day event ends at the start of its DTEND day (exclusive).
        return engine.whole_days_to_utc(value - dt.timedelta(days=1), value, zone_name)[1]
    return _utc(value, zone_name)


def _stamp(value) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(engine.UTC)
    return value.isoformat()[:64]


def _source_uid(event) -> str:
    uid = str(event.get("UID", ""))
    if uid and len(uid) <= 255:
        return uid
    # No UID, or one longer than the column: a stable digest stands for it.
    seed = uid or f"{event.get('DTSTART').to_ical()!r}|{event.get('SUMMARY', '')}"
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


# --- Internals ----------------------------------------------------------------------------------------


def _store(subscription: CalendarSubscription, occurrences: list[Occurrence], *, window_start: dt.datetime) -> None:
    """Make the subscription's rows that end after `window_start` match `occurrences`, in place."""
    reason = source_reason(subscription)
    existing = {(row.source_uid, row.source_recurrence): row for row in subscription.exceptions.filter(end_at__gt=window_start)}
    new, changed = [], []
    for occurrence in occurrences:
        row = existing.pop((occurrence.uid, occurrence.recurrence), None)
        if row is None:
            new.append(
                ScheduleException(
                    resource_id=subscription.resource_id,
                    subscription=subscription,
                    kind=ExceptionKind.EXTERNAL,
                    source_uid=occurrence.uid,
                    source_recurrence=occurrence.recurrence,
                    start_at=occurrence.start_at,
                    end_at=occurrence.end_at,
                    reason=reason,
                )
            )
        elif (row.start_at, row.end_at, row.reason) != (occurrence.start_at, occurrence.end_at, reason):
            row.start_at, row.end_at, row.reason = occurrence.start_at, occurrence.end_at, reason
            changed.append(row)
    ScheduleException.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    ScheduleException.objects.bulk_update(changed, ["start_at", "end_at", "reason"], batch_size=500)
    ScheduleException.objects.bulk_create(new, batch_size=500)


def source_reason(subscription: CalendarSubscription) -> str:
    """The reason an imported busy time shows in conflicts: it names its source."""
    source = subscription.name or urlsplit(subscription.url).hostname or subscription.url
    return f"Busy in {source}"[:200]


def _record(subscription: CalendarSubscription, **fields) -> None:
    CalendarSubscription.objects.filter(pk=subscription.pk).update(**fields)
    for name, value in fields.items():
        setattr(subscription, name, value)


def _interval() -> dt.timedelta:
    return dt.timedelta(minutes=settings.CALENDAR_SYNC_MINUTES)


def _sync_later(subscription_id: int, at: dt.datetime) -> None:
    """Enqueue the scheduled sync after commit, where the task backend can run it later (the
    database worker). The immediate backend would fetch inside the request: there, the cron-run
    `sync_calendars` does the fetching."""
    from scheduling.tasks import sync_calendar

    if not sync_calendar.get_backend().supports_defer:
        return
    transaction.on_commit(lambda: sync_calendar.using(run_after=at).enqueue(subscription_id), robust=True)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)

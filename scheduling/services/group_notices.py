"""The e-mail notices of groups and series (docs/spec.md §14): one message per event, not one per part.

A group's notice names all its resources; a series' notice carries one VEVENT with the RRULE and an
EXDATE for every skipped or detached date; an occurrence changed on its own (detached) is announced
as that occurrence, the series' UID with its RECURRENCE-ID (a CANCEL for that date only). Each
notice is an outbox row like a booking's (scheduling.services.notifications), attached to a part
that the event just changed, so the outbox's one-notice-per-booking-and-event rule holds.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import icalendar
from django.utils import timezone

from scheduling.models import Booking, BookingGroup, BookingSeries, BookingStatus, Notification, NotificationEvent
from scheduling.services import notifications
from scheduling.services.notifications import ICS_STATUS, SUBJECT_TITLES, RenderedNotice

CREATED, CONFIRMED, CANCELLED = NotificationEvent.CREATED, NotificationEvent.CONFIRMED, NotificationEvent.CANCELLED


def event_of_status(status: str) -> str | None:
    return notifications.EVENT_OF_STATUS.get(status)


def part_saved(*, booking: Booking, created: bool, update_fields) -> None:
    """The post_save of a part: parts of a group never notify alone (the group does); an occurrence of
    a single-resource series does once it is detached, as that occurrence."""
    if booking.group_id is not None or not booking.detached or created:
        return
    event = notifications.booking_event(created=False, update_fields=update_fields, status=booking.status)
    if event is not None:
        occurrence_notice_record(parts=[booking], event=event)


def group_notice_record(*, group: BookingGroup, event: str | None) -> None:
    if event is None:
        return
    parts = list(group.parts.select_related("resource__owner", "customer").order_by("resource__name", "id"))
    if group.series_id is not None:
        if parts and parts[0].detached:
            occurrence_notice_record(parts=parts, event=event)
        return  # an occurrence of a series is announced by the series
    _store(parts, event, summary=_names(parts), uid=f"group-{group.pk}", rule=None, scope=Notification.objects.filter(booking__group=group))


def occurrence_notice_record(*, parts: list[Booking], event: str) -> None:
    """One occurrence of a series, changed alone: the series' UID, its RECURRENCE-ID."""
    series = parts[0].series
    _store(
        parts, event, summary=_names(parts), uid=f"series-{series.pk}", rule=None, recurrence_id=parts[0].recurrence_id,
        scope=Notification.objects.filter(booking__series=series),
    )  # fmt: skip


def series_notice_record(*, series: BookingSeries, event: str, anchor: Booking | None, since: dt.datetime | None = None) -> None:
    """The series as one event: RRULE from the first occurrence, EXDATE for skipped and detached dates.

    Attached to `anchor`, a part the event just wrote or changed (nothing to say without one)."""
    if anchor is None:
        return
    occurrences = Booking.objects.filter(series=series)
    first_start = occurrences.order_by("recurrence_id").values_list("recurrence_id", flat=True).first()
    first = list(occurrences.filter(recurrence_id=first_start).select_related("resource__owner", "customer").order_by("resource__name", "id"))
    # Left out when asked, detached since (both in `exdates`), skipped for a conflict.
    exdates = sorted({dt.datetime.fromisoformat(s) for s in [*series_exception_dates(series), *series.skipped]})
    rule = series.rrule
    if event == CANCELLED and since is not None and since > series.start_at:
        # This and the following: the series is announced again, ending before `since`.
        rule, event = _rule_until(rule, since - dt.timedelta(seconds=1)), CONFIRMED
    _store(
        first, event, summary=_names(first), uid=f"series-{series.pk}", rule=rule, exdates=exdates, anchor=anchor,
        zone=first[0].resource.zone, scope=Notification.objects.filter(booking__series=series),
    )  # fmt: skip


def series_exception_dates(series):
    from scheduling.services.series import series_exception_dates  # series imports this module

    return series_exception_dates(series)


def _rule_until(rule: str, until: dt.datetime) -> str:
    from scheduling.services.series import rule_parts

    parts = rule_parts(rule)
    parts.pop("COUNT", None)
    parts["UNTIL"] = until.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return ";".join(f"{k}={v}" for k, v in parts.items())


def _names(parts: list[Booking]) -> str:
    return ", ".join(p.resource.name for p in sorted(parts, key=lambda p: (p.resource.name, p.pk)))


def _store(parts, event, *, summary, uid, rule, scope, exdates=(), recurrence_id=None, anchor=None, zone=None) -> None:
    """One notice for `parts`, attached to `anchor`; its SEQUENCE follows the notices in `scope`,
    those that share its UID, so each supersedes the last."""
    first = parts[0]
    anchor = anchor or first
    recipients = _recipients(parts)
    if not recipients:
        return
    zone = zone or first.resource.zone
    local = first.start_at.astimezone(zone)
    when = f"{local:%a} {local.day} {local:%b %Y %H:%M}"
    subject = f"{SUBJECT_TITLES[event]}: {summary}, {when}" + (" (repeating)" if rule else "")
    lines = [f"{SUBJECT_TITLES[event]}.", f"Resources: {summary}", f"When: {when} ({zone.key})", f"Customer: {first.customer.name}"]
    if rule:
        lines.append(f"Repeats: {rule}")
    if exdates:
        lines.append("Except: " + ", ".join(f"{d.astimezone(zone):%Y-%m-%d %H:%M}" for d in exdates))
    text = "\n".join(lines) + "\n"
    sequence = notifications.next_sequence(anchor, event, scope=scope)
    ics = _ics(first, event, recipients, summary=summary, uid=uid, rule=rule, exdates=exdates, recurrence_id=recurrence_id, zone=zone, sequence=sequence)
    rendered = RenderedNotice(subject=subject, text_body=text, html_body=f"<pre>{escape(text)}</pre>", ics=ics)
    notifications.notification_store(booking=anchor, event=event, recipients=recipients, rendered=rendered, sequence=sequence)


def _recipients(parts: list[Booking]) -> list[str]:
    seen: list[str] = []
    for part in parts:
        for address in notifications.booking_recipients(part):
            if address.lower() not in {s.lower() for s in seen}:
                seen.append(address)
    return seen


def _ics(first, event, recipients, *, summary, uid, rule, exdates, recurrence_id, zone, sequence) -> str:
    domain = notifications._from_address().rpartition("@")[2] or "localhost"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//scheduling back-office//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event == CANCELLED else "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", f"{uid}@{domain}")
    vevent.add("dtstamp", timezone.now())
    # Local times with the zone: the RRULE repeats the wall-clock time, as the series does.
    vevent.add("dtstart", first.start_at.astimezone(zone))
    vevent.add("dtend", first.end_at.astimezone(zone))
    if rule:
        vevent.add("rrule", icalendar.vRecur.from_ical(rule))
        if exdates:
            vevent.add("exdate", [moment.astimezone(zone) for moment in exdates])
    if recurrence_id is not None:
        vevent.add("recurrence-id", recurrence_id.astimezone(zone))
    vevent.add("sequence", sequence)
    vevent.add("status", ICS_STATUS.get(first.status, "CONFIRMED"))
    vevent.add("summary", summary)
    vevent.add("organizer", icalendar.vCalAddress(f"mailto:{notifications._from_address()}"))
    for address in recipients:
        vevent.add("attendee", icalendar.vCalAddress(f"mailto:{address}"))
    calendar.add_component(vevent)
    return calendar.to_ical().decode()

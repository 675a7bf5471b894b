"""Classes with seats and a waiting line (docs/spec.md §17.4).

A Session holds its resource(s) with ordinary bookings (`session` set, no customer), decided by the
booking service's own decision under locks on the resources, so conflicts, policies and the exclusion
constraint apply. Attendance writes of one session take turns on the Session row (PostgreSQL:
SELECT … FOR UPDATE; SQLite: BEGIN IMMEDIATE), and the seat constraints of `Attendance` make an
oversold session impossible whatever the code does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from html import escape

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from scheduling import permissions
from scheduling.models import (
    ACTIVE_ATTENDANCE,
    SEAT_HOLDING,
    Attendance,
    AttendanceStatus,
    Booking,
    BookingStatus,
    Customer,
    Notification,
    NotificationEvent,
    Resource,
    Session,
    SessionStatus,
)
from scheduling.services import bookings as booking_service
from scheduling.services import group_notices, notifications
from scheduling.services.availability import conflicts_by_interval, validate_interval
from scheduling.services.errors import SessionRefused
from scheduling.services.groups import decide_parts, lock_resources, validate_resources, write_parts

logger = logging.getLogger(__name__)

DEFAULT_OFFER_HOLD = 60


# --- Sessions ---------------------------------------------------------------------------------------


def session_create(
    *,
    by,
    resources: Sequence[Resource],
    start_at: dt.datetime,
    end_at: dt.datetime,
    seats: int,
    title: str,
    rrule: str | None = None,
    exdates: Sequence = (),
) -> list[Session]:
    """One session, or one per occurrence of `rrule`; all or nothing (GroupConflict names each part)."""
    from scheduling.services.series import occurrence_starts, parse_exdates

    resources = validate_resources(resources, minimum=1)
    start, end = validate_interval(start_at, end_at)
    if rrule:
        starts, _ = occurrence_starts(rrule, start, resources[0].zone, parse_exdates(list(exdates)))
    else:
        starts = [start]
    duration = end - start
    with transaction.atomic():
        resources = lock_resources(resources)
        intervals = [(s, s + duration) for s in starts]
        found = conflicts_by_interval(resources, intervals)
        sessions, planned = [], []
        for i, (s, e) in enumerate(intervals):
            session = Session(title=title, start_at=s, end_at=e, seats=seats, created_by=permissions.user_or_none(by))
            session.full_clean(exclude=["created_by"])
            session.save()
            parts = []
            for resource in resources:
                part = booking_service._new_booking(
                    by, {"resource": resource, "start_at": s, "end_at": e, "notes": title}, BookingStatus.CONFIRMED
                )
                part.session = session
                parts.append(part)
            planned.append([(p, found[p.resource_id][i]) for p in parts])
            sessions.append(session)
        for parts in planned:
            decide_parts(by, parts)
        write_parts([p for parts in planned for p, _ in parts])
    return sessions


def session_cancel(*, by, session: Session) -> Session:
    """Cancel the session's bookings (the booking service's decision per part) and tell each attendee once."""
    with transaction.atomic():
        current = _lock_session(session.pk)
        if current.status == SessionStatus.CANCELLED:
            raise SessionRefused("The session is cancelled already.")
        parts = list(current.bookings.select_for_update().order_by("resource_id"))
        locked = {r.pk: r for r in lock_resources([p.resource for p in parts])}
        saves = []
        for part in parts:
            part.resource = locked[part.resource_id]
            if not part.occupies:
                continue
            saves.append((part, booking_service._decide_edit(by, part, {}, BookingStatus.CANCELLED, step=True)))
        for part, changed in saves:
            part.save(update_fields=[*changed, "updated_at"])
        current.status = SessionStatus.CANCELLED
        current.save(update_fields=["status"])
        attendees = list(current.attendances.filter(status__in=ACTIVE_ATTENDANCE).select_related("customer").order_by("id"))
        for attendance in attendees:
            attendance.status = AttendanceStatus.CANCELLED
            attendance.seat = None
            attendance.offer_expires_at = None
            attendance.save(update_fields=["status", "seat", "offer_expires_at", "updated_at"])
            _attendee_notice(current, attendance, NotificationEvent.CANCELLED)
    session.status = current.status
    return session


# --- Attendance -------------------------------------------------------------------------------------


def attend(*, by, session: Session, customer: Customer) -> Attendance:
    """A seat while one is free, else a ticket in the line; 409 when already booked, waiting or offered."""
    _require_rights(by, session, customer)
    try:
        with transaction.atomic():
            current = _lock_session(session.pk)
            if current.status != SessionStatus.SCHEDULED:
                raise SessionRefused("The session is cancelled.")
            if current.attendances.filter(customer=customer, status__in=ACTIVE_ATTENDANCE).exists():
                raise SessionRefused(f"Customer {customer.pk} already attends this session (booked, waiting or offered).")
            attendance = Attendance(session=current, customer=customer, seats=current.seats)
            seat = _free_seat(current)
            if seat is not None:
                attendance.status, attendance.seat = AttendanceStatus.BOOKED, seat
            else:
                last = current.attendances.aggregate(last=Max("position"))["last"] or 0
                attendance.status, attendance.position = AttendanceStatus.WAITLISTED, last + 1
            attendance.save()
    except IntegrityError as error:
        # Only a writer that bypassed the lock could get here; its row won.
        logger.info("Attendance refused by a constraint: %s", error)
        raise SessionRefused(f"Customer {customer.pk} already attends this session, or no seat is left.") from error
    return attendance


def leave(*, by, session: Session, customer: Customer) -> Attendance:
    """Give up a seat, an offer or a place in line; a freed seat is offered to the first in line."""
    _require_rights(by, session, customer)
    with transaction.atomic():
        current = _lock_session(session.pk)
        attendance = current.attendances.filter(customer=customer, status__in=ACTIVE_ATTENDANCE).first()
        if attendance is None:
            raise Attendance.DoesNotExist(f"Customer {customer.pk} does not attend this session.")
        freed = attendance.seat
        attendance.status, attendance.seat, attendance.offer_expires_at = AttendanceStatus.LEFT, None, None
        attendance.save(update_fields=["status", "seat", "offer_expires_at", "updated_at"])
        if freed is not None:
            _offer_next(current, freed)
    return attendance


def accept(*, by, session: Session, customer: Customer) -> Attendance:
    """Take an offered seat before the offer runs out."""
    _require_rights(by, session, customer)
    with transaction.atomic():
        current = _lock_session(session.pk)
        attendance = current.attendances.filter(customer=customer, status=AttendanceStatus.OFFERED).first()
        if attendance is None:
            raise SessionRefused(f"Customer {customer.pk} has no seat offered in this session.")
        if attendance.offer_expires_at <= timezone.now():
            raise SessionRefused("The offer has expired.")
        attendance.status, attendance.offer_expires_at = AttendanceStatus.BOOKED, None
        attendance.save(update_fields=["status", "offer_expires_at", "updated_at"])
    return attendance


def place_in_line(attendance: Attendance) -> int | None:
    """The rank among those still waiting (1 = next), or None when not waiting."""
    if attendance.status != AttendanceStatus.WAITLISTED:
        return None
    ahead = Attendance.objects.filter(session_id=attendance.session_id, status=AttendanceStatus.WAITLISTED, position__lt=attendance.position)
    return ahead.count() + 1


def fill(session: Session) -> tuple[int, int]:
    """(seats held, people waiting)."""
    rows = Attendance.objects.filter(session=session)
    return rows.filter(status__in=SEAT_HOLDING).count(), rows.filter(status=AttendanceStatus.WAITLISTED).count()


# --- Offers and their expiry ------------------------------------------------------------------------


def offers_expired(now: dt.datetime | None = None):
    return Attendance.objects.filter(status=AttendanceStatus.OFFERED, offer_expires_at__lte=now or timezone.now())


def offer_expire(*, attendance_id: int) -> bool:
    """Expire one offer past its time and pass the seat on; False when it is no longer due.

    Safe with several workers: the session row is locked and the offer read again under the lock,
    so each offer is expired, passed on and e-mailed once.
    """
    session_id = Attendance.objects.filter(pk=attendance_id).values_list("session_id", flat=True).first()
    if session_id is None:
        return False
    with transaction.atomic():
        session = _lock_session(session_id)
        attendance = offers_expired().filter(pk=attendance_id).first()
        if attendance is None:
            return False
        freed = attendance.seat
        attendance.status, attendance.seat, attendance.offer_expires_at = AttendanceStatus.EXPIRED, None, None
        attendance.save(update_fields=["status", "seat", "offer_expires_at", "updated_at"])
        _offer_next(session, freed)
    return True


def offers_expire_due(*, limit: int | None = None) -> int:
    """Expire every offer past its time: the cron safety net of the worker."""
    due = offers_expired().order_by("offer_expires_at", "id").values_list("pk", flat=True)
    return sum(offer_expire(attendance_id=pk) for pk in list(due[:limit] if limit else due))


def offer_hold_minutes(session: Session) -> int:
    holds = [b.resource.type.offer_hold for b in session.bookings.select_related("resource__type")]
    return min(holds) if holds else DEFAULT_OFFER_HOLD


def _offer_next(session: Session, seat: int) -> Attendance | None:
    """Offer `seat` to the first in line (under the session's lock), e-mail them, plan the expiry."""
    from scheduling.tasks import schedule_offer_expiry

    if session.status != SessionStatus.SCHEDULED:
        return None
    nxt = session.attendances.filter(status=AttendanceStatus.WAITLISTED).order_by("position").select_related("customer").first()
    if nxt is None:
        return None
    nxt.status, nxt.seat = AttendanceStatus.OFFERED, seat
    nxt.offer_expires_at = timezone.now() + dt.timedelta(minutes=offer_hold_minutes(session))
    nxt.save(update_fields=["status", "seat", "offer_expires_at", "updated_at"])
    _attendee_notice(session, nxt, NotificationEvent.OFFERED)
    schedule_offer_expiry(nxt.pk, nxt.offer_expires_at)
    return nxt


# --- E-mails ---------------------------------------------------------------------------------------


def _attendee_notice(session: Session, attendance: Attendance, event: str) -> Notification | None:
    """One outbox e-mail to an attendee, attached to the session's first booking (UNIQUE per attendance and event)."""
    email = attendance.customer.email
    anchor = session.bookings.select_related("resource").order_by("resource_id").first()
    if not email or anchor is None:
        return None
    zone = anchor.resource.zone
    local = session.start_at.astimezone(zone)
    when = f"{local:%a} {local.day} {local:%b %Y %H:%M}"
    if event == NotificationEvent.OFFERED:
        until = attendance.offer_expires_at.astimezone(zone)
        title = "A seat is free for you"
        lines = [f"{title}: {session.title}.", f"When: {when} ({zone.key})", f"Take it before {until:%Y-%m-%d %H:%M} ({zone.key}), or it passes to the next in line."]
    else:
        title = "Class cancelled"
        lines = [f"{title}: {session.title}.", f"When: {when} ({zone.key})"]
    text = "\n".join([*lines, f"Customer: {attendance.customer.name}"]) + "\n"
    scope = Notification.objects.filter(booking=anchor)
    sequence = notifications.next_sequence(anchor, event, scope=scope)
    ics = group_notices._ics(
        anchor, event, [email], summary=session.title, uid=f"session-{session.pk}-{attendance.pk}", rule=None, exdates=(),
        recurrence_id=None, zone=zone, sequence=sequence,
    )  # fmt: skip
    rendered = notifications.RenderedNotice(subject=f"{title}: {session.title}, {when}", text_body=text, html_body=f"<pre>{escape(text)}</pre>", ics=ics)
    return notifications.notification_store(
        booking=anchor, event=event, recipients=[email], rendered=rendered, sequence=sequence, attendance=attendance
    )


# --- Internals -------------------------------------------------------------------------------------


def _lock_session(session_id: int) -> Session:
    return Session.objects.select_for_update().get(pk=session_id)


def _free_seat(session: Session) -> int | None:
    taken = set(session.attendances.filter(status__in=SEAT_HOLDING).values_list("seat", flat=True))
    if len(taken) >= session.seats:
        return None
    return next(n for n in range(1, session.seats + 1) if n not in taken)


def _require_rights(by, session: Session, customer: Customer) -> None:
    """Attending is booking a place: the right to book the session's resources, and for the customer."""
    for booking in session.bookings.select_related("resource"):
        if not permissions.can(by, "add", model=Booking, resource=booking.resource):
            raise PermissionDenied(f"You may not book resource {booking.resource_id}.")
    booking_service._require_customer(by, customer)


def session_resources(session: Session) -> list[int]:
    return sorted(session.bookings.values_list("resource_id", flat=True))


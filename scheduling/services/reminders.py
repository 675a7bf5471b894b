"""Reminder e-mails through the outbox (docs/spec.md §15.3).

`booking_reminders_plan` writes one `Reminder` row per entry of the type's `reminder_before`, due
that many minutes before the start, in the booking's own transaction; a move re-plans them.
`reminder_deliver` sends a due one through `scheduling.services.outbox` (one worker, retries),
rendered as the booking is then: late after an outage while the booking has not started, skipped
once it has, and never for a booking that no longer holds its time (cancelled).
"""

from __future__ import annotations

import datetime as dt

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from scheduling.models import Booking, NotificationState, Reminder
from scheduling.services import outbox

# A save naming one of these changes when (or in which zone, on which type) the booking starts.
PLANNING_FIELDS = frozenset({"start_at", "resource"})
STARTED = "the booking had started"
CANCELLED = "the booking is cancelled"
NO_ADDRESS = "the customer has no e-mail address"


def booking_needs_reminder_plan(*, created: bool, update_fields) -> bool:
    """Read from the save like the other events: a new booking, or a save that moved it."""
    return created or (update_fields is not None and bool(PLANNING_FIELDS & set(update_fields)))


def booking_reminders_plan(*, booking: Booking, created: bool) -> list[Reminder]:
    """(Re)plan the booking's reminders in the current transaction; the rows now pending.

    A due time already past is not planned (nor re-planned): a booking made an hour ahead gets no
    "a day before" reminder, and a row left from before keeps its state.
    """
    offsets = booking.resource.type.reminder_before or []
    if offsets and booking.group_id is not None and not _leads_its_group(booking):
        return []  # a group is reminded once, through its first part (docs/spec.md §15.3)
    now = timezone.now()
    existing = {} if created else {r.minutes_before: r for r in Reminder.objects.filter(booking=booking)}
    planned = []
    for minutes in offsets:
        due_at = booking.start_at - dt.timedelta(minutes=minutes)
        if due_at <= now:
            continue
        row = existing.get(minutes)
        if row is None:
            row = Reminder.objects.create(booking=booking, minutes_before=minutes, next_attempt_at=due_at)
        else:
            outbox.reset(row, due_at=due_at)
            Reminder.objects.filter(pk=row.pk).update(skipped="", sent_at=None)
        planned.append(row)
        _deliver_at(row.pk, due_at)
    # Offsets the type no longer has: what was not sent yet is dropped.
    stale = [r.pk for m, r in existing.items() if m not in offsets and r.state != NotificationState.SENT]
    Reminder.objects.filter(pk__in=stale).delete()
    return planned


def _leads_its_group(booking: Booking) -> bool:
    """Is this the part of its group on the resource with the lowest id?"""
    return Booking.objects.filter(group_id=booking.group_id).order_by("resource_id").values_list("pk", flat=True).first() == booking.pk


def reminder_deliver(*, reminder_id: int) -> str:
    from scheduling.tasks import deliver_reminder

    return outbox.deliver(Reminder, reminder_id, _send, task=deliver_reminder)


def reminders_deliver_due(*, limit: int | None = None) -> dict[str, int]:
    return outbox.deliver_due(Reminder, lambda pk: reminder_deliver(reminder_id=pk), limit=limit)


def _deliver_at(reminder_id: int, due_at: dt.datetime) -> None:
    # A backend that can defer (django_tasks_db) sends at the due time; otherwise the cron run of
    # `send_notifications` does. A task left from an earlier plan finds the row not due and skips.
    from scheduling.tasks import deliver_reminder

    outbox.retry_later_after_commit(deliver_reminder, reminder_id, due_at)


def _send(reminder: Reminder) -> dict:
    booking = Booking.objects.select_related("resource", "customer").get(pk=reminder.booking_id)
    if not booking.occupies:
        return {"skipped": CANCELLED}
    if booking.start_at <= timezone.now():
        return {"skipped": STARTED}
    if not booking.customer.email:
        return {"skipped": NO_ADDRESS}
    resource = booking.resource
    context = {"booking": booking, "resource": resource, "event": "reminder", "zone": resource.timezone}
    with timezone.override(resource.zone):
        local_start = timezone.localtime(booking.start_at)
        subject = f"Reminder: {resource.name}, {local_start:%a} {local_start.day} {local_start:%b %Y %H:%M}"
        message = EmailMultiAlternatives(
            subject=subject, body=render_to_string("scheduling/email/reminder.txt", context), to=[booking.customer.email]
        )
        message.attach_alternative(render_to_string("scheduling/email/reminder.html", context), "text/html")
    message.send()
    return {"skipped": ""}

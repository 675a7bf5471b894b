"""Admin: the front desk's home page, "Today" (docs/spec.md §12.2) — what needs doing now.

Today's bookings per resource in time order, bookings waiting for confirmation and notices that
failed to send, each list bounded and filtered by the permission layer; Django's list of models
follows on the same page, so the admin index stays where it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from scheduling.models import Booking, BookingStatus, Notification, NotificationState, Resource
from scheduling.permissions import can, can_view_reports, restrict

TODAY_LIMIT = 200  # bookings shown for today; the list link shows the rest
WAITING_LIMIT = 20
FAILED_LIMIT = 20


@dataclass
class ResourceDay:
    resource: Resource
    bookings: list[Booking] = field(default_factory=list)


def today_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight to the next local midnight, in the current zone (23 or 25 hours on DST days)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def front_desk(user) -> dict:
    """The context of the Today page for `user` (a fixed number of queries)."""
    context: dict = {"today": timezone.localdate(), "show_bookings": can(user, "view", model=Booking)}
    context["show_reports"] = can_view_reports(user)
    context["show_calendar"] = can(user, "view", model=Resource)
    context["show_outbox"] = can(user, "view", model=Notification)
    if context["show_bookings"]:
        start, end = today_bounds(context["today"])
        visible = restrict(user, Booking.objects.all()).select_related("resource", "customer")
        todays = list(visible.filter(start_at__lt=end, end_at__gt=start).order_by("resource__name", "resource_id", "start_at", "id")[: TODAY_LIMIT + 1])
        context["today_more"] = len(todays) > TODAY_LIMIT
        days: dict[int, ResourceDay] = {}
        for booking in todays[:TODAY_LIMIT]:
            days.setdefault(booking.resource_id, ResourceDay(booking.resource)).bookings.append(booking)
        context["resource_days"] = list(days.values())
        waiting = visible.filter(status=BookingStatus.PENDING, end_at__gt=timezone.now()).order_by("start_at", "id")
        context["waiting"] = list(waiting[:WAITING_LIMIT])
        context["waiting_more"] = len(context["waiting"]) == WAITING_LIMIT
    if context["show_outbox"]:
        failed = restrict(user, Notification.objects.filter(state=NotificationState.FAILED)).order_by("-updated_at", "-id")
        context["failed"] = list(failed[:FAILED_LIMIT])
    return context

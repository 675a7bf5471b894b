"""Calendar feeds out: a resource's busy times as a secret ICS URL (docs/spec.md §16.2).

The token is 256 random bits. It is kept so that a manager can be shown the URL again, and found
by its SHA-256 digest, so that the index lookup's timing tells nothing about the token; rotating
replaces it (the old URL is 404 at once), revoking deletes the feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import icalendar
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from scheduling import permissions, selectors
from scheduling.models import Booking, BookingStatus, Resource, ResourceFeed, ScheduleException
from scheduling.services.notifications import booking_uid, mail_domain

FEED_PAST = dt.timedelta(days=31)
FEED_FUTURE = dt.timedelta(days=366)
MAX_EVENTS = 5000
BUSY = "Busy"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resource_feed(*, by, resource: Resource) -> ResourceFeed:
    """The resource's feed, made on first ask (a manager's: change on the resource)."""
    _require_manager(by, resource)
    feed = ResourceFeed.objects.filter(resource=resource).first()
    return feed or resource_feed_rotate(by=by, resource=resource)


def resource_feed_rotate(*, by, resource: Resource, details: bool | None = None) -> ResourceFeed:
    """A new token for the resource's feed (the old URL stops at once); `details` changed if given."""
    _require_manager(by, resource)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = ResourceFeed.objects.select_for_update().filter(resource=resource).first() or ResourceFeed(resource=resource)
        feed.token, feed.token_digest = token, token_digest(token)
        if details is not None:
            feed.details = details
        feed.save()
    return feed


def resource_feed_set_details(*, by, feed: ResourceFeed, details: bool) -> ResourceFeed:
    _require_manager(by, feed.resource)
    ResourceFeed.objects.filter(pk=feed.pk).update(details=details)
    feed.details = details
    return feed


def resource_feed_revoke(*, by, feed: ResourceFeed) -> None:
    """Delete the feed: its URL is 404 until a manager asks for a new one."""
    _require_manager(by, feed.resource)
    feed.delete()


def feed_by_token(token: str) -> ResourceFeed | None:
    feed = ResourceFeed.objects.select_related("resource").filter(token_digest=token_digest(token)).first()
    # The digest matched; comparing the tokens themselves costs nothing and guards a digest collision.
    return feed if feed is not None and secrets.compare_digest(feed.token, token) else None


def feed_ics(feed: ResourceFeed, *, now: dt.datetime | None = None) -> bytes:
    """The feed's calendar: occupying bookings and exceptions of [now − 31 d, now + 366 d), at most MAX_EVENTS."""
    now = now or timezone.now()
    resource = feed.resource
    start, end = now - FEED_PAST, now + FEED_FUTURE
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Scheduling back-office//Resource feed//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", resource.name)
    # How often subscribers should look again (Apple, Outlook; Google decides for itself).
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    bookings = selectors.overlapping_bookings([resource.pk], start, end).select_related("customer").order_by("start_at", "id")[:MAX_EVENTS]
    exceptions = ScheduleException.objects.filter(resource=resource, end_at__gt=start, start_at__lt=end).order_by("start_at", "id")[:MAX_EVENTS]
    events = sorted([*map(_booking_event(feed.details), bookings), *map(_exception_event(feed.details), exceptions)], key=lambda e: e.DTSTART)
    for event in events[:MAX_EVENTS]:
        calendar.add_component(event)
    return calendar.to_ical()


def _booking_event(details: bool):
    def event(booking: Booking) -> icalendar.Event:
        summary, description = (booking.who, booking.notes) if details else (BUSY, "")
        vevent = _event(booking_uid(booking), booking.start_at, booking.end_at, booking.updated_at, summary, description)
        vevent.add("status", "TENTATIVE" if booking.status == BookingStatus.PENDING else "CONFIRMED")
        return vevent

    return event


def _exception_event(details: bool):
    def event(exception: ScheduleException) -> icalendar.Event:
        summary = (exception.reason or BUSY) if details else BUSY
        return _event(f"exception-{exception.pk}@{mail_domain()}", exception.start_at, exception.end_at, None, summary, "")

    return event


def _event(uid: str, start, end, stamp, summary: str, description: str) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", stamp or timezone.now())
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", summary)
    if description:
        vevent.add("description", description)
    vevent.add("transp", "OPAQUE")
    return vevent


def _require_manager(by, resource: Resource) -> None:
    if not permissions.can(by, "change", resource):
        raise PermissionDenied(f"Only a manager may see or change the feed of resource {resource.pk}.")

"""Questions about time: is a resource free, when is it free, which resources of a type are free.

These read a constant number of queries (see selectors.py) and leave the arithmetic to the pure
engine. Bad input raises `ValidationError` naming the field, as docs/spec.md §2.3 says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from bisect import bisect_left
from itertools import islice

from django.core.exceptions import ValidationError

from scheduling import engine, selectors
from scheduling.engine import Conflict
from scheduling.models import Resource, ResourceType
from scheduling.permissions import restrict

MAX_CHECK_SPAN = dt.timedelta(days=366)
MAX_SLOT_WINDOW = dt.timedelta(days=62)
# The engine works a day either side of an interval in local time: the first and last years of the
# calendar would overflow Python's datetime there.
# The finest grid offered: 62 days at 5 minutes are 17,856 starts; at 1 minute they were 89,280.
MIN_SLOT_STEP = dt.timedelta(minutes=5)
MIN_YEAR, MAX_YEAR = 2, 9998
NAIVE_MESSAGE = "The datetime has no time zone offset; send ISO 8601 with an offset, e.g. 2026-01-05T09:00:00+01:00."
RANGE_MESSAGE = f"The datetime must lie between the years {MIN_YEAR} and {MAX_YEAR} (UTC)."


@dataclass(frozen=True)
class AvailabilityResult:
    available: bool
    conflicts: list[Conflict]


def validate_interval(
    start_at: dt.datetime,
    end_at: dt.datetime,
    *,
    max_span: dt.timedelta = MAX_CHECK_SPAN,
    names: tuple[str, str] = ("start_at", "end_at"),
) -> engine.Interval:
    """The one interval rule of every channel: aware datetimes, end after start, at most `max_span`
    long, inside the years MIN_YEAR–MAX_YEAR (UTC). Returns the pair in UTC; raises ValidationError
    naming the field."""
    start_name, end_name = names
    errors = {}
    for name, value in ((start_name, start_at), (end_name, end_at)):
        if not isinstance(value, dt.datetime):
            errors[name] = "A datetime is required."
        elif value.tzinfo is None or value.utcoffset() is None:
            errors[name] = NAIVE_MESSAGE
    if errors:
        raise ValidationError(errors)
    if end_at <= start_at:
        raise ValidationError({end_name: f"The end ({end_name}) must be after the start ({start_name})."})
    if end_at - start_at > max_span:
        raise ValidationError({end_name: f"The interval may be at most {max_span.days} days long."})
    utc = []
    for name, value in ((start_name, start_at), (end_name, end_at)):
        # Working hours are looked up a day either side; year 1 or 9999 would overflow.
        try:
            value = value.astimezone(engine.UTC)
        except OverflowError:
            value = None
        if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValidationError({name: RANGE_MESSAGE})
        utc.append(value)
    return utc[0], utc[1]


def validate_day(day: dt.date, *, name: str) -> None:
    """A calendar day that days are widened around (a day either side) without overflowing."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError({name: f"{day} is outside the years {MIN_YEAR} to {MAX_YEAR}."})


def check_availability(resource: Resource, start_at: dt.datetime, end_at: dt.datetime, ignore_booking=None) -> AvailabilityResult:
    start, end = validate_interval(start_at, end_at)
    conflicts = resource_conflicts(resource, start, end, ignore_booking_id=getattr(ignore_booking, "pk", ignore_booking))
    return AvailabilityResult(available=not conflicts, conflicts=conflicts)


def resource_conflicts(resource: Resource, start: dt.datetime, end: dt.datetime, *, ignore_booking_id: int | None = None) -> list[Conflict]:
    """Every reason why [start, end) (UTC) cannot be booked on `resource` (three queries)."""
    busy = selectors.busy_by_resource([resource.pk], start, end)[resource.pk]
    windows = selectors.windows_by_resource([resource.pk])[resource.pk]
    return engine.find_conflicts(
        start=start,
        end=end,
        active=resource.active,
        resource_id=resource.pk,
        working=engine.working_intervals(windows, resource.timezone, start, end),
        busy=busy,
        ignore_booking_id=ignore_booking_id,
    )


def slot_step(duration: dt.timedelta, step: dt.timedelta | None) -> dt.timedelta:
    """The grid of a slot question: `step`, or the duration but no finer than MIN_SLOT_STEP when none is given."""
    if duration <= dt.timedelta(0):
        raise ValidationError({"duration": "The duration must be positive."})
    if step is None:
        return max(duration, MIN_SLOT_STEP)
    if step <= dt.timedelta(0):
        raise ValidationError({"step": "The step must be positive."})
    if step < MIN_SLOT_STEP:
        raise ValidationError({"step": f"The step must be at least {MIN_SLOT_STEP.seconds // 60} minutes."})
    return step


@dataclass(frozen=True)
class SlotPage:
    slots: list[tuple[dt.datetime, dt.datetime]]
    next_start: dt.datetime | None  # the first slot not returned; ask again from there


def free_slots(
    resource: Resource, start: dt.datetime, end: dt.datetime, duration: dt.timedelta, step: dt.timedelta | None = None, *, limit: int | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Slots `(start_at, end_at)` of `duration` on the grid start + k·step, each wholly free and inside
    the window; the first `limit` of them when a limit is given (the others are never generated)."""
    start, end = validate_interval(start, end, max_span=MAX_SLOT_WINDOW, names=("start", "end"))
    step = slot_step(duration, step)
    if not resource.active:
        return []
    busy = selectors.busy_by_resource([resource.pk], start, end)[resource.pk]
    windows = selectors.windows_by_resource([resource.pk])[resource.pk]
    free = engine.free_intervals(start=start, end=end, working=engine.working_intervals(windows, resource.timezone, start, end), busy=busy)
    starts = engine.slot_starts(start=start, end=end, duration=duration, step=step, free=free)
    return [(t, t + duration) for t in islice(starts, limit)]


def free_slots_page(
    resource: Resource, start: dt.datetime, end: dt.datetime, duration: dt.timedelta, step: dt.timedelta | None = None, *, limit: int
) -> SlotPage:
    """The first `limit` free slots and the start of the next one (None when none is left).

    `next_start` lies on the same grid, so asking again from it (same end, duration and step)
    continues exactly where this page stopped.
    """
    if limit < 1:
        raise ValidationError({"limit": "The limit must be at least 1."})
    found = free_slots(resource, start, end, duration, step, limit=limit + 1)
    return SlotPage(found[:limit], found[limit][0] if len(found) > limit else None)


def available_resources(resource_type: ResourceType, start_at: dt.datetime, end_at: dt.datetime, *, user) -> list[Resource]:
    """Active resources of the type that `user` may see, free for the whole interval, by name (four queries)."""
    start, end = validate_interval(start_at, end_at)
    candidates = restrict(user, Resource.objects.filter(type=resource_type, active=True))
    resources = list(candidates.select_related("type"))
    ids = [r.pk for r in resources]
    busy = selectors.busy_by_resource(ids, start, end)
    windows = selectors.windows_by_resource(ids)
    free = []
    for resource in resources:
        if busy.get(resource.pk):
            continue
        working = engine.working_intervals(windows.get(resource.pk, []), resource.timezone, start, end)
        if working is None or working == [(start, end)]:
            free.append(resource)
    return free


def conflicts_by_interval(resources: list[Resource], intervals: list[engine.Interval]) -> dict[int, list[list[Conflict]]]:
    """For each resource, the conflicts of each interval (UTC, sorted by start), in three queries
    whatever their number: the busy time of every resource over the whole span is read once.

    What `resource_conflicts` answers for one interval, for many (a series, a group; docs/spec.md §14).
    """
    if not intervals:
        return {r.pk: [] for r in resources}
    span = (min(s for s, _ in intervals), max(e for _, e in intervals))
    ids = [r.pk for r in resources]
    busy = selectors.busy_by_resource(ids, *span)
    windows = selectors.windows_by_resource(ids)
    answer = {}
    for resource in resources:
        rows = sorted(busy.get(resource.pk, []), key=lambda b: b.start_at)
        starts = [b.start_at for b in rows]
        longest = max((b.end_at - b.start_at for b in rows), default=dt.timedelta(0))
        per_interval = []
        for start, end in intervals:
            # Only rows starting in [start - longest, end) can overlap [start, end).
            nearby = rows[bisect_left(starts, start - longest) : bisect_left(starts, end)]
            per_interval.append(
                engine.find_conflicts(
                    start=start,
                    end=end,
                    active=resource.active,
                    resource_id=resource.pk,
                    working=engine.working_intervals(windows.get(resource.pk, []), resource.timezone, start, end),
                    busy=nearby,
                )
            )
        answer[resource.pk] = per_interval
    return answer

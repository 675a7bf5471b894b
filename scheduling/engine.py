"""The availability engine: pure functions over half-open time intervals.

Nothing here touches the ORM, so every rule can be tested exhaustively (see
tests/test_engine_properties.py). The service layer reads rows, turns them into the plain values
below, and asks these functions.

Intervals are `(start, end)` tuples of aware UTC datetimes meaning `[start, end)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
MIDNIGHT = dt.time(0, 0)
Interval = tuple[dt.datetime, dt.datetime]

# Offsets in use lie within ±26 hours of UTC, so a wall-clock span maps into UTC instants no
# further than a day and a bit away.
_OFFSET_MARGIN = dt.timedelta(hours=27)


@dataclass(frozen=True)
class WorkingWindow:
    """One availability row: on `weekday` (0=Monday), wall-clock [start_time, end_time); 00:00 ends at midnight."""

    weekday: int
    start_time: dt.time
    end_time: dt.time


class ConflictKind(StrEnum):
    """Why an interval cannot be booked; the values are the API's `kind` (docs/spec.md §2.3)."""

    BOOKING = "booking"
    EXCEPTION = "exception"
    OUTSIDE_AVAILABILITY = "outside_availability"
    INACTIVE_RESOURCE = "inactive_resource"
    POLICY = "policy"
    CAPACITY = "capacity"


# What a manager's override lets through; overlaps (buffers included), a full pool and an inactive
# resource never.
OVERRIDABLE_KINDS = frozenset({ConflictKind.OUTSIDE_AVAILABILITY, ConflictKind.EXCEPTION, ConflictKind.POLICY})


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    id: int | None
    start_at: dt.datetime
    end_at: dt.datetime
    status: str | None = None  # the other booking's, for kind BOOKING
    rule: str | None = None  # the policy field broken, for kind POLICY
    detail: str | None = None  # a sentence, for kind POLICY
    reason: str | None = None  # the exception's, for kind EXCEPTION (an imported one names its source)
    remaining: int | None = None  # the free units of the pool over [start_at, end_at), for kind CAPACITY

    @property
    def overridable(self) -> bool:
        return self.kind in OVERRIDABLE_KINDS


@dataclass(frozen=True)
class Busy:
    """Something that occupies the resource: an occupying booking or an exception.

    A booking occupies its buffers too: `occupied_start`/`occupied_end` (None: its own times).
    """

    kind: ConflictKind  # BOOKING or EXCEPTION
    id: int
    start_at: dt.datetime
    end_at: dt.datetime
    status: str | None = None
    occupied_start: dt.datetime | None = None
    occupied_end: dt.datetime | None = None
    reason: str | None = None  # an exception's (an imported busy time names its source)
    quantity: int = 1  # a booking's units of a pool (docs/spec.md §17.1)

    @property
    def occupied(self) -> Interval:
        return (self.occupied_start or self.start_at, self.occupied_end or self.end_at)


@dataclass(frozen=True)
class Policy:
    """The booking rules of one resource, resolved (docs/spec.md §13); None or 0 means no rule.

    Minutes, except `max_horizon` (days) and the quotas (bookings).
    """

    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int | None = None
    max_horizon: int | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    granularity: int | None = None
    cancel_deadline: int | None = None
    change_deadline: int | None = None
    quota_per_day: int | None = None
    quota_per_week: int | None = None
    requires_approval: bool = False
    approval_timeout: int | None = None

    @property
    def buffers(self) -> tuple[dt.timedelta, dt.timedelta]:
        return dt.timedelta(minutes=self.buffer_before or 0), dt.timedelta(minutes=self.buffer_after or 0)


NO_POLICY = Policy()


# --- Interval arithmetic ----------------------------------------------------------------------------


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals, sorted; touching intervals ([a, b) and [b, c)) merge."""
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def subtract(base: Interval, holes: Sequence[Interval]) -> list[Interval]:
    """The parts of `base` not covered by `holes` (which must be merged and sorted)."""
    parts: list[Interval] = []
    cursor, end = base
    for h_start, h_end in holes:
        if h_end <= cursor:
            continue
        if h_start >= end:
            break
        if h_start > cursor:
            parts.append((cursor, h_start))
        cursor = max(cursor, h_end)
        if cursor >= end:
            break
    if cursor < end:
        parts.append((cursor, end))
    return parts


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two merged, sorted interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def total(intervals: Iterable[Interval]) -> dt.timedelta:
    return sum((e - s for s, e in intervals), dt.timedelta())


# --- Wall-clock time to UTC -------------------------------------------------------------------------


def _offset(zone: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    return instant.astimezone(zone).utcoffset()


def _offset_segments(zone: ZoneInfo, lo: dt.datetime, hi: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """Split [lo, hi) (UTC) into pieces of constant UTC offset in `zone`."""
    segments = []
    start = lo
    offset = _offset(zone, lo)
    if _offset(zone, hi) == offset and _offset(zone, lo + (hi - lo) / 2) == offset:
        return [(lo, hi, offset)]
    # A transition lies in between: walk hour by hour and pin each change to the second.
    cursor = lo
    step = dt.timedelta(hours=1)
    while cursor < hi:
        nxt = min(cursor + step, hi)
        nxt_offset = _offset(zone, nxt) if nxt < hi else offset
        if nxt < hi and nxt_offset != offset:
            low, high = cursor, nxt  # offset(low) == offset, offset(high) != offset
            while high - low > dt.timedelta(seconds=1):
                mid = low + (high - low) / 2
                mid = mid.replace(microsecond=0)
                if mid <= low:
                    break
                if _offset(zone, mid) == offset:
                    low = mid
                else:
                    high = mid
            segments.append((start, high, offset))
            start, offset = high, _offset(zone, high)
        cursor = nxt
    segments.append((start, hi, offset))
    return segments


@lru_cache(maxsize=65536)
def wall_span_to_utc(wall_start: dt.datetime, wall_end: dt.datetime, zone_name: str) -> tuple[Interval, ...]:
    """The UTC instants whose wall-clock time in `zone_name` lies in [wall_start, wall_end) (naive)."""
    zone = ZoneInfo(zone_name)
    lo = (wall_start - _OFFSET_MARGIN).replace(tzinfo=UTC)
    hi = (wall_end + _OFFSET_MARGIN).replace(tzinfo=UTC)
    pieces = []
    for seg_start, seg_end, offset in _offset_segments(zone, lo, hi):
        start = max(seg_start, (wall_start - offset).replace(tzinfo=UTC))
        end = min(seg_end, (wall_end - offset).replace(tzinfo=UTC))
        if start < end:
            pieces.append((start, end))
    return tuple(merge(pieces))


def whole_days_to_utc(first: dt.date, stop: dt.date, zone_name: str) -> Interval:
    """The UTC instants of the local days [first, stop) in `zone_name`: midnight to midnight, so a
    day of a DST change lasts 23 or 25 hours, and a midnight that does not exist starts at the
    day's first instant."""
    pieces = wall_span_to_utc(dt.datetime.combine(first, MIDNIGHT), dt.datetime.combine(stop, MIDNIGHT), zone_name)
    return pieces[0][0], pieces[-1][1]


def working_intervals(windows: Sequence[WorkingWindow], zone_name: str, start: dt.datetime, end: dt.datetime) -> list[Interval] | None:
    """The working time of a resource within [start, end), merged; None means "around the clock"."""
    if not windows:
        return None
    zone = ZoneInfo(zone_name)
    by_weekday: dict[int, list[WorkingWindow]] = {}
    for window in windows:
        by_weekday.setdefault(window.weekday, []).append(window)
    # Local dates that can contribute: one either side of the span covers every offset.
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    pieces: list[Interval] = []
    day = first
    while day <= last:
        for window in by_weekday.get(day.weekday(), ()):
            wall_start = dt.datetime.combine(day, window.start_time)
            end_day = day + dt.timedelta(days=1) if window.end_time == MIDNIGHT else day
            wall_end = dt.datetime.combine(end_day, window.end_time)
            for piece in wall_span_to_utc(wall_start, wall_end, zone_name):
                if overlaps(piece, (start, end)):
                    pieces.append((max(piece[0], start), min(piece[1], end)))
        day += dt.timedelta(days=1)
    return merge(pieces)


# --- Questions --------------------------------------------------------------------------------------


def find_conflicts(
    *,
    start: dt.datetime,
    end: dt.datetime,
    active: bool,
    resource_id: int,
    working: Sequence[Interval] | None,
    busy: Iterable[Busy],
    ignore_booking_id: int | None = None,
    policy: Policy = NO_POLICY,
    capacity: int = 1,
    quantity: int = 1,
) -> list[Conflict]:
    """Every reason why [start, end) cannot be booked, in the order of docs/spec.md §2.3.

    A booking conflicts when the occupied ranges meet: [start − buffer_before, end + buffer_after)
    under `policy` against each other booking's stored occupied range. Exceptions and working hours
    concern the booking's own time; buffers may lie outside them.

    On a pool (`capacity` > 1) the other bookings are not conflicts one by one: the parts of the
    occupied range where fewer than `quantity` units are free are, as CAPACITY conflicts (§17.2).
    """
    conflicts: list[Conflict] = []
    if not active:
        conflicts.append(Conflict(ConflictKind.INACTIVE_RESOURCE, resource_id, start, end))
    occupied = occupied_interval(start, end, policy)
    busy = list(busy)
    pooled = capacity > 1
    if pooled:
        loads = [(*b.occupied, b.quantity) for b in busy if b.kind == ConflictKind.BOOKING and b.id != ignore_booking_id]
        conflicts.extend(capacity_conflicts(loads, *occupied, capacity=capacity, quantity=quantity))

    def blocks(b: Busy) -> bool:
        if b.kind == ConflictKind.BOOKING:
            return not pooled and b.id != ignore_booking_id and overlaps(b.occupied, occupied)
        return overlaps((b.start_at, b.end_at), (start, end))

    overlapping = sorted((b for b in busy if blocks(b)), key=lambda b: (b.kind != ConflictKind.BOOKING, b.start_at, b.id))
    conflicts.extend(Conflict(b.kind, b.id, b.start_at, b.end_at, b.status, reason=b.reason) for b in overlapping)
    if working is not None:
        conflicts.extend(Conflict(ConflictKind.OUTSIDE_AVAILABILITY, None, s, e) for s, e in subtract((start, end), working))
    return conflicts


def free_intervals(
    *,
    start: dt.datetime,
    end: dt.datetime,
    working: Sequence[Interval] | None,
    busy: Iterable[Busy],
    policy: Policy = NO_POLICY,
    capacity: int = 1,
    quantity: int = 1,
) -> list[Interval]:
    """The parts of [start, end) that are working time and not busy, merged.

    A booking's occupied range blocks a little more under buffers: [t, u) is free of it exactly
    when [t − before, u + after) misses it, i.e. when [t, u) misses [start − after, end + before).
    On a pool (`capacity` > 1) what blocks is each part of time where fewer than `quantity` units
    are free, widened the same way.
    """
    open_time = [(start, end)] if working is None else list(working)
    before, after = policy.buffers
    busy = list(busy)

    def blocked_by(b: Busy) -> Interval:
        if b.kind != ConflictKind.BOOKING:
            return (b.start_at, b.end_at)
        occupied_start, occupied_end = b.occupied
        return (occupied_start - after, occupied_end + before)

    if capacity > 1:
        bookings = [b for b in busy if b.kind == ConflictKind.BOOKING]
        loads = [(*b.occupied, b.quantity) for b in bookings]
        lo = min((s for s, _, _ in loads), default=start)
        hi = max((e for _, e, _ in loads), default=end)
        full = [(s, e) for s, e, load in load_profile(loads, lo, hi) if capacity - load < quantity]
        pieces = [(s - after, e + before) for s, e in full]
        pieces += [blocked_by(b) for b in busy if b.kind != ConflictKind.BOOKING]
    else:
        pieces = list(map(blocked_by, busy))
    blocked = merge((max(s, start), min(e, end)) for s, e in pieces)
    result: list[Interval] = []
    for interval in open_time:
        result.extend(subtract(interval, blocked))
    return result


def slot_starts(*, start: dt.datetime, end: dt.datetime, duration: dt.timedelta, step: dt.timedelta, free: Sequence[Interval]) -> Iterator[dt.datetime]:
    """Start times start + k·step whose [t, t + duration) lies inside one free interval and the window."""
    for free_start, free_end in free:
        if free_end - free_start < duration:
            continue
        # The first grid point at or after free_start.
        k = -((start - free_start) // step)
        t = start + k * step
        while t + duration <= free_end and t + duration <= end:
            yield t
            t += step


# --- Pools (docs/spec.md §17) ----------------------------------------------------------------------

Load = tuple[dt.datetime, dt.datetime, int]  # an occupied range and the units it holds


def load_profile(loads: Iterable[Load], start: dt.datetime, end: dt.datetime) -> list[Load]:
    """[start, end) cut into maximal pieces of constant load: each `(s, e, units)` with the sum of the
    quantities of the `loads` covering it (a sweep over their ends, O(n log n))."""
    if start >= end:
        return []
    deltas: dict[dt.datetime, int] = {}
    for s, e, quantity in loads:
        s, e = max(s, start), min(e, end)
        if s < e and quantity:
            deltas[s] = deltas.get(s, 0) + quantity
            deltas[e] = deltas.get(e, 0) - quantity
    pieces: list[Load] = []
    cursor, load = start, 0
    for instant in sorted(deltas):
        if instant > cursor:
            if pieces and pieces[-1][2] == load and pieces[-1][1] == cursor:
                pieces[-1] = (pieces[-1][0], instant, load)
            else:
                pieces.append((cursor, instant, load))
            cursor = instant
        load += deltas[instant]
    if cursor < end:
        if pieces and pieces[-1][2] == load:
            pieces[-1] = (pieces[-1][0], end, load)
        else:
            pieces.append((cursor, end, load))
    return pieces


def remaining_units(loads: Iterable[Load], start: dt.datetime, end: dt.datetime, capacity: int) -> int:
    """The smallest number of free units of a pool of `capacity` over [start, end) (never below 0)."""
    return max(0, capacity - max((load for _, _, load in load_profile(loads, start, end)), default=0))


def capacity_conflicts(loads: Iterable[Load], start: dt.datetime, end: dt.datetime, *, capacity: int, quantity: int) -> list[Conflict]:
    """The parts of [start, end) where fewer than `quantity` of `capacity` units are free: one
    CAPACITY conflict per maximal part with the same number of free units (`remaining`)."""
    found: list[Conflict] = []
    for s, e, load in load_profile(loads, start, end):
        remaining = max(0, capacity - load)
        if remaining >= quantity:
            continue
        if found and found[-1].end_at == s and found[-1].remaining == remaining:
            found[-1] = Conflict(ConflictKind.CAPACITY, None, found[-1].start_at, e, remaining=remaining)
        else:
            found.append(Conflict(ConflictKind.CAPACITY, None, s, e, remaining=remaining))
    return found


# --- Policies -------------------------------------------------------------------------------------


def occupied_interval(start: dt.datetime, end: dt.datetime, policy: Policy) -> Interval:
    """What a booking of [start, end) occupies under `policy`: its buffers either side."""
    before, after = policy.buffers
    return (start - before, end + after)


def on_grid(instant: dt.datetime, zone_name: str, granularity: int) -> bool:
    """Is the wall-clock time of `instant` in the zone local midnight + k·granularity minutes?"""
    local = instant.astimezone(ZoneInfo(zone_name))
    return local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % granularity == 0


def local_day(instant: dt.datetime, zone_name: str) -> dt.date:
    return instant.astimezone(ZoneInfo(zone_name)).date()


def local_week(instant: dt.datetime, zone_name: str) -> tuple[int, int]:
    """(ISO year, ISO week) of the local calendar day of `instant`."""
    year, week, _ = local_day(instant, zone_name).isocalendar()
    return year, week


def _minutes_text(minutes: int) -> str:
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def policy_conflicts(
    *,
    start: dt.datetime,
    end: dt.datetime,
    policy: Policy,
    zone_name: str,
    now: dt.datetime,
    customer_starts: Sequence[dt.datetime] | None = None,
) -> list[Conflict]:
    """The rules of `policy` that [start, end) breaks, as POLICY conflicts in field order.

    `customer_starts` are the starts of the customer's other occupying bookings of the type (None:
    the customer is not known, quotas are not asked). The notice and the horizon count from `now`.
    """
    found: list[Conflict] = []

    def broken(rule: str, detail: str) -> None:
        found.append(Conflict(ConflictKind.POLICY, None, start, end, rule=rule, detail=detail))

    duration = end - start
    if policy.min_notice and start < now + dt.timedelta(minutes=policy.min_notice):
        broken("min_notice", f"Bookings must start at least {_minutes_text(policy.min_notice)} after they are made.")
    if policy.max_horizon and start > now + dt.timedelta(days=policy.max_horizon):
        broken("max_horizon", f"Bookings may start at most {policy.max_horizon} days ahead.")
    if policy.min_duration and duration < dt.timedelta(minutes=policy.min_duration):
        broken("min_duration", f"A booking lasts at least {_minutes_text(policy.min_duration)}.")
    if policy.max_duration and duration > dt.timedelta(minutes=policy.max_duration):
        broken("max_duration", f"A booking lasts at most {_minutes_text(policy.max_duration)}.")
    if policy.granularity and not (on_grid(start, zone_name, policy.granularity) and on_grid(end, zone_name, policy.granularity)):
        broken("granularity", f"Start and end must lie on the {_minutes_text(policy.granularity)} grid from local midnight ({zone_name}).")
    if customer_starts is not None:
        if policy.quota_per_day:
            day = local_day(start, zone_name)
            if sum(local_day(s, zone_name) == day for s in customer_starts) >= policy.quota_per_day:
                broken("quota_per_day", f"The customer already holds {policy.quota_per_day} booking(s) of this type on {day} ({zone_name}).")
        if policy.quota_per_week:
            week = local_week(start, zone_name)
            if sum(local_week(s, zone_name) == week for s in customer_starts) >= policy.quota_per_week:
                broken("quota_per_week", f"The customer already holds {policy.quota_per_week} booking(s) of this type in ISO week {week[0]}-W{week[1]:02d}.")
    return found


def deadline_passed(*, start: dt.datetime, deadline_minutes: int | None, now: dt.datetime) -> bool:
    """Is it later than `deadline_minutes` before `start`? At exactly the deadline it is not yet."""
    return bool(deadline_minutes) and now > start - dt.timedelta(minutes=deadline_minutes)


def duration_allowed(duration: dt.timedelta, policy: Policy) -> bool:
    if policy.min_duration and duration < dt.timedelta(minutes=policy.min_duration):
        return False
    return not (policy.max_duration and duration > dt.timedelta(minutes=policy.max_duration))


def policy_slot_starts(
    *,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta,
    step: dt.timedelta,
    free: Sequence[Interval],
    policy: Policy,
    zone_name: str,
    now: dt.datetime,
) -> Iterator[dt.datetime]:
    """`slot_starts` restricted to what the policy accepts (notice, horizon, duration, grid)."""
    if not duration_allowed(duration, policy):
        return
    for t in slot_starts(start=start, end=end, duration=duration, step=step, free=free):
        if policy.min_notice and t < now + dt.timedelta(minutes=policy.min_notice):
            continue
        if policy.max_horizon and t > now + dt.timedelta(days=policy.max_horizon):
            return
        if policy.granularity and not (on_grid(t, zone_name, policy.granularity) and on_grid(t + duration, zone_name, policy.granularity)):
            continue
        yield t

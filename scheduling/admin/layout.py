"""The admin's layout of the resource calendar and the booking board: what to draw, and where.

Read-only and permission-free: the caller passes the querysets it may show (already `restrict()`-ed),
and each function costs a fixed number of queries whatever the number of resources or bookings.
Positions are fractions of the displayed range in real elapsed time, so a 23- or 25-hour DST day
is drawn as it happened; working hours come from the engine in each resource's own zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet

from scheduling import engine, selectors
from scheduling.models import OCCUPYING, Booking, BookingStatus, Resource

DAY, WEEK = "day", "week"
HOUR = dt.timedelta(hours=1)
BOARD_COLUMN_LIMIT = 100
# The board's columns in life-cycle order: the open statuses, the outcomes, then the cancelled.
BOARD_ORDER = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED)


@dataclass(frozen=True)
class CalendarRange:
    view: str
    day: dt.date  # the day shown, or the Monday of the week shown
    zone: ZoneInfo
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC

    @property
    def previous_day(self) -> dt.date:
        return self.day - dt.timedelta(days=1 if self.view == DAY else 7)

    @property
    def last_day(self) -> dt.date:
        return self.day + dt.timedelta(days=0 if self.view == DAY else 6)

    @property
    def next_day(self) -> dt.date:
        return self.day + dt.timedelta(days=1 if self.view == DAY else 7)

    def fraction(self, instant: dt.datetime) -> float:
        """Where `instant` lies in the range, 0…100 (clipped)."""
        clipped = min(max(instant, self.start), self.end)
        return 100 * (clipped - self.start) / (self.end - self.start)

    def span(self, start: dt.datetime, end: dt.datetime) -> tuple[float, float]:
        """Left edge and width, in percent of the range."""
        left = self.fraction(start)
        return left, self.fraction(end) - left


@dataclass(frozen=True)
class Mark:
    """A header label (an hour, or a day) at a position of the range."""

    left: float
    width: float
    label: str
    instant: dt.datetime


@dataclass
class Placed:
    left: float
    width: float
    item: object  # a Booking, a ScheduleException, or None for time outside working hours


@dataclass
class Row:
    resource: Resource
    bookings: list[Placed] = field(default_factory=list)
    exceptions: list[Placed] = field(default_factory=list)
    off_hours: list[Placed] = field(default_factory=list)

    @property
    def load(self) -> str | None:
        """A pool's peak of units held in the shown range, e.g. "7/12" (docs/spec.md §17.3); None for
        an exclusive resource."""
        capacity = self.resource.capacity
        if capacity <= 1:
            return None
        return f"{pool_peak([p.item for p in self.bookings])}/{capacity}"


def pool_peak(bookings) -> int:
    """The most units the occupying `bookings` hold at one instant (their occupied ranges)."""
    loads = [(b.occupied_start, b.occupied_end, b.quantity) for b in bookings if b.occupies]
    if not loads:
        return 0
    profile = engine.load_profile(loads, min(s for s, _, _ in loads), max(e for _, e, _ in loads))
    return max(load for _, _, load in profile)


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    # Midnight exists in every IANA zone in use today except a few historical dates; zoneinfo
    # resolves a gap forward, which is what a calendar wants.
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(engine.UTC)


def calendar_range(view: str, day: dt.date, zone: ZoneInfo) -> CalendarRange:
    """The local day, or the local Monday-to-Monday week, that contains `day`."""
    if view == WEEK:
        day = day - dt.timedelta(days=day.weekday())
        length = 7
    else:
        view, length = DAY, 1
    start = _local_midnight(day, zone)
    end = _local_midnight(day + dt.timedelta(days=length), zone)
    return CalendarRange(view=view, day=day, zone=zone, start=start, end=end)


def hour_slots(rng: CalendarRange) -> list[dt.datetime]:
    """The real hours of the range, start and end included: the grid of clickable cells."""
    count = round((rng.end - rng.start) / HOUR)
    return [rng.start + k * HOUR for k in range(count + 1)]


def header_marks(rng: CalendarRange) -> list[Mark]:
    """Hours (day view, labelled with the local wall clock) or days (week view)."""
    if rng.view == DAY:
        slots = hour_slots(rng)
        return [Mark(*rng.span(a, b), a.astimezone(rng.zone).strftime("%H"), a) for a, b in zip(slots, slots[1:])]
    days = [rng.day + dt.timedelta(days=k) for k in range(8)]
    bounds = [_local_midnight(day, rng.zone) for day in days]
    return [Mark(*rng.span(a, b), f"{day:%a} {day.day} {day:%b}", a) for day, a, b in zip(days, bounds, bounds[1:])]


def resource_calendar(*, resources: QuerySet[Resource], bookings: QuerySet[Booking], rng: CalendarRange, include_cancelled: bool = True) -> list[Row]:
    """One row per resource with its bookings, exceptions and time outside working hours (four queries)."""
    rows = [Row(resource) for resource in resources.select_related("type")]
    ids = [row.resource.pk for row in rows]
    in_range = bookings.filter(resource_id__in=ids, end_at__gt=rng.start, start_at__lt=rng.end).select_related("customer")
    if not include_cancelled:
        in_range = in_range.filter(OCCUPYING)
    bookings_of: dict[int, list[Booking]] = defaultdict(list)
    for booking in in_range.order_by("start_at", "id"):
        bookings_of[booking.resource_id].append(booking)
    exceptions_of = defaultdict(list)
    for exception in selectors.overlapping_exceptions(ids, rng.start, rng.end).order_by("start_at", "id"):
        exceptions_of[exception.resource_id].append(exception)
    windows = selectors.windows_by_resource(ids)
    for row in rows:
        pk = row.resource.pk
        row.bookings = [Placed(*rng.span(b.start_at, b.end_at), b) for b in bookings_of[pk]]
        row.exceptions = [Placed(*rng.span(e.start_at, e.end_at), e) for e in exceptions_of[pk]]
        working = engine.working_intervals(windows.get(pk, []), row.resource.timezone, rng.start, rng.end)
        if working is not None:
            row.off_hours = [Placed(*rng.span(s, e), None) for s, e in engine.subtract((rng.start, rng.end), working)]
    return rows


@dataclass(frozen=True)
class BoardColumn:
    status: str
    label: str
    count: int
    cards: list[Booking]

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)


def board_columns(bookings: QuerySet[Booking], *, limit: int = BOARD_COLUMN_LIMIT) -> list[BoardColumn]:
    """One column per status in life-cycle order, with its count and its earliest `limit` bookings.

    Six queries whatever the number of bookings: the counts, then one sliced query per status.
    """
    counts = dict(bookings.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    cards = bookings.select_related("resource__type", "customer").order_by("start_at", "id")
    return [
        BoardColumn(status, status.label, counts.get(status, 0), list(cards.filter(status=status)[:limit]))
        for status in BOARD_ORDER
    ]

"""Reports about time: utilisation over a period (docs/spec.md §10.1) and the free slots of a type.

The figures come from the same engine as the availability check, so an hour that the check calls
working is an hour the report counts. Rows are read in a constant number of queries and folded in
one pass per resource; the arithmetic per day is a sweep over the merged intervals, not a query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from bisect import bisect_right
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from scheduling import engine, selectors
from scheduling.csv_safe import SafeDictWriter
from scheduling.engine import Busy, ConflictKind, Interval
from scheduling.ids import parse_id
from scheduling.models import OCCUPYING_STATUSES, BookingStatus, Resource, ResourceType, validate_timezone
from scheduling.services.availability import MAX_CHECK_SPAN, slot_step, validate_day, widest_buffers
from scheduling.services.policies import resource_policy

ZERO = dt.timedelta(0)
MAX_PERIOD_DAYS = MAX_CHECK_SPAN.days
STATUSES = tuple(BookingStatus.values)
CSV_COLUMNS = (
    "row",
    "resource_id",
    "resource",
    "type_id",
    "type",
    "timezone",
    "working_hours",
    "exception_hours",
    "booked_hours",
    "booked_unit_hours",
    "free_hours",
    "utilisation_pct",
    "seats",
    "seats_taken",
    "fill_pct",
    *STATUSES,
)

# Wraps the report's two long loops (reading the bookings, computing each resource), e.g. in a
# progress bar: called as progress(items, total or None, label); the identity by default.
Progress = Callable[[Iterable, int | None, str], Iterable]


def no_progress(items: Iterable, total: int | None, label: str) -> Iterable:
    return items


# --- Figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Working, exception, booked and free time over one span (docs/spec.md §10.1.3)."""

    working: dt.timedelta = ZERO
    exceptions: dt.timedelta = ZERO
    booked: dt.timedelta = ZERO
    free: dt.timedelta = ZERO
    # Unit-hours (docs/spec.md §17.3): each occupying booking's time × its quantity, and the
    # available time × the capacity; for an exclusive resource the same as booked and available.
    booked_units: dt.timedelta | None = None
    available_units: dt.timedelta | None = None
    # Classes (docs/spec.md §17.4): the seats of the sessions held in the span, and those taken.
    seats: int = 0
    seats_taken: int = 0

    @property
    def available(self) -> dt.timedelta:
        return self.working - self.exceptions

    @property
    def unit_booked(self) -> dt.timedelta:
        return self.booked if self.booked_units is None else self.booked_units

    @property
    def unit_available(self) -> dt.timedelta:
        return self.available if self.available_units is None else self.available_units

    @property
    def utilisation(self) -> float | None:
        """Booked ÷ available unit-hours in per cent, one decimal; None when nothing was available."""
        if self.unit_available <= ZERO:
            return None
        return round(100 * (self.unit_booked / self.unit_available), 1)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.working + other.working,
            self.exceptions + other.exceptions,
            self.booked + other.booked,
            self.free + other.free,
            # Left unset while every part is exclusive, so that sums compare equal to their parts.
            None if self.booked_units is None and other.booked_units is None else self.unit_booked + other.unit_booked,
            None if self.available_units is None and other.available_units is None else self.unit_available + other.unit_available,
            self.seats + other.seats,
            self.seats_taken + other.seats_taken,
        )

    def as_dict(self) -> dict:
        return {
            "working_hours": hours(self.working),
            "exception_hours": hours(self.exceptions),
            "booked_hours": hours(self.booked),
            "booked_unit_hours": hours(self.unit_booked),
            "free_hours": hours(self.free),
            "utilisation_pct": self.utilisation,
            "seats": self.seats,
            "seats_taken": self.seats_taken,
            "fill_pct": round(100 * self.seats_taken / self.seats, 1) if self.seats else None,
        }


def hours(value: dt.timedelta) -> float:
    return round(value.total_seconds() / 3600, 2)


@dataclass(frozen=True)
class ResourceUtilisation:
    resource: Resource
    figures: Figures
    bookings: dict[str, int]
    days: list[Figures]  # empty unless asked for (`daily`)

    def as_dict(self) -> dict:
        r = self.resource
        return {"id": r.pk, "name": r.name, "type_id": r.type_id, "type": r.type.name, "timezone": r.timezone} | self.figures.as_dict() | {"bookings": self.bookings}


@dataclass(frozen=True)
class TypeTotal:
    type: ResourceType
    resources: int
    figures: Figures
    bookings: dict[str, int]

    def as_dict(self) -> dict:
        return {"id": self.type.pk, "name": self.type.name, "resources": self.resources} | self.figures.as_dict() | {"bookings": self.bookings}


@dataclass(frozen=True)
class UtilisationReport:
    first_day: dt.date
    last_day: dt.date
    timezone: str | None
    resources: list[ResourceUtilisation]
    types: list[TypeTotal] = field(default_factory=list)

    @property
    def days(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    def grouped(self) -> list[tuple[TypeTotal, list[ResourceUtilisation]]]:
        """Each type's total with its resources, in report order."""
        by_type = defaultdict(list)
        for row in self.resources:
            by_type[row.resource.type_id].append(row)
        return [(total, by_type[total.type.pk]) for total in self.types]

    def as_json(self) -> dict:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "timezone": self.timezone,
            "resources": [row.as_dict() for row in self.resources],
            "types": [total.as_dict() for total in self.types],
        }

    def csv_rows(self) -> list[dict]:
        rows = []
        for total, resources in self.grouped():
            for row in resources:
                data = row.as_dict()
                rows.append(_csv_row("resource", data, resource_id=data["id"], resource=data["name"]))
            data = total.as_dict()
            rows.append(_csv_row("type_total", data | {"type_id": data["id"], "type": data["name"], "timezone": ""}, resource_id="", resource=""))
        return rows

    def write_csv(self, out) -> None:
        writer = SafeDictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(self.csv_rows())


def _csv_row(kind: str, data: dict, **names) -> dict:
    row = {"row": kind, **names} | {
        k: data[k] for k in ("type_id", "type", "timezone", "working_hours", "exception_hours", "booked_hours", "booked_unit_hours", "free_hours")
    }
    row["utilisation_pct"] = "" if data["utilisation_pct"] is None else data["utilisation_pct"]
    row |= {"seats": data["seats"], "seats_taken": data["seats_taken"], "fill_pct": "" if data["fill_pct"] is None else data["fill_pct"]}
    return row | data["bookings"]


# --- Input ------------------------------------------------------------------------------------------


def validate_period(first_day: dt.date, last_day: dt.date, *, max_days: int = MAX_PERIOD_DAYS) -> None:
    for name, day in (("from", first_day), ("to", last_day)):
        validate_day(day, name=name)
    if last_day < first_day:
        raise ValidationError({"to": f"{last_day} is before {first_day}."})
    if (last_day - first_day).days + 1 > max_days:
        raise ValidationError({"to": f"The period may be at most {max_days} days long."})


def validate_zone(zone: str | None) -> None:
    if zone is not None:
        try:
            validate_timezone(zone)
        except ValidationError as error:
            raise ValidationError({"tz": error.messages}) from None


def find_type(value: str) -> ResourceType:
    """A type by name (case-insensitive) or, failing that, by id."""
    found = ResourceType.objects.filter(name__iexact=value).first()
    if found is None and parse_id(value) is not None:
        found = ResourceType.objects.filter(pk=parse_id(value)).first()
    if found is None:
        known = ", ".join(ResourceType.objects.values_list("name", flat=True)) or "none"
        raise ValidationError({"type": f"Unknown resource type {value!r}; known types: {known}."})
    return found


def select_resources(*, resource_type: ResourceType | None = None, resource_ids: Sequence[int] = ()) -> QuerySet[Resource]:
    """The resources a report covers (docs/spec.md §10.1.2); raises ValidationError naming `resource` for bad ids."""
    if not resource_ids:
        qs = Resource.objects.filter(active=True)
        return qs.filter(type=resource_type) if resource_type else qs
    wanted = set(resource_ids)
    found = dict(Resource.objects.filter(pk__in=wanted).values_list("pk", "type_id"))
    missing = sorted(wanted - found.keys())
    if missing:
        raise ValidationError({"resource": f"Unknown resource id(s): {', '.join(map(str, missing))}."})
    if resource_type:
        other = sorted(pk for pk, type_id in found.items() if type_id != resource_type.pk)
        if other:
            raise ValidationError({"resource": f"Resource id(s) {', '.join(map(str, other))} are not of type {resource_type.name}."})
    return Resource.objects.filter(pk__in=wanted)


# --- The report -------------------------------------------------------------------------------------


def utilisation_report(
    *,
    first_day: dt.date,
    last_day: dt.date,
    resources: QuerySet[Resource],
    tz: str | None = None,
    daily: bool = False,
    progress: Progress = no_progress,
) -> UtilisationReport:
    """The R1 figures of `resources` over the dates first_day…last_day (four queries).

    `daily` also splits each resource's figures by day (the heatmap's cells); it costs no query,
    but a third of the time, so the commands leave it off.
    """
    validate_period(first_day, last_day)
    validate_zone(tz)
    listed = list(resources.select_related("type").order_by("type__name", "name", "pk"))
    bounds = {zone: day_bounds(first_day, last_day, zone) for zone in {tz or r.timezone for r in listed}}
    window = (min(b[0] for b in bounds.values()), max(b[-1] for b in bounds.values())) if bounds else None
    rows = selectors.report_rows(resources, window, progress) if window else selectors.ReportRows.EMPTY
    computed = []
    for resource in progress(listed, len(listed), "Resources"):
        computed.append(_resource_utilisation(resource, bounds[tz or resource.timezone], rows, daily=daily))
    return UtilisationReport(first_day, last_day, tz, computed, _type_totals(computed))


def day_bounds(first_day: dt.date, last_day: dt.date, zone: str) -> list[dt.datetime]:
    """The UTC instants at which each local day first_day…last_day+1 begins in `zone`."""
    bounds = []
    for i in range((last_day - first_day).days + 2):
        midnight = dt.datetime.combine(first_day + dt.timedelta(days=i), dt.time(0))
        # The first instant whose wall clock reads this midnight or later: right also where
        # a transition skips midnight itself.
        bounds.append(engine.wall_span_to_utc(midnight, midnight + dt.timedelta(days=2), zone)[0][0])
    return bounds


def _resource_utilisation(resource: Resource, bounds: list[dt.datetime], rows: selectors.ReportRows, *, daily: bool) -> ResourceUtilisation:
    start, end = bounds[0], bounds[-1]
    clip = lambda s, e: (max(s, start), min(e, end))  # noqa: E731
    working = engine.working_intervals(rows.windows.get(resource.pk, []), resource.timezone, start, end)
    working = [(start, end)] if working is None else working
    blocked = engine.merge(clip(s, e) for s, e in rows.exceptions.get(resource.pk, ()))
    own_bookings = rows.bookings.get(resource.pk, ())
    occupying = [(s, e, quantity) for s, e, status, quantity in own_bookings if status in OCCUPYING_STATUSES]
    booked = engine.merge(clip(s, e) for s, e, _ in occupying)
    busy = [Busy(ConflictKind.EXCEPTION, 0, s, e) for s, e in blocked]
    if resource.capacity > 1:
        # Free: time with a unit left (docs/spec.md §17.3).
        busy += [Busy(ConflictKind.BOOKING, 0, *clip(s, e), quantity=q) for s, e, q in occupying if s < end and e > start]
    else:
        busy += [Busy(ConflictKind.BOOKING, 0, s, e) for s, e in booked]
    parts = {
        "working": working,
        "exceptions": engine.intersect(working, blocked),
        "booked": booked,
        "free": engine.free_intervals(start=start, end=end, working=working, busy=busy, capacity=resource.capacity),
    }
    period = Figures(*(engine.total(intervals) for intervals in parts.values()))
    day_spans = list(zip(bounds, bounds[1:]))
    days = _split_by_day(parts, day_spans) if daily else []
    if resource.capacity > 1:
        held = [(s, e, q) for s, e, q in ((*clip(s, e), q) for s, e, q in occupying) if s < e]
        period = replace(period, booked_units=sum(((e - s) * q for s, e, q in held), ZERO), available_units=period.available * resource.capacity)
        if daily:
            per_day = _units_per_day(held, bounds)
            days = [replace(f, booked_units=u, available_units=f.available * resource.capacity) for f, u in zip(days, per_day)]
    classes = [(seats, taken) for s, seats, taken in rows.sessions.get(resource.pk, ()) if start <= s < end]
    if classes:
        period = replace(period, seats=sum(seats for seats, _ in classes), seats_taken=sum(taken for _, taken in classes))
    # The query read the envelope of every zone's period; count only this resource's own period.
    counts = Counter(status for s, e, status, _ in own_bookings if s < end and e > start)
    return ResourceUtilisation(resource, period, {status: counts[status] for status in STATUSES}, days)


def _units_per_day(held: list[tuple[dt.datetime, dt.datetime, int]], bounds: list[dt.datetime]) -> list[dt.timedelta]:
    """Unit-hours of the bookings `held` (clipped to the period) inside each day between `bounds`."""
    totals = [ZERO] * (len(bounds) - 1)
    for start, end, quantity in held:
        i = max(0, bisect_right(bounds, start) - 1)
        while i < len(totals) and bounds[i] < end:
            totals[i] += (min(end, bounds[i + 1]) - max(start, bounds[i])) * quantity
            i += 1
    return totals


def _split_by_day(parts: dict[str, list[Interval]], days: list[Interval]) -> list[Figures]:
    per_day = {name: _per_day(intervals, days) for name, intervals in parts.items()}
    return [Figures(*(per_day[name][i] for name in parts)) for i in range(len(days))]


def _per_day(intervals: Sequence[Interval], days: list[Interval]) -> list[dt.timedelta]:
    """Total length of merged `intervals` inside each of the consecutive `days` (one sweep)."""
    totals = [ZERO] * len(days)
    i = 0
    for start, end in engine.intersect(intervals, days):
        while days[i][1] <= start:
            i += 1
        totals[i] += end - start
    return totals


def _type_totals(rows: list[ResourceUtilisation]) -> list[TypeTotal]:
    by_type: dict[int, list[ResourceUtilisation]] = defaultdict(list)
    for row in rows:
        by_type[row.resource.type_id].append(row)
    totals = []
    for group in by_type.values():
        figures = sum((row.figures for row in group), Figures())
        bookings = {status: sum(row.bookings[status] for row in group) for status in STATUSES}
        totals.append(TypeTotal(group[0].resource.type, len(group), figures, bookings))
    return totals


# --- Free slots of a type ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceSlots:
    resource: Resource
    zone: str
    slots: list[Interval]


def free_slots_of_type(
    *,
    resource_type: ResourceType,
    day: dt.date,
    duration: dt.timedelta,
    step: dt.timedelta | None = None,
    tz: str | None = None,
    not_before: dt.datetime | None = None,
) -> list[ResourceSlots]:
    """For each active resource of the type, the `free_slots` of its local `day` (four queries, docs/spec.md §10.3).

    Slots starting before `not_before` are left out.
    """
    validate_zone(tz)
    validate_day(day, name="on")
    # At least 5 minutes: one day then holds at most 300 starts per resource.
    step = slot_step(duration, step)
    resources = list(Resource.objects.filter(type=resource_type, active=True).select_related("type").order_by("name", "pk"))
    spans = {r.pk: tuple(day_bounds(day, day, tz or r.timezone)) for r in resources}
    if not resources:
        return []
    # Each resource's booking policy (docs/spec.md §13.6); bookings are read as far as any buffer reaches.
    policies = {r.pk: resource_policy(r) for r in resources}
    reach = widest_buffers(policies.values())
    window = engine.occupied_interval(min(s for s, _ in spans.values()), max(e for _, e in spans.values()), reach)
    ids = [r.pk for r in resources]
    busy = selectors.busy_by_resource(ids, *window)
    windows = selectors.windows_by_resource(ids)
    now = timezone.now()
    result = []
    for resource in resources:
        start, end = spans[resource.pk]
        policy = policies[resource.pk]
        working = engine.working_intervals(windows.get(resource.pk, []), resource.timezone, start, end)
        free = engine.free_intervals(start=start, end=end, working=working, busy=busy.get(resource.pk, []), policy=policy)
        starts = engine.policy_slot_starts(
            start=start, end=end, duration=duration, step=step, free=free, policy=policy, zone_name=resource.timezone, now=now
        )
        slots = [(t, t + duration) for t in starts if not_before is None or t >= not_before]
        result.append(ResourceSlots(resource, tz or resource.timezone, slots))
    return result

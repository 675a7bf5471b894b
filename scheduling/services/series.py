"""Booking series: an RFC 5545 recurrence rule in local time over one resource or a group (docs/spec.md §14).

The rule (parsed by dateutil) runs on the first occurrence's start *as a wall-clock time in the
first resource's zone*, so a weekly 18:00 class stays 18:00 local on both sides of a DST change.
Every occurrence is decided by the booking service's own decision for each part, with the busy
time of every resource read once for the whole span (`conflicts_by_interval`), and the rows are
inserted with `bulk_create` in one transaction: a bounded number of queries whatever the number
of occurrences, while the exclusion constraint still checks every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from scheduling import engine, permissions
from scheduling.models import Booking, BookingGroup, BookingSeries, BookingStatus, Customer, Resource, SeriesMode
from scheduling.services import bookings as booking_service
from scheduling.services import group_notices
from scheduling.services.availability import conflicts_by_interval, validate_interval, widest_buffers
from scheduling.services.policies import resource_policy
from scheduling.services.errors import GroupConflict, SeriesConflict
from scheduling.services.groups import decide_parts, lock_resources, validate_resources, write_parts

MAX_OCCURRENCES = 500
MAX_SERIES_YEARS = 2
BOOKED, SKIPPED, CANCELLED, DETACHED = "booked", "skipped", "cancelled", "detached"


@dataclass
class Occurrence:
    start_at: dt.datetime
    end_at: dt.datetime
    status: str = BOOKED
    conflicts: list[tuple[int, engine.Conflict]] = field(default_factory=list)
    bookings: list[int] = field(default_factory=list)


@dataclass
class SeriesResult:
    series: BookingSeries
    occurrences: list[Occurrence]

    @property
    def bookings(self) -> list[int]:
        return [pk for o in self.occurrences for pk in o.bookings]


# --- The rule ------------------------------------------------------------------------------------


def rule_parts(text: str) -> dict[str, str]:
    """`FREQ=WEEKLY;COUNT=3` as {"FREQ": "WEEKLY", "COUNT": "3"}; an optional `RRULE:` prefix is allowed."""
    if not isinstance(text, str) or not text.strip() or "\n" in text or "\r" in text:
        raise ValidationError({"rrule": "Give one recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10."})
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts = {}
    for item in body.split(";"):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValidationError({"rrule": f"{item!r} is not NAME=VALUE."})
        parts[name.strip().upper()] = value.strip()
    return parts


def occurrence_starts(rule: str, first_start: dt.datetime, zone: ZoneInfo, exdates: Sequence = ()) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """The UTC starts the rule yields from `first_start` read in `zone`, and those left out by `exdates`.

    Bounded: at most MAX_OCCURRENCES, within MAX_SERIES_YEARS, the rule ending by COUNT or UNTIL;
    anything else is a ValidationError naming `rrule`.
    """
    parts = rule_parts(rule)
    _require_searchable(parts)
    local = first_start.astimezone(zone)
    limit = _add_years(local.replace(tzinfo=None), MAX_SERIES_YEARS)
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        try:
            parsed = dateutil_rrule.rrulestr(text, dtstart=local)
        except ValueError as error:
            if "UNTIL" not in str(error):
                raise
            # A local UNTIL (no Z): read it against a wall-clock DTSTART, then place it in the zone.
            parsed = dateutil_rrule.rrulestr(text, dtstart=local.replace(tzinfo=None))
        until = parsed._until  # dateutil keeps the rule's parts as attributes; UNTIL is not re-parsed here
        if until is not None and until.replace(tzinfo=None) > limit + dt.timedelta(days=1):
            raise ValidationError({"rrule": f"A series may span at most {MAX_SERIES_YEARS} years (UNTIL is later)."})
        if parsed._count is not None and parsed._count > MAX_OCCURRENCES:
            raise ValidationError({"rrule": f"A series has at most {MAX_OCCURRENCES} occurrences."})
        starts = list(islice(parsed, MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError({"rrule": f"Not a valid recurrence rule: {error}"}) from None
    if len(starts) > MAX_OCCURRENCES:
        raise ValidationError({"rrule": f"A series has at most {MAX_OCCURRENCES} occurrences."})
    if not starts:
        raise ValidationError({"rrule": "The rule yields no occurrence."})
    # The wall-clock time is the rule's; the offset is whatever the zone says on that date.
    wall = [s.replace(tzinfo=None) for s in starts]
    if wall[-1] > limit:
        raise ValidationError({"rrule": f"A series may span at most {MAX_SERIES_YEARS} years."})
    utc = [w.replace(tzinfo=zone).astimezone(engine.UTC) for w in wall]
    excluded = _excluded(utc, wall, exdates)
    return [s for s in utc if s not in excluded], [s for s in utc if s in excluded]


SEARCHABLE_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _require_searchable(parts: dict[str, str]) -> None:
    """Refuse what RFC 5545 forbids and what dateutil would search for until the year 9999.

    dateutil stops at UNTIL or COUNT only once it finds an occurrence, so a rule whose parts can
    never meet (30 February) would hold a worker for seconds; the combinations that can are the
    ones RFC 5545 forbids anyway, plus BYSETPOS below a month, refused here.
    """
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise ValidationError({"rrule": "The rule must end: give COUNT or UNTIL."})
    if "DTSTART" in parts:
        raise ValidationError({"rrule": "The rule starts at start_at; leave DTSTART out."})
    frequency = parts.get("FREQ", "").upper()
    if frequency not in SEARCHABLE_FREQUENCIES:
        raise ValidationError({"rrule": f"FREQ must be one of {', '.join(SEARCHABLE_FREQUENCIES)}."})
    allowed = {"BYWEEKNO": ("YEARLY",), "BYYEARDAY": ("YEARLY",), "BYSETPOS": ("MONTHLY", "YEARLY")}
    allowed["BYMONTHDAY"] = ("DAILY", "MONTHLY", "YEARLY")
    for name, frequencies in allowed.items():
        if name in parts and frequency not in frequencies:
            raise ValidationError({"rrule": f"{name} is not allowed with FREQ={frequency}."})
    if "BYMONTH" in parts and "BYMONTHDAY" in parts:
        try:
            months = [int(m) for m in parts["BYMONTH"].split(",")]
            days = [abs(int(d)) for d in parts["BYMONTHDAY"].split(",")]
        except ValueError:
            raise ValidationError({"rrule": "BYMONTH and BYMONTHDAY take integers."}) from None
        if not any(1 <= m <= 12 and 1 <= d <= DAYS_IN_MONTH[m - 1] for m in months for d in days):
            raise ValidationError({"rrule": "No month of BYMONTH has a day of BYMONTHDAY."})
    if "INTERVAL" in parts:
        interval = parts["INTERVAL"]
        if not interval.isascii() or not interval.isdigit() or int(interval) < 1:
            raise ValidationError({"rrule": "INTERVAL is a whole number of at least 1."})


def require_apart(starts: Sequence[dt.datetime], duration: dt.timedelta, resources: Sequence[Resource]) -> None:
    """Occurrences of one series may not overlap each other, buffers included (the resources' widest):
    they would double-book their own resources (docs/spec.md §14.2)."""
    reach = widest_buffers(resource_policy(r) for r in resources)
    before, after = reach.buffers
    ordered = sorted(starts)
    for earlier, later in zip(ordered, ordered[1:]):
        if earlier + duration + after > later - before:
            raise ValidationError(
                {"rrule": f"Occurrences would overlap each other ({_iso(earlier)} and {_iso(later)}), buffers included."}
            )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(engine.UTC).isoformat().replace("+00:00", "Z")


def series_exception_dates(series: BookingSeries) -> list[str]:
    """The series' exception dates (UTC, ISO 8601): those left out on request, and the occurrences
    moved or cancelled alone since (read from their bookings' `detached`, so detaching writes no
    second row and takes no lock on the series)."""
    detached = Booking.objects.filter(series=series, detached=True).values_list("recurrence_id", flat=True).distinct()
    return sorted(set(series.exdates) | {_iso(d) for d in detached})


def _add_years(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _excluded(utc: list[dt.datetime], wall: list[dt.datetime], exdates: Sequence) -> set[dt.datetime]:
    """Occurrences named by `exdates`: a date leaves out that local day's occurrence, a datetime that instant."""
    dates = {d for d in exdates if isinstance(d, dt.date) and not isinstance(d, dt.datetime)}
    moments = {d.astimezone(engine.UTC) for d in exdates if isinstance(d, dt.datetime)}
    return {u for u, w in zip(utc, wall) if u in moments or w.date() in dates}


def parse_exdates(values) -> list:
    """ISO 8601 dates or aware datetimes (strings, as stored), to dates and datetimes."""
    if not isinstance(values, (list, tuple)):
        raise ValidationError({"exdates": "A list of dates or datetimes."})
    if len(values) > MAX_OCCURRENCES:
        raise ValidationError({"exdates": f"At most {MAX_OCCURRENCES} dates."})
    parsed = []
    for value in values:
        if isinstance(value, (dt.date, dt.datetime)):
            parsed.append(value)
            continue
        if not isinstance(value, str):
            raise ValidationError({"exdates": f"{value!r} is not a date or datetime."})
        try:
            parsed.append(dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value))
        except ValueError:
            raise ValidationError({"exdates": f"{value!r} is not an ISO 8601 date or datetime."}) from None
        if isinstance(parsed[-1], dt.datetime) and parsed[-1].utcoffset() is None:
            raise ValidationError({"exdates": f"{value!r} has no time zone offset."})
        if isinstance(parsed[-1], dt.datetime):
            try:
                parsed[-1].astimezone(engine.UTC)
            except OverflowError:
                raise ValidationError({"exdates": f"{value!r} is outside the years a series can reach."}) from None
    return parsed


# --- Writes --------------------------------------------------------------------------------------


def series_preview(*, resources: Sequence[Resource], start_at, end_at, rrule: str, exdates=()) -> list[Occurrence]:
    """Each occurrence's result if the series were written now (no rights asked, nothing written)."""
    resources = validate_resources(resources, minimum=1)
    start, end = validate_interval(start_at, end_at)
    starts, skipped = occurrence_starts(rrule, start, resources[0].zone, parse_exdates(list(exdates)))
    require_apart(starts, end - start, resources)
    occurrences = [Occurrence(s, s + (end - start)) for s in starts]
    found = conflicts_by_interval(resources, [(o.start_at, o.end_at) for o in occurrences])
    for i, occurrence in enumerate(occurrences):
        occurrence.conflicts = [(r.pk, c) for r in resources for c in found[r.pk][i]]
        occurrence.status = SKIPPED if occurrence.conflicts else BOOKED
    return occurrences


def series_create(
    *,
    by,
    resources: Sequence[Resource],
    customer: Customer,
    start_at: dt.datetime,
    end_at: dt.datetime,
    rrule: str,
    exdates: Sequence = (),
    mode: str = SeriesMode.ALL_OR_NOTHING,
    notes: str = "",
    status: str = BookingStatus.PENDING,
) -> SeriesResult:
    if mode not in SeriesMode.values:
        raise ValidationError({"mode": f"One of {', '.join(SeriesMode.values)}."})
    resources = validate_resources(resources, minimum=1)
    start, end = validate_interval(start_at, end_at)
    starts, excluded = occurrence_starts(rrule, start, resources[0].zone, parse_exdates(list(exdates)))
    require_apart(starts, end - start, resources)
    with transaction.atomic():
        resources = lock_resources(resources)
        series = BookingSeries(
            customer=customer,
            start_at=start,
            end_at=end,
            rrule=rrule.strip(),
            # Stored as the occurrences they leave out (UTC), whatever form they were given in.
            exdates=[_iso(d) for d in excluded],
            mode=mode,
            notes=notes,
            created_by=permissions.user_or_none(by),
        )
        series.full_clean(exclude=["created_by", "resources"])
        occurrences = _write_occurrences(by, series, resources, customer, starts, end - start, mode, notes, status)
        group_notices.series_notice_record(series=series, event=group_notices.CREATED, anchor=_first_written(occurrences))
    return SeriesResult(series, occurrences)


def series_extend(*, series: BookingSeries, by, count: int | None = None, until: dt.datetime | None = None, mode: str | None = None) -> SeriesResult:
    """Add the occurrences the rule yields after the last one, with COUNT raised by `count` or UNTIL
    moved to `until`; the rule's other parts stay. With neither, the rule runs once more: as many
    occurrences again (a COUNT rule), or the same span again after its UNTIL (docs/spec.md §14.2)."""
    if count is not None and until is not None:
        raise ValidationError({"count": "Give either count or until, not both."})
    if count is None and until is None:
        count, until = _one_more_run(series)
    mode = mode or series.mode
    if mode not in SeriesMode.values:
        raise ValidationError({"mode": f"One of {', '.join(SeriesMode.values)}."})
    with transaction.atomic():
        series = BookingSeries.objects.select_for_update().get(pk=series.pk)
        resources = lock_resources(list(series.resources.all()))
        parts = rule_parts(series.rrule)
        parts.pop("UNTIL" if count is not None else "COUNT", None)
        if count is not None:
            if count < 1:
                raise ValidationError({"count": "At least 1."})
            known = Booking.objects.filter(series=series).values("recurrence_id").distinct().count()
            parts["COUNT"] = str(int(rule_parts(series.rrule).get("COUNT", known)) + count)
        else:
            if not series.start_at < until <= series.start_at + dt.timedelta(days=366 * MAX_SERIES_YEARS):
                raise ValidationError({"until": f"Within {MAX_SERIES_YEARS} years after the series' first start."})
            parts["UNTIL"] = until.astimezone(engine.UTC).strftime("%Y%m%dT%H%M%SZ")
        rule = ";".join(f"{k}={v}" for k, v in parts.items())
        exdates = parse_exdates(series.exdates)
        try:
            starts, _ = occurrence_starts(rule, series.start_at, resources[0].zone, exdates)
        except ValidationError as refused:
            # The caller gave the extent, not the rule: the message names what they sent.
            raise ValidationError({"count" if count is not None else "until": refused.message_dict.get("rrule", refused.messages)}) from None
        last = Booking.objects.filter(series=series).order_by("-recurrence_id").values_list("recurrence_id", flat=True).first()
        known_starts = set(Booking.objects.filter(series=series).values_list("recurrence_id", flat=True))
        new = [s for s in starts if s not in known_starts and (last is None or s > last)]
        require_apart([*([last] if last is not None else []), *new], series.end_at - series.start_at, resources)
        series.rrule = rule
        series.full_clean(exclude=["created_by", "resources"])
        duration = series.end_at - series.start_at
        occurrences = _write_occurrences(by, series, resources, series.customer, new, duration, mode, series.notes, BookingStatus.PENDING)
        group_notices.series_notice_record(series=series, event=group_notices.CREATED, anchor=_first_written(occurrences))
    return SeriesResult(series, occurrences)


def _one_more_run(series: BookingSeries) -> tuple[int | None, dt.datetime | None]:
    """(count, until) of one more run of the series' rule: its COUNT again, or its span again."""
    count = rule_parts(series.rrule).get("COUNT")
    if count is not None:
        return int(count), None
    starts = Booking.objects.filter(series=series).values_list("recurrence_id", flat=True)
    last = max([*starts, *(dt.datetime.fromisoformat(s) for s in series.skipped)], default=series.start_at)
    return None, last + (last - series.start_at) + dt.timedelta(seconds=1)


def _write_occurrences(by, series, resources, customer, starts, duration, mode, notes, status) -> list[Occurrence]:
    """Decide every part of every occurrence, then write them all, or raise SeriesConflict (all or nothing)."""
    occurrences = [Occurrence(s, s + duration) for s in starts]
    booking_service.lock_customer_for_quotas(customer.pk, resources)
    found = conflicts_by_interval(resources, [(o.start_at, o.end_at) for o in occurrences], customer=customer)
    planned: list[tuple[Occurrence, list[Booking]]] = []
    cleaned = False
    for i, occurrence in enumerate(occurrences):
        parts = [
            booking_service._new_booking(
                by, {"resource": r, "customer": customer, "start_at": occurrence.start_at, "end_at": occurrence.end_at, "notes": notes}, status
            )
            for r in resources
        ]
        try:
            # The first occurrence's parts are cleaned in full; later ones differ only in times.
            decide_parts(by, [(p, found[p.resource_id][i]) for p in parts], cleaned=cleaned)
        except GroupConflict as refused:
            occurrence.status, occurrence.conflicts = SKIPPED, refused.conflicts
            continue
        finally:
            cleaned = True
        planned.append((occurrence, parts))
    if mode == SeriesMode.ALL_OR_NOTHING and any(o.conflicts for o in occurrences):
        raise SeriesConflict(occurrences)
    if series.pk is None:
        series.save()
        series.resources.set(resources)
    skipped = [_iso(o.start_at) for o in occurrences if o.status == SKIPPED]
    if skipped:
        series.skipped = sorted(set(series.skipped) | set(skipped))
        series.save(update_fields=["skipped"])
    groups = []
    if len(resources) > 1:
        groups = BookingGroup.objects.bulk_create(
            BookingGroup(customer=customer, start_at=o.start_at, end_at=o.end_at, status=status, notes=notes, series=series, created_by=permissions.user_or_none(by))
            for o, _ in planned
        )
    rows = []
    for index, (occurrence, parts) in enumerate(planned):
        for part in parts:
            part.series, part.recurrence_id = series, occurrence.start_at
            part.group = groups[index] if groups else None
            rows.append(part)
    write_parts(rows)
    booking_service.announce_approvals(rows)
    for occurrence, parts in planned:
        occurrence.bookings = [p.pk for p in parts]
    return occurrences


def _first_written(occurrences: list[Occurrence]) -> Booking | None:
    ids = [pk for o in occurrences for pk in o.bookings]
    return Booking.objects.get(pk=ids[0]) if ids else None


def series_cancel(*, series: BookingSeries, by, since: dt.datetime | None = None) -> list[Booking]:
    """Cancel every pending or confirmed occurrence starting at or after `since` (now when not given):
    this and the following ones. Detached occurrences stand apart and are left as they are."""
    since = since if since is not None else timezone.now()
    with transaction.atomic():
        series = BookingSeries.objects.select_for_update().get(pk=series.pk)
        parts = list(
            Booking.objects.select_for_update()
            .select_related("resource")
            .filter(series=series, detached=False, recurrence_id__gte=since, status__in=[BookingStatus.PENDING, BookingStatus.CONFIRMED])
            .order_by("recurrence_id", "resource_id")
        )
        lock_resources(list({p.resource_id: p.resource for p in parts}.values()))
        for part in parts:
            changed = booking_service._decide_edit(by, part, {}, BookingStatus.CANCELLED, step=True)
            part.save(update_fields=[*changed, "updated_at"])
        BookingGroup.objects.filter(series=series, parts__in=[p.pk for p in parts]).update(status=BookingStatus.CANCELLED)
        if parts:
            group_notices.series_notice_record(series=series, event=group_notices.CANCELLED, anchor=parts[0], since=since)
    return parts


def series_occurrences(series: BookingSeries) -> list[Occurrence]:
    """The series as it stands: each occurrence written (booked, cancelled or detached) and each skipped date."""
    by_start: dict[dt.datetime, Occurrence] = {}
    for booking in Booking.objects.filter(series=series).order_by("recurrence_id", "resource_id"):
        occurrence = by_start.setdefault(booking.recurrence_id, Occurrence(booking.start_at, booking.end_at))
        occurrence.bookings.append(booking.pk)
        if booking.detached:
            occurrence.status = DETACHED
        elif booking.status == BookingStatus.CANCELLED and occurrence.status != DETACHED:
            occurrence.status = CANCELLED
    duration = series.end_at - series.start_at
    for value in series.skipped:
        start = dt.datetime.fromisoformat(value)
        by_start.setdefault(start, Occurrence(start, start + duration, SKIPPED))
    return [by_start[k] for k in sorted(by_start)]

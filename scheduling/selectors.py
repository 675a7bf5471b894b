"""Reads for the availability engine and the reports: the rows of some resources inside one window.

Each function costs one query whatever the number of resources, and reads only the rows that
overlap the window: on PostgreSQL through the GiST index of the exclusion constraint, on SQLite
through the (resource, end_at, start_at) index.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Count, F, Func, Q, QuerySet, Sum, Value

from scheduling.engine import Busy, ConflictKind, Interval, WorkingWindow
from scheduling.models import OCCUPYING, SEAT_HOLDING, Availability, Booking, Resource, ScheduleException, TsTzRange


class EqualsAny(Func):
    """`column = ANY(array)` as a condition: one parameter for any number of ids (PostgreSQL)."""

    template = "(%(expressions)s))"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def overlapping_bookings(resource_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """Occupying bookings of these resources whose occupied range (buffers included) overlaps [start, end)."""
    # No ORDER BY: the engine sorts, and an ordering on start_at tempts SQLite into the wrong index.
    qs = Booking.objects.order_by().filter(OCCUPYING)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.fields import ArrayField
        from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
        from django.db.models import BigIntegerField
        from django.db.models.functions import Cast

        # The same expression and condition as the booking_occupied_gist index (pool bookings
        # included; migration 0013), so the planner uses it for both columns. The ids go as `= ANY(bigint[])`: as plain integer literals they compare
        # int8 = int4, an operator btree_gist's int8 class lacks, and resource_id became a filter
        # applied after reading every resource's bookings of the window (docs/performance.md).
        ids = Cast(Value(list(resource_ids)), ArrayField(BigIntegerField()))
        return qs.alias(span=TsTzRange("occupied_start", "occupied_end", Value("[)"))).filter(
            EqualsAny(F("resource_id"), ids), span__overlap=DateTimeTZRange(start, end, "[)")
        )
    return qs.filter(resource_id__in=list(resource_ids), occupied_end__gt=start, occupied_start__lt=end)


def overlapping_exceptions(resource_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> QuerySet[ScheduleException]:
    return ScheduleException.objects.order_by().filter(resource_id__in=list(resource_ids), end_at__gt=start, start_at__lt=end)


def busy_by_resource(resource_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, list[Busy]]:
    """Occupying bookings (by their occupied range) and exceptions overlapping [start, end), per
    resource (two queries)."""
    busy: dict[int, list[Busy]] = defaultdict(list)
    rows = overlapping_bookings(resource_ids, start, end).values_list(
        "id", "resource_id", "start_at", "end_at", "status", "occupied_start", "occupied_end", "quantity"
    )
    for pk, resource_id, s, e, status, occupied_start, occupied_end, quantity in rows:
        busy[resource_id].append(Busy(ConflictKind.BOOKING, pk, s, e, status, occupied_start, occupied_end, quantity=quantity))
    rows = overlapping_exceptions(resource_ids, start, end).values_list("id", "resource_id", "start_at", "end_at", "reason")
    for pk, resource_id, s, e, reason in rows:
        busy[resource_id].append(Busy(ConflictKind.EXCEPTION, pk, s, e, reason=reason))
    return busy


def pool_busy(resource_id: int, start: dt.datetime, end: dt.datetime) -> list[Busy]:
    """What `busy_by_resource` reads for one pool, with its bookings summed per occupied range
    (two queries): bookings that share their times come as one row of their total units, so a
    pool of many units booked on a grid reads a row per slot, not per booking (docs/performance.md)."""
    rows = overlapping_bookings([resource_id], start, end).values_list("occupied_start", "occupied_end").annotate(units=Sum("quantity")).order_by()
    busy = [Busy(ConflictKind.BOOKING, 0, s, e, None, s, e, quantity=units) for s, e, units in rows]
    rows = overlapping_exceptions([resource_id], start, end).values_list("id", "start_at", "end_at", "reason")
    busy += [Busy(ConflictKind.EXCEPTION, pk, s, e, reason=reason) for pk, s, e, reason in rows]
    return busy


def windows_by_resource(resource_ids: list[int]) -> dict[int, list[WorkingWindow]]:
    """Weekly working hours per resource (one query)."""
    windows: dict[int, list[WorkingWindow]] = defaultdict(list)
    rows = Availability.objects.filter(resource_id__in=resource_ids).values_list("resource_id", "weekday", "start_time", "end_time")
    for resource_id, weekday, start_time, end_time in rows:
        windows[resource_id].append(WorkingWindow(weekday, start_time, end_time))
    return windows


@dataclass(frozen=True)
class ReportRows:
    """What a utilisation report reads, per resource id."""

    windows: dict[int, list[WorkingWindow]]
    exceptions: dict[int, list[Interval]]
    bookings: dict[int, list[tuple[dt.datetime, dt.datetime, str, int]]]  # start, end, status, quantity
    # The classes held on each resource (docs/spec.md §17.4): start, seats, seats held.
    sessions: dict[int, list[tuple[dt.datetime, int, int]]] = field(default_factory=dict)


def report_rows(resources: QuerySet[Resource], window: Interval, progress) -> ReportRows:
    """Availability rows, exceptions and bookings (every status) of the selection overlapping `window`
    (three queries); `progress(iterable, total, label)` wraps the bookings as they stream in."""
    selection = resources.values("pk")
    windows = defaultdict(list)
    for resource_id, weekday, start_time, end_time in Availability.objects.order_by().filter(resource__in=selection).values_list("resource_id", "weekday", "start_time", "end_time"):
        windows[resource_id].append(WorkingWindow(weekday, start_time, end_time))
    start, end = window
    exceptions = defaultdict(list)
    for resource_id, s, e in ScheduleException.objects.order_by().filter(resource__in=selection, end_at__gt=start, start_at__lt=end).values_list("resource_id", "start_at", "end_at"):
        exceptions[resource_id].append((s, e))
    bookings = defaultdict(list)
    # All statuses (cancelled ones are counted, not timed); no ORDER BY: the engine sorts.
    rows = Booking.objects.order_by().filter(resource__in=selection, end_at__gt=start, start_at__lt=end).values_list("resource_id", "start_at", "end_at", "status", "quantity")
    # Streamed, so that a progress bar moves while the driver turns rows into datetimes (half the
    # report's time); the number of rows is not known before they are read.
    for resource_id, s, e, status, quantity in progress(rows.iterator(chunk_size=5000), None, "Bookings"):
        bookings[resource_id].append((s, e, status, quantity))
    sessions = defaultdict(list)
    held = Count("session__attendances", filter=Q(session__attendances__status__in=SEAT_HOLDING))
    classes = Booking.objects.order_by().filter(OCCUPYING, session__isnull=False, resource__in=selection, end_at__gt=start, start_at__lt=end)
    for resource_id, s, seats, taken in classes.values("pk").annotate(held=held).values_list("resource_id", "start_at", "session__seats", "held"):
        sessions[resource_id].append((s, seats, taken))
    return ReportRows(windows, exceptions, bookings, sessions)


ReportRows.EMPTY = ReportRows({}, {}, {})

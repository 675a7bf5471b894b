"""Reads for the availability engine: the rows of a few resources inside one time window.

Each function costs one query whatever the number of resources, and reads only the rows that
overlap the window: on PostgreSQL through the GiST index of the exclusion constraint, on SQLite
through the (resource, end_at, start_at) index.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, F, Func, QuerySet, Value

from scheduling.engine import Busy, ConflictKind, WorkingWindow
from scheduling.models import OCCUPYING, Availability, Booking, ScheduleException, TsTzRange


class EqualsAny(Func):
    """`column = ANY(array)` as a condition: one parameter for any number of ids (PostgreSQL)."""

    template = "(%(expressions)s))"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def overlapping_bookings(resource_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """Occupying bookings of these resources that overlap [start, end)."""
    # No ORDER BY: the engine sorts, and an ordering on start_at tempts SQLite into the wrong index.
    qs = Booking.objects.order_by().filter(OCCUPYING)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.fields import ArrayField
        from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
        from django.db.models import BigIntegerField
        from django.db.models.functions import Cast

        # The same expression and condition as the booking_no_overlap index, so the planner uses it
        # for both columns. The ids go as `= ANY(bigint[])`: as plain integer literals they compare
        # int8 = int4, an operator btree_gist's int8 class lacks, and resource_id became a filter
        # applied after reading every resource's bookings of the window (docs/performance.md).
        ids = Cast(Value(list(resource_ids)), ArrayField(BigIntegerField()))
        return qs.alias(span=TsTzRange("start_at", "end_at", Value("[)"))).filter(
            EqualsAny(F("resource_id"), ids), span__overlap=DateTimeTZRange(start, end, "[)")
        )
    return qs.filter(resource_id__in=list(resource_ids), end_at__gt=start, start_at__lt=end)


def overlapping_exceptions(resource_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> QuerySet[ScheduleException]:
    return ScheduleException.objects.order_by().filter(resource_id__in=list(resource_ids), end_at__gt=start, start_at__lt=end)


def busy_by_resource(resource_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, list[Busy]]:
    """Occupying bookings and exceptions overlapping [start, end), per resource (two queries)."""
    busy: dict[int, list[Busy]] = defaultdict(list)
    rows = overlapping_bookings(resource_ids, start, end).values_list("id", "resource_id", "start_at", "end_at", "status")
    for pk, resource_id, s, e, status in rows:
        busy[resource_id].append(Busy(ConflictKind.BOOKING, pk, s, e, status))
    rows = overlapping_exceptions(resource_ids, start, end).values_list("id", "resource_id", "start_at", "end_at")
    for pk, resource_id, s, e in rows:
        busy[resource_id].append(Busy(ConflictKind.EXCEPTION, pk, s, e))
    return busy


def windows_by_resource(resource_ids: list[int]) -> dict[int, list[WorkingWindow]]:
    """Weekly working hours per resource (one query)."""
    windows: dict[int, list[WorkingWindow]] = defaultdict(list)
    rows = Availability.objects.filter(resource_id__in=resource_ids).values_list("resource_id", "weekday", "start_time", "end_time")
    for resource_id, weekday, start_time, end_time in rows:
        windows[resource_id].append(WorkingWindow(weekday, start_time, end_time))
    return windows

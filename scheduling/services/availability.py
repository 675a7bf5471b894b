"""Questions about time: is a resource free, when is it free, which resources of a type are free.

These read a constant number of queries (see selectors.py) and leave the arithmetic to the pure
engine. Bad input raises `ValidationError` naming the field, as docs/spec.md §2.3 says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from bisect import bisect_left, bisect_right
from itertools import islice

from django.core.exceptions import ValidationError
from django.utils import timezone

from scheduling import engine, selectors
from scheduling.engine import Conflict
from scheduling.models import Booking, Customer, Resource, ResourceType
from scheduling.permissions import restrict
from scheduling.services.policies import customer_starts_between, deadline_conflict, request_policy_conflicts, resource_policy

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
    remaining: int = 1  # the smallest number of free units over the interval (docs/spec.md §17.2)


def validate_quantity(quantity, resource: Resource | None = None) -> int:
    """Units asked of a pool: an integer from 1 to the resource's capacity (400 naming `quantity`)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError({"quantity": "The quantity is an integer of at least 1."})
    if resource is not None and quantity > resource.capacity:
        raise ValidationError({"quantity": f"At most the resource's capacity ({resource.capacity})."})
    return quantity


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


def check_availability(
    resource: Resource,
    start_at: dt.datetime,
    end_at: dt.datetime,
    ignore_booking=None,
    *,
    customer: Customer | int | None = None,
    by=None,
    quantity: int = 1,
) -> AvailabilityResult:
    """What a booking write of [start_at, end_at) would meet, without an override (docs/spec.md §13.3):
    the time conflicts, buffers included, then the policy rules (quotas with a customer), and for a
    booking being moved by a non-manager its change deadline; with the free units left (§17.2)."""
    start, end = validate_interval(start_at, end_at)
    quantity = validate_quantity(quantity, resource)
    ignore_id = getattr(ignore_booking, "pk", ignore_booking)
    policy = resource_policy(resource)
    conflicts, remaining = resource_time(resource, start, end, ignore_booking_id=ignore_id, policy=policy, quantity=quantity)
    conflicts += request_policy_conflicts(resource=resource, start=start, end=end, policy=policy, customer=customer, ignore_booking_id=ignore_id)
    moved = Booking.objects.select_related("resource__type").filter(pk=ignore_id).first() if ignore_id and by is not None else None
    if moved is not None and moved.occupies:
        late = deadline_conflict(booking=moved, rule="change_deadline", by=by)
        conflicts += [late] if late else []
    return AvailabilityResult(available=not conflicts, conflicts=conflicts, remaining=remaining)


def resource_conflicts(
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    *,
    ignore_booking_id: int | None = None,
    policy: engine.Policy | None = None,
    quantity: int = 1,
) -> list[Conflict]:
    """Every reason of time why [start, end) (UTC) cannot be booked on `resource` (three queries):
    a booking whose occupied range meets this one's under the resource's buffers (on a pool: too
    few free units for `quantity`), an exception, time outside working hours, an inactive resource."""
    return resource_time(resource, start, end, ignore_booking_id=ignore_booking_id, policy=policy, quantity=quantity)[0]


def resource_time(
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    *,
    ignore_booking_id: int | None = None,
    policy: engine.Policy | None = None,
    quantity: int = 1,
) -> tuple[list[Conflict], int]:
    """`resource_conflicts`, and the smallest number of units free over the occupied range."""
    policy = resource_policy(resource) if policy is None else policy
    occupied = engine.occupied_interval(start, end, policy)
    busy = selectors.busy_by_resource([resource.pk], *occupied)[resource.pk]
    windows = selectors.windows_by_resource([resource.pk])[resource.pk]
    conflicts = engine.find_conflicts(
        start=start,
        end=end,
        active=resource.active,
        resource_id=resource.pk,
        working=engine.working_intervals(windows, resource.timezone, start, end),
        busy=busy,
        ignore_booking_id=ignore_booking_id,
        policy=policy,
        capacity=resource.capacity,
        quantity=quantity,
    )
    loads = [(*b.occupied, b.quantity) for b in busy if b.kind == engine.ConflictKind.BOOKING and b.id != ignore_booking_id]
    return conflicts, engine.remaining_units(loads, *occupied, resource.capacity)


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
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta,
    step: dt.timedelta | None = None,
    *,
    limit: int | None = None,
    quantity: int = 1,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Slots `(start_at, end_at)` of `duration` on the grid start + k·step, each wholly free and inside
    the window, and each one the resource's policy accepts (buffers, notice, horizon, durations,
    granularity; not quotas, which depend on the customer), with `quantity` units free on a pool;
    the first `limit` of them when a limit is given (the others are never generated)."""
    start, end = validate_interval(start, end, max_span=MAX_SLOT_WINDOW, names=("start", "end"))
    step = slot_step(duration, step)
    quantity = validate_quantity(quantity, resource)
    if not resource.active:
        return []
    policy = resource_policy(resource)
    span = engine.occupied_interval(start, end, policy)
    # A pool needs the units held, not who holds them: summed per occupied range by the database.
    busy = selectors.pool_busy(resource.pk, *span) if resource.capacity > 1 else selectors.busy_by_resource([resource.pk], *span)[resource.pk]
    windows = selectors.windows_by_resource([resource.pk])[resource.pk]
    working = engine.working_intervals(windows, resource.timezone, start, end)
    free = engine.free_intervals(
        start=start, end=end, working=working, busy=busy, policy=policy, capacity=resource.capacity, quantity=quantity
    )
    starts = engine.policy_slot_starts(
        start=start, end=end, duration=duration, step=step, free=free, policy=policy, zone_name=resource.timezone, now=timezone.now()
    )
    return [(t, t + duration) for t in islice(starts, limit)]


def free_slots_page(
    resource: Resource,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta,
    step: dt.timedelta | None = None,
    *,
    limit: int,
    quantity: int = 1,
) -> SlotPage:
    """The first `limit` free slots and the start of the next one (None when none is left).

    `next_start` lies on the same grid, so asking again from it (same end, duration and step)
    continues exactly where this page stopped.
    """
    if limit < 1:
        raise ValidationError({"limit": "The limit must be at least 1."})
    found = free_slots(resource, start, end, duration, step, limit=limit + 1, quantity=quantity)
    return SlotPage(found[:limit], found[limit][0] if len(found) > limit else None)


def widest_buffers(policies) -> engine.Policy:
    """A policy with the widest buffers of `policies`: how far around a window to read busy time."""
    policies = list(policies)
    return engine.Policy(
        buffer_before=max((p.buffer_before for p in policies), default=0),
        buffer_after=max((p.buffer_after for p in policies), default=0),
    )


def available_resources(
    resource_type: ResourceType, start_at: dt.datetime, end_at: dt.datetime, *, user, quantity: int = 1
) -> list[Resource]:
    """Active resources of the type that `user` may see, free for the whole interval and whose policy
    accepts it (no override assumed, quotas aside), with `quantity` units free (a resource of a
    smaller capacity is not), by name (four queries)."""
    start, end = validate_interval(start_at, end_at)
    quantity = validate_quantity(quantity)
    candidates = restrict(user, Resource.objects.filter(type=resource_type, active=True))
    resources = [r for r in candidates.select_related("type") if r.capacity >= quantity]
    ids = [r.pk for r in resources]
    policies = {r.pk: resource_policy(r) for r in resources}
    busy = selectors.busy_by_resource(ids, *engine.occupied_interval(start, end, widest_buffers(policies.values())))
    windows = selectors.windows_by_resource(ids)
    now = timezone.now()
    free = []
    for resource in resources:
        policy = policies[resource.pk]
        working = engine.working_intervals(windows.get(resource.pk, []), resource.timezone, start, end)
        conflicts = engine.find_conflicts(
            start=start,
            end=end,
            active=True,
            resource_id=resource.pk,
            working=working,
            busy=busy.get(resource.pk, []),
            policy=policy,
            capacity=resource.capacity,
            quantity=quantity,
        )
        if not conflicts and not engine.policy_conflicts(start=start, end=end, policy=policy, zone_name=resource.timezone, now=now):
            free.append(resource)
    return free


def bookable_spans(resources: list[Resource], bounds: list[dt.datetime]) -> dict[int, list[int]]:
    """For each resource, the indexes i of the spans [bounds[i], bounds[i+1]) that a booking write
    would accept without an override (quotas aside): the calendar's clickable hours (three queries).

    Each resource's free time over the whole range is computed once (`engine.free_intervals`, which
    the property tests hold equal to `find_conflicts`); a span is bookable when one free interval
    holds it and the policy's own rules accept it."""
    if not resources or len(bounds) < 2:
        return {r.pk: [] for r in resources}
    policies = {r.pk: resource_policy(r) for r in resources}
    ids = [r.pk for r in resources]
    busy = selectors.busy_by_resource(ids, *engine.occupied_interval(bounds[0], bounds[-1], widest_buffers(policies.values())))
    windows = selectors.windows_by_resource(ids)
    now = timezone.now()
    found = {}
    for resource in resources:
        if not resource.active:
            found[resource.pk] = []
            continue
        policy = policies[resource.pk]
        working = engine.working_intervals(windows.get(resource.pk, []), resource.timezone, bounds[0], bounds[-1])
        if resource.capacity > 1:
            # A pool's bookings leave units free: each span is asked of the engine's sweep.
            found[resource.pk] = [
                i
                for i, (start, end) in enumerate(zip(bounds, bounds[1:]))
                if not engine.find_conflicts(
                    start=start, end=end, active=True, resource_id=resource.pk, working=working, busy=busy.get(resource.pk, []), policy=policy, capacity=resource.capacity
                )
                and not engine.policy_conflicts(start=start, end=end, policy=policy, zone_name=resource.timezone, now=now)
            ]
            continue
        free = engine.free_intervals(start=bounds[0], end=bounds[-1], working=working, busy=busy.get(resource.pk, []), policy=policy)
        free_starts = [s for s, _ in free]
        spans = []
        for i, (start, end) in enumerate(zip(bounds, bounds[1:])):
            k = bisect_right(free_starts, start) - 1
            if k >= 0 and end <= free[k][1] and not engine.policy_conflicts(
                start=start, end=end, policy=policy, zone_name=resource.timezone, now=now
            ):
                spans.append(i)
        found[resource.pk] = spans
    return found


def conflicts_by_interval(
    resources: list[Resource], intervals: list[engine.Interval], *, customer: Customer | int | None = None
) -> dict[int, list[list[Conflict]]]:
    """For each resource, the conflicts of each interval (UTC, sorted by start) under its policy,
    in three queries whatever their number (four with quotas): the busy time of every resource over
    the whole span, buffers included, is read once.

    What `booking_conflicts` answers for one interval, for many (a series, a group; docs/spec.md §14).
    With a `customer`, quotas count the customer's bookings of the type and, in order, the earlier
    intervals of this call on the same resource (a series' own occurrences count against it).
    """
    if not intervals:
        return {r.pk: [] for r in resources}
    policies = {r.pk: resource_policy(r) for r in resources}
    span = engine.occupied_interval(min(s for s, _ in intervals), max(e for _, e in intervals), widest_buffers(policies.values()))
    ids = [r.pk for r in resources]
    busy = selectors.busy_by_resource(ids, *span)
    windows = selectors.windows_by_resource(ids)
    now = timezone.now()
    answer = {}
    for resource in resources:
        policy = policies[resource.pk]
        rows = sorted(busy.get(resource.pk, []), key=lambda b: b.occupied[0])
        starts = [b.occupied[0] for b in rows]
        longest = max((b.occupied[1] - b.occupied[0] for b in rows), default=dt.timedelta(0))
        quota_starts = _quota_starts(resource, policy, customer, span)
        per_interval = []
        for index, (start, end) in enumerate(intervals):
            occupied_start, occupied_end = engine.occupied_interval(start, end, policy)
            # Only rows whose occupied range starts in [occupied_start - longest, occupied_end) can meet it.
            nearby = rows[bisect_left(starts, occupied_start - longest) : bisect_left(starts, occupied_end)]
            conflicts = engine.find_conflicts(
                start=start,
                end=end,
                active=resource.active,
                resource_id=resource.pk,
                working=engine.working_intervals(windows.get(resource.pk, []), resource.timezone, start, end),
                busy=nearby,
                policy=policy,
                capacity=resource.capacity,
            )
            earlier = None if quota_starts is None else quota_starts + [s for s, _ in intervals[:index]]
            conflicts += engine.policy_conflicts(
                start=start, end=end, policy=policy, zone_name=resource.timezone, now=now, customer_starts=earlier
            )
            per_interval.append(conflicts)
        answer[resource.pk] = per_interval
    return answer


def _quota_starts(resource: Resource, policy: engine.Policy, customer, span: engine.Interval) -> list[dt.datetime] | None:
    """The starts of the customer's occupying bookings of the type around `span` (None: no quota to count)."""
    if customer is None or not (policy.quota_per_day or policy.quota_per_week):
        return None
    return customer_starts_between(resource=resource, customer=customer, start=span[0], end=span[1])

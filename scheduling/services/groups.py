"""Booking groups: one customer, one interval, several resources, all or nothing (docs/spec.md §14).

Each resource's part is an ordinary Booking pointing at its group, so the exclusion constraint
guards every part. Every part is decided by the booking service's own decisions (`_decide_create`,
`_decide_edit`: validation, rights, policies, availability), under locks on all the resources
taken in id order (so two groups sharing resources cannot deadlock); one refused part refuses the
group, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduling import audit, engine, permissions, selectors
from scheduling.models import Booking, BookingGroup, BookingStatus, Customer, Resource, ResourceType
from scheduling.services import bookings as booking_service
from scheduling.services import group_notices, notifications, reminders, webhooks
from scheduling.services.availability import MAX_SLOT_WINDOW, conflicts_by_interval, slot_step, validate_interval, widest_buffers
from scheduling.services.policies import resource_policy
from scheduling.services.errors import BookingConflict, GroupConflict

MAX_GROUP_RESOURCES = 20
# Resource checks one `find` request may make before it answers what it found and where to go on.
MAX_FIND_CHECKS = 200_000
GROUP_EDITABLE = frozenset({"customer", "start_at", "end_at", "notes"})


@dataclass(frozen=True)
class GroupCheck:
    available: bool
    conflicts: list[tuple[int, engine.Conflict]]


def validate_resources(resources: Sequence[Resource], *, minimum: int = 2, name: str = "resources") -> list[Resource]:
    """Distinct resources, at least `minimum`, at most MAX_GROUP_RESOURCES, in id order."""
    distinct = {r.pk: r for r in resources}
    if len(distinct) != len(resources):
        raise ValidationError({name: "Each resource may be listed once."})
    if not minimum <= len(distinct) <= MAX_GROUP_RESOURCES:
        raise ValidationError({name: f"List between {minimum} and {MAX_GROUP_RESOURCES} resources."})
    return [distinct[pk] for pk in sorted(distinct)]


def lock_resources(resources: Sequence[Resource]) -> list[Resource]:
    """The resources read fresh and locked, in id order (a no-op lock on SQLite's immediate transaction)."""
    return list(Resource.objects.select_for_update().filter(pk__in=[r.pk for r in resources]).order_by("pk"))


def group_check(*, resources: Sequence[Resource], start_at: dt.datetime, end_at: dt.datetime) -> GroupCheck:
    resources = validate_resources(resources)
    start, end = validate_interval(start_at, end_at)
    found = conflicts_by_interval(resources, [(start, end)])
    conflicts = [(r.pk, c) for r in resources for c in found[r.pk][0]]
    return GroupCheck(available=not conflicts, conflicts=conflicts)


def group_create(
    *,
    by,
    resources: Sequence[Resource],
    customer: Customer,
    start_at: dt.datetime,
    end_at: dt.datetime,
    status: str = BookingStatus.PENDING,
    notes: str = "",
) -> BookingGroup:
    resources = validate_resources(resources)
    with transaction.atomic():
        resources = lock_resources(resources)
        booking_service.lock_customer_for_quotas(customer.pk, resources)
        parts = [
            booking_service._new_booking(
                by, {"resource": r, "customer": customer, "start_at": start_at, "end_at": end_at, "notes": notes}, status
            )
            for r in resources
        ]
        start, end = parts[0].start_at, parts[0].end_at
        found = conflicts_by_interval(resources, [(start, end)], customer=customer)
        decide_parts(by, [(part, found[part.resource_id][0]) for part in parts])
        group = BookingGroup.objects.create(
            customer=customer, start_at=start, end_at=end, status=status, notes=notes, created_by=permissions.user_or_none(by)
        )
        for part in parts:
            part.group = group
        write_parts(parts)
        booking_service.announce_approvals(parts)
        group_notices.group_notice_record(group=group, event=group_notices.CREATED)
    return group


def decide_parts(by, parts: list[tuple[Booking, list[engine.Conflict]]], *, cleaned: bool = False) -> None:
    """Each part through the booking service's decision; every part's conflicts together, or nothing."""
    refused: list[tuple[int, engine.Conflict]] = []
    for part, conflicts in parts:
        try:
            booking_service._decide_create(by, part, conflicts=conflicts, cleaned=cleaned)
        except BookingConflict as conflict:
            refused.extend((part.resource_id, c) for c in conflict.conflicts)
    if refused:
        raise GroupConflict(refused)


def write_parts(parts: list[Booking]) -> list[Booking]:
    """Insert the parts in one statement; the exclusion constraint still checks every row, and a
    writer that bypassed the service and won a race turns into the same GroupConflict."""
    try:
        with transaction.atomic():
            written = Booking.objects.bulk_create(parts)
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        intervals = sorted({(p.start_at, p.end_at) for p in parts})
        resources = list({p.resource_id: p.resource for p in parts}.values())
        found = conflicts_by_interval(resources, intervals)
        raise GroupConflict(
            [(r.pk, c) for r in resources for per in found[r.pk] for c in per] or [(parts[0].resource_id, _unknown(parts[0]))]
        ) from error
    _parts_written(written)
    return written


def _parts_written(parts: list[Booking]) -> None:
    """What the `post_save` receivers do for one booking, which `bulk_create` does not call: each
    part's webhooks (endpoints read once) and the reminders, planned once per group (on its first
    part, the resource with the lowest id) or per booking of a single-resource series; and each
    part's audit entry."""
    audit.log_bulk_created(parts)
    endpoints = webhooks.active_endpoints()
    if endpoints:
        for part in parts:
            events = webhooks.booking_webhook_events(created=True, update_fields=None, status=part.status)
            webhooks.webhook_deliveries_record(booking_id=part.pk, events=events, endpoints=endpoints)
    reminded = set()
    for part in parts:
        if part.session_id is None and part.resource.type.reminder_before and (part.group_id is None or part.group_id not in reminded):
            reminded.add(part.group_id)
            reminders.booking_reminders_plan(booking=part, created=True)


def _unknown(part: Booking) -> engine.Conflict:
    return engine.Conflict(engine.ConflictKind.BOOKING, None, part.start_at, part.end_at)


def group_edit(*, group: BookingGroup, by, changes: Mapping[str, Any] | None = None, to_status: str | None = None) -> BookingGroup:
    """Move, re-time or change the status of every part at once; one refused part refuses all."""
    changes = dict(changes or {})
    unknown = set(changes) - GROUP_EDITABLE
    if unknown:
        raise TypeError(f"Not group fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = BookingGroup.objects.select_for_update().get(pk=group.pk)
        parts = list(current.parts.select_for_update().order_by("resource_id"))
        resources = {r.pk: r for r in lock_resources([p.resource for p in parts])}
        refused: list[tuple[int, engine.Conflict]] = []
        saves = []
        for part in parts:
            part.resource = resources[part.resource_id]
            try:
                changed = booking_service._decide_edit(by, part, changes, to_status, step=to_status is not None and not changes)
            except BookingConflict as conflict:
                refused.extend((part.resource_id, c) for c in conflict.conflicts)
                continue
            changed += booking_service.occurrence_detach(part, changed)
            saves.append((part, changed))
        if refused:
            raise GroupConflict(refused)
        for part, changed in saves:
            if changed:
                _save_part(part, changed)
        first = parts[0]
        for name in ("customer", "start_at", "end_at", "notes", "status"):
            setattr(current, name, getattr(first, name))
        current.save()
        # A transition that is news, or a move of a group still to happen (as for one booking, §9).
        event = notifications.booking_event(created=False, update_fields=saves[0][1], status=current.status)
        group_notices.group_notice_record(group=current, event=event)
    for field in BookingGroup._meta.concrete_fields:
        setattr(group, field.attname, getattr(current, field.attname))
    return group


def group_transition(*, group: BookingGroup, to_status: str, by) -> BookingGroup:
    return group_edit(group=group, by=by, to_status=to_status)


def _save_part(part: Booking, changed: list[str]) -> None:
    try:
        with transaction.atomic():
            part.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        found = conflicts_by_interval([part.resource], [(part.start_at, part.end_at)])[part.resource_id][0]
        raise GroupConflict([(part.resource_id, c) for c in found if c.id != part.pk] or [(part.resource_id, _unknown(part))]) from error


# --- Finding a time for several types at once ----------------------------------------------------


@dataclass(frozen=True)
class GroupSlot:
    start_at: dt.datetime
    end_at: dt.datetime
    resources: list[Resource]  # one per type, in the order the types were asked


@dataclass(frozen=True)
class GroupSlotPage:
    slots: list[GroupSlot]
    next_start: dt.datetime | None


def group_find(
    *, user, types: Sequence[ResourceType], start: dt.datetime, end: dt.datetime, duration: dt.timedelta, step: dt.timedelta | None, limit: int
) -> GroupSlotPage:
    """Slots on the grid start + k·step where every type has a free resource the user may see; for
    each type the first such resource by name. The caps of `resource/{id}/slots` (docs/spec.md §6.5):
    a window of at most 62 days, a step of at least 5 minutes, `limit` slots and the next start."""
    if limit < 1:
        raise ValidationError({"limit": "The limit must be at least 1."})
    if not types:
        raise ValidationError({"types": "Name at least one resource type."})
    start, end = validate_interval(start, end, max_span=MAX_SLOT_WINDOW, names=("start", "end"))
    step = slot_step(duration, step)
    candidates = list(
        permissions.restrict(user, Resource.objects.filter(type__in=types, active=True)).select_related("type").order_by("name", "id")
    )
    ids = [r.pk for r in candidates]
    # Each resource's policy, as the write would apply it (buffers, notice, horizon, durations, grid).
    rules = {r.pk: resource_policy(r) for r in candidates}
    busy = selectors.busy_by_resource(ids, *engine.occupied_interval(start, end, widest_buffers(rules.values())))
    windows = selectors.windows_by_resource(ids)
    free = {
        r.pk: engine.free_intervals(
            start=start,
            end=end,
            working=engine.working_intervals(windows.get(r.pk, []), r.timezone, start, end),
            busy=busy.get(r.pk, []),
            policy=rules[r.pk],
        )
        for r in candidates
    }
    now = timezone.now()

    def fits(resource: Resource, t: dt.datetime) -> bool:
        return _covers(free[resource.pk], t, t + duration) and not engine.policy_conflicts(
            start=t, end=t + duration, policy=rules[resource.pk], zone_name=resource.timezone, now=now
        )

    by_type = [[r for r in candidates if r.type_id == t.pk] for t in types]
    found: list[GroupSlot] = []
    budget = MAX_FIND_CHECKS
    t = start
    while t + duration <= end and len(found) <= limit:
        if budget <= 0:
            # Bounded work per request, whatever the pools: the answer says where to go on from.
            return GroupSlotPage(found[:limit], found[limit].start_at if len(found) > limit else t)
        chosen = []
        for pool in by_type:  # the first type without a free resource ends this start's search
            budget -= len(pool)
            choice = next((r for r in pool if fits(r, t)), None)
            if choice is None:
                break
            chosen.append(choice)
        if len(chosen) == len(by_type):
            found.append(GroupSlot(t, t + duration, chosen))
        t += step
    return GroupSlotPage(found[:limit], found[limit].start_at if len(found) > limit else None)


def _covers(free: list[engine.Interval], start: dt.datetime, end: dt.datetime) -> bool:
    i = bisect_right(free, (start, dt.datetime.max.replace(tzinfo=engine.UTC))) - 1
    return i >= 0 and free[i][0] <= start and end <= free[i][1]

"""Demo data: the quick start's realistic week, and a reproducible bulk generator for benchmarks.

The realistic week (trainers, rooms and vehicles in two time zones, leave, bookings in every status)
is written through the booking service so that it obeys the same rules as real data. The bulk
generator (`load_bulk`) writes up to millions of rows with bulk_create; see its section below.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from scheduling import engine
from scheduling.engine import Interval
from scheduling.models import Availability, Booking, BookingStatus, Customer, Resource, ResourceType, ScheduleException
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.services.errors import BookingConflict
from scheduling.services.notifications import notifications_muted

WEEKDAYS = range(0, 5)
MIDNIGHT = dt.time(0)

TYPES = {"Trainer": "#e11d48", "Room": "#2563eb", "Vehicle": "#16a34a"}

# name, type, time zone, [(weekdays, start, end)], metadata
RESOURCES = [
    ("Anna Kowalska", "Trainer", "Europe/Warsaw", [(WEEKDAYS, dt.time(7), dt.time(15))], {"speciality": "strength"}),
    ("Piotr Nowak", "Trainer", "Europe/Warsaw", [(WEEKDAYS, dt.time(12), dt.time(20)), ([5], dt.time(9), dt.time(13))], {"speciality": "boxing"}),
    ("Marta Wiśniewska", "Trainer", "Europe/Warsaw", [([0, 2, 4], dt.time(8), dt.time(16))], {"speciality": "yoga"}),
    ("Jake Miller", "Trainer", "America/New_York", [(WEEKDAYS, dt.time(6), dt.time(14))], {"speciality": "crossfit"}),
    ("Emily Chen", "Trainer", "America/New_York", [(WEEKDAYS, dt.time(10), dt.time(18))], {"speciality": "pilates"}),
    ("Studio A", "Room", "Europe/Warsaw", [(range(7), dt.time(6), dt.time(22))], {"capacity": 20}),
    ("Studio B", "Room", "Europe/Warsaw", [(range(7), dt.time(6), dt.time(22))], {"capacity": 12}),
    ("Brooklyn Loft", "Room", "America/New_York", [(WEEKDAYS, dt.time(8), dt.time(20))], {"capacity": 30}),
    ("Meeting room 3", "Room", "America/New_York", [], {"capacity": 6, "note": "bookable around the clock"}),
    ("Van WX 1234", "Vehicle", "Europe/Warsaw", [(WEEKDAYS, dt.time(6), dt.time(18))], {"seats": 8}),
    ("Night shuttle", "Vehicle", "Europe/Warsaw", [(range(7), dt.time(20), MIDNIGHT), (range(7), MIDNIGHT, dt.time(6))], {"seats": 16}),
    ("Truck NY-42", "Vehicle", "America/New_York", [(WEEKDAYS, dt.time(5), dt.time(13))], {"payload_kg": 3500}),
]

CUSTOMERS = [
    ("Ola Zielińska", "ola@example.com", "+48 600 100 200"),
    ("Tomasz Lewandowski", "tomasz@example.com", "+48 600 300 400"),
    ("Sarah Johnson", "sarah@example.com", "+1 212 555 0101"),
    ("Michael Brown", "michael@example.com", "+1 212 555 0102"),
    ("Kasia Wójcik", "kasia@example.com", ""),
    ("Acme Logistics", "dispatch@acme.example", "+1 718 555 0199"),
]


def has_demo_data() -> bool:
    return Resource.objects.exists()


@transaction.atomic
def load_demo(*, seed: int = 7, now: dt.datetime | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    types = {name: ResourceType.objects.get_or_create(name=name, defaults={"color": color})[0] for name, color in TYPES.items()}
    customers = [Customer.objects.create(name=n, email=e, phone=p) for n, e, p in CUSTOMERS]
    resources = []
    for name, type_name, zone, hours, metadata in RESOURCES:
        resource = Resource.objects.create(name=name, type=types[type_name], timezone=zone, metadata=metadata)
        Availability.objects.bulk_create(
            Availability(resource=resource, weekday=day, start_time=start, end_time=end)
            for days, start, end in hours
            for day in days
        )
        resources.append(resource)

    now = now or timezone.now()
    today = timezone.localdate(now)
    monday = today - dt.timedelta(days=today.weekday())
    _add_leave(resources, monday)
    with notifications_muted():  # the demo's customers are fictional: mail nobody
        created = _add_bookings(resources, customers, monday, now, rng)
    return {"resources": len(resources), "customers": len(customers), "bookings": created}


def _local(resource: Resource, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(resource.timezone))


def _add_leave(resources: list[Resource], monday: dt.date) -> None:
    by_name = {r.name: r for r in resources}
    anna, jake, van = by_name["Anna Kowalska"], by_name["Jake Miller"], by_name["Van WX 1234"]
    wednesday = monday + dt.timedelta(days=2)
    ScheduleException.objects.bulk_create(
        [
            ScheduleException(resource=anna, start_at=_local(anna, wednesday, 0), end_at=_local(anna, wednesday + dt.timedelta(days=1), 0), reason="Annual leave"),
            ScheduleException(resource=jake, start_at=_local(jake, monday + dt.timedelta(days=3), 10), end_at=_local(jake, monday + dt.timedelta(days=3), 14), reason="Dentist"),
            ScheduleException(resource=van, start_at=_local(van, monday + dt.timedelta(days=1), 6), end_at=_local(van, monday + dt.timedelta(days=1), 12), reason="Service inspection"),
        ]
    )


def _add_bookings(resources, customers, monday, now, rng) -> int:
    created = 0
    for resource in resources:
        for offset in range(7):
            day = monday + dt.timedelta(days=offset)
            for hour in rng.sample(range(6, 21), k=3):
                start = _local(resource, day, hour)
                end = start + dt.timedelta(minutes=rng.choice([45, 60, 90]))
                try:
                    booking = booking_service.booking_create(
                        by=SYSTEM,
                        resource=resource,
                        customer=rng.choice(customers),
                        start_at=start,
                        end_at=end,
                        notes=rng.choice(["", "", "First session", "Bring ID", "Pay at desk"]),
                    )
                except BookingConflict:
                    continue  # outside hours, on leave or taken: demo data obeys the rules
                created += 1
                _give_a_status(booking, past=end <= now, rng=rng)
    return created


def _give_a_status(booking, *, past: bool, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.1:
        booking_service.booking_cancel(booking=booking, by=SYSTEM)
        return
    if past:
        booking_service.booking_confirm(booking=booking, by=SYSTEM)
        if roll < 0.2:
            booking_service.booking_no_show(booking=booking, by=SYSTEM)
        else:
            booking_service.booking_complete(booking=booking, by=SYSTEM)
    elif roll < 0.6:
        booking_service.booking_confirm(booking=booking, by=SYSTEM)


# --- Bulk generator (docs/spec.md §10.4) ------------------------------------------------------
# Benchmarks and load tests need many rows fast, so these are written with bulk_create rather than
# through the booking service; the generator keeps the service's rules by construction instead:
# bookings lie inside working hours, outside leave, and never overlap within a resource.

BULK_ZONES = ("Europe/Warsaw", "America/New_York", "Asia/Tokyo", "UTC")
# (weekdays, start, end) rows of each weekly pattern; no rows means around the clock.
BULK_PATTERNS = (
    [(WEEKDAYS, dt.time(8), dt.time(16))],
    [(range(7), dt.time(6), dt.time(22))],
    [(range(7), dt.time(20), MIDNIGHT), (range(7), MIDNIGHT, dt.time(6))],
    [],
)
# Each booking gets a cell of its own; crowded resources get smaller cells.
CELLS = (dt.timedelta(hours=2), dt.timedelta(hours=1), dt.timedelta(minutes=30), dt.timedelta(minutes=15))
LENGTHS = tuple(dt.timedelta(minutes=m) for m in (30, 45, 60, 90))
GRID = dt.timedelta(minutes=15)
LEAVE_EVERY_DAYS = 28
HISTORY_STATUSES = ((BookingStatus.COMPLETED, 70), (BookingStatus.NO_SHOW, 10), (BookingStatus.CANCELLED, 10), (BookingStatus.CONFIRMED, 10))
UPCOMING_STATUSES = ((BookingStatus.PENDING, 40), (BookingStatus.CONFIRMED, 50), (BookingStatus.CANCELLED, 10))


class NotEnoughWorkingTime(Exception):
    def __init__(self, resource_name: str, wanted: int):
        super().__init__(f"{resource_name} has not enough working time for {wanted} bookings; raise --days.")


@dataclass(frozen=True)
class BulkPlan:
    resources: int
    bookings: int
    seed: int
    start: dt.date
    days: int
    batch_size: int = 5000

    @property
    def span(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.start, dt.time(0), tzinfo=dt.timezone.utc)
        return start, start + dt.timedelta(days=self.days)

    @property
    def middle(self) -> dt.datetime:
        return self.span[0] + dt.timedelta(days=self.days // 2)

    def share(self, index: int) -> int:
        """Bookings of the index-th resource: an even split, the remainder to the first ones."""
        return self.bookings // self.resources + (index < self.bookings % self.resources)


def default_days(resources: int, bookings: int) -> int:
    """About three bookings per resource per day, and at least a week."""
    return max(7, math.ceil(bookings / resources / 3))


def default_start(days: int, today: dt.date) -> dt.date:
    """So that the span's middle is this week's Monday."""
    return today - dt.timedelta(days=today.weekday() + days // 2)


@transaction.atomic
def load_bulk(plan: BulkPlan, *, on_batch: Callable[[int], None] = lambda n: None) -> dict[str, int]:
    """Write the plan's rows; `on_batch(n)` after each batch of n bookings. All or nothing."""
    rng = random.Random(plan.seed)
    types = [ResourceType.objects.get_or_create(name=name, defaults={"color": color})[0] for name, color in TYPES.items()]
    customer_ids = _bulk_customers(plan)
    resources = Resource.objects.bulk_create(_bulk_resource(i, types) for i in range(plan.resources))
    Availability.objects.bulk_create(
        (
            Availability(resource=resource, weekday=day, start_time=start, end_time=end)
            for i, resource in enumerate(resources)
            for days, start, end in BULK_PATTERNS[i % len(BULK_PATTERNS)]
            for day in days
        ),
        batch_size=plan.batch_size,
    )
    leave = _bulk_leave(plan, resources, rng)
    ScheduleException.objects.bulk_create((e for group in leave.values() for e in group), batch_size=plan.batch_size)
    batch, written = [], 0
    for i, resource in enumerate(resources):
        for start, end in _place_bookings(plan, i, resource, leave[resource.pk], rng):
            status = _pick(rng, HISTORY_STATUSES if end <= plan.middle else UPCOMING_STATUSES)
            batch.append(Booking(resource_id=resource.pk, customer_id=rng.choice(customer_ids), start_at=start, end_at=end, status=status))
            if len(batch) >= plan.batch_size:
                written += _flush(batch, on_batch)
    written += _flush(batch, on_batch)
    return {"resources": len(resources), "customers": len(customer_ids), "exceptions": sum(map(len, leave.values())), "bookings": written}


def _bulk_customers(plan: BulkPlan) -> list[int]:
    count = max(10, min(plan.bookings // 50, 20_000))
    customers = Customer.objects.bulk_create(
        (Customer(name=f"Customer {n:05d}", email=f"customer{n:05d}@example.com") for n in range(1, count + 1)),
        batch_size=plan.batch_size,
    )
    return [c.pk for c in customers]


def _bulk_resource(index: int, types: list[ResourceType]) -> Resource:
    # Pattern i % 4 and zone (i // 4) % 4: every pattern meets every zone within 16 resources.
    resource_type = types[index % len(types)]
    zone = BULK_ZONES[(index // len(BULK_PATTERNS)) % len(BULK_ZONES)]
    return Resource(name=f"{resource_type.name} {index + 1:04d}", type=resource_type, timezone=zone, metadata={"generated": True})


def _bulk_leave(plan: BulkPlan, resources: list[Resource], rng: random.Random) -> dict[int, list[ScheduleException]]:
    """One local day of leave per resource in every block of 28 days."""
    leave = {}
    for resource in resources:
        zone = ZoneInfo(resource.timezone)
        days = [plan.start + dt.timedelta(days=block + rng.randrange(min(LEAVE_EVERY_DAYS, plan.days - block))) for block in range(0, plan.days, LEAVE_EVERY_DAYS)]
        # In UTC: arithmetic on datetimes of a ZoneInfo zone is wall-clock arithmetic, wrong on DST days.
        leave[resource.pk] = [
            ScheduleException(
                resource=resource,
                start_at=dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc),
                end_at=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc),
                reason="Leave",
            )
            for day in days
        ]
    return leave


def _place_bookings(plan: BulkPlan, index: int, resource: Resource, leave: list[ScheduleException], rng: random.Random) -> list[Interval]:
    """`plan.share(index)` non-overlapping intervals inside working hours and outside leave, sorted."""
    wanted = plan.share(index)
    span_start, span_end = plan.span
    working = _working(index % len(BULK_PATTERNS), resource.timezone, plan.span)
    free = engine.free_intervals(start=span_start, end=span_end, working=working, busy=[engine.Busy(engine.ConflictKind.EXCEPTION, 0, e.start_at, e.end_at) for e in leave])
    for cell in CELLS:
        capacity = sum((e - s) // cell for s, e in free)
        if capacity >= wanted:
            break
    else:
        raise NotEnoughWorkingTime(resource.name, wanted)
    # Cells are numbered across the free intervals; a sorted sample of numbers is walked once.
    chosen = sorted(rng.sample(range(capacity), wanted))
    lengths = [length for length in LENGTHS if length <= cell] or [cell]
    placed, first_cell, k = [], 0, 0
    for free_start, free_end in free:
        cells_here = (free_end - free_start) // cell
        while k < wanted and chosen[k] < first_cell + cells_here:
            cell_start = free_start + (chosen[k] - first_cell) * cell
            length = rng.choice(lengths)
            offset = rng.randrange((cell - length) // GRID + 1) * GRID
            placed.append((cell_start + offset, cell_start + offset + length))
            k += 1
        first_cell += cells_here
    return placed


@lru_cache(maxsize=64)
def _working(pattern: int, zone: str, span: tuple[dt.datetime, dt.datetime]) -> tuple[Interval, ...]:
    """Working time of a pattern in a zone over the span; shared by every resource with both."""
    windows = [engine.WorkingWindow(day, start, end) for days, start, end in BULK_PATTERNS[pattern] for day in days]
    working = engine.working_intervals(windows, zone, *span)
    return tuple([span] if working is None else working)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def _flush(batch: list[Booking], on_batch: Callable[[int], None]) -> int:
    Booking.objects.bulk_create(batch)
    written = len(batch)
    batch.clear()
    on_batch(written)
    return written

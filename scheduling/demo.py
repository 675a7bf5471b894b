"""Realistic demo data for the quick start: trainers, rooms and vehicles in two time zones.

Working hours, leave and a week of bookings in every status, all written through the booking
service so that the demo obeys the same rules as real data.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from scheduling.models import Availability, Customer, Resource, ResourceType, ScheduleException
from scheduling.services import bookings as booking_service
from scheduling.services.errors import BookingConflict

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
        booking_service.booking_cancel(booking=booking)
        return
    if past:
        booking_service.booking_confirm(booking=booking)
        if roll < 0.2:
            booking_service.booking_no_show(booking=booking)
        else:
            booking_service.booking_complete(booking=booking)
    elif roll < 0.6:
        booking_service.booking_confirm(booking=booking)

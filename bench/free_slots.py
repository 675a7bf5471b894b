"""Free slots and the availability check against 100 and 100,000 bookings of one resource.

The window (30 days) holds the same bookings in both runs; only the history outside it grows.
Cost should follow the bookings in the window, so the ratio large/small should stay near 1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scheduling_bench python bench/free_slots.py
"""

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduling_site.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from scheduling.models import Booking, Customer, Resource, ResourceType  # noqa: E402
from scheduling.services.availability import check_availability, free_slots  # noqa: E402

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
WINDOW = (dt.datetime(2026, 3, 2, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC))
RUNS = 200


def timed(fn, runs=RUNS):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p99_ms": samples[int(len(samples) * 0.99) - 1]}


def scene(history: int):
    kind, _ = ResourceType.objects.get_or_create(name="bench")
    resource = Resource.objects.create(name=f"bench {history}", type=kind, timezone="Europe/Warsaw")
    customer = Customer.objects.create(name="Bench", email="bench@example.com")
    far = dt.datetime(2000, 1, 1, tzinfo=UTC)
    Booking.objects.bulk_create(
        (Booking(resource=resource, customer=customer, start_at=far + i * HOUR, end_at=far + (i + 1) * HOUR, status="completed") for i in range(history)),
        batch_size=10_000,
    )
    # The same 60 bookings inside the window for both scenes.
    Booking.objects.bulk_create(
        Booking(resource=resource, customer=customer, start_at=WINDOW[0] + i * 12 * HOUR, end_at=WINDOW[0] + (i * 12 + 1) * HOUR, status="confirmed")
        for i in range(60)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scheduling_booking")
    return resource


def main():
    call_command("migrate", verbosity=0)
    results = {"database": connection.vendor, "runs": RUNS, "scenes": {}}
    for history in (100, 100_000):
        resource = scene(history)
        check_at = WINDOW[0] + 5 * HOUR
        results["scenes"][history] = {
            "free_slots_30d": timed(lambda: free_slots(resource, *WINDOW, HOUR)),
            "check_availability": timed(lambda: check_availability(resource, check_at, check_at + HOUR)),
        }
    small, large = results["scenes"][100], results["scenes"][100_000]
    print(f"{'query':<22}{'100 bookings':>16}{'100,000 bookings':>20}{'ratio':>8}")
    for name in ("free_slots_30d", "check_availability"):
        ratio = large[name]["median_ms"] / small[name]["median_ms"]
        results.setdefault("ratio", {})[name] = ratio
        print(f"{name:<22}{small[name]['median_ms']:>13.2f} ms{large[name]['median_ms']:>17.2f} ms{ratio:>8.2f}")
    out = Path(__file__).parent / "results" / f"free_slots_{connection.vendor}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()

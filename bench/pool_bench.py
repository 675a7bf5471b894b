"""The check and free slots on a pool of 50 units against an exclusive resource (docs/spec.md §17).

Three resources, 100,000 bookings each (one hour long):
- `exclusive`: capacity 1, a booking every other hour (22.8 years of them);
- `pool_sparse`: capacity 50, the same booking times as `exclusive` (the cost of the pool path
  itself: the sweep instead of the pairwise test, same rows read);
- `pool_dense`: capacity 50, 40 bookings in every hour (2,500 hours): 40 times the rows per window,
  10 units left free.
The questions: a one-hour check, and the slots of a 7-day window (duration one hour; quantity 1,
and 10 on the dense pool). Figures are medians; ratios are against `exclusive` in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pools_bench python bench/pool_bench.py
    python bench/pool_bench.py --bookings 20000      # a modest scene
"""

import argparse
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
FIRST = dt.datetime(2030, 1, 7, tzinfo=UTC)
RUNS = 50


def timed(fn, runs=RUNS):
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 3)


def scene(name: str, capacity: int, starts, customer, kind) -> Resource:
    resource = Resource.objects.create(name=f"bench {name}", type=kind, timezone="UTC", capacity=capacity)
    Booking.objects.bulk_create(
        (Booking(resource=resource, customer=customer, start_at=s, end_at=s + HOUR, status="confirmed", pooled=capacity > 1) for s in starts),
        batch_size=5_000,
    )
    return resource


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=100_000)
    args = parser.parse_args()
    n = args.bookings
    call_command("migrate", verbosity=0)
    kind, _ = ResourceType.objects.get_or_create(name="pool bench")
    customer = Customer.objects.create(name="Bench", email="bench@example.com")
    began = time.perf_counter()
    exclusive = scene("exclusive", 1, (FIRST + 2 * i * HOUR for i in range(n)), customer, kind)
    sparse = scene("pool_sparse", 50, (FIRST + 2 * i * HOUR for i in range(n)), customer, kind)
    dense = scene("pool_dense", 50, (FIRST + (i // 40) * HOUR for i in range(n)), customer, kind)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scheduling_booking")
    loading = time.perf_counter() - began
    # Windows in the middle of each resource's bookings.
    middle = {exclusive: FIRST + n * HOUR, sparse: FIRST + n * HOUR, dense: FIRST + (n // 80) * HOUR}
    results = {"database": connection.vendor, "bookings_per_resource": n, "load_seconds": round(loading, 1), "runs": RUNS, "median_ms": {}}
    for resource, at in middle.items():
        name = resource.name.removeprefix("bench ")
        figures = {
            "check_1h": timed(lambda: check_availability(resource, at + HOUR / 2, at + 3 * HOUR / 2)),
            "slots_7d": timed(lambda: free_slots(resource, at, at + 7 * 24 * HOUR, HOUR), runs=RUNS // 5),
        }
        if resource is dense:
            figures["slots_7d_q10"] = timed(lambda: free_slots(resource, at, at + 7 * 24 * HOUR, HOUR, quantity=10), runs=RUNS // 5)
            figures["slots_found_q10"] = len(free_slots(resource, at, at + 7 * 24 * HOUR, HOUR, quantity=10))
            figures["slots_found_q11"] = len(free_slots(resource, at, at + 7 * 24 * HOUR, HOUR, quantity=11))
        results["median_ms"][name] = figures
    base = results["median_ms"]["exclusive"]
    results["ratio_to_exclusive"] = {
        name: {q: round(v / base[q], 2) for q, v in figures.items() if q in base} for name, figures in results["median_ms"].items() if name != "exclusive"
    }
    print(json.dumps(results, indent=2))
    out = Path(__file__).parent / "results" / f"pool_{connection.vendor}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()

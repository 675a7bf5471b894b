"""A 500-occurrence series of a 3-resource group, written in one transaction (docs/spec.md §14).

Builds its own scene in the database named by DATABASE_URL (migrated first): three resources in
Europe/Warsaw with working hours every day, each already holding BUSY bookings over the two years
the series spans; then measures, with the query count of each:
  1. series_create in skip_conflicts mode: 500 occurrences × 3 resources = up to 1,500 parts;
  2. the same rule in all_or_nothing mode, refused on its conflicts (nothing written);
  3. for comparison, the same occurrences booked one group at a time (group_create per occurrence,
     on a sample, extrapolated).
The scene is removed afterwards.

    python bench/series_bench.py                                          # SQLite (a temp file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h9 python bench/series_bench.py

Writes bench/results/series_<database>.json.
"""

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduling_site.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/series_bench.sqlite3"
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
# The notices are written to the outbox (measured); their delivery is not what is measured here.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from scheduling.models import Availability, Booking, BookingGroup, BookingSeries, Customer, Notification, Resource, ResourceType  # noqa: E402
from scheduling.permissions import SYSTEM  # noqa: E402
from scheduling.services import groups, series  # noqa: E402
from scheduling.services.errors import GroupConflict, SeriesConflict  # noqa: E402

WARSAW = ZoneInfo("Europe/Warsaw")
FIRST = dt.datetime(2031, 1, 6, 18, 0, tzinfo=WARSAW)
RULE = "FREQ=DAILY;COUNT=500"
BUSY = 2000  # existing bookings per resource over the span
SAMPLE = 20


def scene():
    kind = ResourceType.objects.get_or_create(name="Series bench")[0]
    resources = [Resource.objects.create(name=f"Series bench {i}", type=kind, timezone="Europe/Warsaw") for i in range(3)]
    Availability.objects.bulk_create(
        Availability(resource=r, weekday=d, start_time=dt.time(6), end_time=dt.time(22)) for r in resources for d in range(7)
    )
    customer = Customer.objects.create(name="Bench", email="bench@example.com")
    rows = []
    for r in resources:
        for i in range(BUSY):
            # Mornings, so they do not collide with the 18:00 series, except every 50th, which does.
            start = FIRST + dt.timedelta(days=i // 3, hours=-11 + 3 * (i % 3))
            if i % 150 == 0:
                start = FIRST + dt.timedelta(days=i // 3)
            rows.append(Booking(resource=r, customer=customer, start_at=start, end_at=start + dt.timedelta(hours=1), status="confirmed"))
    Booking.objects.bulk_create(rows)
    return resources, customer


def measure(label, fn):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        try:
            outcome = fn()
        except (SeriesConflict, GroupConflict) as refused:
            outcome = refused
        elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.3f} s, {len(queries)} queries")
    return outcome, {"seconds": round(elapsed, 3), "queries": len(queries)}


def main():
    call_command("migrate", verbosity=0)
    connection.force_debug_cursor = False
    resources, customer = scene()
    results = {"database": connection.vendor, "occurrences": 500, "resources": 3, "busy_bookings_per_resource": BUSY}
    try:
        common = {"by": SYSTEM, "resources": resources, "customer": customer, "start_at": FIRST, "end_at": FIRST + dt.timedelta(hours=1), "rrule": RULE}
        refused, results["all_or_nothing_refused"] = measure("all_or_nothing (refused)", lambda: series.series_create(mode="all_or_nothing", **common))
        results["all_or_nothing_refused"]["conflicting_occurrences"] = sum(1 for o in refused.occurrences if o.conflicts)
        written, results["skip_conflicts"] = measure("skip_conflicts (written)", lambda: series.series_create(mode="skip_conflicts", **common))
        results["skip_conflicts"]["parts_written"] = len(written.bookings)
        results["skip_conflicts"]["skipped"] = sum(1 for o in written.occurrences if o.status == series.SKIPPED)
        # One group per occurrence, the way a client without series would do it, on a sample.
        later = FIRST + dt.timedelta(days=600, hours=1)

        def one_by_one():
            for day in range(SAMPLE):
                start = later + dt.timedelta(days=day)
                with transaction.atomic():
                    groups.group_create(by=SYSTEM, resources=resources, customer=customer, start_at=start, end_at=start + dt.timedelta(hours=1))

        _, sample = measure(f"{SAMPLE} groups one at a time", one_by_one)
        results["one_group_at_a_time_extrapolated_to_500"] = {"seconds": round(sample["seconds"] * 500 / SAMPLE, 2), "queries": sample["queries"] * 500 // SAMPLE}
    finally:
        ids = [r.pk for r in resources]
        Notification.objects.filter(booking__resource__in=ids).delete()
        Booking.objects.filter(resource__in=ids).delete()
        BookingGroup.objects.filter(customer=customer).delete()
        BookingSeries.objects.filter(customer=customer).delete()
        Resource.objects.filter(pk__in=ids).delete()
        customer.delete()
    out = ROOT / "bench" / "results" / f"series_{connection.vendor}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

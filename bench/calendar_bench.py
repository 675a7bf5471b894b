"""The admin calendar at a real chain's size (docs/performance.md, "Calendar pages").

Loads the 1M scene of report_bench.py (1,000 resources, 1,000,000 bookings over 334 days, by
`scheduling.demo.load_bulk`) unless the database already holds it, then measures the calendar
page as a superuser on the server (Django's test client: the whole request, middleware, queries
and rendering, no network): a week of 100 resources (the most one page carries), the default page
of 50, a day of 100, and the last page, with their query counts and sizes. Median of RUNS runs.
Writes bench/results/calendar.json.

    python bench/calendar_bench.py      # PostgreSQL database h8 (created if missing)
    DATABASE_URL=postgres://…/other python bench/calendar_bench.py
"""

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h8")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduling_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from report_bench import SCENES, ensure_database, machine, wipe  # noqa: E402
from scheduling.demo import load_bulk  # noqa: E402
from scheduling.models import Booking, Resource  # noqa: E402

RUNS = 5
PLAN = SCENES["1M"][0]
WEEK = "2026-06-15"  # a Monday in the middle of the loaded period
PAGES = {
    "week, 100 resources (page 1)": {"date": WEEK, "rows": "100"},
    "week, 100 resources (page 10, the last)": {"date": WEEK, "rows": "100", "page": "10"},
    "week, 50 resources (the default page)": {"date": WEEK},
    "day, 100 resources": {"date": WEEK, "view": "day", "rows": "100"},
}


def measure(client: Client, query: dict) -> dict:
    client.get("/admin/scheduling/resource/calendar/", query)  # warm: templates, caches
    wall, cpu = [], []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get("/admin/scheduling/resource/calendar/", query)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, response.status_code
    return {
        "median_ms": round(1000 * statistics.median(wall)),
        "min_ms": round(1000 * min(wall)),
        "median_cpu_ms": round(1000 * statistics.median(cpu)),
        "queries": len(captured),
        "bytes": len(response.content),
        "rows": response.content.count(b'class="cal-row"'),
        "blocks": response.content.count(b'class="cal-booking status-'),
        "dense_days": response.content.count(b'class="cal-dense"'),
    }


def main():
    ensure_database()
    call_command("migrate", verbosity=0)
    if Booking.objects.count() != PLAN.bookings or Resource.objects.count() != PLAN.resources:
        print(f"loading {PLAN.bookings:,} bookings over {PLAN.resources:,} resources…", flush=True)
        wipe()
        start = time.perf_counter()
        load_bulk(PLAN)
        print(f"loaded in {time.perf_counter() - start:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    results = {"machine": machine(), "runs": RUNS, "bookings": Booking.objects.count(), "resources": Resource.objects.count(), "pages": {}}
    for name, query in PAGES.items():
        results["pages"][name] = measure(client, query)
        print(name, results["pages"][name], flush=True)
    out = Path(__file__).resolve().parent / "results" / "calendar.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()

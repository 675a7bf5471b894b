"""The utilisation report over 1,000 resources × one month, and the bulk generator that feeds it.

Two scenes, each loaded by `scheduling.demo.load_bulk` (what `seed_demo --resources --bookings` runs):

- "100k": 1,000 resources, 100,000 bookings, all in March 2026; the report covers March.
- "1M": 1,000 resources, 1,000,000 bookings over 334 days; the report covers June (about 90,000 of
  them), so the table is ten times larger than the month.

For each: the load time, then the median of RUNS runs of the report service, of
`availability_report --format csv`, and of the admin page (superuser, all types), with query counts.
Prints a table and writes bench/results/report.json.

    python bench/report_bench.py            # PostgreSQL database reports_bench (created if missing)
    DATABASE_URL=postgres://…/other python bench/report_bench.py
"""

import datetime as dt
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/reports_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduling_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from scheduling.demo import BulkPlan, load_bulk  # noqa: E402
from scheduling.models import Booking  # noqa: E402
from scheduling.services.reports import select_resources, utilisation_report  # noqa: E402

RUNS = 5
SCENES = {
    "100k": (BulkPlan(resources=1000, bookings=100_000, seed=1, start=dt.date(2026, 3, 1), days=31), (dt.date(2026, 3, 1), dt.date(2026, 3, 31))),
    "1M": (BulkPlan(resources=1000, bookings=1_000_000, seed=1, start=dt.date(2026, 1, 5), days=334), (dt.date(2026, 6, 1), dt.date(2026, 6, 30))),
}
TABLES = "scheduling_booking, scheduling_exception, scheduling_availability, scheduling_resource, scheduling_customer"


def ensure_database():
    if connection.vendor != "postgresql":
        return
    import psycopg

    settings = connection.settings_dict
    name = settings["NAME"]
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], password=settings["PASSWORD"] or None, dbname="postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def wipe():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        else:
            for table in TABLES.split(", "):
                cursor.execute(f"DELETE FROM {table}")


def timed(fn):
    """Median wall time, and median CPU time of this process: the machine is shared, and the CPU
    time (Python's share of the work, without PostgreSQL's) moves much less with other load."""
    wall, cpu, queries = [], [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        queries = len(captured)
    return {"median_s": round(statistics.median(wall), 3), "min_s": round(min(wall), 3), "median_cpu_s": round(statistics.median(cpu), 3), "queries": queries}


def run_scene(plan: BulkPlan, period: tuple[dt.date, dt.date], client: Client) -> dict:
    wipe()
    start = time.perf_counter()
    counts = load_bulk(plan)
    load_s = time.perf_counter() - start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    first, last = period
    in_period = Booking.objects.filter(start_at__date__gte=first, start_at__date__lte=last).count()

    def service():
        report = utilisation_report(first_day=first, last_day=last, resources=select_resources())
        assert len(report.resources) == plan.resources

    def command():
        call_command("availability_report", "--from", str(first), "--to", str(last), "--format", "csv", stdout=io.StringIO())

    def page():
        response = client.get("/admin/scheduling/utilisation/", {"from": str(first), "to": str(last)})
        assert response.status_code == 200, response.status_code

    return {
        "plan": {"resources": plan.resources, "bookings": plan.bookings, "seed": plan.seed, "start": str(plan.start), "days": plan.days},
        "period": [str(first), str(last)],
        "load": {"seconds": round(load_s, 1), "rows": counts},
        "bookings_in_period": in_period,
        "report_service": timed(service),
        "availability_report_csv": timed(command),
        "admin_page": timed(page),
    }


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0] if Path("/proc/meminfo").exists() else ""
    info = {"cpus": os.cpu_count(), "memory": meminfo.split(":")[-1].strip(), "python": platform.python_version(), "database": connection.vendor}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
    return info


def main():
    ensure_database()
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    results = {"machine": machine(), "runs": RUNS, "scenes": {}}
    for name, (plan, period) in SCENES.items():
        print(f"scene {name}: loading {plan.bookings:,} bookings…", flush=True)
        results["scenes"][name] = run_scene(plan, period, client)
    print()
    results["load_average"] = os.getloadavg()
    print(f"{'scene':<6}{'load':>9}{'in month':>10}{'service (cpu)':>17}{'queries':>9}{'CSV cmd (cpu)':>17}{'admin page (cpu)':>18}{'queries':>9}")
    for name, scene in results["scenes"].items():
        cells = [f"{scene[k]['median_s']:.2f}s ({scene[k]['median_cpu_s']:.2f}s)" for k in ("report_service", "availability_report_csv", "admin_page")]
        print(
            f"{name:<6}{scene['load']['seconds']:>8.1f}s{scene['bookings_in_period']:>10,}{cells[0]:>17}{scene['report_service']['queries']:>9}"
            f"{cells[1]:>17}{cells[2]:>18}{scene['admin_page']['queries']:>9}"
        )
    print(f"load average at the end: {results['load_average']}")
    out = Path(__file__).parent / "results" / "report.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()

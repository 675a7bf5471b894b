"""The worst request each list-shaped route allows, timed against the gunicorn worker timeout.

The caps of docs/spec.md (§6.5 slots: limit ≤ 5,000, step ≥ 5 minutes, window ≤ 62 days; §10.5 the
utilisation page: ≤ 93 days) exist so that no single request can hold a worker for long. This
script loads one scene with the bulk generator (`scheduling.demo.load_bulk`, what `seed_demo
--resources N --bookings M` runs) and times, as a **viewer** (the least-privileged role that may ask),
the largest answer each route gives:

- slots: one around-the-clock resource (no availability rows, so the most free slots), 62 days,
  duration 5, step 5, limit 5,000 (17,856 slots exist; 5,001 are generated);
- check_availability over 366 days for a resource with bookings (its conflicts list);
- resource/available over 366 days for the largest type (a third of the resources);
- the booking list at page_size=200;
- the utilisation page (HTML, heatmap) and its CSV over 93 days × every resource;
- the calendar week page over every resource;
- and, not web requests but for comparison, `free_slots --duration 5` for the largest type and
  `availability_report` over 366 days.

Requests go through Django's test client in this process (the whole Django stack, no socket), so
the figures are the time a gunicorn worker would spend, without network. Each is the median and
maximum of RUNS runs; the answer's size and the query count are printed too.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/worst_bench python bench/worst_requests.py
    BENCH_RESOURCES=200 BENCH_BOOKINGS=55800 python bench/worst_requests.py    # a smaller scene

Writes bench/results/worst_requests.json.
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

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/worst_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduling_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from report_bench import ensure_database  # noqa: E402 - the same database bootstrap
from scheduling.demo import BulkPlan, load_bulk  # noqa: E402
from scheduling.models import Booking, Resource, ResourceType  # noqa: E402
from scheduling.roles import VIEWER, sync_roles  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
RESOURCES = int(os.environ.get("BENCH_RESOURCES", "1000"))
DAYS = 93
# About three bookings per resource per day over the 93 days, as seed_demo's default density.
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", str(RESOURCES * DAYS * 3)))
START = dt.date(2030, 1, 7)  # a Monday; the scene is in the future so that nothing is "today"
LAST = START + dt.timedelta(days=DAYS - 1)
TABLES = "scheduling_booking, scheduling_exception, scheduling_availability, scheduling_resource, scheduling_customer"
GUNICORN_TIMEOUT_S = 30  # gunicorn.conf.py's default (GUNICORN_TIMEOUT)


def load_scene(plan: BulkPlan) -> dict:
    """Load the plan unless the database already holds exactly it (a rerun measures without reloading)."""
    if Resource.objects.count() == plan.resources and Booking.objects.count() == plan.bookings:
        return {"seconds": None, "reused": True}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        else:
            for table in TABLES.split(", "):
                cursor.execute(f"DELETE FROM {table}")
    start = time.perf_counter()
    rows = load_bulk(plan)
    seconds = round(time.perf_counter() - start, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"seconds": seconds, "rows": rows, "reused": False}


def viewer_client() -> Client:
    if not Group.objects.filter(name=VIEWER).exists():
        sync_roles()
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=VIEWER))
    client = Client()
    client.force_login(user)
    return client


def measure(fn) -> dict:
    """Median and max wall time of RUNS calls, the median CPU time of this process (Python's share,
    which moves much less than the wall time on a shared machine), the size of the last answer and
    its query count."""
    wall, cpu, size, queries = [], [], 0, 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            size = fn()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        queries = len(captured)
    return {"median_s": round(statistics.median(wall), 3), "max_s": round(max(wall), 3), "median_cpu_s": round(statistics.median(cpu), 3), "bytes": size, "queries": queries}


def body_size(response, status=200) -> int:
    assert response.status_code == status, (response.status_code, response.content[:300])
    return len(b"".join(response.streaming_content)) if response.streaming else len(response.content)


def scenarios(client: Client) -> dict:
    api = "/api/scheduling"
    iso = lambda d: dt.datetime.combine(d, dt.time(0), tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
    open_resource = Resource.objects.filter(availability__isnull=True).order_by("pk").first()
    busiest = Resource.objects.annotate(n=Count("bookings")).order_by("-n", "pk").first()
    largest_type = ResourceType.objects.annotate(n=Count("resources")).order_by("-n", "pk").first()
    year = (START, START + dt.timedelta(days=366))
    slots_window = (START, START + dt.timedelta(days=62))
    period = {"from": str(START), "to": str(LAST)}

    def slots():
        response = client.get(f"{api}/resource/{open_resource.pk}/slots", {"start": iso(slots_window[0]), "end": iso(slots_window[1]), "duration": 5, "step": 5, "limit": 5000})
        assert len(response.json()["slots"]) == 5000 and response.json()["next"] is not None
        return body_size(response)

    def check_availability():
        body = {"resource_id": busiest.pk, "start_at": iso(year[0]), "end_at": iso(year[1])}
        return body_size(client.post(f"{api}/booking/check_availability", body, content_type="application/json"))

    def available():
        return body_size(client.get(f"{api}/resource/available", {"type": largest_type.pk, "start_at": iso(year[0]), "end_at": iso(year[1])}))

    def booking_list():
        return body_size(client.get(f"{api}/booking", {"page_size": 200}))

    def utilisation_page():
        return body_size(client.get("/admin/scheduling/utilisation/", period))

    def utilisation_csv():
        return body_size(client.get("/admin/scheduling/utilisation/", period | {"format": "csv"}))

    def calendar_week():
        return body_size(client.get("/admin/scheduling/resource/calendar/", {"date": str(START + dt.timedelta(days=42)), "view": "week"}))

    def free_slots_command():
        out = io.StringIO()
        call_command("free_slots", "--type", largest_type.name, "--on", str(START + dt.timedelta(days=43)), "--duration", "5", "--format", "csv", stdout=out)
        return len(out.getvalue().encode())

    def report_command_year():
        out = io.StringIO()
        call_command("availability_report", "--from", str(START), "--to", str(START + dt.timedelta(days=365)), "--format", "csv", stdout=out)
        return len(out.getvalue().encode())

    return {
        "slots: 62 days, step 5, limit 5,000 (1 resource, no rows)": slots,
        "check_availability: 366 days, busiest resource": check_availability,
        f"resource/available: 366 days, type of {largest_type.n} resources": available,
        "booking list: page_size=200": booking_list,
        f"utilisation page: {DAYS} days x {RESOURCES} resources": utilisation_page,
        f"utilisation CSV: {DAYS} days x {RESOURCES} resources": utilisation_csv,
        f"calendar week: {RESOURCES} resources": calendar_week,
        f"(command) free_slots --duration 5, {largest_type.n} resources": free_slots_command,
        f"(command) availability_report 366 days x {RESOURCES}": report_command_year,
    }


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "database": connection.vendor, "load_average_start": os.getloadavg()}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
    return info


def main():
    ensure_database()
    call_command("migrate", verbosity=0)
    plan = BulkPlan(resources=RESOURCES, bookings=BOOKINGS, seed=1, start=START, days=DAYS)
    print(f"scene: {RESOURCES:,} resources, {BOOKINGS:,} bookings over {DAYS} days from {START}", flush=True)
    results = {"machine": machine(), "runs": RUNS, "plan": {"resources": RESOURCES, "bookings": BOOKINGS, "start": str(START), "days": DAYS}}
    results["load"] = load_scene(plan)
    client = viewer_client()
    results["requests"] = {}
    print(f"{'request (as a viewer)':<62}{'median':>9}{'max':>9}{'cpu':>9}{'bytes':>13}{'queries':>9}")
    for name, fn in scenarios(client).items():
        r = results["requests"][name] = measure(fn)
        print(f"{name:<62}{r['median_s']:>8.2f}s{r['max_s']:>8.2f}s{r['median_cpu_s']:>8.2f}s{r['bytes']:>13,}{r['queries']:>9}", flush=True)
    worst = max((r["max_s"], name) for name, r in results["requests"].items() if not name.startswith("(command)"))
    results["worst_web_request"] = {"name": worst[1], "max_s": worst[0], "gunicorn_timeout_s": GUNICORN_TIMEOUT_S}
    results["load_average_end"] = os.getloadavg()
    print(f"slowest web request: {worst[1]} at {worst[0]:.2f} s (gunicorn timeout {GUNICORN_TIMEOUT_S} s); load average {results['load_average_end']}")
    out = ROOT / "bench" / "results" / "worst_requests.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

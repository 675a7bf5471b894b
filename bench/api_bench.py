"""The API under load, over a database filled by `seed_demo --resources 1000 --bookings M`.

Starts gunicorn on loopback against that database and measures, in one run:
  1. the availability check through the API (sequential, keep-alive): median and p99, and the bare
     indexed SQL overlap query measured in the same run (the floor);
  2. free slots for one resource over 30 days, and "available <type> now" across the resources;
  3. booking creation by 16 concurrent wrk connections on 3 resources: bookings/s, 409s, 5xx, and
     double bookings counted afterwards by SQL;
  4. the admin calendar week page and the booking list API: time and query count (in process).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/perf_100000 python bench/api_bench.py

Writes bench/results/api_<database>.json. Needs wrk (Debian package) and PostgreSQL.
"""

import datetime as dt
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduling_site.settings")
# Loopback over plain http: the production profile with its https-only parts off.
PLAIN_HTTP = {"DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_HSTS_SECONDS": "0",
              # As in production: notices are queued for db_worker, not sent inside the request.
              "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
os.environ.update(PLAIN_HTTP)
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from scheduling.models import Booking, Customer, Resource, ResourceType  # noqa: E402
from scheduling.services.availability import available_resources, check_availability, free_slots  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "8217"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
RUNS = int(os.environ.get("BENCH_RUNS", "400"))
UTC = dt.timezone.utc


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"median_ms": round(statistics.median(samples), 3), "p99_ms": round(samples[max(0, int(len(samples) * 0.99) - 1)], 3), "n": len(samples)}


def timed(fn, runs=RUNS) -> dict:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


class Api:
    """One keep-alive connection, like a member app's."""

    def __init__(self, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def start_gunicorn() -> subprocess.Popen:
    env = os.environ | PLAIN_HTTP | {"WEB_CONCURRENCY": str(WORKERS), "GUNICORN_BIND": f"127.0.0.1:{PORT}", "GUNICORN_LOG_LEVEL": "warning", "LOG_LEVEL": "ERROR"}
    log = open(ROOT / "bench" / "results" / "gunicorn.log.tmp", "w")  # 409s are logged as warnings
    server = subprocess.Popen(["gunicorn", "--access-logfile", "/dev/null"], cwd=ROOT, env=env, start_new_session=True, stderr=log)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/api/")
            return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def bench_user() -> str:
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    return Token.objects.get_or_create(user=user)[0].key


def busiest_resource_window():
    """A resource and a 1 h window inside the seeded span that holds bookings around it."""
    booking = Booking.objects.order_by("-start_at")[Booking.objects.count() // 2]
    return booking.resource, booking.start_at, booking.start_at + dt.timedelta(hours=1)


def bare_overlap_sql(resource_id: int, start, end) -> dict:
    # The floor: the one indexed query the check cannot avoid, with nothing around it.
    sql = (
        "SELECT id, start_at, end_at, status FROM scheduling_booking WHERE resource_id = %s::bigint "
        "AND status <> 'cancelled' AND tstzrange(start_at, end_at, '[)') && tstzrange(%s, %s, '[)')"
    )
    with connection.cursor() as cursor:
        return timed(lambda: (cursor.execute(sql, [resource_id, start, end]), cursor.fetchall()))


def availability(api: Api, resource, start, end) -> dict:
    body = {"resource_id": resource.pk, "start_at": start.isoformat(), "end_at": end.isoformat()}
    status, _ = api.call("POST", "/api/scheduling/booking/check_availability/", body)
    assert status == 200, status
    http_ = timed(lambda: api.call("POST", "/api/scheduling/booking/check_availability/", body))
    service = timed(lambda: check_availability(resource, start, end))
    return {"http": http_, "service": service}


def slots_and_available(api: Api, resource, start) -> dict:
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    window = (day - dt.timedelta(days=15), day + dt.timedelta(days=15))
    query = f"start={window[0].isoformat()}&end={window[1].isoformat()}&duration=60".replace("+", "%2B")
    status, _ = api.call("GET", f"/api/scheduling/resource/{resource.pk}/slots/?{query}")
    assert status == 200, status
    kind = resource.type
    now = (start, start + dt.timedelta(hours=1))
    q_now = f"type={kind.pk}&start_at={now[0].isoformat()}&end_at={now[1].isoformat()}".replace("+", "%2B")
    status, _ = api.call("GET", f"/api/scheduling/resource/available/?{q_now}")
    assert status == 200, status
    all_types = list(ResourceType.objects.all())
    return {
        "free_slots_30d": {
            "service": timed(lambda: free_slots(resource, window[0], window[1], dt.timedelta(hours=1)), runs=100),
            "http": timed(lambda: api.call("GET", f"/api/scheduling/resource/{resource.pk}/slots/?{query}"), runs=100),
        },
        "available_type_now": {
            "resources_of_type": Resource.objects.filter(type=kind).count(),
            "service": timed(lambda: available_resources(kind, *now), runs=50),
            "http": timed(lambda: api.call("GET", f"/api/scheduling/resource/available/?{q_now}"), runs=50),
        },
        "available_every_type_now": {
            "resources": Resource.objects.count(),
            "service": timed(lambda: [available_resources(t, *now) for t in all_types], runs=20),
        },
    }


WRK_SCRIPT = """
local resources = {%(resources)s}
local customer = %(customer)d
local base = %(base)d
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token %(token)s"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  n2xx, n409, n4xx, n5xx = 0, 0, 0, 0
end
function request()
  local r = resources[math.random(#resources)]
  -- half-hour grid over %(slots)d slots: many requests collide, as at a busy front desk
  local s = base + 1800 * math.random(0, %(slots)d - 1)
  local body = string.format('{"resource": %%d, "customer": %%d, "start_at": "%%s", "end_at": "%%s", "override_availability": true}',
    r, customer, os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", s), os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", s + 3600))
  return wrk.format(nil, "/api/scheduling/booking/", nil, body)
end
function response(status, headers, body)
  if status == 409 then n409 = n409 + 1
  elseif status >= 500 then n5xx = n5xx + 1
  elseif status >= 400 then n4xx = n4xx + 1
  else n2xx = n2xx + 1 end
end
function done(summary, latency, requests)
  local t2, t409, t4, t5 = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    t2 = t2 + t:get("n2xx"); t409 = t409 + t:get("n409"); t4 = t4 + t:get("n4xx"); t5 = t5 + t:get("n5xx")
  end
  io.write(string.format('STATUS_COUNTS {"2xx": %%d, "409": %%d, "other 4xx": %%d, "5xx": %%d}\\n', t2, t409, t4, t5))
  io.write(string.format("LATENCY p50=%%.3f p99=%%.3f\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def concurrent_creation(token: str, seconds: int = 20, connections: int = 16, slots: int = 2000) -> dict:
    kind = ResourceType.objects.order_by("pk").first()
    resources = [Resource.objects.create(name=f"bench concurrent {i}", type=kind, timezone="UTC") for i in range(3)]
    customer = Customer.objects.create(name="Bench", email="bench@example.com")
    base = dt.datetime(2031, 3, 3, tzinfo=UTC)
    script = WRK_SCRIPT % {
        "resources": ", ".join(str(r.pk) for r in resources),
        "customer": customer.pk,
        "base": int(base.timestamp()),
        "token": token,
        "slots": slots,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cmd = ["wrk", "-t4", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", f.name, f"http://127.0.0.1:{PORT}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"STATUS_COUNTS (\{.*\})", out.stdout)
    if not found:
        raise SystemExit(f"wrk failed: {out.stdout} {out.stderr}")
    counts = json.loads(found.group(1))
    p50, p99 = map(float, re.search(r"LATENCY p50=([\d.]+) p99=([\d.]+)", out.stdout).groups())
    time.sleep(2)  # requests wrk gave up on at the end may still be committing
    created = Booking.objects.filter(resource__in=resources).count()
    with connection.cursor() as cursor:
        # Pairs of occupying bookings of one resource whose intervals overlap: must be none.
        cursor.execute(
            "SELECT count(*) FROM scheduling_booking a JOIN scheduling_booking b ON a.resource_id = b.resource_id AND a.id < b.id "
            "WHERE a.resource_id = ANY(%s) AND a.status <> 'cancelled' AND b.status <> 'cancelled' "
            "AND a.start_at < b.end_at AND b.start_at < a.end_at",
            [[r.pk for r in resources]],
        )
        doubles = cursor.fetchone()[0]
    Booking.objects.filter(resource__in=resources).delete()
    for r in resources:
        r.delete()
    customer.delete()
    return {
        "command": " ".join(cmd),
        "connections": connections,
        "seconds": seconds,
        "status_counts": counts,
        "created": created,
        "bookings_per_s": round(created / seconds, 1),
        "requests_per_s": round(sum(counts.values()) / seconds, 1),
        "conflicts_409": counts.get("409", 0),
        "server_errors_5xx": counts["5xx"],
        "double_bookings": doubles,
        "latency_ms": {"p50": p50, "p99": p99},
    }


def pages(resource, start) -> dict:
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    kind = resource.type
    day = start.date()
    found = {}
    for name, url in {
        "calendar_week_one_type": f"/admin/scheduling/resource/calendar/?view=week&type={kind.pk}&date={day}",
        "booking_list_api_200": f"/api/scheduling/booking/?page_size=200&start_at__gte={day}T00:00:00Z",
    }.items():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        found[name] = {"url": url, "queries": len(queries), **timed(lambda: client.get(url), runs=10)}
    found["calendar_week_one_type"]["resources"] = Resource.objects.filter(type=kind, active=True).count()
    return found


def main():
    name = connection.settings_dict["NAME"]
    call_command("collectstatic", "--noinput", verbosity=0)
    token = bench_user()
    bookings = Booking.objects.count()
    resource, start, end = busiest_resource_window()
    server = start_gunicorn()
    try:
        api = Api(token)
        result = {"database": name, "bookings": bookings, "resources": Resource.objects.count(), "gunicorn_workers": WORKERS}
        result["availability_check"] = availability(api, resource, start, end)
        result["availability_check"]["bare_sql"] = bare_overlap_sql(resource.pk, start, end)
        result |= slots_and_available(api, resource, start)
        result["concurrent_creation"] = concurrent_creation(token)
        result["pages"] = pages(resource, start)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    a = result["availability_check"]
    a["ratio_http_to_sql"] = round(a["http"]["median_ms"] / a["bare_sql"]["median_ms"], 1)
    out = ROOT / "bench" / "results" / f"api_{name}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    c = result["concurrent_creation"]
    rows = [
        ("availability check, HTTP", a["http"]),
        ("availability check, service", a["service"]),
        ("bare SQL overlap query", a["bare_sql"]),
        ("free slots 30 d, HTTP", result["free_slots_30d"]["http"]),
        ("free slots 30 d, service", result["free_slots_30d"]["service"]),
        (f"available <type> now, HTTP ({result['available_type_now']['resources_of_type']} res.)", result["available_type_now"]["http"]),
        ("available <type> now, service", result["available_type_now"]["service"]),
        (f"available, every type ({result['available_every_type_now']['resources']} res.)", result["available_every_type_now"]["service"]),
    ]
    print(f"\n{name}: {bookings} bookings, {result['resources']} resources, gunicorn {WORKERS} workers")
    print(f"{'measure':58} {'median ms':>10} {'p99 ms':>10}")
    for label, r in rows:
        print(f"{label:58} {r['median_ms']:>10.2f} {r['p99_ms']:>10.2f}")
    print(f"HTTP / bare SQL median ratio: {a['ratio_http_to_sql']}")
    print(
        f"concurrent creation ({c['connections']} conns, {c['seconds']} s): {c['bookings_per_s']} bookings/s, {c['requests_per_s']} req/s, "
        f"409: {c['conflicts_409']}, 5xx: {c['server_errors_5xx']}, double bookings: {c['double_bookings']}, statuses {c['status_counts']}"
    )
    for label, p in result["pages"].items():
        print(f"{label}: median {p['median_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, {p['queries']} queries")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Two faults, provoked on purpose, and what the service does about them.

  restart  PostgreSQL is restarted while 4 clients call the availability check through gunicorn:
           every request must end (answer or error) within the client timeout, none may hang,
           and the service must answer 200 again by itself once the database is back.
  worker   a `db_worker` is killed (SIGKILL) while it is sending a booking notice to a mail server
           that does not answer: the notice must stay in the outbox and be sent exactly once later.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/perf_10000 python bench/faults.py restart worker

Needs root for `pg_ctlcluster` (the restart) and a seeded database. Writes bench/results/faults.json.
"""

import datetime as dt
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from api_bench import PLAIN_HTTP, bench_user, busiest_resource_window, start_gunicorn  # noqa: E402  (sets up Django)

from django.db import connection  # noqa: E402

from scheduling.models import Booking, Customer, Notification, Resource  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "8217"))
CLIENT_TIMEOUT = 15


def restart_during_load(seconds: float = 14.0, restart_at: float = 4.0) -> dict:
    token = bench_user()
    resource, start, end = busiest_resource_window()
    body = json.dumps({"resource_id": resource.pk, "start_at": start.isoformat(), "end_at": end.isoformat()})
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    log: list[tuple[float, float, str]] = []  # (sent at, took, outcome)
    began = time.monotonic()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=CLIENT_TIMEOUT)
        while time.monotonic() - began < seconds:
            sent = time.monotonic()
            try:
                conn.request("POST", "/api/scheduling/booking/check_availability/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                outcome = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=CLIENT_TIMEOUT)
            log.append((sent - began, time.monotonic() - sent, outcome))
            time.sleep(0.02)

    server = start_gunicorn()
    try:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(restart_at)
        restart = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], capture_output=True, text=True)
        restarted_at = time.monotonic() - began
        for t in threads:
            t.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    outcomes: dict[str, int] = {}
    for _, _, outcome in log:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    failures = [(at, outcome) for at, _, outcome in log if outcome != "200"]
    back = [at for at, _, outcome in log if outcome == "200" and at > restarted_at]
    return {
        "requests": len(log),
        "outcomes": outcomes,
        "pg_restart_rc": restart.returncode,
        "restart_done_at_s": round(restarted_at, 2),
        "first_failure_at_s": round(failures[0][0], 2) if failures else None,
        "last_failure_at_s": round(failures[-1][0], 2) if failures else None,
        "first_200_after_restart_s": round(back[0], 2) if back else None,
        "slowest_request_s": round(max(took for _, took, _ in log), 2),
        "hung": sum(1 for _, took, _ in log if took >= CLIENT_TIMEOUT),
    }


def silent_smtp_server(port: int) -> socket.socket:
    """Accepts connections and never says a word: a mail server that hangs."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    return listener


def worker_killed_mid_delivery() -> dict:
    from aiosmtpd.controller import Controller

    from scheduling.permissions import SYSTEM
    from scheduling.services.bookings import booking_create

    silent_port, smtp_port = 8252, 8253
    silent = silent_smtp_server(silent_port)
    resource = Resource.objects.order_by("pk").first()
    customer, _ = Customer.objects.get_or_create(name="Fault", email="fault@example.com")
    Booking.objects.filter(customer=customer).delete()  # an earlier run's
    start = dt.datetime(2032, 1, 5, 9, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=int(time.time()) % 10_000)
    # Queued for a worker (TASKS_BACKEND is the database backend in this script, as in production).
    booking = booking_create(by=SYSTEM, resource=resource, customer=customer, start_at=start, end_at=start + dt.timedelta(hours=1), override_availability=True)
    notice = Notification.objects.get(booking=booking)
    env = os.environ | PLAIN_HTTP | {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(silent_port), "EMAIL_TIMEOUT": "30"}
    worker = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    waited = 0.0
    while Notification.objects.get(pk=notice.pk).attempts == 0 and waited < 120:  # after any backlog
        time.sleep(0.2)
        waited += 0.2
    time.sleep(1)  # inside the send, waiting for the silent server's greeting
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    silent.close()
    after_kill = Notification.objects.get(pk=notice.pk)
    # The lease (10 minutes) is what makes the row due again; skip the wait rather than sleep it.
    Notification.objects.filter(pk=notice.pk).update(next_attempt_at=after_kill.next_attempt_at - dt.timedelta(minutes=10, seconds=1))

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        env_ok = os.environ | PLAIN_HTTP | {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}
        # The cron safety net (docs/deploy-email.md §3), run twice: the second run must find nothing due.
        runs = [subprocess.run([sys.executable, "manage.py", "send_notifications"], cwd=ROOT, env=env_ok, capture_output=True, text=True).stdout.strip() for _ in range(2)]
    finally:
        controller.stop()
    final = Notification.objects.get(pk=notice.pk)
    return {
        "state_after_kill": after_kill.state,
        "attempts_after_kill": after_kill.attempts,
        "due_again_after_s": round((after_kill.next_attempt_at - after_kill.updated_at).total_seconds()),
        "send_notifications_runs": runs,
        "final_state": final.state,
        "final_attempts": final.attempts,
        "messages_received": len(received),
    }


def main():
    out = ROOT / "bench" / "results" / "faults.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    if "restart" in sys.argv[1:]:
        results["postgresql_restart"] = restart_during_load()
        print("PostgreSQL restart during load:", json.dumps(results["postgresql_restart"], indent=2))
        connection.close()  # ours died with the restart too
    if "worker" in sys.argv[1:]:
        results["worker_killed"] = worker_killed_mid_delivery()
        print("Worker killed mid-delivery:", json.dumps(results["worker_killed"], indent=2))
    results["database"] = connection.settings_dict["NAME"]
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""gunicorn settings for the web process (`gunicorn` in this folder reads this file by itself).

Every value can be overridden on the command line or through GUNICORN_CMD_ARGS. The web process is
stateless: run as many of these, on as many hosts, as the load needs (docs/deploy.md).
"""

import multiprocessing
import os

wsgi_app = "scheduling_site.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Sync workers: each request is mostly database time, and one worker holds one persistent database
# connection (CONN_MAX_AGE), so the connection count is workers × hosts — size PostgreSQL for it.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# A request stuck longer than this is killed and its worker replaced, so one slow call cannot
# keep a worker forever.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Workers are replaced now and then (staggered by the jitter) so slow leaks never build up.
max_requests = 2000
max_requests_jitter = 200
# The proxy in front is trusted for X-Forwarded-* only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def on_starting(server):
    # A random key per process (the quick-start default) would make every worker and host sign
    # sessions and CSRF tokens differently: refuse to serve instead.
    if not os.environ.get("SECRET_KEY"):
        raise SystemExit("SECRET_KEY must be set for gunicorn (the same value on every host); see docs/deploy.md.")

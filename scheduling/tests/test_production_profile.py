"""The production profile: settings with DEBUG off pass Django's deployment checklist, and the
quick start (DEBUG=true) stays on plain http. Each case starts a fresh process so the settings
module reads the environment it is given."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k7#Vq2!pZr9xLw4sTn8bYc6dFh3jMg5aQe1uRo0iKt-Xv_Ws=Ny+Bz%Cl^Dm&Ep*Gf(Hj)",
    "ALLOWED_HOSTS": "bookings.example.com",
    "DATABASE_URL": "postgres://app:secret@db.example.com:5432/scheduling",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "HTTPS": "true",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what the case gives: the suite's own variables (e.g. DJANGO_ALLOW_ASYNC_UNSAFE, set by
    # the browser tests) must not leak into a production check.
    ours = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "TASKS_BACKEND", "HTTPS", "STATIC_ROOT", "CACHE_URL", "NUM_PROXIES"}
    clean = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith(("SECURE_", "SESSION_", "CSRF_", "API_", "AXES_"))}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60)


def settings_value(expression: str, env: dict[str, str]) -> str:
    code = f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'scheduling_site.settings'); django.setup(); from django.conf import settings; print({expression})"
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_check_deploy_passes_without_warnings_given_the_documented_production_environment():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_defaults_are_https_only_with_hsts():
    values = settings_value(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS",
        PRODUCTION_ENV,
    )
    assert values == "True True True 31536000"


def test_the_quick_start_with_debug_on_stays_on_plain_http():
    values = settings_value("settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS", {"DEBUG": "true"})
    assert values == "False False 0"


def test_without_https_debug_off_still_answers_plain_http():
    # e.g. `manage.py test` or a private network: no redirect, no manifest needed.
    env = {"DEBUG": "false", "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"], "STATIC_ROOT": "/nonexistent/never-collected"}
    values = settings_value("settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.STORAGES['staticfiles']['BACKEND']", env)
    assert values == "False 0 django.contrib.staticfiles.storage.StaticFilesStorage"


def test_postgresql_connections_are_health_checked_and_bounded_in_time():
    values = settings_value(
        "settings.DATABASES['default']['CONN_HEALTH_CHECKS'], settings.DATABASES['default']['CONN_MAX_AGE'], settings.DATABASES['default']['OPTIONS']['connect_timeout']",
        PRODUCTION_ENV,
    )
    assert values == "True 60 5"


def test_a_proxy_header_is_trusted_only_when_named():
    assert settings_value("getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)", PRODUCTION_ENV) == "None"
    named = settings_value("settings.SECURE_PROXY_SSL_HEADER", PRODUCTION_ENV | {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"})
    assert named == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_gunicorn_refuses_to_start_without_a_shared_secret_key():
    result = run(["-m", "gunicorn", "--check-config"], {"DEBUG": "false"})
    # --check-config loads the app but not the server hooks; the hook itself is what guards start-up.
    code = "import runpy; cfg = runpy.run_path('gunicorn.conf.py'); cfg['on_starting'](None)"
    refused = run(["-c", code], {"DEBUG": "false"})
    assert result.returncode == 0, result.stderr
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr


def test_the_cache_is_the_database_by_default_and_redis_when_cache_url_says_so():
    default = settings_value("settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']", PRODUCTION_ENV)
    redis = settings_value(
        "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']",
        PRODUCTION_ENV | {"CACHE_URL": "redis://127.0.0.1:6379/1"},
    )

    assert default == "django.core.cache.backends.db.DatabaseCache scheduling_cache"
    assert redis == "django.core.cache.backends.redis.RedisCache redis://127.0.0.1:6379/1"


def test_a_cache_url_of_another_kind_stops_the_process():
    result = run(["manage.py", "check"], PRODUCTION_ENV | {"CACHE_URL": "memcached://127.0.0.1:11211"})

    assert result.returncode != 0
    assert "CACHE_URL must be redis:// or rediss://" in result.stderr


def test_brake_settings_come_from_the_environment_and_typos_stop_the_process():
    tuned = {"API_USER_RATE": "1000/min", "API_AUTH_FAILURE_LIMIT": "5", "AXES_FAILURE_LIMIT": "4", "AXES_COOLOFF_MINUTES": "30", "NUM_PROXIES": "1"}
    values = settings_value(
        "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], settings.API_AUTH_FAILURE_LIMIT, settings.AXES_FAILURE_LIMIT, "
        "settings.AXES_COOLOFF_TIME, settings.REST_FRAMEWORK['NUM_PROXIES']",
        PRODUCTION_ENV | tuned,
    )
    defaults = settings_value("settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], settings.REST_FRAMEWORK['NUM_PROXIES']", PRODUCTION_ENV)
    typo = run(["manage.py", "check"], PRODUCTION_ENV | {"API_USER_RATE": "1000/mango"})
    zero = run(["manage.py", "check"], PRODUCTION_ENV | {"AXES_FAILURE_LIMIT": "0"})

    assert values == "{'user': '1000/min'} 5 4 0:30:00 1"
    assert defaults == "{'user': None} 0"
    assert typo.returncode != 0 and "API_USER_RATE='1000/mango' is not a rate" in typo.stderr
    assert zero.returncode != 0 and "AXES_FAILURE_LIMIT=0 must be at least 1" in zero.stderr

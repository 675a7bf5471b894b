"""Settings for the scheduling back-office, read from the environment.

Every setting that differs between a laptop and production comes from an environment variable with
a strict parser: a bad value stops the process at start-up instead of surfacing later.
"""

import datetime as dt
import os
import re
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_positive_int(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value} must be at least 1.")
    return value


RATE_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def env_rate(name: str) -> str | None:
    """A DRF throttle rate `<n>/<period>`, or None when unset. DRF itself reads only the period's
    first letter (so "10/mango" would pass as a minute); here a typo stops the process."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    match = re.fullmatch(r"([1-9][0-9]*)/([a-z]+)", raw)
    if not match or match.group(2) not in RATE_PERIODS:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 1000/min (periods: {', '.join(RATE_PERIODS)}).")
    return raw


CACHE_TABLE = "scheduling_cache"  # created by the migration scheduling 0005_cache_table


def cache_from_url(url: str) -> dict:
    """The default cache: the database unless CACHE_URL names a Redis server (redis:// or rediss://)."""
    url = url.strip()
    if not url:
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(f"CACHE_URL must be redis:// or rediss:// (or unset for the database cache), not {url.split('://')[0]!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY a random key is used: sessions do not survive a restart, which is right for a
# quick start and harmless for tests; production sets it.
SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "scheduling.apps.SchedulingAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "anymail",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "auditlog",
    "scheduling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Right after the security middleware: static files are answered before sessions or auth run.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each staff user's own time zone for the whole request (scheduling/middleware.py).
    "scheduling.middleware.UserTimeZoneMiddleware",
    # Channel and actor of the audit trail (docs/spec.md §15.1); after authentication.
    "scheduling.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a login refused for lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "scheduling_site.urls"
WSGI_APPLICATION = "scheduling_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite by default (quick start, fast local tests); a postgres:// URL switches to PostgreSQL.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # BEGIN IMMEDIATE takes the write lock up front, so two bookings of one resource are
        # checked and written one after the other; the busy timeout makes the second writer wait
        # for the first instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_TIMEOUT", 30),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too: an in-memory shared-cache database answers concurrent writers with
    # "table is locked" and ignores the busy timeout.
    # Named after the database file, so checkouts or runs with different DATABASE_URLs don't collide.
    _db_file = Path(_db["NAME"])
    _db["TEST"] = {"NAME": str(_db_file.with_name(f"test_{_db_file.stem}.sqlite3"))}
    _db["CONN_MAX_AGE"] = 0
elif _db["ENGINE"] in {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}:
    _db["ENGINE"] = "django.db.backends.postgresql"
    # A database host that does not answer fails the request after a few seconds instead of holding
    # a web worker until the TCP timeout (minutes); the next request tries again.
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
else:
    raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:// or postgres://, not {_db['ENGINE']}.")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked. Standalone (it only
    # watches), so permissions stay with ModelBackend and guardian's backend below.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
GUARDIAN_RAISE_403 = False

# Behind NUM_PROXIES proxies the client is that many addresses from the right of X-Forwarded-For;
# with 0 (no proxy) a client-sent X-Forwarded-For is ignored, so it cannot dodge a lockout.
# One rule (DRF's) for the API throttles and the admin's login lockout: scheduling.client_ip.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES must be 0 or more.")

# Login lockout of the admin (django-axes; docs/spec.md §8.7). Attempts are rows in the database, so
# every worker and host counts together. Username and IP together: a stranger guessing a
# colleague's password from elsewhere cannot lock the colleague out.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_positive_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_positive_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "scheduling.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429

# --- Cache ----------------------------------------------------------------------------------------
# Shared by every worker and host (the API's throttle counters live here): the database by default,
# Redis with CACHE_URL=redis://host:6379/0.
CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", ""))}

# --- Time -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# One date and time format throughout the admin, by Django's format localisation (formats/en).
FORMAT_MODULE_PATH = ["scheduling_site.formats"]
# The admin's branding: its header, and the browser tab's title after each page's own.
SITE_HEADER = os.environ.get("SITE_HEADER", "Scheduling back-office")
SITE_TITLE = os.environ.get("SITE_TITLE", SITE_HEADER)
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone.") from None
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# whitenoise serves STATIC_ROOT from every web process (no separate file server to scale): hashed
# names let it send "cache forever" headers, and it keeps gzip/brotli copies made by collectstatic.
# With DEBUG on it serves straight from the apps' folders, so the quick start needs no collectstatic.
# Without a collectstatic run (quick start, tests) there is no manifest: plain names, found in the
# apps' folders, so no page can fail on a missing manifest entry.
_STATIC_MANIFEST = STATIC_ROOT / "staticfiles.json"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _STATIC_MANIFEST.exists()
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _STATIC_MANIFEST.exists()
WHITENOISE_MANIFEST_STRICT = False  # a file added since the last collectstatic keeps its plain name

# --- E-mail (Django's own names; an anymail ESP backend is a settings change) ----------------------
# Booking notices go through an outbox (scheduling.services.notifications); see docs/spec.md §9.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Short: with the immediate task backend a notice is sent inside the request that saved the booking,
# and a mail server that does not answer must not hold that request for long.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 5)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "bookings@localhost")
# A failed notice is retried after NOTIFICATION_RETRY_SECONDS · 2^(attempt−1) (at most 6 h), up to
# NOTIFICATION_MAX_ATTEMPTS attempts; then it stays failed until staff resend it.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8)
NOTIFICATION_RETRY_SECONDS = env_int("NOTIFICATION_RETRY_SECONDS", 60)
if NOTIFICATION_MAX_ATTEMPTS < 1 or NOTIFICATION_RETRY_SECONDS < 1:
    raise ImproperlyConfigured("NOTIFICATION_MAX_ATTEMPTS and NOTIFICATION_RETRY_SECONDS must be at least 1.")
# Webhook deliveries ride on the same outbox, with the same budget and backoff.
# The audit trail stores before/after as JSON values, not auditlog's legacy strings.
AUDITLOG_STORE_JSON_CHANGES = True

# anymail's own settings under their own names, as ANYMAIL_<NAME> variables: ANYMAIL_WEBHOOK_SECRET,
# ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_SENDGRID_API_KEY, ANYMAIL_MAILGUN_API_KEY…
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")}

# --- Background tasks (django.tasks API; the django-tasks backport on Django 5.2) -----------------
# Immediate by default (quick start, tests): the task runs in the process that enqueued it, right
# after the booking commits. Production: TASKS_BACKEND=django_tasks_db.DatabaseBackend and one or
# more `manage.py db_worker` processes (docs/deploy-email.md).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

# --- Calendars and outgoing HTTP (docs/spec.md §16) ------------------------------------------------
# Outgoing requests to user-given URLs (webhook receivers, calendar subscriptions) go to public
# https:// addresses only (scheduling/outbound.py); true opens loopback, private networks and plain
# http: on-premise peers, and tests with a server on 127.0.0.1 (docs/spec.md §15.2, §16.3).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
CALENDAR_SYNC_MINUTES = env_positive_int("CALENDAR_SYNC_MINUTES", 30)

# --- REST API (docs/spec.md §6) ---------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request is answered 401 with `WWW-Authenticate: Token`; the session
    # keeps the browsable API working after a login through the admin.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scheduling.api.throttling.GuardedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, as the schema says: a form or multipart body is 415 (docs/spec.md §6.2).
    "DEFAULT_PARSER_CLASSES": ["scheduling.api.errors.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "scheduling.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "scheduling.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "scheduling.api.schema.SchedulingAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": NUM_PROXIES,
    # Authenticated users: unthrottled unless API_USER_RATE is set. Failed authentication has its
    # own brake in the token authentication (scheduling.api.throttling, docs/spec.md §6.8).
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_rate("API_USER_RATE")},
}
# From the API_AUTH_FAILURE_LIMIT-th failed authentication of one IP within the window, that IP's
# requests that carry credentials answer 429 until the oldest failure leaves the window.
API_AUTH_FAILURE_LIMIT = env_positive_int("API_AUTH_FAILURE_LIMIT", 20)
API_AUTH_FAILURE_WINDOW = env_positive_int("API_AUTH_FAILURE_WINDOW", 600)
SPECTACULAR_SETTINGS = {
    "TITLE": "Scheduling back-office API",
    "DESCRIPTION": "Resources, bookings, working hours and availability. Datetimes are ISO 8601 with an offset and "
    "answered in UTC; errors and conflicts are described per operation. See docs/spec.md §6.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Read-only fields (id, created_at…) stay out of request bodies.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"BookingStatusEnum": "scheduling.models.BookingStatus", "ExceptionKindEnum": "scheduling.models.ExceptionKind", "ConflictKindEnum": "scheduling.api.serializers.CONFLICT_KINDS"},
    # Swagger UI and ReDoc from our own static files: no CDN, works offline and behind a strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No request leaves the site: no online validator badge (Swagger UI asks validator.swagger.io),
    # no web fonts (templates/drf_spectacular/redoc.html drops ReDoc's Google Fonts links).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Production hardening (only when DEBUG is off) ------------------------------------------------
# HTTPS=true (the documented production profile, docs/deploy.md) turns on the https redirect,
# secure-only cookies and a year of HSTS, and `manage.py check --deploy` then passes with no
# warning. Each stays overridable. Off by default, so a plain-http run (tests, a private network,
# `manage.py test`) answers instead of redirecting.
HTTPS = env_bool("HTTPS", False)
if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
# Behind a proxy that terminates TLS, Django sees http; the proxy's header (e.g. X-Forwarded-Proto)
# says the client used https. Without it SECURE_SSL_REDIRECT would redirect forever. Set it only
# when the proxy overwrites that header, or clients could claim https themselves.
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

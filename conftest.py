"""Test-wide settings: the suite runs with DEBUG off like production, but over plain http and
without a collectstatic run, so the HTTPS redirect, the secure-only cookies and the hashed static
names of the production profile are switched off here (their own test runs `check --deploy` in a
fresh process). Applied in pytest_configure, before collection: some test modules ask the app for
its schema at import time."""

from django.test import override_settings

PLAIN_HTTP_WITHOUT_COLLECTSTATIC = override_settings(
    SECURE_SSL_REDIRECT=False,
    SESSION_COOKIE_SECURE=False,
    CSRF_COOKIE_SECURE=False,
    SECURE_HSTS_SECONDS=0,
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    # Static files from the apps' folders, as with DEBUG on (no staticfiles/ folder needed).
    WHITENOISE_AUTOREFRESH=True,
    WHITENOISE_USE_FINDERS=True,
)


def pytest_configure(config):
    PLAIN_HTTP_WITHOUT_COLLECTSTATIC.enable()


def pytest_unconfigure(config):
    PLAIN_HTTP_WITHOUT_COLLECTSTATIC.disable()

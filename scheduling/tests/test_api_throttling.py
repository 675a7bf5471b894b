"""Brakes on guessing API credentials (docs/spec.md §6.8): failed authentications are counted per
client IP in the shared cache; from the limit on, that IP's credentials are not even checked (429
with Retry-After) until the window has passed. Successes never count. Clock moved by time-machine,
never slept."""

import datetime as dt
import importlib
import secrets
from types import SimpleNamespace

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from scheduling.tests.factories import API, client_for

pytestmark = pytest.mark.django_db

START = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.timezone.utc)
ATTACKER, COLLEAGUE = "203.0.113.7", "198.51.100.9"  # documentation addresses (RFC 5737)


def invented_token_client(ip: str = ATTACKER) -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secrets.token_hex(20)}")
    return client


def guess(ip: str = ATTACKER, **extra):
    return invented_token_client(ip).get(f"{API}/booking", **extra)


def test_200_invented_tokens_are_refused_with_429_and_retry_after_from_the_limit_on(scene, manager, settings):
    with time_machine.travel(START, tick=False):
        statuses = [guess().status_code for _ in range(200)]
        locked = guess()
        valid_from_the_same_ip = client_for(manager).get(f"{API}/booking", REMOTE_ADDR=ATTACKER)

    assert statuses == [401] * settings.API_AUTH_FAILURE_LIMIT + [429] * (200 - settings.API_AUTH_FAILURE_LIMIT)
    assert settings.API_AUTH_FAILURE_LIMIT == 20  # the documented default
    assert int(locked["Retry-After"]) == settings.API_AUTH_FAILURE_WINDOW == 600
    assert set(locked.json()) == {"detail"} and "failed authentications" in locked.json()["detail"]
    # The credentials of a locked-out address are not checked: a valid key looks like any other.
    assert valid_from_the_same_ip.status_code == 429


def test_a_valid_token_still_works_from_another_ip_while_one_is_locked_out(scene, manager):
    with time_machine.travel(START, tick=False):
        for _ in range(25):
            guess()
        assert guess().status_code == 429

        response = client_for(manager).get(f"{API}/booking", REMOTE_ADDR=COLLEAGUE)

    assert response.status_code == 200


def test_the_lock_lifts_when_the_failures_leave_the_window(scene, manager, settings):
    settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW = 3, 60
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            assert guess().status_code == 401
        clock.shift(59)
        still_locked = guess()
        clock.shift(1)
        after_the_window = client_for(manager).get(f"{API}/booking", REMOTE_ADDR=ATTACKER)
        next_guess = guess()

    assert (still_locked.status_code, still_locked["Retry-After"]) == (429, "1")
    assert (after_the_window.status_code, next_guess.status_code) == (200, 401)


def test_successful_authentications_never_count(scene, manager, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    good = client_for(manager)
    with time_machine.travel(START, tick=False):
        responses = [good.get(f"{API}/booking", REMOTE_ADDR=ATTACKER) for _ in range(10)]
        guesses = [guess().status_code for _ in range(3)]

    assert {r.status_code for r in responses} == {200}
    assert guesses == [401, 401, 401]


def test_a_client_sent_x_forwarded_for_does_not_escape_the_count(scene, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    with time_machine.travel(START, tick=False):
        statuses = [guess(HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(5)]

    assert statuses == [401, 401, 401, 429, 429]


def test_a_request_without_credentials_stays_401_and_is_not_counted(scene, settings):
    settings.API_AUTH_FAILURE_LIMIT = 2
    anonymous = APIClient(REMOTE_ADDR=ATTACKER)
    with time_machine.travel(START, tick=False):
        statuses = [anonymous.get(f"{API}/booking").status_code for _ in range(5)] + [guess().status_code]

    assert statuses == [401] * 6


def test_authenticated_users_are_not_throttled_by_default(scene, manager):
    client = client_for(manager)

    statuses = {client.get(f"{API}/resource_type").status_code for _ in range(120)}

    assert statuses == {200}


def test_api_user_rate_throttles_a_user_beyond_it(scene, manager, monkeypatch):
    # What API_USER_RATE=3/min puts into REST_FRAMEWORK (its parsing: test_production_profile.py).
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    client = client_for(manager)
    with time_machine.travel(START, tick=False):
        statuses = [client.get(f"{API}/resource_type").status_code for _ in range(4)]
        refused = client.get(f"{API}/resource_type")

    assert statuses == [200, 200, 200, 429]
    assert refused["Retry-After"] == "60" and set(refused.json()) == {"detail"}


def test_the_counters_live_in_the_database_cache():
    cache = caches["default"]
    cache.set("probe", 1)

    assert type(cache).__name__ == "DatabaseCache"
    assert cache.get("probe") == 1


def test_migrate_makes_the_cache_table():
    # Django's test set-up runs createcachetable on its own, so drop the table and let the migration
    # make it again (inside the test's transaction: DDL rolls back on SQLite and PostgreSQL).
    migration = importlib.import_module("scheduling.migrations.0005_cache_table")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE scheduling_cache")
    assert "scheduling_cache" not in connection.introspection.table_names()

    migration.create(apps=None, schema_editor=SimpleNamespace(connection=connection))

    assert "scheduling_cache" in connection.introspection.table_names()

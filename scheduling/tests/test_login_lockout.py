"""The admin's login lockout (docs/spec.md §8.7, django-axes): after AXES_FAILURE_LIMIT failed logins of
one username from one IP, even the right password is refused with a 429 page until the cool-off has
passed. The clock is moved by time-machine, never slept."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import assign_perm

from scheduling.tests.factories import ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.timezone.utc)
HOME, ELSEWHERE = "203.0.113.7", "198.51.100.9"  # documentation addresses (RFC 5737)
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Every failed attempt before the lock hashes a password; the default hasher takes ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clerk():
    return UserFactory(username="clerk", is_staff=True, password=PASSWORD)


def log_in(password: str, ip: str = HOME, username: str = "clerk") -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})
    return client, response


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_sixty_wrong_passwords_lock_the_account_even_against_the_right_one(clerk):
    with time_machine.travel(START, tick=False):
        wrong = [log_in(f"guess {n}")[1].status_code for n in range(60)]
        client, right = log_in(PASSWORD)

    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 10  # the documented default
    assert wrong == [200] * (limit - 1) + [429] * (60 - limit + 1)  # the limit-th failure locks
    assert right.status_code == 429 and not logged_in(client)
    assert client.get("/admin/").status_code == 302  # to the login page: nobody is signed in


def test_the_lockout_page_says_what_happened_and_when_to_retry(clerk):
    with time_machine.travel(START, tick=False):
        for n in range(10):
            log_in(f"guess {n}")
        _, page = log_in(PASSWORD)

    text = page.content.decode()
    assert page.status_code == 429 and page["Content-Type"].startswith("text/html")
    assert "Sign-in temporarily locked" in text and "clerk" in text
    assert "Try again 15 minutes after the last attempt" in text


def test_the_right_password_works_again_once_the_cool_off_has_passed(clerk):
    with time_machine.travel(START, tick=False) as clock:
        for n in range(10):
            log_in(f"guess {n}")
        clock.shift(dt.timedelta(minutes=14))
        early, early_answer = log_in(PASSWORD)  # a refused attempt while locked starts the wait again
        clock.shift(dt.timedelta(minutes=2))
        _, sixteen_minutes_after_the_lock = log_in(PASSWORD)
        clock.shift(dt.timedelta(minutes=15, seconds=1))  # 15 min after the last refused attempt
        client, answer = log_in(PASSWORD)

    assert early_answer.status_code == 429 and not logged_in(early)
    assert sixteen_minutes_after_the_lock.status_code == 429
    assert answer.status_code == 302 and logged_in(client)


def test_the_lock_holds_one_username_at_one_address_only(clerk):
    UserFactory(username="colleague", is_staff=True, password=PASSWORD)
    with time_machine.travel(START, tick=False):
        for n in range(10):
            log_in(f"guess {n}")
        from_elsewhere, _ = log_in(PASSWORD, ip=ELSEWHERE)
        colleague, _ = log_in(PASSWORD, username="colleague")

    # A stranger guessing a colleague's password cannot lock the colleague out of their own desk.
    assert logged_in(from_elsewhere) and logged_in(colleague)


def test_a_successful_login_clears_the_failures(clerk):
    with time_machine.travel(START, tick=False):
        for n in range(9):
            log_in(f"guess {n}")
        log_in(PASSWORD)
        statuses = [log_in(f"again {n}")[1].status_code for n in range(9)]

    assert statuses == [200] * 9


def test_axes_watches_first_and_object_grants_still_answer(clerk):
    resource = ResourceFactory()
    assign_perm("book_resource", clerk, resource)

    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert clerk.has_perm("scheduling.book_resource", resource)

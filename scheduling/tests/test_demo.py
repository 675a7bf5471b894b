"""The quick start: demo data and the generated login."""

import datetime as dt
import re
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from scheduling.models import Booking, Resource, ScheduleException
from scheduling.tests.factories import AWKWARD_INSTANTS, WARSAW

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_seed_demo_loads_a_realistic_week_once():
    call_command("seed_demo", stdout=StringIO())
    resources = Resource.objects.all()
    assert resources.count() == 12
    assert {r.type.name for r in resources} == {"Trainer", "Room", "Vehicle"}
    assert len({r.timezone for r in resources}) >= 2
    assert ScheduleException.objects.exists()
    assert Booking.objects.count() > 50
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "nothing loaded" in out.getvalue()
    assert Resource.objects.count() == 12


@pytest.mark.slow
@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_seed_demo_fills_this_week_of_the_servers_zone_with_history_before_now(settings, time_machine, instant):
    settings.TIME_ZONE = "Europe/Warsaw"
    time_machine.move_to(instant, tick=False)
    call_command("seed_demo", stdout=StringIO())
    today = instant.astimezone(WARSAW).date()
    week = {today + dt.timedelta(days=k - today.weekday()) for k in range(7)}
    bookings = Booking.objects.select_related("resource")
    # Each day of the week, read in the resource's own zone (the demo spans two continents).
    assert {b.start_at.astimezone(ZoneInfo(b.resource.timezone)).date() for b in bookings} == week
    assert not bookings.filter(end_at__gt=instant, status__in=["completed", "no_show"]).exists()
    assert not bookings.filter(end_at__lte=instant, status="pending").exists()


@pytest.mark.slow
def test_demo_bookings_cover_every_status_when_the_week_is_half_over():
    from scheduling.demo import load_demo

    load_demo(now=dt.datetime(2026, 11, 25, 12, tzinfo=dt.timezone.utc))  # a Wednesday
    assert set(Booking.objects.values_list("status", flat=True)) == {"pending", "confirmed", "cancelled", "completed", "no_show"}


def test_quickstart_login_prints_a_fresh_password_that_works():
    first, second = StringIO(), StringIO()
    call_command("quickstart_login", stdout=first)
    call_command("quickstart_login", stdout=second)
    passwords = [re.search(r"Password:\s+(\S+)", out.getvalue()).group(1) for out in (first, second)]
    assert passwords[0] != passwords[1]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(passwords[1])

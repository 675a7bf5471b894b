"""Groups and series write their parts in one INSERT, which sends no `post_save`: the parts still get
what a single booking gets from its receivers (docs/spec.md §14.2, §15) — an audit entry each, a
webhook delivery each, and reminders, once per group."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry

from scheduling.models import Booking, Reminder, WebhookDelivery, WebhookEndpoint
from scheduling.permissions import SYSTEM
from scheduling.services import groups, series
from scheduling.tests.factories import CustomerFactory, ResourceFactory, ResourceTypeFactory

pytestmark = pytest.mark.django_db
WARSAW = ZoneInfo("Europe/Warsaw")
HOUR = dt.timedelta(hours=1)
FIRST = dt.datetime(2027, 1, 11, 18, tzinfo=WARSAW)


@pytest.fixture
def pair():
    kind = ResourceTypeFactory(reminder_before=[60])
    return ResourceFactory(name="Room", type=kind, timezone="Europe/Warsaw"), ResourceFactory(name="Coach", type=kind, timezone="Europe/Warsaw")


def test_each_part_of_a_group_is_audited_and_announced_to_webhooks(pair):
    WebhookEndpoint.objects.create(url="https://hooks.example.com/in", events=["booking.created"])

    group = groups.group_create(by=SYSTEM, resources=pair, customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + HOUR)

    parts = list(group.parts.order_by("pk"))
    assert sorted(WebhookDelivery.objects.values_list("booking_id", flat=True)) == [p.pk for p in parts]
    for part in parts:
        assert LogEntry.objects.get_for_object(part).filter(action=LogEntry.Action.CREATE).count() == 1


def test_a_group_is_reminded_once_even_after_a_move(pair):
    group = groups.group_create(by=SYSTEM, resources=pair, customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + HOUR)
    lead = group.parts.order_by("resource_id").first()
    assert list(Reminder.objects.values_list("booking_id", "next_attempt_at")) == [(lead.pk, FIRST - HOUR)]

    later = FIRST + 2 * HOUR
    groups.group_edit(group=group, by=SYSTEM, changes={"start_at": later, "end_at": later + HOUR})

    assert list(Reminder.objects.values_list("booking_id", "next_attempt_at")) == [(lead.pk, later - HOUR)]


def test_each_occurrence_of_a_single_resource_series_is_reminded(pair):
    room, _ = pair

    result = series.series_create(by=SYSTEM, resources=[room], customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + HOUR, rrule="FREQ=WEEKLY;COUNT=3")

    booked = [pk for o in result.occurrences for pk in o.bookings]
    assert sorted(Reminder.objects.values_list("booking_id", flat=True)) == sorted(booked)
    assert Booking.objects.count() == 3

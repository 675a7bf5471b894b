"""Series and groups under booking policies (docs/spec.md §13, §14.7): every part is held to the rules
a single booking of its resource is — buffers, notice, durations, quotas (the series' own occurrences
counting, in order), approval — and finding a group's time offers only what the write accepts."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduling.models import Booking, BookingStatus, Notification, NotificationEvent
from scheduling.permissions import SYSTEM
from scheduling.services import groups, policies, series
from scheduling.services.errors import GroupConflict, SeriesConflict
from scheduling.tests.factories import NOW, BookingFactory, CustomerFactory, ResourceFactory, ResourceTypeFactory

pytestmark = pytest.mark.django_db
WARSAW = ZoneInfo("Europe/Warsaw")
HOUR = dt.timedelta(hours=1)
# A Monday 18:00 in Warsaw, some weeks after the frozen NOW.
FIRST = dt.datetime(2027, 1, 11, 18, tzinfo=WARSAW)


def resource(name, **policy):
    return ResourceFactory(name=name, timezone="Europe/Warsaw", type=ResourceTypeFactory(name=f"{name} type", **policy))


def test_a_group_part_is_refused_for_another_bookings_buffer():
    room, coach = resource("Room", buffer_after=30), resource("Coach")
    BookingFactory(resource=room, start_at=FIRST - HOUR, end_at=FIRST - dt.timedelta(minutes=10), buffer_after=30)

    with pytest.raises(GroupConflict) as refused:
        groups.group_create(by=SYSTEM, resources=[room, coach], customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + HOUR)

    assert [(r, c.kind) for r, c in refused.value.conflicts] == [(room.pk, "booking")]
    assert Booking.objects.count() == 1


def test_group_parts_carry_their_resources_buffers():
    room, coach = resource("Room", buffer_before=15), resource("Coach", buffer_after=10)

    group = groups.group_create(by=SYSTEM, resources=[room, coach], customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + HOUR)

    parts = {p.resource_id: p for p in group.parts.all()}
    assert (parts[room.pk].occupied_start, parts[room.pk].occupied_end) == (FIRST - dt.timedelta(minutes=15), FIRST + HOUR)
    assert (parts[coach.pk].occupied_start, parts[coach.pk].occupied_end) == (FIRST, FIRST + HOUR + dt.timedelta(minutes=10))


def test_a_series_skips_the_occurrences_a_policy_refuses():
    # At most 60 days ahead: of twelve weekly occurrences, those after NOW + 60 days are refused.
    room = resource("Room", max_horizon=60)
    first = NOW.astimezone(WARSAW).replace(hour=18, minute=0) + dt.timedelta(days=7)

    result = series.series_create(
        by=SYSTEM, resources=[room], customer=CustomerFactory(), start_at=first, end_at=first + HOUR, rrule="FREQ=WEEKLY;COUNT=12", mode="skip_conflicts"
    )

    skipped = [o for o in result.occurrences if o.status == series.SKIPPED]
    assert skipped and all(o.start_at > NOW + dt.timedelta(days=60) for o in skipped)
    assert {c.rule for o in skipped for _, c in o.conflicts} == {"max_horizon"}
    assert Booking.objects.count() == 12 - len(skipped)


def test_a_series_counts_its_own_occurrences_against_a_weekly_quota():
    room = resource("Room", quota_per_week=2)
    customer = CustomerFactory()

    result = series.series_create(
        by=SYSTEM, resources=[room], customer=customer, start_at=FIRST, end_at=FIRST + HOUR, rrule="FREQ=DAILY;COUNT=7", mode="skip_conflicts"
    )

    # Monday and Tuesday of one ISO week are booked; the rest of that week is over the quota.
    booked = [o.start_at.astimezone(WARSAW).date() for o in result.occurrences if o.status == series.BOOKED]
    assert booked == [dt.date(2027, 1, 11), dt.date(2027, 1, 12)]
    assert {c.rule for o in result.occurrences for _, c in o.conflicts} == {"quota_per_week"}


def test_an_all_or_nothing_series_over_a_quota_writes_nothing():
    room = resource("Room", quota_per_day=1)
    customer = CustomerFactory()
    BookingFactory(resource=room, customer=customer, start_at=FIRST + dt.timedelta(days=7, hours=-8), end_at=FIRST + dt.timedelta(days=7, hours=-7))

    with pytest.raises(SeriesConflict):
        series.series_create(by=SYSTEM, resources=[room], customer=customer, start_at=FIRST, end_at=FIRST + HOUR, rrule="FREQ=WEEKLY;COUNT=3")

    assert Booking.objects.count() == 1


def test_a_group_on_an_approval_resource_asks_once_and_expires_whole(manager):
    room, coach = resource("Room", requires_approval=True, approval_timeout=60), resource("Coach")

    group = groups.group_create(by=SYSTEM, resources=[room, coach], customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + HOUR)

    waiting = Booking.objects.get(group=group, resource=room)
    assert waiting.approval_expires_at is not None
    # One e-mail to the approvers (the manager) for the group, not one per part.
    assert list(Notification.objects.filter(event=NotificationEvent.APPROVAL).values_list("recipients", flat=True)) == [[manager.email]]
    assert policies.approval_expire(booking_id=waiting.pk) is False  # not yet due
    Booking.objects.filter(pk=waiting.pk).update(approval_expires_at=NOW - HOUR)

    assert policies.approval_expire(booking_id=waiting.pk) is True
    assert set(Booking.objects.filter(group=group).values_list("status", flat=True)) == {BookingStatus.CANCELLED}


def test_finding_a_group_time_offers_only_what_the_write_accepts():
    strict = resource("Strict", min_notice=24 * 60, granularity=60)
    start = NOW.replace(minute=0, second=0, microsecond=0)

    page = groups.group_find(user=SYSTEM, types=[strict.type], start=start, end=start + dt.timedelta(days=2), duration=HOUR, step=dt.timedelta(minutes=30), limit=3)

    assert page.slots and all(s.start_at >= NOW + dt.timedelta(days=1) and s.start_at.minute == 0 for s in page.slots)

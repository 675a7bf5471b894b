"""The notices of groups and series (docs/spec.md §14): one message per event, not one per part."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduling.models import Booking, Notification
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.services import groups, series
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
WARSAW = ZoneInfo("Europe/Warsaw")
FIRST = dt.datetime(2030, 3, 4, 18, 0, tzinfo=WARSAW)


def vevents(notification):
    return [c for c in icalendar.Calendar.from_ical(notification.ics).walk("VEVENT")]


@pytest.fixture
def pair(db):
    return ResourceFactory(name="Anna", timezone="Europe/Warsaw"), ResourceFactory(name="Studio", timezone="Europe/Warsaw")


def test_a_group_sends_one_notice_naming_all_its_resources(pair):
    customer = CustomerFactory()

    group = groups.group_create(by=SYSTEM, resources=pair, customer=customer, start_at=FIRST, end_at=FIRST + dt.timedelta(hours=1))
    groups.group_transition(group=group, to_status="confirmed", by=SYSTEM)

    created, confirmed = Notification.objects.order_by("id")
    assert (created.event, confirmed.event) == ("created", "confirmed")
    assert "Anna, Studio" in created.subject and "Anna, Studio" in created.text_body
    assert vevents(created)[0]["summary"] == "Anna, Studio"


def test_a_series_sends_one_notice_whose_ics_carries_the_rule_and_the_left_out_and_skipped_dates(pair):
    resource, customer = pair[0], CustomerFactory()
    taken = FIRST + dt.timedelta(weeks=2)
    BookingFactory(resource=resource, start_at=taken, end_at=taken + dt.timedelta(hours=1))

    series.series_create(by=SYSTEM, resources=[resource], customer=customer, start_at=FIRST, end_at=FIRST + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=5", mode="skip_conflicts", exdates=["2030-03-11"])

    (notice,) = Notification.objects.filter(booking__series__isnull=False)
    (event,) = vevents(notice)
    assert event["rrule"].to_ical() == b"FREQ=WEEKLY;COUNT=5"
    assert [d.dt for d in event["exdate"].dts] == [FIRST + dt.timedelta(weeks=1), taken]
    assert event["dtstart"].dt == FIRST and event["dtstart"].dt.tzinfo.key == "Europe/Warsaw"


def test_cancelling_one_occurrence_sends_a_cancel_for_that_date_only(pair):
    resource, customer = pair[0], CustomerFactory()
    result = series.series_create(by=SYSTEM, resources=[resource], customer=customer, start_at=FIRST, end_at=FIRST + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3")
    second = Booking.objects.get(pk=result.bookings[1])

    booking_service.booking_cancel(booking=second, by=SYSTEM)

    notice = Notification.objects.get(booking=second)
    (event,) = vevents(notice)
    assert "METHOD:CANCEL" in notice.ics
    assert event["recurrence-id"].dt == FIRST + dt.timedelta(weeks=1)
    assert str(event["uid"]).startswith(f"series-{result.series.pk}@")
    assert Notification.objects.count() == 2  # the series' one, and this cancel


def test_a_series_of_a_group_writes_no_notice_per_part(pair):
    customer = CustomerFactory()

    series.series_create(by=SYSTEM, resources=list(pair), customer=customer, start_at=FIRST, end_at=FIRST + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=4")

    assert Notification.objects.count() == 1


def test_a_moved_group_is_announced_once_as_rescheduled_with_a_higher_sequence(pair):
    group = groups.group_create(by=SYSTEM, resources=pair, customer=CustomerFactory(), start_at=FIRST, end_at=FIRST + dt.timedelta(hours=1))
    later = FIRST + dt.timedelta(hours=2)

    groups.group_edit(group=group, by=SYSTEM, changes={"start_at": later, "end_at": later + dt.timedelta(hours=1)})
    groups.group_transition(group=group, to_status="cancelled", by=SYSTEM)

    notices = list(Notification.objects.order_by("id"))
    assert [n.event for n in notices] == ["created", "rescheduled", "cancelled"]
    # One UID for the group, each notice superseding the last (RFC 5546: a higher SEQUENCE).
    assert [int(vevents(n)[0]["sequence"]) for n in notices] == [0, 1, 2]
    assert len({str(vevents(n)[0]["uid"]) for n in notices}) == 1
    assert vevents(notices[1])[0].decoded("dtstart") == later

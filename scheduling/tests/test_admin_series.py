"""Admin: a series or a group from the repeat form, its preview, the pages, the calendar marks (docs/spec.md §14)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from scheduling.models import Booking, BookingGroup, BookingSeries
from scheduling.permissions import SYSTEM
from scheduling.services import groups, series
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:scheduling_bookingseries_add")
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def scene(db):
    return ResourceFactory(name="Anna", timezone="Europe/Warsaw"), ResourceFactory(name="Studio", timezone="Europe/Warsaw"), CustomerFactory()


def weekly(scene, **extra):
    anna, studio, customer = scene
    return {"resources": [anna.pk], "customer": customer.pk, "start_at": "2030-03-04 18:00", "duration": 60, "repeat": "weekly", "weekdays": ["MO"], "interval": 1, "count": 4, "mode": "skip_conflicts", **extra}


def test_the_preview_shows_each_occurrence_and_writes_nothing(client, manager, scene):
    anna = scene[0]
    BookingFactory(resource=anna, start_at=dt.datetime(2030, 3, 11, 18, tzinfo=WARSAW), end_at=dt.datetime(2030, 3, 11, 19, tzinfo=WARSAW))
    client.force_login(manager)

    response = client.post(ADD, {**weekly(scene), "_preview": "Preview"})

    assert response.status_code == 200
    assert [row["ok"] for row in response.context["preview"]] == [True, False, True, True]
    assert BookingSeries.objects.count() == 0 and Booking.objects.count() == 1


def test_saving_the_form_writes_the_series_through_the_service(client, manager, scene):
    client.force_login(manager)

    response = client.post(ADD, {**weekly(scene, interval=2), "_save": "Save"})

    created = BookingSeries.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:scheduling_bookingseries_change", args=[created.pk])
    starts = [b.start_at.astimezone(WARSAW) for b in Booking.objects.filter(series=created)]
    assert [(s.day, s.month, s.hour) for s in starts] == [(4, 3, 18), (18, 3, 18), (1, 4, 18), (15, 4, 18)]
    assert created.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;COUNT=4" and Booking.objects.get(pk=created.bookings.first().pk).created_by == manager


def test_several_resources_without_a_rule_make_a_group(client, manager, scene):
    anna, studio, _ = scene
    client.force_login(manager)

    client.post(ADD, {**weekly(scene, resources=[anna.pk, studio.pk], repeat=""), "_save": "Save"})

    group = BookingGroup.objects.get()
    assert sorted(group.parts.values_list("resource_id", flat=True)) == sorted([anna.pk, studio.pk])


def test_a_viewer_may_not_open_the_form(client, viewer):
    client.force_login(viewer)

    assert client.get(ADD).status_code == 403


def test_the_series_page_lists_its_occurrences_with_their_status(client, manager, scene):
    anna, _, customer = scene
    first = dt.datetime(2030, 3, 4, 18, tzinfo=WARSAW)
    BookingFactory(resource=anna, start_at=first + dt.timedelta(weeks=1), end_at=first + dt.timedelta(weeks=1, hours=1))
    result = series.series_create(by=SYSTEM, resources=[anna], customer=customer, start_at=first, end_at=first + dt.timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3", mode="skip_conflicts")
    client.force_login(manager)

    page = client.get(reverse("admin:scheduling_bookingseries_change", args=[result.series.pk])).content.decode()

    assert page.count('class="occurrence-booked"') == 2 and page.count('class="occurrence-skipped"') == 1


def test_the_calendar_links_a_groups_parts_and_marks_a_series_occurrences(client, manager, scene):
    anna, studio, customer = scene
    start = dt.datetime(2030, 3, 4, 9, tzinfo=WARSAW)
    group = groups.group_create(by=SYSTEM, resources=[anna, studio], customer=customer, start_at=start, end_at=start + dt.timedelta(hours=1))
    series.series_create(by=SYSTEM, resources=[anna], customer=customer, start_at=start + dt.timedelta(hours=3), end_at=start + dt.timedelta(hours=4), rrule="FREQ=DAILY;COUNT=2")
    client.force_login(manager)

    page = client.get(reverse("admin:scheduling_resource_calendar"), {"view": "day", "date": "2030-03-04"}).content.decode()

    assert page.count(f'data-group="{group.pk}"') == 2 and page.count("in-group") >= 2
    assert "in-series" in page and "↻" in page

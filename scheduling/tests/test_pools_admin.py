"""Pools in the admin and the reports (docs/spec.md §17.3)."""

import datetime as dt
import io
import csv

import pytest
from django.core.management import call_command
from django.urls import reverse

from scheduling.models import Booking
from scheduling.services.reports import select_resources, utilisation_report
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory, utc

pytestmark = pytest.mark.django_db
CALENDAR = reverse("admin:scheduling_resource_calendar")


def test_the_calendar_shows_a_pools_peak_load_over_its_capacity(client, manager):
    pool = ResourceFactory(name="Bikes", capacity=12)
    BookingFactory(resource=pool, start_at=utc(2026, 3, 2, 9), quantity=5, pooled=True)
    BookingFactory(resource=pool, start_at=utc(2026, 3, 2, 9, 30), quantity=2, pooled=True)
    BookingFactory(resource=pool, start_at=utc(2026, 3, 2, 9, 30), quantity=4, pooled=True, status="cancelled")
    ResourceFactory(name="Room")
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2026-03-02"})
    rows = {row.resource.name: row for row in response.context["rows"]}
    assert (rows["Bikes"].load, rows["Room"].load) == ("7/12", None)
    assert b'<span class="cal-load"' in response.content and b">7/12</span>" in response.content


def test_the_resource_form_refuses_a_capacity_the_bookings_exceed(client, manager):
    pool = ResourceFactory(name="Bikes", capacity=3)
    for _ in range(2):
        BookingFactory(resource=pool, start_at=utc(2026, 3, 2, 9), pooled=True)
    client.force_login(manager)
    url = reverse("admin:scheduling_resource_change", args=[pool.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({k: v for k, v in _inline_management(client.get(url)).items()})
    response = client.post(url, {**data, "capacity": 1, "owner": ""})
    assert response.status_code == 200
    assert "capacity" in response.context["adminform"].form.errors
    pool.refresh_from_db()
    assert pool.capacity == 3


def _inline_management(response) -> dict:
    data = {}
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return data


def test_utilisation_counts_unit_hours_for_a_pool():
    pool = ResourceFactory(name="Bikes", capacity=4, timezone="UTC")
    exclusive = ResourceFactory(name="Room", type=pool.type, timezone="UTC")
    customer = CustomerFactory()
    Booking.objects.create(resource=pool, customer=customer, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 15), quantity=3, pooled=True, status="confirmed")
    Booking.objects.create(resource=pool, customer=customer, start_at=utc(2026, 3, 2, 12), end_at=utc(2026, 3, 2, 18), quantity=1, pooled=True, status="confirmed")
    Booking.objects.create(resource=exclusive, customer=customer, start_at=utc(2026, 3, 2, 0), end_at=utc(2026, 3, 2, 6), status="confirmed")
    report = utilisation_report(first_day=dt.date(2026, 3, 2), last_day=dt.date(2026, 3, 3), resources=select_resources(), daily=True)
    rows = {row.resource.name: row for row in report.resources}
    bikes = rows["Bikes"].figures.as_dict()
    # 48 h × 4 units available; 6 h × 3 + 6 h × 1 = 24 unit-hours booked: 12.5 %; no unit free 12–15.
    assert (bikes["booked_hours"], bikes["booked_unit_hours"], bikes["utilisation_pct"], bikes["free_hours"]) == (9.0, 24.0, 12.5, 45.0)  # full 12:00–15:00
    assert [d.as_dict()["booked_unit_hours"] for d in rows["Bikes"].days] == [24.0, 0.0]
    room = rows["Room"].figures.as_dict()
    assert (room["booked_hours"], room["booked_unit_hours"], room["utilisation_pct"]) == (6.0, 6.0, 12.5)
    # The type's total sums unit-hours: (24 + 6) ÷ (192 + 48).
    assert report.types[0].figures.as_dict()["utilisation_pct"] == 12.5
    out = io.StringIO()
    call_command("availability_report", "--from", "2026-03-02", "--to", "2026-03-03", "--format", "csv", stdout=out)
    by_name = {row["resource"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert by_name["Bikes"]["booked_unit_hours"] == "24.0"

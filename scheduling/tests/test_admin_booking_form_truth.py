"""Forms that tell the truth (docs/spec.md §12.5): the stored booking named after a refused save,
alternatives to a refused time, a customer search, messages without field or status names."""

import datetime as dt

import pytest
from django.urls import reverse

from scheduling.admin.forms import transition_refusal
from scheduling.services.errors import InvalidTransition
from scheduling.tests.factories import split_times, utc
from scheduling.tests.factories import AvailabilityFactory, BookingFactory, CustomerFactory, ResourceFactory, ResourceTypeFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:scheduling_booking_add")


def change_url(booking):
    return reverse("admin:scheduling_booking_change", args=[booking.pk])


def post(client, url, resource, customer, start, end, **extra):
    data = {"resource": resource.pk, "customer": customer.pk, **split_times(start, end), "status": "pending", "notes": "", "input_zone": "mine"}
    return client.post(url, {**data, **extra})


def test_after_a_refused_save_the_title_and_breadcrumbs_name_the_stored_booking(client, booker):
    room = ResourceFactory(name="Room A")
    BookingFactory(resource=room, start_at=utc(2026, 3, 2, 12), end_at=utc(2026, 3, 2, 13))
    mine = BookingFactory(resource=room, customer=CustomerFactory(name="Ola"), start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    client.force_login(booker)
    response = post(client, change_url(mine), room, mine.customer, utc(2026, 3, 2, 12), utc(2026, 3, 2, 13))
    assert response.status_code == 200
    stored = f"#{mine.pk} Ola · Room A · Mon 2 Mar 2026 09:00–10:00 (UTC)"
    assert response.context["subtitle"] == stored
    page = response.content.decode()
    assert f"&rsaquo; {stored}" in page and "12:00–13:00 (UTC)" not in page.split('<div class="breadcrumbs">')[1].split("</div>")[0]


def test_a_conflict_offers_the_next_free_slots_and_free_resources_of_the_same_type(client, booker):
    trainers = ResourceTypeFactory(name="Trainer")
    anna, emily = ResourceFactory(name="Anna", type=trainers), ResourceFactory(name="Emily", type=trainers)
    busy_emily = ResourceFactory(name="Busy", type=trainers)
    ResourceFactory(name="Room", type=ResourceTypeFactory(name="Room"))
    for resource in (anna, busy_emily):
        BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    AvailabilityFactory(resource=anna, weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    client.force_login(booker)
    response = post(client, ADD, anna, CustomerFactory(), utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    suggestions = response.context["suggestions"]
    assert [(s.start_at, s.end_at) for s in suggestions["slots"]] == [
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 11)),
        (utc(2026, 3, 2, 11), utc(2026, 3, 2, 12)),
    ]  # the next Monday's 09:00 lies past the week searched
    assert [s.resource.name for s in suggestions["resources"]] == ["Emily"]
    assert f'data-resource="{emily.pk}" data-start="2026-03-02T09:00:00+00:00"' in response.content.decode()


def test_messages_speak_to_people_not_in_field_or_status_names(client, booker):
    room = ResourceFactory()
    client.force_login(booker)
    response = post(client, ADD, room, CustomerFactory(), utc(2026, 3, 2, 10), utc(2026, 3, 2, 9))
    assert response.context["adminform"].form.errors["end_at"] == ["The end must be after the start."]
    assert transition_refusal(InvalidTransition("no_show", "pending")) == "A no-show booking cannot become pending."


def test_the_customer_field_is_a_search_limited_to_the_customers_the_user_may_see(client, granted):
    room_a = granted.userobjectpermission_set.get().content_object
    BookingFactory(resource=room_a, customer=CustomerFactory(name="Ola Seen"))
    CustomerFactory(name="Ola Hidden")
    client.force_login(granted)
    form = client.get(ADD).context["adminform"].form
    assert form.fields["customer"].widget.__class__.__name__ == "RelatedFieldWidgetWrapper"
    assert "admin-autocomplete" in str(form["customer"])
    answer = client.get(
        reverse("admin:autocomplete"),
        {"term": "ola", "app_label": "scheduling", "model_name": "booking", "field_name": "customer"},
    ).json()
    assert [r["text"] for r in answer["results"]] == ["Ola Seen"]

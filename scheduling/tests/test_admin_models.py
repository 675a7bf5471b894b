"""The scheduling ModelAdmins (docs/spec.md §8.2): lists, inlines, choices narrowed by the permission layer."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from scheduling.models import Availability, Booking
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ResourceTypeFactory,
    split_times,
    staff,
    utc,
)

pytestmark = pytest.mark.django_db


def changelist(model_name: str) -> str:
    return reverse(f"admin:scheduling_{model_name}_changelist")


def results(response) -> list:
    return list(response.context["cl"].result_list)


def test_the_booking_list_shows_local_times_and_searches_customers(client, manager, settings):
    settings.TIME_ZONE = "America/New_York"
    BookingFactory(customer=CustomerFactory(name="Ola Zielińska"), start_at=utc(2026, 3, 2, 14), end_at=utc(2026, 3, 2, 15))
    BookingFactory(customer=CustomerFactory(name="Sarah Johnson"))
    client.force_login(manager)
    response = client.get(changelist("booking"), {"q": "ola"})
    assert [b.customer.name for b in results(response)] == ["Ola Zielińska"]
    assert "Mon 2 Mar 2026 09:00–10:00 (America/New_York)" in response.content.decode()


def test_the_occupying_filter_leaves_out_cancelled_bookings(client, manager):
    kept = BookingFactory(status="confirmed")
    BookingFactory(status="cancelled")
    client.force_login(manager)
    assert results(client.get(changelist("booking"), {"status": "occupying"})) == [kept]
    assert len(results(client.get(changelist("booking"), {"status": "cancelled"}))) == 1


def test_resource_types_list_their_colour_and_resource_count(client, manager):
    rooms = ResourceTypeFactory(name="Room", color="#2563eb")
    ResourceFactory(type=rooms)
    ResourceFactory(type=rooms)
    client.force_login(manager)
    response = client.get(changelist("resourcetype"))
    assert [(t.name, t.resource_count) for t in results(response)] == [("Room", 2)]
    assert b"background:#2563eb" in response.content


def test_customers_list_their_booking_count(client, manager):
    customer = CustomerFactory(name="Acme")
    BookingFactory(customer=customer)
    client.force_login(manager)
    assert [(c.name, c.booking_count) for c in results(client.get(changelist("customer")))] == [("Acme", 1)]


def test_the_resource_page_has_schedule_and_upcoming_booking_inlines(client, manager):
    resource = ResourceFactory()
    upcoming = BookingFactory(resource=resource, start_at=timezone.now() + dt.timedelta(days=1))
    BookingFactory(resource=resource, start_at=timezone.now() - dt.timedelta(days=3))
    client.force_login(manager)
    response = client.get(reverse("admin:scheduling_resource_change", args=[resource.pk]))
    formsets = {formset.opts.model._meta.model_name: formset for formset in response.context["inline_admin_formsets"]}
    assert set(formsets) == {"availability", "scheduleexception", "booking"}
    assert [form.instance for form in formsets["booking"].formset.initial_forms] == [upcoming]
    add = client.get(reverse("admin:scheduling_resource_add"))
    assert "booking" not in {f.opts.model._meta.model_name for f in add.context["inline_admin_formsets"]}


def resource_post(resource, bookings: list[dict], existing: list[Booking] = ()) -> dict:
    """The resource change form with no schedule rows and the given booking inline rows."""
    data = {
        "name": resource.name,
        "type": resource.type_id,
        "active": "on",
        "metadata": "{}",
        "timezone": resource.timezone,
        "owner": "",
        "availability-TOTAL_FORMS": 0,
        "availability-INITIAL_FORMS": 0,
        "exceptions-TOTAL_FORMS": 0,
        "exceptions-INITIAL_FORMS": 0,
        "bookings-TOTAL_FORMS": len(bookings),
        "bookings-INITIAL_FORMS": len(existing),
    }
    for index, row in enumerate(bookings):
        for name, value in row.items():
            data[f"bookings-{index}-{name}"] = value
        data[f"bookings-{index}-resource"] = resource.pk
        if index < len(existing):
            data[f"bookings-{index}-id"] = existing[index].pk
    return data


def inline_row(customer, start: dt.datetime, end: dt.datetime, **extra) -> dict:
    return {"customer": customer.pk, **split_times(start, end), "status": "pending", "notes": "", **extra}


def test_a_booking_added_on_the_resource_page_goes_through_the_service(client, manager, customer):
    resource = ResourceFactory()
    start = (timezone.now() + dt.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    client.force_login(manager)
    url = reverse("admin:scheduling_resource_change", args=[resource.pk])
    response = client.post(url, resource_post(resource, [inline_row(customer, start, start + dt.timedelta(hours=1))]))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.resource, booking.start_at, booking.created_by) == (resource, start, manager)


def test_a_conflicting_booking_on_the_resource_page_is_a_form_error(client, manager, customer):
    resource = ResourceFactory()
    start = (timezone.now() + dt.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    taken = BookingFactory(resource=resource, start_at=start, end_at=start + dt.timedelta(hours=1))
    client.force_login(manager)
    url = reverse("admin:scheduling_resource_change", args=[resource.pk])
    row = inline_row(taken.customer, taken.start_at, taken.end_at)
    new = inline_row(customer, start + dt.timedelta(minutes=30), start + dt.timedelta(minutes=90))
    response = client.post(url, resource_post(resource, [row, new], existing=[taken]))
    assert response.status_code == 200
    booking_formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is Booking).formset
    assert booking_formset.forms[1].non_field_errors()[0].startswith(f"Overlaps booking #{taken.pk}")
    assert Booking.objects.count() == 1


def test_an_owner_adds_working_hours_to_their_own_resource_only(client, owner):
    other = ResourceFactory(name="Other")
    client.force_login(owner)
    add = reverse("admin:scheduling_availability_add")
    choices = client.get(add).context["adminform"].form.fields["resource"].queryset
    assert [r.name for r in choices] == ["Owned"]
    mine = choices.get()
    row = {"weekday": 0, "start_time": "09:00", "end_time": "17:00"}
    assert client.post(add, {"resource": other.pk, **row}).status_code == 200
    assert client.post(add, {"resource": mine.pk, **row}).status_code == 302
    assert list(Availability.objects.values_list("resource__name", flat=True)) == ["Owned"]


def test_an_owner_edits_their_own_hours_but_not_anothers(client, owner):
    mine = AvailabilityFactory(resource=owner.owned_resources.get())
    theirs = AvailabilityFactory(resource=ResourceFactory())
    client.force_login(owner)
    data = {"resource": mine.resource_id, "weekday": 1, "start_time": "08:00", "end_time": "12:00"}
    assert client.post(reverse("admin:scheduling_availability_change", args=[mine.pk]), data).status_code == 302
    mine.refresh_from_db()
    assert mine.weekday == 1
    response = client.post(reverse("admin:scheduling_availability_change", args=[theirs.pk]), {**data, "resource": theirs.resource_id})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")  # invisible: like a missing row
    theirs.refresh_from_db()
    assert theirs.weekday == 0


def test_the_object_permissions_page_offers_only_the_two_grants(client, manager, booker):
    resource = ResourceFactory()
    client.force_login(manager)
    url = reverse("admin:scheduling_resource_permissions_manage_user", args=[resource.pk, booker.pk])
    choices = [value for value, _ in client.get(url).context["form"].fields["permissions"].choices]
    assert sorted(choices) == ["book_resource", "manage_schedule"]
    response = client.post(url, {"permissions": ["book_resource"]})
    assert response.status_code == 302
    booker = type(booker).objects.get(pk=booker.pk)
    assert booker.has_perm("scheduling.book_resource", resource)


def test_the_object_permissions_page_is_for_managers(client, booker):
    resource = ResourceFactory()
    client.force_login(booker)
    page = client.get(reverse("admin:scheduling_resource_change", args=[resource.pk]))
    assert b"Object permissions" not in page.content
    response = client.get(reverse("admin:scheduling_resource_permissions", args=[resource.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_group_grant_form_offers_only_the_two_grants(client, manager):
    from django.contrib.auth.models import Group

    resource = ResourceFactory()
    desk = Group.objects.create(name="front desk")
    client.force_login(manager)
    url = reverse("admin:scheduling_resource_permissions_manage_group", args=[resource.pk, desk.pk])
    choices = [value for value, _ in client.get(url).context["form"].fields["permissions"].choices]
    assert sorted(choices) == ["book_resource", "manage_schedule"]


def test_the_lists_link_to_the_calendar_and_the_board(client, viewer):
    client.force_login(viewer)
    assert reverse("admin:scheduling_resource_calendar").encode() in client.get(changelist("resource")).content
    assert reverse("admin:scheduling_booking_board").encode() in client.get(changelist("booking")).content


def test_a_grant_holder_sees_only_their_resources_and_types_in_list_filters_and_counts(client):
    kind = ResourceTypeFactory(name="Room")
    other_kind = ResourceTypeFactory(name="Secret kind")
    a = ResourceFactory(name="Alpha", type=kind)
    ResourceFactory(name="Hidden room", type=kind)
    ResourceFactory(name="Hidden other", type=other_kind)
    BookingFactory(resource=a)
    user = staff()
    assign_perm("book_resource", user, a)
    client.force_login(user)
    bookings = client.get(reverse("admin:scheduling_booking_changelist")).content.decode()
    assert "Alpha" in bookings and "Hidden room" not in bookings and "Secret kind" not in bookings
    types = client.get(reverse("admin:scheduling_resourcetype_changelist"))
    assert [row.resource_count for row in types.context["cl"].result_list] == [1]

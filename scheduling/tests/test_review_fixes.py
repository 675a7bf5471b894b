"""Regressions found in review: id parsing, admin deletes with e-mail notices, what grant holders see."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from scheduling.ids import MAX_ID, parse_id
from scheduling.models import Booking, Notification
from scheduling.tests.factories import BookingFactory, ResourceFactory, ResourceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (7, 7), ("²", None), ("١", None), ("-1", None), ("0", None), (str(MAX_ID + 1), None), ("1.5", None), (True, None), (None, None), ("", None)])
def test_parse_id_accepts_only_ascii_digits_within_a_bigint(value, expected):
    assert parse_id(value) == expected


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_odd_type_ids_never_500_in_the_calendar_or_palette(client, manager, value):
    client.force_login(manager)
    assert client.get(reverse("admin:scheduling_resource_calendar"), {"type": value}).status_code == 200
    assert client.get(reverse("admin:scheduling_available_now"), {"type": value}).status_code == 404


def test_a_manager_deletes_a_booking_that_has_e_mail_notices(client, manager):
    booking = BookingFactory()  # its customer has an address: the "created" notice is written
    assert Notification.objects.filter(booking=booking).exists()
    client.force_login(manager)
    response = client.post(reverse("admin:scheduling_booking_delete", args=[booking.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert not Notification.objects.exists()


def test_the_outbox_offers_no_bulk_delete(client, manager):
    client.force_login(manager)
    actions = client.get(reverse("admin:scheduling_notification_changelist")).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]


def test_a_grant_holder_sees_no_other_resources_in_filters_or_counts(client):
    kind = ResourceTypeFactory(name="Room")
    other_kind = ResourceTypeFactory(name="Secret kind")
    a = ResourceFactory(name="Alpha", type=kind)
    ResourceFactory(name="Hidden room", type=kind)
    ResourceFactory(name="Hidden other", type=other_kind)
    BookingFactory(resource=a)
    user = UserFactory(is_staff=True)
    assign_perm("book_resource", user, a)
    client.force_login(user)
    bookings = client.get(reverse("admin:scheduling_booking_changelist")).content.decode()
    assert "Alpha" in bookings and "Hidden room" not in bookings and "Secret kind" not in bookings
    types = client.get(reverse("admin:scheduling_resourcetype_changelist"))
    assert [row.resource_count for row in types.context["cl"].result_list] == [1]


def test_an_odd_id_in_an_api_body_is_400_not_500(manager):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    body = {"resource": "²", "customer": "1", "start_at": "2026-03-02T09:00:00Z", "end_at": "2026-03-02T10:00:00Z"}
    response = api.post("/api/scheduling/booking", body, format="json")
    assert response.status_code == 400
    assert "resource" in response.json()

"""The command palette (docs/spec.md §8.6): entries per permission, today's bookings, free resources now."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Resource
from scheduling.tests.factories import BookingFactory, ResourceFactory, ResourceTypeFactory, utc

pytestmark = pytest.mark.django_db
PALETTE = reverse("admin:scheduling_booking_palette")
AVAILABLE = reverse("admin:scheduling_available_now")


def labels(client) -> list[str]:
    return [entry["label"] for entry in client.get(PALETTE).json()["entries"]]


def test_a_manager_is_offered_every_command(client, manager):
    ResourceTypeFactory(name="Trainer")
    client.force_login(manager)
    offered = labels(client)
    assert {"New booking", "Today's bookings", "Booking board", "Resource calendar", "Available Trainer now"} <= set(offered)


def test_a_viewer_is_not_offered_new_booking(client, viewer):
    ResourceTypeFactory(name="Trainer")
    client.force_login(viewer)
    offered = labels(client)
    assert "New booking" not in offered
    assert {"Today's bookings", "Available Trainer now"} <= set(offered)


def test_a_user_without_rights_is_offered_nothing(client, outsider):
    ResourceTypeFactory(name="Trainer")
    client.force_login(outsider)
    assert labels(client) == []


def test_a_grant_holder_is_offered_only_the_types_they_can_see(client, granted):
    ResourceTypeFactory(name="Hidden")
    client.force_login(granted)
    type_name = Resource.objects.get(name="A").type.name
    assert [label for label in labels(client) if label.startswith("Available")] == [f"Available {type_name} now"]


def test_utilisation_is_offered_only_to_those_who_may_view_reports(client, manager, viewer, granted):
    for user, offered in ((manager, True), (viewer, True), (granted, False)):
        client.force_login(user)
        assert ("Utilisation" in labels(client)) is offered


def test_todays_bookings_is_today_in_the_viewers_time_zone(client, manager, settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    just_after_midnight = BookingFactory(start_at=utc(2026, 3, 1, 23, 15))  # 00:15 on 2 March in Warsaw
    BookingFactory(start_at=utc(2026, 3, 2, 23, 30))  # already 3 March in Warsaw
    client.force_login(manager)
    with mock.patch("django.utils.timezone.now", return_value=utc(2026, 3, 1, 23, 30)):
        entry = next(e for e in client.get(PALETTE).json()["entries"] if e["label"] == "Today's bookings")
    assert "start_at__day=2" in entry["url"] and "start_at__month=3" in entry["url"]
    listed = client.get(entry["url"]).context["cl"].result_list
    assert [b.pk for b in listed] == [just_after_midnight.pk]


def test_available_now_lists_the_free_resources_with_a_book_link(client, manager):
    trainers = ResourceTypeFactory(name="Trainer")
    free = ResourceFactory(name="Anna", type=trainers)
    busy = ResourceFactory(name="Piotr", type=trainers)
    ResourceFactory(name="Off", type=trainers, active=False)
    now = timezone.now()
    BookingFactory(resource=busy, start_at=now - dt.timedelta(minutes=10), end_at=now + dt.timedelta(minutes=10))
    client.force_login(manager)
    answer = client.get(AVAILABLE, {"type": trainers.pk}).json()
    assert answer["type"] == "Trainer"
    assert [r["name"] for r in answer["resources"]] == ["Anna"]
    book_url = answer["resources"][0]["book_url"]
    assert book_url.startswith(reverse("admin:scheduling_booking_add")) and f"resource={free.pk}" in book_url
    form = client.get(book_url).context["adminform"].form
    assert form.initial["end_at"] - form.initial["start_at"] == dt.timedelta(minutes=30)


def test_available_now_offers_no_book_link_to_a_viewer(client, viewer):
    trainers = ResourceTypeFactory(name="Trainer")
    ResourceFactory(name="Anna", type=trainers)
    client.force_login(viewer)
    assert [r["book_url"] for r in client.get(AVAILABLE, {"type": trainers.pk}).json()["resources"]] == [None]


def test_available_now_hides_resources_the_user_cannot_see(client, granted):
    a = Resource.objects.get(name="A")
    ResourceFactory(name="B", type=a.type)
    client.force_login(granted)
    assert [r["name"] for r in client.get(AVAILABLE, {"type": a.type_id}).json()["resources"]] == ["A"]


def test_available_now_for_an_invisible_or_unknown_type_is_404(client, granted):
    hidden = ResourceTypeFactory(name="Hidden")
    client.force_login(granted)
    assert client.get(AVAILABLE, {"type": hidden.pk}).status_code == 404
    assert client.get(AVAILABLE, {"type": "x"}).status_code == 404


def test_the_palette_is_on_every_admin_page_for_staff_only(client, viewer):
    assert b'id="sched-palette"' not in client.get(reverse("admin:login")).content
    client.force_login(viewer)
    for url in (reverse("admin:index"), reverse("admin:scheduling_booking_changelist"), reverse("admin:scheduling_resource_calendar")):
        assert b'id="sched-palette"' in client.get(url).content


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_available_now_for_a_type_id_in_other_digits_or_past_a_bigint_is_404(client, manager, value):
    client.force_login(manager)
    assert client.get(AVAILABLE, {"type": value}).status_code == 404

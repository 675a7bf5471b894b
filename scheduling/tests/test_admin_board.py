"""The booking board (docs/spec.md §8.5): columns by status, the changelist's filters, card moves."""

import datetime as dt

import pytest
from django.urls import reverse

from scheduling.models import Booking, Resource
from scheduling.admin.layout import board_columns
from scheduling.tests.factories import BookingFactory, ResourceFactory, ResourceTypeFactory, utc

pytestmark = pytest.mark.django_db
BOARD = reverse("admin:scheduling_booking_board")


def transition_url(booking) -> str:
    return reverse("admin:scheduling_booking_transition", args=[booking.pk])


def columns(response) -> dict[str, list[int]]:
    return {column.status: [b.pk for b in column.cards] for column in response.context["columns"]}


def test_the_board_has_one_column_per_status_in_life_cycle_order(client, manager):
    pending, confirmed = BookingFactory(status="pending"), BookingFactory(status="confirmed")
    client.force_login(manager)
    response = client.get(BOARD)
    assert response.status_code == 200
    assert columns(response) == {"pending": [pending.pk], "confirmed": [confirmed.pk], "completed": [], "no_show": [], "cancelled": []}


def test_the_board_uses_the_changelists_filters_and_search(client, manager):
    rooms = ResourceTypeFactory(name="Room")
    room = BookingFactory(resource=ResourceFactory(type=rooms), notes="projector")
    BookingFactory()
    client.force_login(manager)
    assert columns(client.get(BOARD, {"resource__type__id__exact": rooms.pk}))["pending"] == [room.pk]
    assert columns(client.get(BOARD, {"q": "projector"}))["pending"] == [room.pk]


def test_bad_filter_parameters_redirect_like_the_changelist(client, manager):
    client.force_login(manager)
    response = client.get(BOARD, {"start_at__gte": "not a date"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_a_column_shows_at_most_its_limit_and_counts_the_rest():
    for hour in range(3):
        BookingFactory(start_at=utc(2026, 3, 2, 9 + hour))
    pending = board_columns(Booking.objects.all(), limit=2)[0]
    assert (pending.status, pending.count, len(pending.cards), pending.hidden) == ("pending", 3, 2, 1)
    assert [b.start_at.hour for b in pending.cards] == [9, 10]


def test_only_cards_the_user_may_change_are_draggable(client, granted, viewer):
    mine = BookingFactory(resource=Resource.objects.get(name="A"))
    BookingFactory(resource=ResourceFactory(name="B"))
    client.force_login(granted)
    response = client.get(BOARD)
    assert columns(response)["pending"] == [mine.pk]  # B's booking is invisible
    assert response.context["movable"] == {mine.resource_id}
    assert b'draggable="true"' in response.content
    client.force_login(viewer)
    response = client.get(BOARD)
    assert len(columns(response)["pending"]) == 2 and response.context["movable"] == set()
    assert b'draggable="true"' not in response.content


def test_moving_a_card_runs_the_transition(client, booker):
    booking = BookingFactory(status="pending")
    client.force_login(booker)
    response = client.post(transition_url(booking), {"to_status": "confirmed"})
    assert response.status_code == 200
    assert response.json() == {"id": booking.pk, "status": "confirmed", "status_display": "Confirmed"}
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_a_refused_transition_says_why_and_changes_nothing(client, booker):
    booking = BookingFactory(status="confirmed")
    client.force_login(booker)
    response = client.post(transition_url(booking), {"to_status": "pending"})
    assert (response.status_code, response.json()) == (409, {"error": "A confirmed booking cannot become pending."})
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_an_unknown_status_is_a_bad_request(client, booker):
    booking = BookingFactory(status="pending")
    client.force_login(booker)
    response = client.post(transition_url(booking), {"to_status": "lost"})
    assert response.status_code == 400 and "lost" in response.json()["error"]
    booking.refresh_from_db()
    assert booking.status == "pending"


def test_a_viewer_may_not_move_a_card(client, viewer):
    booking = BookingFactory(status="pending")
    client.force_login(viewer)
    response = client.post(transition_url(booking), {"to_status": "confirmed"})
    assert (response.status_code, response.json()) == (403, {"error": "You may not change this booking."})
    booking.refresh_from_db()
    assert booking.status == "pending"


def test_an_invisible_booking_is_404(client, granted):
    hidden = BookingFactory(resource=ResourceFactory(name="B"))
    client.force_login(granted)
    assert client.post(transition_url(hidden), {"to_status": "confirmed"}).status_code == 404
    hidden.refresh_from_db()
    assert hidden.status == "pending"


def test_the_transition_endpoint_wants_post(client, booker):
    booking = BookingFactory()
    client.force_login(booker)
    response = client.get(transition_url(booking))
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_the_transition_needs_a_staff_login(client):
    booking = BookingFactory()
    response = client.post(transition_url(booking), {"to_status": "confirmed"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Booking.objects.get().status == "pending"


@pytest.mark.parametrize("bookings", [10, 200])
def test_the_board_renders_in_a_constant_number_of_queries(client, manager, django_assert_num_queries, bookings):
    resources = [ResourceFactory() for _ in range(bookings // 10)]
    statuses = ["pending", "confirmed", "cancelled", "completed", "no_show"]
    for k in range(bookings):
        BookingFactory(resource=resources[k % len(resources)], status=statuses[k % 5], start_at=utc(2026, 3, 2) + dt.timedelta(hours=k))
    client.force_login(manager)
    # session, user, the user's permissions, the group permissions; the changelist's filter choices
    # (types, resources), its filtered and full counts; the board's counts per status and one query
    # per status (5); movable resources; the date hierarchy's bounds and its days.
    with django_assert_num_queries(17):
        response = client.get(BOARD)
    assert sum(column.count for column in response.context["columns"]) == bookings


def test_a_refused_status_change_speaks_in_status_labels_not_codes(client, booker):
    absent = BookingFactory(status="no_show")
    client.force_login(booker)
    response = client.post(reverse("admin:scheduling_booking_transition", args=[absent.pk]), {"to_status": "pending"})
    assert response.status_code == 409 and response.json() == {"error": "A no-show booking cannot become pending."}

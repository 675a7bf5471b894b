"""Pools: a resource of several identical units (docs/spec.md §17.1–17.2)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from scheduling.models import Booking
from scheduling.permissions import SYSTEM
from scheduling.services import availability, groups, series
from scheduling.services.bookings import booking_create, booking_edit
from scheduling.services.errors import BookingConflict, GroupConflict
from scheduling.tests.factories import API, BookingFactory, CustomerFactory, ResourceFactory, ResourceTypeFactory, at, iso

pytestmark = pytest.mark.django_db


def book(resource, start, end, quantity=1, **fields):
    return booking_create(by=SYSTEM, resource=resource, customer=CustomerFactory(), start_at=start, end_at=end, quantity=quantity, **fields)


def test_a_pool_takes_bookings_until_its_units_are_held_then_refuses_with_capacity_conflicts():
    pool = ResourceFactory(capacity=3)
    book(pool, at(9), at(11), quantity=2)
    book(pool, at(10), at(12))
    book(pool, at(11), at(13), quantity=2)  # 11–12 holds 1 + 2 = 3
    with pytest.raises(BookingConflict) as refused:
        book(pool, at(9), at(12))
    shortage = [(c.kind, c.id, c.start_at, c.end_at, c.remaining) for c in refused.value.conflicts]
    assert shortage == [("capacity", None, at(10), at(12), 0)]  # one maximal part with the same shortage
    assert not refused.value.conflicts[0].overridable
    assert Booking.objects.filter(resource=pool).count() == 3


def test_an_override_does_not_lift_a_full_pool():
    pool = ResourceFactory(capacity=2)
    book(pool, at(9), at(10), quantity=2)
    with pytest.raises(BookingConflict):
        book(pool, at(9), at(10), override_availability=True)


def test_a_quantity_above_the_capacity_or_below_one_is_refused_naming_quantity():
    pool = ResourceFactory(capacity=3)
    for quantity in (4, 0):
        with pytest.raises(ValidationError) as refused:
            book(pool, at(9), at(10), quantity=quantity)
        assert "quantity" in refused.value.message_dict
    with pytest.raises(ValidationError):
        book(ResourceFactory(), at(9), at(10), quantity=2)


def test_capacity_one_keeps_booking_conflicts_and_pool_bookings_are_not_listed_one_by_one():
    exclusive, pool = ResourceFactory(), ResourceFactory(capacity=2)
    first = book(exclusive, at(9), at(10))
    with pytest.raises(BookingConflict) as refused:
        book(exclusive, at(9), at(10))
    assert [(c.kind, c.id) for c in refused.value.conflicts] == [("booking", first.pk)]
    assert first.pooled is False
    assert book(pool, at(9), at(10)).pooled is True
    result = availability.check_availability(pool, at(9), at(10))
    assert (result.available, result.conflicts, result.remaining) == (True, [], 1)


def test_buffers_widen_a_pool_bookings_occupied_range():
    pool = ResourceFactory(capacity=1 + 1, type=ResourceTypeFactory(buffer_after=30))
    book(pool, at(9), at(10), quantity=2)  # occupies 9:00–10:30
    with pytest.raises(BookingConflict) as refused:
        book(pool, at(10), at(11))  # occupies 10:00–11:30
    assert [(c.kind, c.start_at, c.end_at, c.remaining) for c in refused.value.conflicts] == [("capacity", at(10), at(10, 30), 0)]
    book(pool, at(10, 30), at(11))


def test_moving_or_growing_a_booking_beyond_the_capacity_is_refused():
    pool = ResourceFactory(capacity=2)
    book(pool, at(9), at(10))
    mine = book(pool, at(11), at(12))
    with pytest.raises(BookingConflict):
        booking_edit(booking=mine, by=SYSTEM, changes={"quantity": 2, "start_at": at(9), "end_at": at(10)})
    booking_edit(booking=mine, by=SYSTEM, changes={"start_at": at(9), "end_at": at(10)})  # the second unit
    with pytest.raises(BookingConflict):
        booking_edit(booking=mine, by=SYSTEM, changes={"quantity": 2})
    # A move of a booking does not count the booking itself.
    booking_edit(booking=mine, by=SYSTEM, changes={"start_at": at(9, 30), "end_at": at(10, 30)})


def test_a_group_and_a_series_count_units_on_a_pool():
    pool, other = ResourceFactory(capacity=2), ResourceFactory()
    book(pool, at(9), at(10), quantity=2)
    with pytest.raises(GroupConflict) as refused:
        groups.group_create(by=SYSTEM, resources=[pool, other], customer=CustomerFactory(), start_at=at(9), end_at=at(10))
    assert [(rid, c.kind, c.remaining) for rid, c in refused.value.conflicts] == [(pool.pk, "capacity", 0)]
    preview = series.series_preview(resources=[pool], start_at=at(9), end_at=at(10), rrule="FREQ=DAILY;COUNT=2")
    assert [o.status for o in preview] == [series.SKIPPED, series.BOOKED]


def test_a_capacity_change_goes_through_the_bookings():
    from scheduling.services.resources import resource_capacity_change

    resource = ResourceFactory()
    book(resource, at(9), at(10))

    def change(capacity):
        resource.capacity = capacity
        with resource_capacity_change(resource=resource, capacity=capacity):
            resource.save()

    change(3)
    assert set(Booking.objects.filter(resource=resource).values_list("pooled", flat=True)) == {True}
    book(resource, at(9), at(10), quantity=2)
    with pytest.raises(ValidationError) as refused:
        change(2)
    assert "capacity" in refused.value.message_dict
    resource.refresh_from_db()
    assert resource.capacity == 3


def test_back_to_one_unit_when_the_bookings_fit_and_the_exclusion_constraint_holds_them_again():
    from scheduling.services.resources import resource_capacity_change

    resource = ResourceFactory(capacity=4)
    book(resource, at(9), at(10))
    book(resource, at(10), at(11))
    resource.capacity = 1
    with resource_capacity_change(resource=resource, capacity=1):
        resource.save()
    assert set(Booking.objects.filter(resource=resource).values_list("pooled", flat=True)) == {False}
    with pytest.raises(BookingConflict) as refused:
        book(resource, at(9, 30), at(10, 30))
    assert {c.kind for c in refused.value.conflicts} == {"booking"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only")
def test_the_exclusion_constraint_holds_exclusive_rows_and_leaves_pool_rows_to_the_lock():
    pool, exclusive = ResourceFactory(capacity=2), ResourceFactory()
    BookingFactory(resource=pool, start_at=at(9), pooled=True)
    BookingFactory(resource=pool, start_at=at(9), pooled=True)
    BookingFactory(resource=exclusive, start_at=at(9))
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        BookingFactory(resource=exclusive, start_at=at(9, 30))


def test_the_database_refuses_a_quantity_below_one_or_several_units_outside_the_pool_rules():
    resource = ResourceFactory(capacity=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(resource=resource, quantity=2, pooled=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=BookingFactory(resource=resource).pk).update(quantity=0)


# --- The API ---------------------------------------------------------------------------------------


def test_check_availability_answers_remaining_and_one_capacity_conflict_per_shortage(api):
    pool = ResourceFactory(capacity=3)
    book(pool, at(9), at(11), quantity=2)
    book(pool, at(10), at(12))
    body = {"resource_id": pool.pk, "start_at": iso(at(9)), "end_at": iso(at(12)), "quantity": 2}
    answer = api.post(f"{API}/booking/check_availability/", body, format="json").json()
    assert answer == {
        "available": False,
        "remaining": 0,
        "conflicts": [
            {"kind": "capacity", "id": None, "start_at": iso(at(9)), "end_at": iso(at(10)), "remaining": 1},
            {"kind": "capacity", "id": None, "start_at": iso(at(10)), "end_at": iso(at(11)), "remaining": 0},
        ],
    }
    body.pop("quantity")
    answer = api.post(f"{API}/booking/check_availability/", {**body, "start_at": iso(at(11))}, format="json").json()
    assert answer == {"available": True, "remaining": 2, "conflicts": []}
    refused = api.post(f"{API}/booking/check_availability/", {**body, "quantity": 4}, format="json")
    assert refused.status_code == 400 and "quantity" in refused.json()


def test_an_exclusive_resource_answers_remaining_one_or_zero(api):
    resource = ResourceFactory()
    taken = book(resource, at(9), at(10))
    body = {"resource_id": resource.pk, "start_at": iso(at(9)), "end_at": iso(at(10))}
    answer = api.post(f"{API}/booking/check_availability/", body, format="json").json()
    assert answer["remaining"] == 0 and [c["kind"] for c in answer["conflicts"]] == ["booking"]
    assert answer["conflicts"][0]["id"] == taken.pk and "remaining" not in answer["conflicts"][0]
    answer = api.post(f"{API}/booking/check_availability/", {**body, "start_at": iso(at(10)), "end_at": iso(at(11))}, format="json").json()
    assert answer == {"available": True, "remaining": 1, "conflicts": []}


def test_create_beyond_the_capacity_is_409_with_the_capacity_conflicts(api):
    pool = ResourceFactory(capacity=2)
    customer = CustomerFactory()
    body = {"resource": pool.pk, "customer": customer.pk, "start_at": iso(at(9)), "end_at": iso(at(10)), "quantity": 2}
    created = api.post(f"{API}/booking/", body, format="json")
    assert created.status_code == 201 and created.json()["quantity"] == 2
    refused = api.post(f"{API}/booking/", {**body, "quantity": 1}, format="json")
    assert refused.status_code == 409
    assert refused.json()["conflicts"] == [{"kind": "capacity", "id": None, "start_at": iso(at(9)), "end_at": iso(at(10)), "remaining": 0}]
    moved = api.patch(f"{API}/booking/{created.json()['id']}/", {"quantity": 3}, format="json")
    assert moved.status_code == 400 and "quantity" in moved.json()
    assert api.post(f"{API}/booking/", {**body, "quantity": 0}, format="json").status_code == 400


def test_slots_and_available_honour_the_quantity(api):
    kind = ResourceTypeFactory()
    pool, small = ResourceFactory(type=kind, capacity=3), ResourceFactory(type=kind, capacity=1)
    book(pool, at(9), at(10), quantity=2)
    query = {"start": iso(at(8)), "end": iso(at(11)), "duration": 60}
    slots = lambda q: [s["start_at"] for s in api.get(f"{API}/resource/{pool.pk}/slots/", q).json()["slots"]]  # noqa: E731
    assert slots(query) == [iso(at(8)), iso(at(9)), iso(at(10))]
    assert slots({**query, "quantity": 2}) == [iso(at(8)), iso(at(10))]
    assert api.get(f"{API}/resource/{pool.pk}/slots/", {**query, "quantity": 4}).status_code == 400
    window = {"type": kind.pk, "start_at": iso(at(9)), "end_at": iso(at(10))}
    free = {r["id"]: r["capacity"] for r in api.get(f"{API}/resource/available/", window).json()}
    assert free == {pool.pk: 3, small.pk: 1}
    assert [r["id"] for r in api.get(f"{API}/resource/available/", {**window, "quantity": 2}).json()] == []
    assert [r["id"] for r in api.get(f"{API}/resource/available/", {**window, "start_at": iso(at(10)), "end_at": iso(at(11)), "quantity": 2}).json()] == [pool.pk]


def test_the_resource_api_writes_the_capacity_through_the_service(api):
    resource = ResourceFactory()
    book(resource, at(9), at(10))
    assert api.patch(f"{API}/resource/{resource.pk}/", {"capacity": 2}, format="json").json()["capacity"] == 2
    book(resource, at(9), at(10))
    refused = api.patch(f"{API}/resource/{resource.pk}/", {"capacity": 1}, format="json")
    assert refused.status_code == 400 and "capacity" in refused.json()
    assert api.patch(f"{API}/resource/{resource.pk}/", {"capacity": 0}, format="json").status_code == 400
    resource.refresh_from_db()
    assert resource.capacity == 2

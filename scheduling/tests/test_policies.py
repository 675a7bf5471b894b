"""Booking policies at their edges (docs/spec.md §13): buffers, notice, horizon, durations, grid,
deadlines, quotas, approval. Run on SQLite and on PostgreSQL (DATABASE_URL)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from scheduling import roles
from scheduling.models import Booking, Notification, NotificationEvent
from scheduling.permissions import SYSTEM
from scheduling.services.availability import available_resources, check_availability, free_slots
from scheduling.services.bookings import booking_cancel, booking_confirm, booking_create, booking_update
from scheduling.services.errors import BookingConflict
from scheduling.tests.factories import CustomerFactory, ResourceFactory, ResourceTypeFactory, UserFactory

UTC = dt.timezone.utc
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2030, 3, 4, 8, 0, tzinfo=UTC)  # a Monday
DAY = dt.datetime(2030, 3, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def member(role):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def resource_with(zone="UTC", **policy):
    return ResourceFactory(type=ResourceTypeFactory(**policy), timezone=zone)


def book(resource, start, end, *, by=SYSTEM, customer=None, **extra):
    return booking_create(by=by, resource=resource, customer=customer or CustomerFactory(), start_at=start, end_at=end, **extra)


def policy_rules(error):
    return [c.rule for c in error.value.conflicts if c.kind == "policy"]


# --- Buffers ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_buffer_that_just_touches_is_accepted():
    resource = resource_with(buffer_before=10, buffer_after=15)
    first = book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR)
    # First occupies [08:50, 10:15); the second [10:15, 11:25) touches it.
    second = book(resource, DAY + 10 * HOUR + 25 * MINUTE, DAY + 11 * HOUR + 15 * MINUTE)
    assert (first.occupied_end, second.occupied_start) == (DAY + 10 * HOUR + 15 * MINUTE, DAY + 10 * HOUR + 15 * MINUTE)


@pytest.mark.django_db
def test_a_buffer_overlap_is_a_booking_conflict_with_the_other_booking():
    resource = resource_with(buffer_before=10, buffer_after=15)
    first = book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR)
    with pytest.raises(BookingConflict) as error:
        book(resource, DAY + 10 * HOUR + 24 * MINUTE, DAY + 11 * HOUR)
    assert [(c.kind, c.id, c.start_at) for c in error.value.conflicts] == [("booking", first.pk, first.start_at)]
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_the_buffers_in_force_when_written_are_stored_and_a_later_change_does_not_move_them():
    resource = resource_with(buffer_after=30)
    first = book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR)
    resource.type.buffer_after = 0
    resource.type.save()
    resource.refresh_from_db()
    # The first booking still occupies until 10:30.
    with pytest.raises(BookingConflict):
        book(resource, DAY + 10 * HOUR + 29 * MINUTE, DAY + 11 * HOUR)
    assert (first.buffer_before, first.buffer_after) == (0, 30)


@pytest.mark.django_db
def test_a_resource_overrides_its_type_and_null_inherits():
    resource = resource_with(buffer_after=30, min_duration=60)
    resource.buffer_after = 0
    resource.save()
    book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR)
    book(resource, DAY + 10 * HOUR, DAY + 11 * HOUR)  # no buffer on this resource
    with pytest.raises(BookingConflict) as error:
        book(resource, DAY + 12 * HOUR, DAY + 12 * HOUR + 30 * MINUTE)  # min_duration inherited
    assert policy_rules(error) == ["min_duration"]


@pytest.mark.django_db
def test_slots_keep_the_buffers_free_either_side():
    resource = resource_with(buffer_before=15, buffer_after=15)
    book(resource, DAY + 10 * HOUR, DAY + 11 * HOUR)
    slots = free_slots(resource, DAY + 8 * HOUR, DAY + 13 * HOUR, HOUR, 15 * MINUTE)
    starts = [s for s, _ in slots]
    # Before: a slot must end by 09:30 (its own after-buffer to 09:45, the other's before-buffer from 09:45).
    assert DAY + 8 * HOUR + 30 * MINUTE in starts and DAY + 8 * HOUR + 45 * MINUTE not in starts
    # After: the other booking occupies until 11:15, this one's before-buffer needs 15 more.
    assert DAY + 11 * HOUR + 30 * MINUTE in starts and DAY + 11 * HOUR + 15 * MINUTE not in starts


# --- Notice, horizon, durations, grid -----------------------------------------------------------------


@pytest.mark.django_db
def test_exactly_at_the_notice_is_accepted_a_minute_less_is_refused():
    resource = resource_with(min_notice=120)
    with pytest.raises(BookingConflict) as error:
        book(resource, NOW + 119 * MINUTE, NOW + 179 * MINUTE)
    assert policy_rules(error) == ["min_notice"]
    assert book(resource, NOW + 120 * MINUTE, NOW + 180 * MINUTE).pk


@pytest.mark.django_db
def test_exactly_at_the_horizon_is_accepted_a_minute_beyond_is_refused():
    resource = resource_with(max_horizon=7)
    with pytest.raises(BookingConflict) as error:
        book(resource, NOW + dt.timedelta(days=7) + MINUTE, NOW + dt.timedelta(days=7, hours=1))
    assert policy_rules(error) == ["max_horizon"]
    assert book(resource, NOW + dt.timedelta(days=7), NOW + dt.timedelta(days=7, hours=1)).pk


@pytest.mark.django_db
def test_durations_at_their_bounds_are_accepted_and_beyond_refused():
    resource = resource_with(min_duration=30, max_duration=120)
    book(resource, DAY + 9 * HOUR, DAY + 9 * HOUR + 30 * MINUTE)
    book(resource, DAY + 10 * HOUR, DAY + 12 * HOUR)
    for length, rule in ((29, "min_duration"), (121, "max_duration")):
        with pytest.raises(BookingConflict) as error:
            book(resource, DAY + 14 * HOUR, DAY + 14 * HOUR + length * MINUTE)
        assert policy_rules(error) == [rule]


@pytest.mark.django_db
def test_the_grid_counts_from_local_midnight_in_the_resource_zone():
    # Kolkata is UTC+05:30: local 09:00 is 03:30 UTC, on the hour grid; 04:00 UTC is 09:30 local, off it.
    resource = resource_with(zone="Asia/Kolkata", granularity=60)
    assert book(resource, DAY + 3 * HOUR + 30 * MINUTE, DAY + 4 * HOUR + 30 * MINUTE).pk
    with pytest.raises(BookingConflict) as error:
        book(resource, DAY + 6 * HOUR, DAY + 7 * HOUR)
    assert policy_rules(error) == ["granularity"]


@pytest.mark.django_db
def test_the_grid_on_a_spring_forward_day_follows_the_wall_clock():
    # Berlin 2030-03-31: 02:00 becomes 03:00. 03:00 local (01:00 UTC) lies on a 90-minute grid
    # counted on the wall clock (midnight + 2 × 90), though only 2 real hours have passed.
    resource = resource_with(zone="Europe/Berlin", granularity=90)
    with time_machine.travel(dt.datetime(2030, 3, 30, tzinfo=UTC), tick=False):
        assert book(resource, dt.datetime(2030, 3, 31, 1, tzinfo=UTC), dt.datetime(2030, 3, 31, 2, 30, tzinfo=UTC)).pk
        with pytest.raises(BookingConflict) as error:
            book(resource, dt.datetime(2030, 3, 31, 0, 30, tzinfo=UTC), dt.datetime(2030, 3, 31, 0, 45, tzinfo=UTC))
    assert policy_rules(error) == ["granularity"]


@pytest.mark.django_db
def test_a_manager_override_passes_notice_durations_and_grid_and_is_recorded():
    resource = resource_with(min_notice=600, min_duration=60, granularity=30)
    manager = member(roles.MANAGER)
    booking = book(resource, NOW + 10 * MINUTE, NOW + 20 * MINUTE, by=manager, override_availability=True)
    assert booking.override_availability is True
    with pytest.raises(BookingConflict) as error:
        book(resource, NOW + 5 * HOUR, NOW + 6 * HOUR, by=manager)  # without the override: refused
    assert policy_rules(error) == ["min_notice"]


@pytest.mark.django_db
def test_the_override_never_passes_a_buffer():
    resource = resource_with(buffer_after=30)
    first = book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR)
    with pytest.raises(BookingConflict) as error:
        book(resource, DAY + 10 * HOUR, DAY + 11 * HOUR, by=member(roles.MANAGER), override_availability=True)
    assert [c.id for c in error.value.conflicts] == [first.pk]


# --- Deadlines ----------------------------------------------------------------------------------------


@pytest.fixture
def booker():
    return member(roles.BOOKER)


@pytest.mark.django_db
def test_cancelling_exactly_at_the_deadline_is_allowed_a_minute_later_is_a_conflict(booker):
    resource = resource_with(cancel_deadline=60)
    on_time = book(resource, NOW + 60 * MINUTE, NOW + 2 * HOUR)
    late = book(resource, NOW + 59 * MINUTE + 3 * HOUR, NOW + 5 * HOUR)
    booking_cancel(booking=on_time, by=booker)
    with time_machine.travel(NOW + 3 * HOUR + MINUTE, tick=False), pytest.raises(BookingConflict) as error:
        booking_cancel(booking=late, by=booker)
    assert policy_rules(error) == ["cancel_deadline"]
    late.refresh_from_db()
    assert late.status == "pending"
    booking_cancel(booking=late, by=member(roles.MANAGER))  # a manager may


@pytest.mark.django_db
def test_moving_after_the_change_deadline_is_a_conflict_for_a_booker(booker):
    resource = resource_with(change_deadline=120)
    booking = book(resource, NOW + 2 * HOUR - MINUTE, NOW + 3 * HOUR)
    with pytest.raises(BookingConflict) as error:
        booking_update(booking=booking, by=booker, end_at=NOW + 4 * HOUR)
    assert policy_rules(error) == ["change_deadline"]
    booking_update(booking=booking, by=booker, notes="notes are not a change of time")


# --- Quotas -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_day_quota_counts_the_local_calendar_day():
    # New York: 2030-03-05 23:00 local is 03-06 04:00 UTC, still the 5th locally.
    resource = resource_with(zone="America/New_York", quota_per_day=2)
    customer = CustomerFactory()
    local = dt.datetime(2030, 3, 5, 14, tzinfo=UTC)  # 09:00 local
    book(resource, local, local + HOUR, customer=customer)
    book(resource, local + 2 * HOUR, local + 3 * HOUR, customer=customer)  # exactly at the quota
    with pytest.raises(BookingConflict) as error:
        book(resource, local + 14 * HOUR, local + 15 * HOUR, customer=customer)  # 23:00 local, the 5th
    assert policy_rules(error) == ["quota_per_day"]
    book(resource, local + 15 * HOUR, local + 16 * HOUR, customer=customer)  # 00:00 local, the 6th
    book(resource, local + 5 * HOUR, local + 6 * HOUR)  # another customer


@pytest.mark.django_db
def test_the_week_quota_counts_the_local_iso_week_and_cancelled_bookings_do_not_count():
    resource = resource_with(quota_per_week=1)
    customer = CustomerFactory()
    sunday = dt.datetime(2030, 3, 10, 9, tzinfo=UTC)
    first = book(resource, sunday, sunday + HOUR, customer=customer)
    with pytest.raises(BookingConflict) as error:
        book(resource, sunday - 6 * dt.timedelta(days=1), sunday - 6 * dt.timedelta(days=1) + HOUR, customer=customer)  # Monday, same week
    assert policy_rules(error) == ["quota_per_week"]
    book(resource, sunday + dt.timedelta(days=1), sunday + dt.timedelta(days=1, hours=1), customer=customer)  # next ISO week
    booking_cancel(booking=first, by=SYSTEM)
    book(resource, sunday - dt.timedelta(days=6), sunday - dt.timedelta(days=6) + HOUR, customer=customer)


# --- check_availability and finders -----------------------------------------------------------------


@pytest.mark.django_db
def test_check_availability_reports_each_broken_rule_with_the_requested_interval():
    resource = resource_with(min_notice=60, granularity=30)
    start, end = NOW + 10 * MINUTE, NOW + 25 * MINUTE
    answer = check_availability(resource, start, end)
    assert [(c.kind, c.rule, c.id, c.start_at, c.end_at) for c in answer.conflicts] == [
        ("policy", "min_notice", None, start, end),
        ("policy", "granularity", None, start, end),
    ]
    assert all(c.detail for c in answer.conflicts)


@pytest.mark.django_db
def test_available_leaves_out_resources_whose_policy_refuses_the_interval():
    strict_type = ResourceTypeFactory(min_duration=120)
    ResourceFactory(type=strict_type, name="Strict")
    lenient = ResourceFactory(type=strict_type, name="Lenient", min_duration=0)
    assert available_resources(strict_type, DAY + 9 * HOUR, DAY + 10 * HOUR, user=SYSTEM) == [lenient]


@pytest.mark.django_db
def test_slots_honour_notice_horizon_and_grid():
    resource = resource_with(min_notice=60, max_horizon=1, granularity=30)
    slots = free_slots(resource, NOW, NOW + dt.timedelta(days=2), HOUR, 15 * MINUTE)
    starts = [s for s, _ in slots]
    assert starts[0] == NOW + HOUR
    assert starts[-1] == NOW + dt.timedelta(days=1)
    assert all(s.minute in (0, 30) for s in starts)


# --- Approval -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_booker_asking_confirmed_on_an_approval_type_is_refused_naming_status(booker):
    resource = resource_with(requires_approval=True)
    with pytest.raises(PermissionDenied, match="status"):
        book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR, by=booker, status="confirmed")
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_pending_booking_awaits_approval_occupies_and_only_an_approver_confirms(booker):
    owner = UserFactory(email="owner@example.com")
    resource = resource_with(requires_approval=True, approval_timeout=60)
    resource.owner = owner
    resource.save()
    booking = book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR, by=booker)
    assert (booking.status, booking.approval_expires_at) == ("pending", NOW + HOUR)
    approval = Notification.objects.get(booking=booking, event=NotificationEvent.APPROVAL)
    assert approval.recipients == ["owner@example.com"]
    with pytest.raises(BookingConflict):
        book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR)  # the pending booking holds its slot
    with pytest.raises(PermissionDenied):
        booking_confirm(booking=booking, by=booker)
    booking_confirm(booking=booking, by=member(roles.MANAGER))
    assert booking.status == "confirmed"


@pytest.mark.django_db
def test_without_an_owner_the_approval_mail_goes_to_the_managers(booker):
    managers = [member(roles.MANAGER), member(roles.MANAGER)]
    resource = resource_with(requires_approval=True)
    booking = book(resource, DAY + 9 * HOUR, DAY + 10 * HOUR, by=booker)
    approval = Notification.objects.get(booking=booking, event=NotificationEvent.APPROVAL)
    assert approval.recipients == sorted(m.email for m in managers)
    assert booking.approval_expires_at is None


@pytest.mark.django_db
def test_a_confirmed_booking_moved_by_a_booker_onto_an_approval_resource_awaits_approval_again(booker):
    manager = member(roles.MANAGER)
    plain, strict = resource_with(), resource_with(requires_approval=True, approval_timeout=60)
    booking = book(plain, DAY + 9 * HOUR, DAY + 10 * HOUR, by=booker, status="confirmed")

    booking_update(booking=booking, by=booker, resource=strict)

    assert (booking.status, booking.approval_expires_at) == ("pending", NOW + HOUR)
    assert Notification.objects.filter(booking=booking, event=NotificationEvent.APPROVAL).count() == 1
    # Moved back where no approval is needed, nothing is left to expire; a manager's move is approved.
    booking_update(booking=booking, by=booker, resource=plain)
    assert (booking.status, booking.approval_expires_at) == ("pending", None)
    booking_confirm(booking=booking, by=manager)
    booking_update(booking=booking, by=manager, resource=strict)
    assert booking.status == "confirmed"
    # Asked again after an approval: the expiry runs, the approvers are not e-mailed twice.
    booking_update(booking=booking, by=booker, resource=plain)
    booking_update(booking=booking, by=booker, resource=strict)
    assert (booking.status, booking.approval_expires_at) == ("pending", NOW + HOUR)
    assert Notification.objects.filter(booking=booking, event=NotificationEvent.APPROVAL).count() == 1


# --- Admin --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_type_form_shows_every_policy_field_and_refuses_a_granularity_that_does_not_divide_a_day(client):
    from django.urls import reverse

    from scheduling.models import POLICY_FIELDS, ResourceType

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:scheduling_resourcetype_add")
    page = client.get(url).content.decode()
    assert all(f'name="{name}"' in page for name in POLICY_FIELDS)
    response = client.post(url, {"name": "Rooms", "color": "#336699", "buffer_before": 0, "buffer_after": 0, "granularity": 7})
    assert response.status_code == 200 and "granularity must divide a day" in response.content.decode()
    assert not ResourceType.objects.filter(name="Rooms").exists()


@pytest.mark.django_db
def test_the_admin_booking_form_names_the_broken_rule():
    from scheduling.admin.forms import describe_conflicts

    resource = resource_with(min_notice=60)
    answer = check_availability(resource, NOW, NOW + HOUR)
    assert describe_conflicts(answer.conflicts) == [f"Booking rule min_notice: {answer.conflicts[0].detail}"]


@pytest.mark.django_db
def test_free_slots_of_a_type_honour_each_resource_policy():
    from scheduling.services.reports import free_slots_of_type

    room_type = ResourceTypeFactory(min_notice=120, granularity=60)
    ResourceFactory(type=room_type, name="Room")
    (found,) = free_slots_of_type(resource_type=room_type, day=NOW.date(), duration=HOUR, step=30 * dt.timedelta(minutes=1))
    assert found.slots[0][0] == NOW + 2 * HOUR and all(s.minute == 0 for s, _ in found.slots)


@pytest.mark.django_db
def test_the_day_quota_on_a_spring_forward_day_is_one_local_date_of_23_hours():
    # New York 2030-03-10 lasts 23 hours: 00:30 EST (05:30 UTC) and 23:30 EDT (03:30 UTC on the 11th).
    resource = resource_with(zone="America/New_York", quota_per_day=1)
    customer = CustomerFactory()
    with time_machine.travel(dt.datetime(2030, 3, 9, tzinfo=UTC), tick=False):
        book(resource, dt.datetime(2030, 3, 10, 5, 30, tzinfo=UTC), dt.datetime(2030, 3, 10, 6, tzinfo=UTC), customer=customer)
        with pytest.raises(BookingConflict) as error:
            book(resource, dt.datetime(2030, 3, 11, 3, 30, tzinfo=UTC), dt.datetime(2030, 3, 11, 3, 45, tzinfo=UTC), customer=customer)
        book(resource, dt.datetime(2030, 3, 11, 4, tzinfo=UTC), dt.datetime(2030, 3, 11, 4, 30, tzinfo=UTC), customer=customer)  # 00:00 on the 11th
    assert policy_rules(error) == ["quota_per_day"]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(3))
def test_the_calendars_clickable_hours_are_exactly_those_the_write_accepts(seed):
    """`bookable_spans` computes free time once per resource; the oracle asks the write's own
    decision (`booking_conflicts`, no override, no customer) for every hour of two days."""
    import random

    from scheduling.services.availability import bookable_spans
    from scheduling.services.bookings import booking_conflicts
    from scheduling.tests.factories import AvailabilityFactory, BookingFactory, ScheduleExceptionFactory

    rng = random.Random(seed)
    resources = []
    for zone in ("Europe/Warsaw", "America/New_York", "Asia/Kathmandu"):
        resource = resource_with(zone, buffer_before=rng.choice([0, 15]), buffer_after=rng.choice([0, 30, 90]), min_notice=rng.choice([None, 120]), granularity=rng.choice([None, 30, 60]))
        for weekday in range(7):
            AvailabilityFactory(resource=resource, weekday=weekday, start_time=dt.time(rng.randint(5, 9)), end_time=dt.time(rng.randint(15, 22)))
        start = NOW + dt.timedelta(minutes=15 * rng.randint(0, 24))
        for _ in range(4):  # apart, buffers included (PostgreSQL's constraint would refuse overlaps)
            end = start + dt.timedelta(minutes=15 * rng.randint(1, 8))
            BookingFactory(resource=resource, start_at=start, end_at=end, buffer_after=rng.choice([0, 20]), override_availability=True)
            start = end + dt.timedelta(minutes=15 * rng.randint(2, 40))
        start = NOW + dt.timedelta(minutes=15 * rng.randint(0, 180))
        ScheduleExceptionFactory(resource=resource, start_at=start, end_at=start + HOUR)
        resources.append(resource)
    bounds = [NOW + k * HOUR for k in range(49)]

    found = bookable_spans(resources, bounds)

    for resource in resources:
        expected = [i for i, (s, e) in enumerate(zip(bounds, bounds[1:])) if not booking_conflicts(resource=resource, start_at=s, end_at=e)]
        assert found[resource.pk] == expected

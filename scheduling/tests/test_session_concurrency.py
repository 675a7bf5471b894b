"""The last seats of a class raced, and offers expired by two workers at once (docs/spec.md §17.4).
Each thread has its own connection; run on SQLite and on PostgreSQL (DATABASE_URL)."""

import datetime as dt

import pytest
from django.db import connection

from scheduling.models import Attendance, AttendanceStatus, Notification, NotificationEvent
from scheduling.permissions import SYSTEM
from scheduling.services import sessions as service
from scheduling.services.errors import SessionRefused
from scheduling.tests.factories import NOW, CustomerFactory, ResourceFactory
from scheduling.tests.test_concurrency import run_concurrently

START = NOW + dt.timedelta(days=3)


def new_session(seats):
    [session] = service.session_create(
        by=SYSTEM, resources=[ResourceFactory()], start_at=START, end_at=START + dt.timedelta(hours=1), seats=seats, title="Race"
    )
    return session


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_thirty_attendees_race_for_ten_seats():
    session = new_session(10)
    people = [CustomerFactory() for _ in range(30)]

    def join(index):
        attendance = service.attend(by=SYSTEM, session=session, customer=people[index])
        return attendance.status, service.place_in_line(attendance)

    outcomes = run_concurrently(join, 30)

    escaped = [o for o in outcomes if not isinstance(o, tuple)]
    assert escaped == [], f"{connection.vendor}: {escaped!r}"
    assert sum(1 for status, _ in outcomes if status == "booked") == 10
    assert sorted(place for status, place in outcomes if status == "waitlisted") == list(range(1, 21))
    rows = Attendance.objects.filter(session=session)
    assert sorted(rows.filter(status="booked").values_list("seat", flat=True)) == list(range(1, 11))
    # Arrival order: the line's tickets follow the order the rows were written, without gaps.
    assert list(rows.filter(status="waitlisted").order_by("id").values_list("position", flat=True)) == list(range(1, 21))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_attending_twice_at_once_is_one_attendance_and_one_409():
    session = new_session(5)
    customer = CustomerFactory()

    def join(index):
        try:
            return service.attend(by=SYSTEM, session=session, customer=customer).status
        except SessionRefused as refused:
            return refused

    outcomes = run_concurrently(join, 10)
    assert sum(1 for o in outcomes if o == "booked") == 1
    assert all(isinstance(o, SessionRefused) for o in outcomes if o != "booked")
    assert Attendance.objects.filter(session=session).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_expire_each_offer_once(time_machine):
    session = new_session(5)
    seated = [CustomerFactory() for _ in range(5)]
    waiting = [CustomerFactory() for _ in range(10)]
    for customer in seated + waiting:
        service.attend(by=SYSTEM, session=session, customer=customer)
    for customer in seated:
        service.leave(by=SYSTEM, session=session, customer=customer)
    first_offers = set(Attendance.objects.filter(status=AttendanceStatus.OFFERED).values_list("pk", flat=True))
    assert len(first_offers) == 5
    time_machine.move_to(NOW + dt.timedelta(minutes=61), tick=True)

    outcomes = run_concurrently(lambda index: service.offers_expire_due(), 2)

    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 5
    rows = Attendance.objects.filter(session=session)
    assert set(rows.filter(status=AttendanceStatus.EXPIRED).values_list("pk", flat=True)) == first_offers
    offered = rows.filter(status=AttendanceStatus.OFFERED)
    assert sorted(offered.values_list("customer_id", flat=True)) == sorted(c.pk for c in waiting[5:])
    assert sorted(offered.values_list("seat", flat=True)) == [1, 2, 3, 4, 5]
    notices = Notification.objects.filter(event=NotificationEvent.OFFERED)
    assert notices.count() == 10
    assert sorted(notices.values_list("attendance_id", flat=True)) == sorted(rows.exclude(status=AttendanceStatus.LEFT).values_list("pk", flat=True))

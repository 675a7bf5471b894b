"""Classes with seats and a waiting line (docs/spec.md §17.4)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from scheduling.models import Attendance, AttendanceStatus, Booking, BookingStatus, Notification, NotificationEvent, Session
from scheduling.permissions import SYSTEM
from scheduling.services import sessions as service
from scheduling.tests.factories import API, NOW, CustomerFactory, ResourceFactory, client_for, iso

START = NOW + dt.timedelta(days=2)
END = START + dt.timedelta(hours=1)


def create(api, resource, seats=2, **extra):
    body = {"resource": resource.pk, "start_at": iso(START), "end_at": iso(END), "seats": seats, "title": "Yoga", **extra}
    return api.post(f"{API}/session/", body, format="json")


def attend(api, session_id, customer, verb="attend"):
    return api.post(f"{API}/session/{session_id}/{verb}", {"customer": customer.pk}, format="json")


@pytest.mark.django_db
def test_a_session_is_a_booking_of_its_resource_and_refuses_an_overlapping_booking(api, resource, customer):
    answer = create(api, resource, seats=20)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["seats"], body["taken"], body["waitlist"], body["resources"]) == (20, 0, 0, [resource.pk])
    booking = Booking.objects.get(session_id=body["id"])
    assert booking.customer is None and booking.status == BookingStatus.CONFIRMED
    assert not Notification.objects.exists()
    clash = api.post(f"{API}/booking/", {"resource": resource.pk, "customer": customer.pk, "start_at": iso(START), "end_at": iso(END)}, format="json")
    assert clash.status_code == 409
    # A second session over the same time conflicts too, naming the resource.
    again = create(api, resource)
    assert again.status_code == 409 and again.json()["conflicts"][0]["resource_id"] == resource.pk


@pytest.mark.django_db
def test_a_session_over_several_resources_holds_each(api):
    trainer, studio = ResourceFactory(), ResourceFactory()
    body = {"resources": [trainer.pk, studio.pk], "start_at": iso(START), "end_at": iso(END), "seats": 5, "title": "Spin"}
    answer = api.post(f"{API}/session/", body, format="json")
    assert answer.status_code == 201
    assert sorted(Booking.objects.filter(session_id=answer.json()["id"]).values_list("resource_id", flat=True)) == [trainer.pk, studio.pk]


@pytest.mark.django_db
def test_bad_input_names_the_field_and_writes_nothing(api, resource):
    assert create(api, resource, seats=0).json().keys() >= {"seats"}
    assert "resource" in api.post(f"{API}/session/", {"start_at": iso(START), "end_at": iso(END), "seats": 1, "title": "x"}, format="json").json()
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_a_session_booking_cannot_be_changed_alone(api, resource):
    session_id = create(api, resource).json()["id"]
    booking = Booking.objects.get(session_id=session_id)
    answer = api.post(f"{API}/booking/{booking.pk}/cancel")
    assert answer.status_code == 409 and answer.json()["session"] == session_id


@pytest.mark.django_db
def test_attend_books_seats_then_waitlists_in_order_and_twice_is_409(api, resource):
    session_id = create(api, resource, seats=2).json()["id"]
    people = [CustomerFactory() for _ in range(4)]
    answers = [attend(api, session_id, c) for c in people]
    assert [a.status_code for a in answers] == [201] * 4
    assert [a.json() for a in answers] == [
        {"status": "booked"}, {"status": "booked"}, {"status": "waitlisted", "position": 1}, {"status": "waitlisted", "position": 2},
    ]
    assert attend(api, session_id, people[0]).status_code == 409
    assert attend(api, session_id, people[3]).status_code == 409
    body = api.get(f"{API}/session/{session_id}").json()
    assert (body["taken"], body["waitlist"]) == (2, 2)


@pytest.mark.django_db
def test_a_freed_seat_is_offered_to_the_first_in_line_who_accepts(api, resource):
    resource.type.offer_hold = 30
    resource.type.save()
    session_id = create(api, resource, seats=1).json()["id"]
    first, second, third = (CustomerFactory() for _ in range(3))
    for c in (first, second, third):
        attend(api, session_id, c)
    assert attend(api, session_id, second, "accept").status_code == 409  # nothing offered yet
    left = attend(api, session_id, first, "leave")
    assert left.status_code == 200
    offer = Attendance.objects.get(customer=second)
    assert offer.status == AttendanceStatus.OFFERED and offer.offer_expires_at == pytest.approx(NOW + dt.timedelta(minutes=30), abs=dt.timedelta(seconds=30))
    notice = Notification.objects.get(attendance=offer)
    assert notice.event == NotificationEvent.OFFERED and notice.recipients == [second.email]
    assert attend(api, session_id, third, "leave").json() == {"status": "left"}
    assert attend(api, session_id, second, "accept").json() == {"status": "booked"}
    assert Attendance.objects.get(customer=second).status == AttendanceStatus.BOOKED
    assert attend(api, session_id, first, "leave").status_code == 404


@pytest.mark.django_db
def test_an_expired_offer_passes_to_the_next_once(api, resource, time_machine):
    session_id = create(api, resource, seats=1).json()["id"]
    people = [CustomerFactory() for _ in range(3)]
    for c in people:
        attend(api, session_id, c)
    attend(api, session_id, people[0], "leave")
    time_machine.move_to(NOW + dt.timedelta(minutes=61), tick=True)
    assert attend(api, session_id, people[1], "accept").status_code == 409  # too late
    call_command("expire_offers", stdout=open("/dev/null", "w"))
    assert service.offers_expire_due() == 0
    states = dict(Attendance.objects.values_list("customer_id", "status"))
    assert states == {people[0].pk: "left", people[1].pk: "expired", people[2].pk: "offered"}
    assert Notification.objects.filter(event=NotificationEvent.OFFERED).count() == 2


@pytest.mark.django_db
def test_cancelling_a_session_notifies_every_attendee_once(api, resource):
    session_id = create(api, resource, seats=1).json()["id"]
    people = [CustomerFactory() for _ in range(3)]
    for c in people:
        attend(api, session_id, c)
    answer = api.post(f"{API}/session/{session_id}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert Booking.objects.get(session_id=session_id).status == BookingStatus.CANCELLED
    cancelled = Notification.objects.filter(event=NotificationEvent.CANCELLED)
    assert sorted(r for n in cancelled for r in n.recipients) == sorted(c.email for c in people)
    assert api.post(f"{API}/session/{session_id}/cancel").status_code == 409
    assert Notification.objects.filter(event=NotificationEvent.CANCELLED).count() == 3
    assert attend(api, session_id, CustomerFactory()).status_code == 409


@pytest.mark.django_db
def test_a_weekly_rule_creates_one_session_per_occurrence(api, resource):
    answer = create(api, resource, rrule="FREQ=WEEKLY;COUNT=4")
    assert answer.status_code == 201, answer.json()
    starts = [s["start_at"] for s in answer.json()["sessions"]]
    assert len(starts) == 4 and Session.objects.count() == 4 and Booking.objects.filter(session__isnull=False).count() == 4


@pytest.mark.django_db
def test_the_database_refuses_an_oversold_seat(resource):
    [session] = service.session_create(by=SYSTEM, resources=[resource], start_at=START, end_at=END, seats=1, title="One")
    Attendance.objects.create(session=session, customer=CustomerFactory(), status="booked", seats=1, seat=1)
    for seat in (1, 2):
        with pytest.raises(IntegrityError), transaction.atomic():
            Attendance.objects.create(session=session, customer=CustomerFactory(), status="booked", seats=1, seat=seat)


@pytest.mark.django_db
def test_attending_needs_rights_on_the_resource(viewer, resource, customer):
    [session] = service.session_create(by=SYSTEM, resources=[resource], start_at=START, end_at=END, seats=1, title="One")
    assert attend(client_for(viewer), session.pk, customer).status_code == 403


@pytest.mark.django_db
def test_the_today_page_shows_a_class_by_its_title(superuser, resource):
    from django.test import Client

    start = NOW + dt.timedelta(hours=1)
    service.session_create(by=SYSTEM, resources=[resource], start_at=start, end_at=start + dt.timedelta(hours=1), seats=3, title="Pilates")
    client = Client()
    client.force_login(superuser)
    page = client.get("/admin/")
    assert page.status_code == 200 and "Class: Pilates" in page.content.decode()


@pytest.mark.django_db
def test_the_calendar_shows_a_class_with_its_fill_and_waitlist(superuser, resource):
    from django.test import Client

    start = NOW + dt.timedelta(hours=1)
    [session] = service.session_create(by=SYSTEM, resources=[resource], start_at=start, end_at=start + dt.timedelta(hours=1), seats=2, title="Spin")
    for _ in range(3):
        service.attend(by=SYSTEM, session=session, customer=CustomerFactory())
    client = Client()
    client.force_login(superuser)

    page = client.get("/admin/scheduling/resource/calendar/", {"date": start.date().isoformat(), "view": "day"}).content.decode()

    assert "Class: Spin (2/2, 1 waiting)" in page


@pytest.mark.django_db
def test_the_utilisation_report_gives_the_fill_of_the_classes(resource):
    from io import StringIO
    import json

    start = NOW + dt.timedelta(days=1)
    day = start.date()
    [full] = service.session_create(by=SYSTEM, resources=[resource], start_at=start, end_at=start + dt.timedelta(hours=1), seats=2, title="A")
    [half] = service.session_create(by=SYSTEM, resources=[resource], start_at=start + dt.timedelta(hours=2), end_at=start + dt.timedelta(hours=3), seats=2, title="B")
    for session, people in ((full, 3), (half, 1)):
        for _ in range(people):
            service.attend(by=SYSTEM, session=session, customer=CustomerFactory())
    out = StringIO()

    call_command("availability_report", "--from", day.isoformat(), "--to", day.isoformat(), "--format", "json", stdout=out)

    [row] = json.loads(out.getvalue())["resources"]
    # Seats held (booked or offered) over seats: 2 of 2 and 1 of 2; the waiting one holds none.
    assert (row["seats"], row["seats_taken"], row["fill_pct"]) == (4, 3, 75.0)

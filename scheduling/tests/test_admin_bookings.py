"""The admin's booking forms (docs/spec.md §8.3): saves go through the service, conflicts are form errors."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse

from scheduling.admin import forms as admin_forms
from scheduling.models import Booking, Notification
from scheduling.services import bookings as booking_service
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ScheduleExceptionFactory,
    split_times,
    utc,
)

pytestmark = pytest.mark.django_db
ADD = reverse("admin:scheduling_booking_add")


def change_url(booking):
    return reverse("admin:scheduling_booking_change", args=[booking.pk])


def form_data(resource, customer, start: dt.datetime, end: dt.datetime, **extra):
    return {"resource": resource.pk, "customer": customer.pk, **split_times(start, end), "status": "pending", "notes": "", **extra}


def errors(response) -> list[str]:
    return list(response.context["adminform"].form.non_field_errors())


def test_adding_a_booking_goes_through_the_service_and_records_its_author(client, booker, resource, customer):
    client.force_login(booker)
    response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), status="confirmed"))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.start_at, booking.status, booking.created_by) == (utc(2026, 3, 2, 9), "confirmed", booker)


def test_a_conflicting_save_lists_each_conflict_in_the_viewers_time_zone(client, booker, customer, settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    resource = ResourceFactory()
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(8), end_time=dt.time(12))
    taken = BookingFactory(resource=resource, customer=CustomerFactory(name="Ola"), start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    ScheduleExceptionFactory(resource=resource, start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 3, 0), reason="Leave")
    client.force_login(booker)
    response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 13)))
    assert response.status_code == 200
    assert errors(response) == [
        f"Overlaps booking #{taken.pk} (Ola, pending) Mon 2 Mar 2026 10:00–11:00 (Europe/Warsaw)",
        'Overlaps exception "Leave" Mon 2 Mar 2026 11:00 – Tue 3 Mar 2026 01:00 (Europe/Warsaw)',
        "Outside working hours: Mon 2 Mar 2026 13:00–14:00 (Europe/Warsaw)",  # 12:00–13:00 UTC: the resource works 08–12 UTC
    ]
    assert Booking.objects.count() == 1


def test_an_inactive_resource_is_explained(client, booker, customer):
    resource = ResourceFactory(active=False)
    client.force_login(booker)
    response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)))
    assert errors(response) == ["The resource is inactive."]
    assert not Booking.objects.exists()


def test_an_end_before_the_start_is_an_error_on_the_end(client, booker, resource, customer):
    client.force_login(booker)
    response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 10), utc(2026, 3, 2, 9)))
    assert response.status_code == 200
    assert "end_at" in response.context["adminform"].form.errors
    assert not Booking.objects.exists()


def test_the_override_checkbox_is_shown_only_to_who_may_override(client, manager, booker):
    client.force_login(manager)
    assert "override_availability" in client.get(ADD).context["adminform"].form.fields
    client.force_login(booker)
    assert "override_availability" not in client.get(ADD).context["adminform"].form.fields


def test_a_manager_overrides_working_hours_and_the_override_is_recorded(client, manager, customer):
    resource = ResourceFactory()
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    client.force_login(manager)
    data = form_data(resource, customer, utc(2026, 3, 2, 18), utc(2026, 3, 2, 19))
    refused = client.post(ADD, data)
    assert errors(refused)[-1] == 'Tick "override availability" to book it anyway.'
    response = client.post(ADD, {**data, "override_availability": "on"})
    assert response.status_code == 302
    assert Booking.objects.get().override_availability is True


def test_a_booker_cannot_override_even_by_posting_the_field(client, booker, customer):
    resource = ResourceFactory()
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    client.force_login(booker)
    response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 18), utc(2026, 3, 2, 19), override_availability="on"))
    assert errors(response) == ["Outside working hours: Mon 2 Mar 2026 18:00–19:00 (UTC)"]
    assert not Booking.objects.exists()


def test_no_override_lets_a_booking_overlap_another(client, manager, resource, customer):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    client.force_login(manager)
    response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), override_availability="on"))
    assert response.status_code == 200 and len(errors(response)) == 1
    assert Booking.objects.count() == 1


def test_a_race_lost_after_the_forms_check_shows_the_winner_as_a_form_error(client, booker, resource, customer):
    """The form's check ran before the winner existed (mocked as free once); the service then refuses."""
    winner = BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    client.force_login(booker)
    real_check = booking_service.booking_refusal
    answers = iter(["stale"])

    def stale_then_real(*args, **kwargs):
        if next(answers, None) is None:
            real_check(*args, **kwargs)

    with mock.patch.object(booking_service, "booking_refusal", side_effect=stale_then_real):
        response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)))
    assert response.status_code == 200
    assert errors(response)[0].startswith(f"Overlaps booking #{winner.pk}")
    assert Booking.objects.count() == 1


def test_a_race_lost_twice_is_a_message_never_a_500(client, booker, resource, customer):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    client.force_login(booker)
    with mock.patch.object(booking_service, "booking_refusal", return_value=None):
        response = client.post(ADD, form_data(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)), follow=True)
    assert response.status_code == 200
    assert any("Overlaps booking" in str(m) for m in response.context["messages"])
    assert Booking.objects.count() == 1


def test_the_add_form_is_prefilled_from_the_query_string(client, booker, resource):
    client.force_login(booker)
    response = client.get(f"{ADD}?resource={resource.pk}&start_at=2026-03-02T09:00:00+01:00&end_at=2026-03-02T10:00")
    initial = response.context["adminform"].form.initial
    assert initial["resource"] == resource.pk
    assert initial["start_at"] == utc(2026, 3, 2, 8)
    assert initial["end_at"] == utc(2026, 3, 2, 10)  # naive: the viewer's zone (UTC here)


def test_bad_prefill_values_are_ignored(client, booker):
    client.force_login(booker)
    response = client.get(f"{ADD}?resource=x&start_at=2026-02-30T09:00&end_at=soon&notes=Bring+ID")
    assert response.status_code == 200
    assert response.context["adminform"].form.initial == {"notes": "Bring ID"}  # Django's own prefill still works


def test_a_new_booking_may_only_be_pending_or_confirmed(client, booker):
    client.force_login(booker)
    choices = [value for value, _ in client.get(ADD).context["adminform"].form.fields["status"].choices]
    assert choices == ["pending", "confirmed"]


def test_changing_the_status_runs_the_transition_and_offers_only_allowed_ones(client, booker):
    booking = BookingFactory(status="confirmed")
    client.force_login(booker)
    form = client.get(change_url(booking)).context["adminform"].form
    assert sorted(value for value, _ in form.fields["status"].choices) == ["cancelled", "completed", "confirmed", "no_show"]
    data = form_data(booking.resource, booking.customer, booking.start_at, booking.end_at, status="completed")
    assert client.post(change_url(booking), data).status_code == 302
    booking.refresh_from_db()
    assert booking.status == "completed"


def test_moving_a_booking_onto_another_is_refused(client, booker, resource, customer):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    moving = BookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, 11), end_at=utc(2026, 3, 2, 12))
    client.force_login(booker)
    response = client.post(change_url(moving), form_data(resource, customer, utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10, 30)))
    assert response.status_code == 200 and errors(response)
    moving.refresh_from_db()
    assert moving.start_at == utc(2026, 3, 2, 11)


def test_editing_notes_does_not_recheck_a_booking_now_outside_hours(client, booker, resource, customer):
    booking = BookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(12), end_time=dt.time(17))
    client.force_login(booker)
    response = client.post(change_url(booking), form_data(resource, customer, booking.start_at, booking.end_at, notes="Towels"))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.notes == "Towels"


def test_cancelling_and_moving_at_once_frees_the_time_first(client, booker, resource, customer):
    BookingFactory(resource=resource, start_at=utc(2026, 3, 2, 9), end_at=utc(2026, 3, 2, 10))
    booking = BookingFactory(resource=resource, customer=customer, start_at=utc(2026, 3, 2, 11), end_at=utc(2026, 3, 2, 12))
    client.force_login(booker)
    data = form_data(resource, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), status="cancelled")
    assert client.post(change_url(booking), data).status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.start_at) == ("cancelled", utc(2026, 3, 2, 9))


def test_a_grant_holder_may_pick_only_the_resources_they_may_book(client, granted):
    ResourceFactory(name="B")
    client.force_login(granted)
    choices = client.get(ADD).context["adminform"].form.fields["resource"].queryset
    assert [r.name for r in choices] == ["A"]


def test_a_grant_holder_cannot_book_another_resource_by_posting_its_id(client, granted, customer):
    other = ResourceFactory(name="B")
    client.force_login(granted)
    response = client.post(ADD, form_data(other, customer, utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)))
    assert "resource" in response.context["adminform"].form.errors
    assert not Booking.objects.exists()


def test_a_viewer_sees_a_booking_read_only_and_cannot_post(client, viewer):
    booking = BookingFactory()
    client.force_login(viewer)
    page = client.get(change_url(booking))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    data = form_data(booking.resource, booking.customer, booking.start_at, booking.end_at, notes="hacked")
    assert client.post(change_url(booking), data).status_code == 403
    booking.refresh_from_db()
    assert booking.notes == ""


def test_a_manager_deletes_a_booking_and_its_e_mail_notices_in_the_admin(client, manager):
    booking = BookingFactory(notify=True)  # its customer has an address: the "created" notice is written
    assert Notification.objects.filter(booking=booking).exists()
    client.force_login(manager)
    response = client.post(reverse("admin:scheduling_booking_delete", args=[booking.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert not Notification.objects.exists()

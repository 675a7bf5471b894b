"""Time zones people can see (docs/spec.md §12.1): each user's own zone, named on every page, and a
booking form that reads times in the resource's zone or the user's own."""

import datetime as dt

import pytest
from django.urls import reverse

from scheduling.models import Booking, StaffPreference
from scheduling.tests.factories import utc
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:scheduling_booking_add")
SETTINGS = reverse("admin:scheduling_my_settings")


@pytest.fixture
def warsaw_booker(booker):
    StaffPreference.objects.create(user=booker, time_zone="Europe/Warsaw")
    return booker


def post_booking(client, resource, customer, day: str, start: str, end: str, **extra):
    return client.post(ADD, {
        "resource": resource.pk, "customer": customer.pk, "status": "pending", "notes": "",
        "start_at_0": day, "start_at_1": start, "end_at_0": day, "end_at_1": end, **extra,
    })  # fmt: skip


def test_a_users_own_time_zone_is_active_and_named_on_every_admin_page(client, warsaw_booker, settings):
    settings.TIME_ZONE = "UTC"
    BookingFactory(start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    client.force_login(warsaw_booker)
    page = client.get(reverse("admin:scheduling_booking_changelist")).content.decode()
    assert 'Times in <span class="sched-current-zone">Europe/Warsaw</span>' in page
    assert "Mon 2 Mar 2026 11:00–12:00 (Europe/Warsaw)" in page


def test_without_a_preference_the_site_time_zone_applies(client, booker, settings):
    settings.TIME_ZONE = "America/New_York"
    client.force_login(booker)
    assert 'Times in <span class="sched-current-zone">America/New_York</span>' in client.get(SETTINGS).content.decode()


def test_my_settings_saves_my_zone_and_the_next_page_uses_it(client, booker, manager):
    client.force_login(booker)
    response = client.post(SETTINGS, {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert StaffPreference.objects.get(user=booker).time_zone == "Asia/Tokyo"
    assert not StaffPreference.objects.filter(user=manager).exists()
    assert "Asia/Tokyo" in client.get(reverse("admin:scheduling_booking_changelist")).content.decode()


def test_my_settings_refuses_a_zone_that_is_not_a_place(client, booker):
    client.force_login(booker)
    response = client.post(SETTINGS, {"time_zone": "posix/Europe/Warsaw"})
    assert response.status_code == 200 and response.context["form"].errors["time_zone"]
    assert not StaffPreference.objects.exists()


def test_the_api_answers_in_the_server_zone_whatever_the_users_zone(client, warsaw_booker, settings):
    settings.TIME_ZONE = "UTC"
    booking = BookingFactory(start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    client.force_login(warsaw_booker)
    body = client.get(f"/api/scheduling/booking/{booking.pk}/").json()
    assert body["start_at"].startswith("2026-03-02T10:00:00")


def test_a_warsaw_user_typing_11_for_a_warsaw_room_books_11_warsaw_time(client, warsaw_booker, settings):
    settings.TIME_ZONE = "UTC"
    room = ResourceFactory(timezone="Europe/Warsaw")
    client.force_login(warsaw_booker)
    for zone in ("resource", "mine", None):
        Booking.objects.all().delete()
        extra = {"input_zone": zone} if zone else {}
        assert post_booking(client, room, CustomerFactory(), "2026-03-02", "11:00", "12:00", **extra).status_code == 302
        assert Booking.objects.get().start_at == utc(2026, 3, 2, 10)  # 11:00 CET


def test_times_are_typed_in_the_resources_zone_or_mine_as_switched(client, warsaw_booker):
    new_york = ResourceFactory(timezone="America/New_York")
    client.force_login(warsaw_booker)
    post_booking(client, new_york, CustomerFactory(), "2026-03-02", "11:00", "12:00", input_zone="resource")
    post_booking(client, new_york, CustomerFactory(), "2026-03-03", "11:00", "12:00", input_zone="mine")
    assert list(Booking.objects.order_by("start_at").values_list("start_at", flat=True)) == [
        utc(2026, 3, 2, 16),  # 11:00 EST
        utc(2026, 3, 3, 10),  # 11:00 CET
    ]


def test_the_change_form_shows_the_stored_times_in_the_resources_zone_by_default(client, warsaw_booker):
    booking = BookingFactory(resource=ResourceFactory(timezone="America/New_York"), start_at=utc(2026, 3, 2, 16), end_at=utc(2026, 3, 2, 17))
    client.force_login(warsaw_booker)
    form = client.get(reverse("admin:scheduling_booking_change", args=[booking.pk])).context["adminform"].form
    assert form["start_at"].value() == dt.datetime(2026, 3, 2, 11)
    assert form["input_zone"].value() == "resource"
    assert "The resource&#x27;s time zone (America/New_York)" in str(form["input_zone"])
    assert 'data-zone="America/New_York"' in str(form["resource"])


def test_a_conflict_names_the_zone_of_the_times_it_prints(client, warsaw_booker):
    new_york = ResourceFactory(timezone="America/New_York")
    taken = BookingFactory(resource=new_york, customer=CustomerFactory(name="Ola"), start_at=utc(2026, 3, 2, 16), end_at=utc(2026, 3, 2, 17))
    client.force_login(warsaw_booker)
    response = post_booking(client, new_york, CustomerFactory(), "2026-03-02", "11:00", "12:00", input_zone="resource")
    assert list(response.context["adminform"].form.non_field_errors()) == [
        f"Overlaps booking #{taken.pk} (Ola, pending) Mon 2 Mar 2026 11:00–12:00 (America/New_York)"
    ]


def test_the_calendar_draws_in_my_zone_or_a_resources_zone(client, warsaw_booker):
    new_york = ResourceFactory(timezone="America/New_York")
    client.force_login(warsaw_booker)
    url = reverse("admin:scheduling_resource_calendar") + "?view=day&date=2026-03-02"
    mine = client.get(url)
    theirs = client.get(url + "&zone=America/New_York")
    assert (mine.context["rng"].start, theirs.context["rng"].start) == (utc(2026, 3, 1, 23), utc(2026, 3, 2, 5))
    labels = [label for label, _, _ in theirs.context["zone_choices"]]
    assert labels == ["Mine (Europe/Warsaw)", "Resource's (America/New_York)"]
    assert client.get(url + "&zone=Not/AZone").context["rng"].zone.key == "Europe/Warsaw"
    assert new_york.pk in {row.resource.pk for row in theirs.context["rows"]}


def test_one_date_and_time_format_throughout_by_djangos_format_localisation(client, warsaw_booker):
    from django.utils import formats

    from scheduling.tests.factories import ScheduleExceptionFactory

    assert formats.get_format("DATETIME_FORMAT") == "D j M Y H:i"
    ScheduleExceptionFactory(start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 12), reason="Leave")
    BookingFactory(start_at=utc(2026, 3, 2, 10), end_at=utc(2026, 3, 2, 11))
    client.force_login(warsaw_booker)
    assert "Mon 2 Mar 2026 11:00" in client.get(reverse("admin:scheduling_scheduleexception_changelist")).content.decode()
    assert "Mon 2 Mar 11:00–12:00" in client.get(reverse("admin:scheduling_booking_board")).content.decode()

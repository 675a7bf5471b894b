"""The admin in a real browser (docs/spec.md §8): calendar, click-to-book, conflicts, board, palette, viewer.

Each test also writes the screenshots that the README shows (docs/img/*.png).
"""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from scheduling import roles
from scheduling.demo import load_demo
from scheduling.models import Booking, Resource
from scheduling.tests.browser.conftest import pick_customer, screenshot
from scheduling.tests.factories import AWKWARD_INSTANTS, BookingFactory, CustomerFactory, ResourceFactory, ResourceTypeFactory, UserFactory, staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
UTC = dt.timezone.utc


def expect_text(locator, pattern: str):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(re.compile(pattern))


def track_fraction(page, row_selector: str, block_selector: str) -> tuple[float, float]:
    """Left edge and width of a block as fractions of its row's track, as drawn."""
    track = page.locator(f"{row_selector} .cal-track").bounding_box()
    block = page.locator(f"{row_selector} {block_selector}").bounding_box()
    return (block["x"] - track["x"]) / track["width"], block["width"] / track["width"]


@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_log_in_and_find_seeded_bookings_in_the_week_view(browser, live_server, roles_synced, settings, time_machine, instant):
    # The viewer's zone has DST, and each instant makes "this week" awkward: it crosses a month, a
    # year, or is an hour short or long. The demo's week and the calendar's both follow the clock.
    settings.TIME_ZONE = "Europe/Warsaw"
    time_machine.move_to(instant, tick=True)
    load_demo()
    UserFactory(username="frontdesk", is_staff=True, password="a-long-test-password").groups.add(
        roles_group(roles.BOOKER)
    )
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "frontdesk")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.goto(live_server.url + reverse("admin:scheduling_resource_calendar"))
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    sunday = monday + dt.timedelta(days=6)
    expect_text(page.locator(".cal-range"), rf"^{monday:%-d %b} – {sunday:%-d %b %Y}$")
    week_start, week_end = (local_midnight(monday + dt.timedelta(days=k)) for k in (0, 7))
    booking = Booking.objects.filter(start_at__gte=local_midnight(monday + dt.timedelta(days=1)), end_at__lte=local_midnight(sunday)).first()
    row = f'.cal-row[data-resource="{booking.resource_id}"]'
    left, width = track_fraction(page, row, f'[data-booking="{booking.pk}"]')
    week = week_end - week_start  # 167 or 169 hours in the weeks of the DST changes
    assert left == pytest.approx((booking.start_at - week_start) / week, abs=0.002)
    assert width == pytest.approx((booking.end_at - booking.start_at) / week, abs=0.002)
    screenshot(page, "calendar-week", full_page=True)
    # "Day" shows the first day of the week on view: its Monday.
    page.get_by_role("link", name="Day", exact=True).click()
    expect_text(page.locator(".cal-range"), rf"^{monday:%A} {monday.day} {monday:%B %Y}$")
    screenshot(page, "calendar-day", full_page=True)
    page.close()


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def roles_group(name):
    from django.contrib.auth.models import Group

    return Group.objects.get(name=name)


def test_click_an_empty_cell_and_save_a_booking_then_see_an_overlap_refused(open_as):
    resource = ResourceFactory(name="Room 1")
    CustomerFactory(name="Ola Zielińska")
    page = open_as(staff(roles.BOOKER))
    page.goto(reverse("admin:scheduling_resource_calendar") + "?view=day&date=2026-03-02")
    track = page.locator(f'.cal-row[data-resource="{resource.pk}"] .cal-track').bounding_box()
    page.mouse.click(track["x"] + track["width"] * 10.5 / 24, track["y"] + track["height"] / 2)  # the 10:00 cell
    page.wait_for_url(re.compile(r"/booking/add/\?resource="))
    assert page.input_value("#id_start_at_1").startswith("10:00")
    pick_customer(page, "Ola Zielińska")
    page.click("input[name=_save]")
    expect_text(page.locator(".messagelist"), "added successfully")
    booking = Booking.objects.get()
    assert (booking.resource, booking.start_at, booking.end_at) == (resource, dt.datetime(2026, 3, 2, 10, tzinfo=UTC), dt.datetime(2026, 3, 2, 11, tzinfo=UTC))

    page.goto(reverse("admin:scheduling_booking_add") + f"?resource={resource.pk}&start_at=2026-03-02T10:30&end_at=2026-03-02T11:30")
    pick_customer(page, "Ola Zielińska")
    page.click("input[name=_save]")
    expect_text(page.locator(".errorlist.nonfield"), rf"Overlaps booking #{booking.pk} \(Ola Zielińska, pending\) Mon 2 Mar 2026 10:00–11:00")
    assert Booking.objects.count() == 1


def test_move_a_card_on_the_board_and_see_a_refusal_explained(open_as):
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    pending = BookingFactory(status="pending", start_at=today, customer=CustomerFactory(name="Move me"))
    confirmed = BookingFactory(status="confirmed", start_at=today + dt.timedelta(hours=2), customer=CustomerFactory(name="Stay"))
    page = open_as(staff(roles.BOOKER))
    page.goto(reverse("admin:scheduling_booking_board"))
    page.drag_and_drop(f'[data-booking="{pending.pk}"]', '.board-col[data-status="confirmed"] .board-cards')
    expect_text(page.locator(".board-message"), f"Booking #{pending.pk} is now confirmed")
    assert page.locator(f'.board-col[data-status="confirmed"] [data-booking="{pending.pk}"]').count() == 1
    pending.refresh_from_db()
    assert pending.status == "confirmed"

    page.drag_and_drop(f'[data-booking="{confirmed.pk}"]', '.board-col[data-status="pending"] .board-cards')
    expect_text(page.locator(".board-message"), "Not moved: A confirmed booking cannot become pending.")
    assert page.locator(f'.board-col[data-status="confirmed"] [data-booking="{confirmed.pk}"]').count() == 1
    confirmed.refresh_from_db()
    assert confirmed.status == "confirmed"


def test_board_screenshot_with_the_demo_week(open_as):
    load_demo()
    page = open_as(staff(roles.MANAGER, username="manager"))
    page.goto(reverse("admin:scheduling_booking_board"))
    assert page.locator(".board-card").count() > 0
    screenshot(page, "board")
    page.goto(reverse("admin:scheduling_utilisation"))
    assert page.locator(".heatmap svg rect").count() > 0
    screenshot(page, "utilisation", full_page=True)


def test_open_the_palette_type_avail_pick_a_type_and_see_the_free_resources(open_as):
    trainers = ResourceTypeFactory(name="Trainer", color="#e11d48")
    ResourceTypeFactory(name="Room", color="#2563eb")
    ResourceFactory(name="Anna Kowalska", type=trainers)
    ResourceFactory(name="Emily Chen", type=trainers)
    busy = ResourceFactory(name="Piotr Nowak", type=trainers)
    now = timezone.now()
    BookingFactory(resource=busy, start_at=now - dt.timedelta(minutes=15), end_at=now + dt.timedelta(minutes=45))
    page = open_as(staff(roles.BOOKER, username="frontdesk"))
    page.goto(reverse("admin:index"))
    page.keyboard.press("Control+k")
    page.keyboard.type("avail")
    options = page.locator(".sched-palette-list li")
    expect_text(options.first, "Available Room now")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    free = page.locator(".sched-free-resource")
    expect_text(page.locator(".sched-palette-result"), "Free Trainer now")
    assert free.all_inner_texts() == ["Anna Kowalska\nbook", "Emily Chen\nbook"]
    screenshot(page, "palette")
    page.click(".sched-free-resource >> nth=0 >> text=book")
    page.wait_for_url(re.compile(r"/booking/add/\?resource="))
    assert page.input_value("#id_resource") == str(Resource.objects.get(name="Anna Kowalska").pk)


def test_a_viewer_sees_no_add_button_no_bookable_cells_and_no_drag(open_as):
    resource = ResourceFactory(name="Room 1")
    BookingFactory(resource=resource, start_at=timezone.now())
    page = open_as(staff(roles.VIEWER))
    page.goto(reverse("admin:scheduling_booking_changelist"))
    expect_text(page.locator("#content"), "Select booking to view")
    assert page.locator("a.addlink").count() == 0
    page.goto(reverse("admin:scheduling_resource_calendar"))
    assert page.locator(".cal-row").count() == 1 and page.locator(".cal-row[data-bookable]").count() == 0
    page.goto(reverse("admin:scheduling_booking_board"))
    assert page.locator(".board-card").count() == 1 and page.locator(".board-card[draggable=true]").count() == 0
    page.keyboard.press("Control+k")
    expect_text(page.locator(".sched-palette-list"), "Today's bookings")
    assert "New booking" not in page.locator(".sched-palette-list").inner_text()

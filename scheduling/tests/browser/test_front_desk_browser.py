"""The front desk in a real browser (docs/spec.md §12), as the people who use it, on a desktop and
on a 390×844 phone: time zones, the Today page, the board by keyboard, refusals, no foreign requests."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse

from scheduling import roles
from scheduling.models import Booking, Notification, StaffPreference
from scheduling.tests.factories import staff
from scheduling.tests.browser.conftest import PHONE, pick_customer, screenshot
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
UTC = dt.timezone.utc
# Monday 2 March 2026, 07:00 UTC (08:00 in Warsaw); the clock ticks on from there so the browser's
# waits keep working.
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


def expect_text(locator, pattern: str):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(re.compile(pattern))


def in_warsaw(role: str, **fields):
    user = staff(role, **fields)
    StaffPreference.objects.create(user=user, time_zone="Europe/Warsaw")
    return user


def test_a_warsaw_receptionist_types_11_for_a_warsaw_room_and_the_booking_calendar_and_email_say_11(open_as, frozen_clock):
    ResourceFactory(name="Sala Wisła", timezone="Europe/Warsaw")
    ResourceFactory(name="Hudson Room", timezone="America/New_York")
    CustomerFactory(name="Ola Zielińska", email="ola@example.com")
    page = open_as(in_warsaw(roles.BOOKER, username="recepcja"))
    page.goto(reverse("admin:scheduling_booking_add"))
    expect_text(page.locator("#user-tools"), "Times in Europe/Warsaw")
    page.select_option("#id_resource", label="Hudson Room")
    page.fill("#id_start_at_0", "2026-03-02")
    page.fill("#id_start_at_1", "11:00")
    page.select_option("#id_duration", label="1 h")
    # Typed in the room's zone (the default): the same instant is shown in mine beside it.
    expect_text(page.locator(".sched-zone-other"), r"In your time zone \(Europe/Warsaw\): Mon 2 Mar 2026 17:00 – Mon 2 Mar 2026 18:00")
    page.select_option("#id_resource", label="Sala Wisła")
    expect_text(page.locator(".sched-zone-other"), r"The resource is in your time zone \(Europe/Warsaw\)")
    pick_customer(page, "Ola Zielińska")
    screenshot(page, "booking-form-zones", full_page=True)
    page.click("input[name=_save]")
    expect_text(page.locator(".messagelist"), "added successfully")
    booking = Booking.objects.get()
    assert (booking.start_at, booking.end_at) == (dt.datetime(2026, 3, 2, 10, tzinfo=UTC), dt.datetime(2026, 3, 2, 11, tzinfo=UTC))

    page.goto(reverse("admin:scheduling_resource_calendar") + "?view=day&date=2026-03-02")
    block = page.locator(f'[data-booking="{booking.pk}"]')
    expect_text(block, "11:00")
    assert "11:00–12:00" in block.get_attribute("title")
    expect_text(page.locator(".cal-zone"), "Europe/Warsaw")

    notice = Notification.objects.get(booking=booking)
    assert notice.subject == "Booking received: Sala Wisła, Mon 2 Mar 2026 11:00"
    assert "Starts:    Monday 2 March 2026, 11:00 (Europe/Warsaw)" in notice.text_body


def test_today_then_the_board_by_keyboard_alone_on_a_phone(open_as, frozen_clock):
    room = ResourceFactory(name="Room 1")
    pending = BookingFactory(resource=room, status="pending", customer=CustomerFactory(name="Keyboard"), start_at=NOW + dt.timedelta(hours=2), end_at=NOW + dt.timedelta(hours=3))
    page = open_as(staff(roles.BOOKER), viewport=PHONE)
    page.goto(reverse("admin:index"))
    expect_text(page.locator(".sched-today-bookings"), r"09:00–10:00\s+Keyboard")
    expect_text(page.locator(".sched-today-waiting"), "Keyboard")
    screenshot(page, "home-phone", full_page=True)
    page.get_by_role("link", name="Board", exact=True).click()
    columns = [page.locator(f'.board-col[data-status="{s}"]').bounding_box() for s in ("pending", "confirmed")]
    assert columns[0]["x"] == columns[1]["x"] and columns[1]["y"] > columns[0]["y"]  # stacked, not squeezed
    card = page.locator(f'[data-booking="{pending.pk}"]')
    for _ in range(80):  # Tab through the page until the card has the focus
        page.keyboard.press("Tab")
        if card.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the card never received the keyboard focus")
    page.keyboard.press("Enter")
    expect_text(page.locator(".board-menu"), "Confirmed")
    page.keyboard.press("Enter")  # the first item, "Confirmed", has the focus
    expect_text(page.locator(".board-message"), f"Booking #{pending.pk} is now confirmed")
    assert page.locator(f'.board-col[data-status="confirmed"] [data-booking="{pending.pk}"]').count() == 1
    pending.refresh_from_db()
    assert pending.status == "confirmed"
    page.keyboard.press("Enter")  # the card kept the focus: its menu offers the next steps
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    assert page.locator(".board-menu").count() == 0


def test_after_a_drag_no_card_stays_faded(open_as, frozen_clock):
    first = BookingFactory(status="pending", start_at=NOW + dt.timedelta(hours=1), end_at=NOW + dt.timedelta(hours=2))
    refused = BookingFactory(status="confirmed", start_at=NOW + dt.timedelta(hours=3), end_at=NOW + dt.timedelta(hours=4))
    page = open_as(staff(roles.BOOKER))
    page.goto(reverse("admin:scheduling_booking_board"))
    page.drag_and_drop(f'[data-booking="{first.pk}"]', '.board-col[data-status="confirmed"] .board-cards')
    expect_text(page.locator(".board-message"), "is now confirmed")
    page.drag_and_drop(f'[data-booking="{refused.pk}"]', '.board-col[data-status="pending"] .board-cards')
    expect_text(page.locator(".board-message"), "cannot become pending")
    page.drag_and_drop(f'[data-booking="{refused.pk}"]', '.board-col[data-status="confirmed"] .board-cards')  # its own column
    assert page.locator(".board-card.dragging").count() == 0


def test_a_refused_page_on_a_phone_keeps_the_admin_frame_and_a_way_back(open_as):
    page = open_as(staff(roles.VIEWER), viewport=PHONE)
    page.goto(reverse("admin:scheduling_booking_changelist"))
    page.goto(reverse("admin:scheduling_booking_add"), referer=page.url)
    expect_text(page.locator("#content"), "You may not open this page")
    page.get_by_role("link", name="← Back").click()
    page.wait_for_url(re.compile(r"/admin/scheduling/booking/$"))


def test_no_page_asks_another_host_for_anything(open_as, live_server, frozen_clock):
    booking = BookingFactory(resource=ResourceFactory(owner=staff(username="trainer", email="t@example.com")), notify=True)
    page = open_as(staff(roles.MANAGER, username="manager"))
    own_host = urlsplit(live_server.url).netloc
    foreign, errors = [], []

    def only_this_site(route):
        if urlsplit(route.request.url).netloc in (own_host, ""):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_site)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    page.goto("/api/redoc/")
    page.wait_for_selector("h1:has-text('Scheduling back-office API')", timeout=20_000)
    notice = Notification.objects.get(booking=booking)
    for url in (
        reverse("admin:index"),
        reverse("admin:scheduling_resource_calendar"),
        reverse("admin:scheduling_booking_board"),
        reverse("admin:scheduling_booking_add"),
        reverse("admin:scheduling_my_settings"),
        reverse("admin:scheduling_notification_change", args=[notice.pk]),
        reverse("admin:scheduling_utilisation"),
    ):
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
    assert foreign == [] and errors == []


def drag_by(page, locator, dx: float, dy: float = 0, *, grip: str = "center"):
    box = locator.bounding_box()
    x = box["x"] + (box["width"] - 2 if grip == "edge" else box["width"] / 2)
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x + dx * k / 5, y + dy * k / 5)
    page.mouse.up()


def test_drag_a_booking_on_the_calendar_refused_snaps_back_with_the_reason_and_the_keyboard_does_the_same(open_as, frozen_clock):
    room_1, room_2 = ResourceFactory(name="Room 1"), ResourceFactory(name="Room 2")
    moving = BookingFactory(resource=room_1, start_at=dt.datetime(2026, 3, 2, 9, tzinfo=UTC), end_at=dt.datetime(2026, 3, 2, 10, tzinfo=UTC))
    taken = BookingFactory(resource=room_1, customer=CustomerFactory(name="Ola"), start_at=dt.datetime(2026, 3, 2, 11, tzinfo=UTC), end_at=dt.datetime(2026, 3, 2, 12, tzinfo=UTC))
    page = open_as(staff(roles.BOOKER))
    page.goto(reverse("admin:scheduling_resource_calendar") + "?view=day&date=2026-03-02")
    block = page.locator(f'[data-booking="{moving.pk}"]')
    track = page.locator(f'.cal-row[data-resource="{room_1.pk}"] .cal-track').bounding_box()
    hour = track["width"] / 24
    left_before = block.bounding_box()["x"]

    drag_by(page, block, 2 * hour)  # onto Ola's booking
    expect_text(page.locator(".cal-message"), rf"Not moved: Overlaps booking #{taken.pk} \(Ola, pending\) Mon 2 Mar 2026 11:00–12:00 \(UTC\)")
    assert abs(block.bounding_box()["x"] - left_before) < 1  # snapped back
    moving.refresh_from_db()
    assert moving.start_at == dt.datetime(2026, 3, 2, 9, tzinfo=UTC)

    drag_by(page, block, 0, 60)  # one row down: Room 2, same time
    expect_text(page.locator(".cal-message"), "now Mon 2 Mar 2026 09:00–10:00 \\(UTC\\) on Room 2")
    drag_by(page, block, hour, grip="edge")  # the right edge: an hour longer
    expect_text(page.locator(".cal-message"), "09:00–11:00")
    block.focus()
    page.keyboard.press("Alt+ArrowRight")  # the keyboard's move: 15 minutes later
    expect_text(page.locator(".cal-message"), "09:15–11:15")
    moving.refresh_from_db()
    assert (moving.resource, moving.start_at, moving.end_at) == (room_2, dt.datetime(2026, 3, 2, 9, 15, tzinfo=UTC), dt.datetime(2026, 3, 2, 11, 15, tzinfo=UTC))
    assert page.url.endswith("date=2026-03-02")  # no drag opened the booking
    screenshot(page, "calendar-day-moves", full_page=True)


def test_on_a_phone_the_resource_names_stay_while_the_week_scrolls(open_as, frozen_clock):
    ResourceFactory(name="Room 1")
    page = open_as(staff(roles.VIEWER), viewport=PHONE)
    page.goto(reverse("admin:scheduling_resource_calendar") + "?date=2026-03-02")
    name = page.locator(".cal-row .cal-name").first
    page.locator(".cal").evaluate("el => el.scrollBy(600, 0)")
    assert page.locator(".cal").evaluate("el => el.scrollLeft") > 0
    box = name.bounding_box()
    assert 0 <= box["x"] < 40 and name.is_visible()
    screenshot(page, "calendar-week-phone")

"""The admin page "Utilisation" (docs/spec.md §10.5): permissions, figures, heatmap, CSV, index link."""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from scheduling.admin.reports import HEATMAP_MAX_RESOURCES, colour, heatmap
from scheduling.roles import BOOKER, VIEWER
from scheduling.services.reports import Figures, select_resources, utilisation_report
from scheduling.tests.factories import (
    AWKWARD_INSTANTS,
    WARSAW,
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ResourceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
URL = "/admin/scheduling/utilisation/"
MARCH = {"from": "2026-03-02", "to": "2026-03-08"}
H = dt.timedelta(hours=1)


@pytest.fixture
def trainer():
    resource = ResourceFactory(name="Anna <b>", type=ResourceTypeFactory(name="Trainer"), timezone="UTC")
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    BookingFactory(resource=resource, start_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), end_at=dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC), status="confirmed")
    return resource


def staff(*groups, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def viewer():
    return staff(VIEWER)


# --- who may see it ---------------------------------------------------------------------------------


def test_the_route_is_named_scheduling_utilisation():
    assert reverse("admin:scheduling_utilisation") == URL


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("not_staff", 302),
        ("staff_without_permissions", 403),
        ("staff_with_view_booking_only", 403),
        ("viewer", 200),
        ("booker", 200),
        ("superuser", 200),
    ],
)
def test_only_staff_with_view_permissions_on_bookings_and_resources_see_the_page(client, trainer, persona, status):
    users = {
        "anonymous": lambda: None,
        "not_staff": lambda: UserFactory(),
        "staff_without_permissions": lambda: staff(),
        "staff_with_view_booking_only": lambda: _with_permission(staff(), "view_booking"),
        "viewer": lambda: staff(VIEWER),
        "booker": lambda: staff(BOOKER),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
    }
    user = users[persona]()
    if user:
        client.force_login(user)
    for query in (MARCH, MARCH | {"format": "csv"}):
        response = client.get(URL, query)
        assert response.status_code == status
        if status == 302:
            assert response["Location"].startswith(reverse("admin:login"))
        if status != 200:
            assert "Anna" not in response.content.decode()


def _with_permission(user, codename):
    user.user_permissions.add(Permission.objects.get(content_type__app_label="scheduling", codename=codename))
    return user


# --- what it shows ----------------------------------------------------------------------------------


def test_the_page_shows_the_figures_type_totals_and_an_svg_heatmap(client, viewer, trainer):
    client.force_login(viewer)
    response = client.get(URL, MARCH)
    assert response.status_code == 200
    report = response.context["report"]
    [row] = report.resources
    assert (row.figures.working, row.figures.booked, row.figures.utilisation) == (8 * H, 2 * H, 25.0)
    html = response.content.decode()
    assert "Total Trainer" in html and "25.0 %" in html
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg".*?</svg>', html, re.S).group(0)
    assert svg.count("<rect") == 7 + 1  # one resource × seven days, and the hatch pattern's tile
    assert "Anna &lt;b&gt;, Mon 2026-03-02: 2.00 of 8.00 h booked (25.0 %)" in svg  # escaped
    # Rendered on the server, whole: no script and no request elsewhere.
    chart = html[html.index("<h2>Daily utilisation</h2>") : html.index("<h2>Figures</h2>")]
    assert "<script" not in chart and "http" not in chart.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)
def test_without_a_query_the_page_shows_the_current_month_in_the_viewers_zone(client, viewer, trainer, settings, time_machine, instant):
    settings.TIME_ZONE = "Europe/Warsaw"
    time_machine.move_to(instant, tick=False)
    today = instant.astimezone(WARSAW).date()
    client.force_login(viewer)
    response = client.get(URL)
    report = response.context["report"]
    assert response.status_code == 200
    assert report.first_day == today.replace(day=1)
    assert report.last_day.month == today.month and (report.last_day + dt.timedelta(days=1)).day == 1


def test_a_type_narrows_the_report(client, viewer, trainer):
    ResourceFactory(name="Hall", type=ResourceTypeFactory(name="Room"))
    client.force_login(viewer)
    everything = client.get(URL, MARCH).context["report"]
    trainers = client.get(URL, MARCH | {"type": trainer.type_id}).context["report"]
    assert [r.resource.name for r in everything.resources] == ["Hall", "Anna <b>"]
    assert [r.resource.name for r in trainers.resources] == ["Anna <b>"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-03-08", "to": "2026-03-02"}, "to"),
        ({"from": "2026-03-02", "to": "2027-03-03"}, "to"),  # 367 days
        ({"from": "yesterday", "to": "2026-03-02"}, "from"),
        (MARCH | {"tz": "Mars/Olympus"}, "tz"),
        (MARCH | {"type": "999999"}, "type"),
    ],
)
def test_invalid_input_shows_the_form_error_and_no_report(client, viewer, trainer, query, field):
    client.force_login(viewer)
    for extra in ({}, {"format": "csv"}):
        response = client.get(URL, query | extra)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert response.context["report"] is None
        assert field in response.context["form"].errors


def test_every_invalid_field_is_reported_at_once(client, viewer):
    client.force_login(viewer)
    form = client.get(URL, {"from": "2026-03-08", "to": "2026-03-02", "tz": "Mars/Olympus"}).context["form"]
    assert set(form.errors) == {"to", "tz"}


def test_csv_download_has_the_same_figures(client, viewer, trainer):
    client.force_login(viewer)
    response = client.get(URL, MARCH | {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="utilisation-2026-03-02-2026-03-08.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["row"], r["resource"], r["working_hours"], r["booked_hours"], r["utilisation_pct"]) for r in rows] == [
        ("resource", "Anna <b>", "8.0", "2.0", "25.0"),
        ("type_total", "", "8.0", "2.0", "25.0"),
    ]


def test_the_page_links_its_csv_with_the_same_query(client, viewer, trainer):
    client.force_login(viewer)
    html = client.get(URL, MARCH | {"type": trainer.type_id}).content.decode()
    link = re.search(r'href="\?([^"]+)"[^>]*>Download CSV', html).group(1).replace("&amp;", "&")
    assert sorted(link.split("&")) == sorted(["from=2026-03-02", "to=2026-03-08", f"type={trainer.type_id}", "format=csv"])


def test_the_page_costs_its_frame_plus_five_report_queries_whatever_the_resources(client, viewer, trainer, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(viewer)
    client.get(URL, MARCH)  # warm the content-type cache
    # The frame: session, user, the user's and their groups' permissions, the chosen type (form
    # validation), the admin's navigation (the permission layer's checks per registered model) and
    # the types for the form's select. An invalid period costs exactly the frame: no report runs.
    with CaptureQueriesContext(connection) as frame:
        client.get(URL, {"from": "2026-03-08", "to": "2026-03-02", "type": trainer.type_id})

    def count():
        # The frame, then the report: resources with their type, availability rows, exceptions,
        # bookings, the classes held.
        with django_assert_num_queries(len(frame) + 5):
            assert client.get(URL, MARCH | {"type": trainer.type_id}).status_code == 200

    count()
    for i in range(20):
        resource = ResourceFactory(type=trainer.type)
        AvailabilityFactory(resource=resource, weekday=i % 7)
        BookingFactory(resource=resource)
    count()


# --- the heatmap ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        (Figures(working=8 * H, booked=0 * H), "#ffffff"),
        (Figures(working=800 * H, booked=1 * H), "#c7d2fe"),  # a little use is already tinted, not white
        (Figures(working=8 * H, booked=8 * H), "#312e81"),
        (Figures(working=8 * H, booked=9 * H), "#dc2626"),
        (Figures(working=0 * H), "url(#no-working-time)"),
        (Figures(working=8 * H, exceptions=8 * H, booked=1 * H), "url(#no-working-time)"),
    ],
)
def test_cell_colour_tells_no_working_time_zero_and_low_use_apart_and_reds_over_100(figures, expected):
    assert colour(figures) == expected


def test_the_heatmap_axis_names_months_and_weekdays_and_the_page_has_a_legend(client, viewer, trainer):
    client.force_login(viewer)
    html = client.get(URL, {**MARCH, "to": "2026-04-02"}).content.decode()
    assert re.search(r'class="group month">March 2026<', html) and re.search(r'class="group month">April 2026<', html)
    assert '<title>Monday</title>M</text>' in html and 'class="weekday weekend"><title>Saturday</title>S<' in html
    assert "no working time" in html and "0 % (working time, nothing booked)" in html
    assert 'stroke="#94a3b8"' in html  # zero use is outlined


def test_the_heatmap_shows_at_most_the_limit_and_says_so(trainer):
    for _ in range(2):
        ResourceFactory(type=trainer.type)
    ResourceFactory(name="A very long room name that will not fit", type=ResourceTypeFactory(name="Room"))
    report = utilisation_report(first_day=dt.date(2026, 3, 2), last_day=dt.date(2026, 3, 4), resources=select_resources(), daily=True)
    full = heatmap(report)
    assert (len(full.cells), full.truncated) == (4 * 3, False)
    assert [(r.text, r.group) for r in full.rows][:2] == [("Room", True), ("A very long room name tha…", False)]
    assert full.rows[1].title == "A very long room name that will not fit"
    # The limit falls inside the first type: the second type is not even headed.
    limited = heatmap(report, limit=1)
    assert (len(limited.cells), limited.truncated, [r.text for r in limited.rows]) == (3, True, ["Room", "A very long room name tha…"])
    assert HEATMAP_MAX_RESOURCES == 200


# --- the admin index --------------------------------------------------------------------------------


def test_the_admin_index_links_the_page_for_those_who_may_see_it(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<a href="{URL}">Utilisation</a>' in html
    # Django's own index is still there: the override extends it rather than recursing into itself.
    assert "app-scheduling" in html and "Recent actions" in html


def test_the_admin_index_hides_the_link_from_staff_without_the_permissions(client):
    client.force_login(staff())
    html = client.get(reverse("admin:index")).content.decode()
    assert "Utilisation" not in html


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-05"), ("9999-12-25", "9999-12-31")])
def test_periods_at_the_ends_of_the_calendar_are_form_errors_not_500(client, start, end):
    from scheduling.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:scheduling_utilisation"), {"from": start, "to": end})
    assert response.status_code == 200
    assert "outside the years" in response.content.decode()

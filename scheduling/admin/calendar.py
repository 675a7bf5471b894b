"""Admin: the resource calendar — resources as rows, a day or a week as columns (docs/spec.md §8.4)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html_join
from django.utils.http import urlencode

from scheduling.admin.pages import wide_page
from scheduling.ids import parse_id
from scheduling.models import Booking, BookingStatus, Resource, ResourceType, validate_timezone
from scheduling.permissions import can, permitted_resources, restrict
from scheduling.services.availability import validate_day
from scheduling.admin.layout import (
    DAY,
    WEEK,
    calendar_range,
    header_marks,
    hour_slots,
    resource_calendar,
)

ACTIVE_CHOICES = (("1", "Active"), ("0", "Inactive"), ("all", "All"))


def _requested_day(request) -> dt.date:
    try:
        day = parse_date(request.GET.get("date", ""))
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        day = None
    if day is None:
        return timezone.localdate()
    try:
        validate_day(day, name="date")
    except ValidationError:
        return timezone.localdate()
    return day


def _filtered_resources(request, resources):
    type_id = parse_id(request.GET.get("type"))
    if type_id is not None:
        resources = resources.filter(type_id=type_id)
    active = request.GET.get("active", "1")
    if active in ("0", "1"):
        resources = resources.filter(active=active == "1")
    return resources


def _link(request, **changes) -> str:
    """This page's URL with some query parameters changed (None drops one)."""
    query = {key: value for key, value in request.GET.items() if key not in changes}
    query.update({key: value for key, value in changes.items() if value is not None})
    return f"{request.path}?{urlencode(query)}" if query else request.path


def _requested_zone(request) -> ZoneInfo:
    """`zone=<IANA name>` (a resource's zone), else the viewer's own."""
    name = request.GET.get("zone", "")
    try:
        validate_timezone(name)
    except ValidationError:
        return timezone.get_current_timezone()
    return ZoneInfo(name)


def calendar_view(model_admin, request):
    """The page drawn in the zone chosen with `zone` (the viewer's by default), rendered inside it."""
    if not can(request.user, "view", model=Resource):
        raise PermissionDenied
    mine = timezone.get_current_timezone()
    with timezone.override(_requested_zone(request)):
        return _calendar_page(model_admin, request, mine).render()


def _zone_choices(request, rows, mine: ZoneInfo, shown: ZoneInfo) -> list[tuple[str, str, bool]]:
    """(label, link, selected): mine, then each zone of the resources on the page."""
    choices = [(f"Mine ({mine.key})", _link(request, zone=None), shown.key == mine.key)]
    for key in sorted({row.resource.timezone for row in rows} - {mine.key}):
        choices.append((f"Resource's ({key})", _link(request, zone=key), shown.key == key))
    return choices


def _calendar_page(model_admin, request, mine: ZoneInfo):
    user = request.user
    view = request.GET.get("view") if request.GET.get("view") in (DAY, WEEK) else WEEK
    rng = calendar_range(view, _requested_day(request), timezone.get_current_timezone())
    resources = _filtered_resources(request, restrict(user, Resource.objects.all()))
    rows = resource_calendar(
        resources=resources,
        bookings=restrict(user, Booking.objects.all()),
        rng=rng,
        include_cancelled=request.GET.get("cancelled") != "hide",
    )
    change_prefix = reverse("admin:scheduling_booking_changelist", current_app=model_admin.admin_site.name)
    for row in rows:
        row.booking_html = booking_blocks(row.bookings, change_prefix)
    bookable = set(permitted_resources(user, "add", Booking, resources).values_list("pk", flat=True))
    types = list(restrict(user, ResourceType.objects.all()))
    now = timezone.now()
    return wide_page(
        model_admin,
        request,
        "admin/scheduling/calendar.html",
        "Resource calendar",
        rng=rng,
        rows=rows,
        bookable=bookable,
        marks=header_marks(rng),
        slots=[{"at": slot.isoformat(), "label": f"{slot.astimezone(rng.zone):%a %H:%M}"} for slot in hour_slots(rng)],
        now_left=rng.fraction(now) if rng.start <= now < rng.end else None,
        add_url=reverse("admin:scheduling_booking_add", current_app=model_admin.admin_site.name),
        statuses=BookingStatus.choices,
        include_cancelled=request.GET.get("cancelled") != "hide",
        links={
            "previous": _link(request, date=rng.previous_day.isoformat()),
            "next": _link(request, date=rng.next_day.isoformat()),
            "today": _link(request, date=None),
            "day": _link(request, view=DAY, date=rng.day.isoformat()),
            "week": _link(request, view=WEEK, date=rng.day.isoformat()),
            "toggle_cancelled": _link(request, cancelled=None if request.GET.get("cancelled") == "hide" else "hide"),
        },
        type_choices=[(None, "All types", _link(request, type=None))] + [(t, t.name, _link(request, type=t.pk)) for t in types],
        selected_type=request.GET.get("type", ""),
        active_choices=[(value, label, _link(request, active=value)) for value, label in ACTIVE_CHOICES],
        selected_active=request.GET.get("active", "1"),
        zone_choices=_zone_choices(request, rows, mine, rng.zone),
    )


BOOKING_BLOCK = (
    '<a class="cal-booking status-{}" data-booking="{}" href="{}{}/change/" style="left:{}%;width:{}%" '
    'title="{} — {}–{} ({})"><span class="cal-time">{}</span> {}</a>'
)


def booking_blocks(placed, change_prefix: str):
    """The booking blocks of one row, rendered here rather than in the template: a busy week holds
    thousands of blocks, and per-block template lookups, {% url %} and date filters cost ~90 % of the
    page (docs/performance.md). The markup is the template's, escaped by format_html."""

    zone = timezone.get_current_timezone()

    def block(p):
        b = p.item
        start, end = b.start_at.astimezone(zone), b.end_at.astimezone(zone)
        # The template's date:"D j M H:i" and date:"H:i" (English names, as the admin here).
        title_start = f"{start:%a} {start.day} {start:%b %H:%M}"
        return (b.status, b.pk, change_prefix, b.pk, f"{p.left:.4f}", f"{p.width:.4f}", b.customer.name, title_start, f"{end:%H:%M}", b.get_status_display(), f"{start:%H:%M}", b.customer.name)

    return format_html_join("", BOOKING_BLOCK, (block(p) for p in placed))

"""Admin: the resource calendar — resources as rows, a day or a week as columns (docs/spec.md §8.4)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html_join
from django.utils.http import urlencode

from scheduling.admin.pages import wide_page
from scheduling.ids import parse_id
from scheduling.models import Booking, BookingStatus, Resource, ResourceType
from scheduling.permissions import can, permitted_resources, restrict
from scheduling.services.availability import bookable_spans, validate_day
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


def calendar_view(model_admin, request):
    user = request.user
    if not can(user, "view", model=Resource):
        raise PermissionDenied
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
        row.buffer_html = buffer_bands(row.bookings, rng)
    bookable = set(permitted_resources(user, "add", Booking, resources).values_list("pk", flat=True))
    # Only the hours the write would accept for this user are offered (docs/spec.md §13.6).
    hours = hour_slots(rng)
    open_hours = bookable_spans([row.resource for row in rows if row.resource.pk in bookable], hours)
    for row in rows:
        row.open_hours = " ".join(map(str, open_hours.get(row.resource.pk, [])))
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
        slots=[{"at": slot.isoformat(), "label": f"{slot.astimezone(rng.zone):%a %H:%M}"} for slot in hours],
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
    )


BOOKING_BLOCK = (
    '<a class="cal-booking status-{}{}" data-booking="{}" data-group="{}" href="{}{}/change/" style="left:{}%;width:{}%" '
    'title="{} — {}–{} ({}){}"><span class="cal-time">{}</span> {}{}</a>'
)


def linked_marks(b) -> tuple[str, str, str, str]:
    """A part of a group is linked to its siblings (data-group), an occurrence of a series marked ↻."""
    classes = (" in-group" if b.group_id else "") + (" in-series" if b.series_id else "")
    notes = (f" · group {b.group_id}" if b.group_id else "") + (f" · series {b.series_id}" if b.series_id else "")
    return classes, b.group_id or "", notes, " ↻" if b.series_id else ""


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
        classes, group, notes, mark = linked_marks(b)
        return (b.status, classes, b.pk, group, change_prefix, b.pk, f"{p.left:.4f}", f"{p.width:.4f}", b.customer.name, title_start, f"{end:%H:%M}", b.get_status_display(), notes, f"{start:%H:%M}", b.customer.name, mark)

    return format_html_join("", BOOKING_BLOCK, (block(p) for p in placed))


BUFFER_BAND = '<span class="cal-buffer" style="left:{}%;width:{}%" title="Buffer"></span>'


def buffer_bands(placed, rng):
    """The lighter band of each booking's buffers: its occupied range behind its block."""
    bands = []
    for p in placed:
        b = p.item
        if b.occupies and (b.buffer_before or b.buffer_after):
            left, width = rng.span(b.occupied_start, b.occupied_end)
            bands.append((f"{left:.4f}", f"{width:.4f}"))
    return format_html_join("", BUFFER_BAND, bands)

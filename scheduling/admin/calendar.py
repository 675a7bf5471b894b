"""Admin: the resource calendar — resources as rows, a day or a week as columns (docs/spec.md §8.4)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html_join
from django.utils.http import urlencode

from scheduling.admin.forms import describe_conflicts, for_people, local_span
from scheduling.admin.pages import wide_page
from scheduling.services.bookings import booking_edit
from scheduling.services.errors import BookingConflict, PartOfGroup
from scheduling.ids import parse_id
from scheduling.models import SEAT_HOLDING, AttendanceStatus, Booking, BookingStatus, Resource, ResourceType, Session, validate_timezone
from scheduling.permissions import can, permitted_resources, restrict
from scheduling.services.availability import bookable_spans, validate_day
from scheduling.admin.layout import (
    DAY,
    WEEK,
    CalendarRange,
    calendar_range,
    header_marks,
    hour_slots,
    resource_calendar,
)

ACTIVE_CHOICES = (("1", "Active"), ("0", "Inactive"), ("all", "All"))
# No page carries more than ROWS_MAX resources: a week over a whole chain is paged (docs/performance.md).
ROWS_DEFAULT, ROWS_MAX, ROWS_MIN = 50, 100, 10
SEARCH_MAX = 100
# Week view: more bookings than this on one row and day are one "N bookings" block opening the day.
DENSE_PER_DAY = 4
# Blocks narrower than this (percent of the range) carry no text; their title says it all.
NARROW = 1.5


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    per_page: int
    total: int

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.per_page


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


def _bounded_int(raw, default: int, low: int, high: int) -> int:
    value = parse_id(raw)
    return default if value is None else min(max(value, low), high)


def _paged(request, resources) -> tuple:
    """The page's slice of `resources` (by name) and where it lies; one COUNT query."""
    per_page = _bounded_int(request.GET.get("rows"), ROWS_DEFAULT, ROWS_MIN, ROWS_MAX)
    total = resources.count()
    pages = max(1, -(-total // per_page))
    paging = Paging(_bounded_int(request.GET.get("page"), 1, 1, pages), pages, per_page, total)
    return resources.order_by("name", "id")[paging.first_row : paging.first_row + per_page], paging


def _filtered_resources(request, resources):
    type_id = parse_id(request.GET.get("type"))
    if type_id is not None:
        resources = resources.filter(type_id=type_id)
    search = request.GET.get("q", "").strip()[:SEARCH_MAX]
    if search:
        resources = resources.filter(name__icontains=search)
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
    resources, paging = _paged(request, _filtered_resources(request, restrict(user, Resource.objects.all())))
    rows = resource_calendar(
        resources=resources,
        bookings=restrict(user, Booking.objects.all()),
        rng=rng,
        include_cancelled=request.GET.get("cancelled") != "hide",
    )
    change_prefix = reverse("admin:scheduling_booking_changelist", current_app=model_admin.admin_site.name)
    day_link = lambda day: _link(request, view=DAY, date=day.isoformat())  # noqa: E731
    fills = session_fills({p.item.session_id for row in rows for p in row.bookings if p.item.session_id})
    for row in rows:
        row.booking_html = booking_blocks(row.bookings, change_prefix, rng, day_link, fills)
        row.buffer_html = buffer_bands(row.bookings, rng)
    shown = Resource.objects.filter(pk__in=[row.resource.pk for row in rows])
    bookable = set(permitted_resources(user, "add", Booking, shown).values_list("pk", flat=True))
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
        zone_choices=_zone_choices(request, rows, mine, rng.zone),
        paging=paging,
        page_links={
            "previous": _link(request, page=paging.page - 1) if paging.page > 1 else None,
            "next": _link(request, page=paging.page + 1) if paging.page < paging.pages else None,
        },
        search=request.GET.get("q", "")[:SEARCH_MAX],
        move_url=reverse("admin:scheduling_booking_move", args=[0], current_app=model_admin.admin_site.name),
    )


BOOKING_BLOCK = (
    '<a class="cal-booking status-{}{}{}" data-booking="{}" data-group="{}" data-start="{}" data-end="{}" href="{}{}/change/" '
    'style="left:{}%;width:{}%" title="{} — {}–{} ({}){}"><span class="cal-time">{}</span> {}{}'
    '<span class="cal-resize" aria-hidden="true"></span></a>'
)
DENSE_BLOCK = '<a class="cal-dense" href="{}" style="left:{}%;width:{}%" title="{} bookings on {} — open the day">{} bookings</a>'


def linked_marks(b) -> tuple[str, str, str, str]:
    """A part of a group is linked to its siblings (data-group), an occurrence of a series marked ↻."""
    classes = (" in-group" if b.group_id else "") + (" in-series" if b.series_id else "")
    notes = (f" · group {b.group_id}" if b.group_id else "") + (f" · series {b.series_id}" if b.series_id else "")
    return classes, b.group_id or "", notes, " ↻" if b.series_id else ""


def session_fills(session_ids: set[int]) -> dict[int, str]:
    """"18/20, 3 waiting" per session shown (one query, none when no class is on the page)."""
    if not session_ids:
        return {}
    counts = Session.objects.filter(pk__in=session_ids).annotate(
        held=Count("attendances", filter=Q(attendances__status__in=SEAT_HOLDING)),
        waiting=Count("attendances", filter=Q(attendances__status=AttendanceStatus.WAITLISTED)),
    )
    return {s.pk: f"{s.held}/{s.seats}" + (f", {s.waiting} waiting" if s.waiting else "") for s in counts}


def booking_blocks(placed, change_prefix: str, rng: CalendarRange | None = None, day_link=None, fills: dict[int, str] | None = None):
    """The booking blocks of one row, rendered here rather than in the template: a busy week holds
    thousands of blocks, and per-block template lookups, {% url %} and date filters cost ~90 % of the
    page (docs/performance.md). The markup is the template's, escaped by format_html.

    In a week, a day holding more than DENSE_PER_DAY bookings of the row is one block with the count,
    opening that day (`day_link(date)`): the week stays legible, never "1" or "0" fragments."""

    zone = timezone.get_current_timezone()
    by_day = defaultdict(list)
    for p in placed:
        by_day[p.item.start_at.astimezone(zone).date()].append(p)
    dense = {day for day, found in by_day.items() if len(found) > DENSE_PER_DAY} if rng is not None and rng.view == WEEK else set()

    def block(p):
        b = p.item
        start, end = b.start_at.astimezone(zone), b.end_at.astimezone(zone)
        # The template's date:"D j M H:i" and date:"H:i" (English names, as the admin here).
        title_start = f"{start:%a} {start.day} {start:%b %H:%M}"
        narrow = " cal-narrow" if p.width < NARROW else ""
        classes, group, notes, mark = linked_marks(b)
        who = f"{b.who} ({fills[b.session_id]})" if fills and b.session_id in fills else b.who
        return (
            b.status, narrow, classes, b.pk, group, b.start_at.isoformat(), b.end_at.isoformat(), change_prefix, b.pk,
            f"{p.left:.4f}", f"{p.width:.4f}", who, title_start, f"{end:%H:%M}", b.get_status_display(), notes,
            f"{start:%H:%M}", who, mark,
        )  # fmt: skip

    def dense_block(day):
        left, width = rng.span(
            dt.datetime.combine(day, dt.time(0), tzinfo=zone), dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        )
        count = len(by_day[day])
        return (day_link(day), f"{left:.4f}", f"{width:.4f}", count, f"{day:%a} {day.day} {day:%b}", count)

    blocks = format_html_join("", BOOKING_BLOCK, (block(p) for p in placed if p.item.start_at.astimezone(zone).date() not in dense))
    if not dense:
        return blocks
    return blocks + format_html_join("", DENSE_BLOCK, (dense_block(day) for day in sorted(dense)))


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


# --- Moving a booking (drag, resize, keyboard) -----------------------------------------------------


def move_view(model_admin, request, object_id: int):
    """POST `start_at`, `end_at` (ISO 8601 with an offset) and optionally `resource`: the booking
    service's edit, decided with the user, answered in JSON (docs/spec.md §12.9)."""
    if request.method != "POST":
        return JsonResponse({"error": "Use POST."}, status=405, headers={"Allow": "POST"})
    user = request.user
    booking = get_object_or_404(restrict(user, Booking.objects.all()), pk=object_id)
    changes = {}
    for name in ("start_at", "end_at"):
        try:
            value = parse_datetime(request.POST.get(name, "").strip().replace(" ", "+"))
        except ValueError:
            value = None
        if value is None or timezone.is_naive(value):
            return JsonResponse({"error": "Give the new start and end as dates and times with their offset."}, status=400)
        changes[name] = value
    if request.POST.get("resource"):
        resource = restrict(user, Resource.objects.all()).filter(pk=parse_id(request.POST["resource"])).first()
        if resource is None:
            return JsonResponse({"error": "That resource does not exist or is not visible to you."}, status=400)
        changes["resource"] = resource
    try:
        booking = booking_edit(booking=booking, by=user, changes=changes)
    except BookingConflict as conflict:
        lines = describe_conflicts(conflict.conflicts)
        return JsonResponse({"error": " ".join(lines), "conflicts": lines}, status=409)
    except PartOfGroup:
        # A group's parts move together (docs/spec.md §14): from the group, not one block.
        return JsonResponse({"error": f"This booking is part of group {booking.group_id}; move the group instead."}, status=409)
    except PermissionDenied as denied:
        return JsonResponse({"error": str(denied)}, status=403)
    except ValidationError as invalid:
        return JsonResponse({"error": " ".join(for_people(m) for m in invalid.messages)}, status=400)
    return JsonResponse({
        "id": booking.pk,
        "resource": booking.resource_id,
        "start_at": booking.start_at.isoformat(),
        "end_at": booking.end_at.isoformat(),
        "label": local_span(booking.start_at, booking.end_at),
    })  # fmt: skip

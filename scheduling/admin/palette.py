"""Admin: the command palette's entries and its "available now" answer, per user (A.6)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from scheduling.ids import parse_id
from scheduling.models import Booking, Resource, ResourceType
from scheduling.permissions import can, can_view_reports, permitted_resources, restrict
from scheduling.services.availability import available_resources

# "Free now" means free for this long from the current minute; the "book" link prefills it.
NOW_SPAN = dt.timedelta(minutes=30)


def _entry(label: str, keywords: str = "", **target) -> dict:
    return {"label": label, "keywords": keywords, **target}


def booking_add_url(resource: Resource | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None) -> str:
    query = {}
    if resource is not None:
        query["resource"] = resource.pk
    if start is not None:
        query.update(start_at=start.isoformat(), end_at=end.isoformat())
    url = reverse("admin:scheduling_booking_add")
    return f"{url}?{urlencode(query)}" if query else url


def palette_entries(user) -> list[dict]:
    entries = []
    if can(user, "add", model=Booking):
        entries.append(_entry("New booking", "add create book", url=booking_add_url()))
    if can(user, "view", model=Booking):
        today = timezone.localdate()
        query = urlencode({"start_at__year": today.year, "start_at__month": today.month, "start_at__day": today.day})
        entries.append(_entry("Today's bookings", "list day", url=f"{reverse('admin:scheduling_booking_changelist')}?{query}"))
        entries.append(_entry("Booking board", "kanban status", url=reverse("admin:scheduling_booking_board")))
        if can_view_reports(user):
            entries.append(_entry("Utilisation", "report usage", url=reverse("admin:scheduling_utilisation")))
    if can(user, "view", model=Resource):
        entries.append(_entry("Resource calendar", "week day schedule", url=reverse("admin:scheduling_resource_calendar")))
        for resource_type in restrict(user, ResourceType.objects.all()):
            available = reverse("admin:scheduling_available_now") + "?" + urlencode({"type": resource_type.pk})
            entries.append(_entry(f"Available {resource_type.name} now", "free availability", available_url=available))
    return entries


def palette_view(model_admin, request):
    return JsonResponse({"entries": palette_entries(request.user)})


def available_now_view(model_admin, request):
    """The visible resources of `type` free for [now, now + NOW_SPAN), with a "book" link where allowed."""
    user = request.user
    if not can(user, "view", model=Resource):
        raise PermissionDenied
    resource_type = get_object_or_404(restrict(user, ResourceType.objects.all()), pk=parse_id(request.GET.get("type")))
    start = timezone.now().replace(second=0, microsecond=0)
    end = start + NOW_SPAN
    free = available_resources(resource_type, start, end, user=user)
    ids = [resource.pk for resource in free]
    bookable = set(permitted_resources(user, "add", Booking, Resource.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    return JsonResponse(
        {
            "type": resource_type.name,
            "start_at": start.isoformat(),
            "end_at": end.isoformat(),
            "resources": [
                {
                    "id": resource.pk,
                    "name": resource.name,
                    "url": reverse("admin:scheduling_resource_change", args=[resource.pk]),
                    "book_url": booking_add_url(resource, start, end) if resource.pk in bookable else None,
                }
                for resource in free
            ],
        }
    )

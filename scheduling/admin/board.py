"""Admin: the booking board — one column per status; moving a card is a status transition (docs/spec.md §8.5)."""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from scheduling.admin.forms import transition_refusal
from scheduling.admin.pages import wide_page
from scheduling.audit import audit_context
from scheduling.models import Booking
from scheduling.permissions import permitted_resources, restrict
from scheduling.models import BookingStatus
from scheduling.services.bookings import TRANSITIONS, booking_transition
from scheduling.admin.layout import board_columns
from scheduling.services.errors import InvalidTransition


def board_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        # The changelist's own filters, search and date hierarchy, from the same query string.
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        return HttpResponseRedirect(f"{request.path}?e=1")
    columns = board_columns(changelist.queryset)
    for column in columns:
        for card in column.cards:
            card.has_next_status = bool(TRANSITIONS[card.status])  # a final status has no menu
    shown = {booking.resource_id for column in columns for booking in column.cards}
    movable = set(permitted_resources(request.user, "change", Booking).filter(pk__in=shown).values_list("pk", flat=True))
    return wide_page(
        model_admin,
        request,
        "admin/scheduling/board.html",
        "Booking board",
        cl=changelist,
        columns=columns,
        movable=movable,
        # The status menu of a card offers the life cycle's next steps (the server decides anyway).
        transitions={
            status: [[to, BookingStatus(to).label] for to in BookingStatus.values if to in TRANSITIONS[status]]
            for status in BookingStatus.values
        },
        transition_url=reverse("admin:scheduling_booking_transition", args=[0], current_app=model_admin.admin_site.name),
        list_url=reverse("admin:scheduling_booking_changelist", current_app=model_admin.admin_site.name),
    )


def transition_view(model_admin, request, object_id: int):
    """POST `to_status`: the booking service's transition, decided with the user, answered in JSON."""
    if request.method != "POST":
        return JsonResponse({"error": "Use POST."}, status=405, headers={"Allow": "POST"})
    booking = get_object_or_404(restrict(request.user, Booking.objects.all()), pk=object_id)
    try:
        with audit_context(channel="board"):
            booking_transition(booking=booking, to_status=request.POST.get("to_status", ""), by=request.user)
    except PermissionDenied as denied:
        return JsonResponse({"error": str(denied)}, status=403)
    except InvalidTransition as refused:
        return JsonResponse({"error": transition_refusal(refused)}, status=409)
    except ValidationError as invalid:
        return JsonResponse({"error": " ".join(invalid.messages)}, status=400)
    return JsonResponse({"id": booking.pk, "status": booking.status, "status_display": booking.get_status_display()})

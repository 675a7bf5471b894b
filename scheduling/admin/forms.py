"""The admin's booking form: it explains conflicts, and saves through the booking service.

The form asks the same availability question as the service (a read) so that a conflicting save is
a form error listing each conflict; the write itself is `booking_create` / `booking_update` /
`booking_transition`, which re-check inside their transaction (see `ConflictSafeChangeform` for a
race between the two).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from scheduling.engine import Conflict
from scheduling.models import (
    OCCUPYING_STATUSES,
    Booking,
    BookingStatus,
    ScheduleException,
)
from scheduling.permissions import permitted_resources, restrict
from scheduling.services import bookings as booking_service
from scheduling.services.availability import validate_interval
from scheduling.services.bookings import booking_conflicts
from scheduling.services.errors import BookingConflict

SERVICE_FIELDS = ("resource", "customer", "start_at", "end_at", "notes", "override_availability")


# --- Describing conflicts in the viewer's time zone -------------------------------------------------


def local_span(start: dt.datetime, end: dt.datetime) -> str:
    start, end = timezone.localtime(start), timezone.localtime(end)
    first = f"{start:%a} {start.day} {start:%b %Y %H:%M}"
    if start.date() == end.date():
        return f"{first}–{end:%H:%M}"
    return f"{first} – {end:%a} {end.day} {end:%b %Y %H:%M}"


def describe_conflicts(conflicts: list[Conflict]) -> list[str]:
    """One sentence per conflict (two queries at most, for the bookings' customers and the exceptions)."""
    booking_ids = [c.id for c in conflicts if c.kind == "booking"]
    exception_ids = [c.id for c in conflicts if c.kind == "exception"]
    customers = dict(Booking.objects.filter(pk__in=booking_ids).values_list("pk", "customer__name")) if booking_ids else {}
    reasons = dict(ScheduleException.objects.filter(pk__in=exception_ids).values_list("pk", "reason")) if exception_ids else {}
    lines = []
    for c in conflicts:
        when = local_span(c.start_at, c.end_at)
        if c.kind == "inactive_resource":
            lines.append("The resource is inactive.")
        elif c.kind == "booking":
            lines.append(f"Overlaps booking #{c.id} ({customers.get(c.id, 'unknown customer')}, {c.status}) {when}")
        elif c.kind == "exception":
            lines.append(f'Overlaps exception "{reasons.get(c.id) or "blocked"}" {when}')
        else:
            lines.append(f"Outside working hours: {when}")
    return lines


# --- The form ---------------------------------------------------------------------------------------


class BookingAdminForm(forms.ModelForm):
    """Set `user` on the class (ModelAdmin.get_form does) before use."""

    user = None

    class Meta:
        model = Booking
        fields = ["resource", "customer", "start_at", "end_at", "status", "notes", "override_availability"]
        labels = {"override_availability": "Override availability"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance.pk is None
        if "resource" in self.fields:
            self.fields["resource"].queryset = permitted_resources(self.user, "add" if adding else "change", Booking).select_related("type")
        if "customer" in self.fields:
            self.fields["customer"].queryset = restrict(self.user, self.fields["customer"].queryset)
        if "status" in self.fields:
            self.fields["status"].choices = [(value, label) for value, label in BookingStatus.choices if value in self._allowed_statuses()]

    def _allowed_statuses(self) -> set[str]:
        if self.instance.pk is None:
            return set(booking_service.CREATABLE_STATUSES)
        current = self.initial.get("status", self.instance.status)
        return {current} | booking_service.TRANSITIONS[current]

    def _resource(self):
        if "resource" in self.fields:
            return self.cleaned_data.get("resource")
        return self.instance.resource if self.instance.resource_id else None

    def _needs_check(self, status: str) -> bool:
        if status not in OCCUPYING_STATUSES:
            return False  # a cancelled booking holds no time
        return self.instance.pk is None or booking_service.needs_recheck(self.changed_data)

    def clean(self):
        data = super().clean()
        resource, start, end = self._resource(), data.get("start_at"), data.get("end_at")
        if resource is None or start is None or end is None:
            return data
        try:
            validate_interval(start, end)
        except ValidationError as error:
            self.add_error(None, error)
            return data
        if self._needs_check(data.get("status", self.instance.status)):
            self._add_conflicts(resource, start, end, override=data.get("override_availability", self.instance.override_availability))
        return data

    def _add_conflicts(self, resource, start, end, *, override: bool) -> None:
        blocking = booking_conflicts(
            resource=resource, start_at=start, end_at=end, override_availability=override, ignore_booking=self.instance.pk
        )
        if not blocking:
            return
        lines = describe_conflicts(blocking)
        if "override_availability" in self.fields and all(c.kind in booking_service.OVERRIDABLE_KINDS for c in blocking):
            lines.append('Tick "override availability" to book it anyway.')
        for line in lines:
            self.add_error(None, line)


def save_booking_form(form: BookingAdminForm, *, user) -> Booking:
    """Write a valid booking form through the service; `form.instance` becomes the saved booking."""
    data = form.cleaned_data
    booking = form.instance
    if booking.pk is None:
        created = booking_service.booking_create(
            resource=data.get("resource") or booking.resource,
            customer=data["customer"],
            start_at=data["start_at"],
            end_at=data["end_at"],
            status=data.get("status", BookingStatus.PENDING),
            notes=data.get("notes", ""),
            created_by=user,
            override_availability=data.get("override_availability", False),
        )
        for model_field in Booking._meta.concrete_fields:
            setattr(booking, model_field.attname, getattr(created, model_field.attname))
        return booking
    previous, status = form.initial["status"], data.get("status", form.initial["status"])
    changes = {name: data[name] for name in SERVICE_FIELDS if name in data}
    # Leaving the occupying statuses first means a cancelled booking may also be moved freely.
    frees_time = status != previous and status not in OCCUPYING_STATUSES
    if frees_time:
        booking_service.booking_transition(booking=booking, to_status=status, by=user)
    booking_service.booking_update(booking=booking, **changes)
    if status != previous and not frees_time:
        booking_service.booking_transition(booking=booking, to_status=status, by=user)
    return booking


def initial_from_query(query) -> dict:
    """The add form's prefill: `resource`, and `start_at` / `end_at` in ISO 8601 (viewer's zone if naive)."""
    initial = {}
    if query.get("resource", "").isdigit():
        initial["resource"] = query["resource"]
    for name in ("start_at", "end_at"):
        # A "+" that was not URL-encoded arrives as a space.
        raw = query.get(name, "").strip().replace(" ", "+")
        try:
            value = parse_datetime(raw)
        except ValueError:
            value = None
        if value is not None:
            initial[name] = value if timezone.is_aware(value) else timezone.make_aware(value)
    return initial


class ConflictSafeChangeform:
    """ModelAdmin mixin: a booking that another writer saved between the form's check and the write.

    The admin's transaction is rolled back; showing the form again turns the conflict into a form
    error, since the check now sees the winner. Should it lose a second race, a message says why.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BookingConflict:
            pass
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BookingConflict as conflict:
            for line in describe_conflicts(conflict.conflicts):
                messages.error(request, line)
            return HttpResponseRedirect(request.get_full_path())

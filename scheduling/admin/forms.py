"""The admin's booking form: it translates the booking service's decision into form errors.

`clean()` asks the service what the write would do (`booking_refusal`, a dry run of the same
decision, with the same actor), so a refused save is a form error listing each conflict; the write
itself is `booking_create` / `booking_edit`, which decide again inside their transaction (see
`ConflictSafeChangeform` for a race between the two).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from scheduling.engine import Conflict, ConflictKind
from scheduling.ids import parse_id
from scheduling.models import Booking, BookingStatus, ScheduleException
from scheduling.permissions import permitted_resources, restrict
from scheduling.services import bookings as booking_service
from scheduling.services.errors import BookingConflict, InvalidTransition


# --- Describing conflicts in the viewer's time zone -------------------------------------------------


def local_span(start: dt.datetime, end: dt.datetime) -> str:
    start, end = timezone.localtime(start), timezone.localtime(end)
    first = f"{start:%a} {start.day} {start:%b %Y %H:%M}"
    if start.date() == end.date():
        return f"{first}–{end:%H:%M}"
    return f"{first} – {end:%a} {end.day} {end:%b %Y %H:%M}"


def describe_conflicts(conflicts: list[Conflict]) -> list[str]:
    """One sentence per conflict (two queries at most, for the bookings' customers and the exceptions)."""
    booking_ids = [c.id for c in conflicts if c.kind == ConflictKind.BOOKING]
    exception_ids = [c.id for c in conflicts if c.kind == ConflictKind.EXCEPTION]
    customers = dict(Booking.objects.filter(pk__in=booking_ids).values_list("pk", "customer__name")) if booking_ids else {}
    reasons = dict(ScheduleException.objects.filter(pk__in=exception_ids).values_list("pk", "reason")) if exception_ids else {}
    lines = []
    for c in conflicts:
        when = local_span(c.start_at, c.end_at)
        if c.kind == ConflictKind.INACTIVE_RESOURCE:
            lines.append("The resource is inactive.")
        elif c.kind == ConflictKind.BOOKING:
            lines.append(f"Overlaps booking #{c.id} ({customers.get(c.id, 'unknown customer')}, {c.status}) {when}")
        elif c.kind == ConflictKind.EXCEPTION:
            lines.append(f'Overlaps exception "{reasons.get(c.id) or "blocked"}" {when}')
        elif c.kind == ConflictKind.POLICY:
            lines.append(f"Booking rule {c.rule}: {c.detail}")
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

    def service_changes(self) -> dict:
        """The cleaned values of the fields that the booking service writes."""
        changes = {name: self.cleaned_data[name] for name in booking_service.EDITABLE_FIELDS if name in self.cleaned_data}
        if "resource" not in changes and self.instance.resource_id is not None:
            changes["resource"] = self.instance.resource  # an inline row: its parent's resource
        return changes

    def requested_status(self) -> str:
        return self.cleaned_data.get("status") or self.instance.status or BookingStatus.PENDING

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            booking_service.booking_refusal(
                by=self.user,
                booking=self.instance if self.instance.pk else None,
                changes=self.service_changes(),
                to_status=self.requested_status(),
            )
        except BookingConflict as conflict:
            self._add_conflicts(conflict.conflicts)
        except InvalidTransition as refused:
            self.add_error("status" if "status" in self.fields else None, str(refused))
        except PermissionDenied as denied:
            self.add_error(None, str(denied))
        except ValidationError as invalid:
            for name, messages_ in invalid.message_dict.items():
                for message in messages_:
                    self.add_error(name if name in self.fields else None, message)
        return data

    def _add_conflicts(self, conflicts: list[Conflict]) -> None:
        lines = describe_conflicts(conflicts)
        if "override_availability" in self.fields and all(c.overridable for c in conflicts):
            lines.append('Tick "override availability" to book it anyway.')
        for line in lines:
            self.add_error(None, line)


def save_booking_form(form: BookingAdminForm, *, user) -> Booking:
    """Write a valid booking form through the service; `form.instance` becomes the saved booking."""
    booking, changes = form.instance, form.service_changes()
    if booking.pk is None:
        created = booking_service.booking_create(by=user, status=form.requested_status(), **changes)
        for model_field in Booking._meta.concrete_fields:
            setattr(booking, model_field.attname, getattr(created, model_field.attname))
        return booking
    return booking_service.booking_edit(booking=booking, by=user, changes=changes, to_status=form.requested_status())


def initial_from_query(query) -> dict:
    """The add form's prefill: `resource`, and `start_at` / `end_at` in ISO 8601 (viewer's zone if naive)."""
    initial = {}
    resource_id = parse_id(query.get("resource"))
    if resource_id is not None:
        initial["resource"] = resource_id
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

"""The admin's booking form: it translates the booking service's decision into form errors.

`clean()` asks the service what the write would do (`booking_refusal`, a dry run of the same
decision, with the same actor), so a refused save is a form error listing each conflict; the write
itself is `booking_create` / `booking_edit`, which decide again inside their transaction (see
`ConflictSafeChangeform` for a race between the two).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

from scheduling.engine import Conflict, ConflictKind
from scheduling.ids import parse_id
from scheduling.models import Booking, BookingStatus, Resource, ScheduleException
from scheduling.permissions import permitted_resources, restrict
from scheduling.services import availability
from scheduling.services import bookings as booking_service
from scheduling.services.errors import BookingConflict, InvalidTransition


# --- Describing conflicts in the viewer's time zone -------------------------------------------------


def local_span(start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """"Mon 2 Mar 2026 10:00–11:00 (Europe/Warsaw)": in `zone` (the viewer's by default), named."""
    zone = zone or timezone.get_current_timezone()
    start, end = timezone.localtime(start, zone), timezone.localtime(end, zone)
    first = formats.date_format(start, "DATETIME_FORMAT")
    if start.date() == end.date():
        return f"{first}–{formats.time_format(end, 'TIME_FORMAT')} ({zone.key})"
    return f"{first} – {formats.date_format(end, 'DATETIME_FORMAT')} ({zone.key})"


def booking_label(booking: Booking) -> str:
    """How the admin names a booking: "#12 Ola Zielińska · Room A · Mon 2 Mar 2026 10:00–11:00 (Europe/Warsaw)"."""
    return f"#{booking.pk} {booking.who} · {booking.resource.name} · {local_span(booking.start_at, booking.end_at)}"


def describe_conflicts(conflicts: list[Conflict], zone: zoneinfo.ZoneInfo | None = None) -> list[str]:
    """One sentence per conflict (two queries at most, for the bookings' customers and the exceptions)."""
    booking_ids = [c.id for c in conflicts if c.kind == ConflictKind.BOOKING]
    exception_ids = [c.id for c in conflicts if c.kind == ConflictKind.EXCEPTION]
    customers = dict(Booking.objects.filter(pk__in=booking_ids).values_list("pk", "customer__name")) if booking_ids else {}
    reasons = dict(ScheduleException.objects.filter(pk__in=exception_ids).values_list("pk", "reason")) if exception_ids else {}
    lines = []
    for c in conflicts:
        when = local_span(c.start_at, c.end_at, zone)
        if c.kind == ConflictKind.INACTIVE_RESOURCE:
            lines.append("The resource is inactive.")
        elif c.kind == ConflictKind.BOOKING:
            status = BookingStatus(c.status).label.lower() if c.status in BookingStatus.values else c.status
            lines.append(f"Overlaps booking #{c.id} ({customers.get(c.id) or 'a class' if c.id in customers else 'unknown customer'}, {status}) {when}")
        elif c.kind == ConflictKind.EXCEPTION:
            lines.append(f'Overlaps exception "{reasons.get(c.id) or "blocked"}" {when}')
        elif c.kind == ConflictKind.POLICY:
            lines.append(f"Booking rule {c.rule}: {c.detail}")
        elif c.kind == ConflictKind.CAPACITY:
            lines.append(f"Only {c.remaining} unit{'s' if c.remaining != 1 else ''} of the pool free {when}")
        else:
            lines.append(f"Outside working hours: {when}")
    return lines


# --- Speaking to people ------------------------------------------------------------------------------

FIELD_NAMES = re.compile(r" \((start_at|end_at|start|end)\)")


def for_people(message: str) -> str:
    """A service message without the API's field names ("The end (end_at) must be…" → "The end must be…")."""
    return FIELD_NAMES.sub("", message)


def status_word(status: str) -> str:
    return BookingStatus(status).label.lower() if status in BookingStatus.values else status


def transition_refusal(refused: InvalidTransition) -> str:
    return f"A {status_word(refused.current)} booking cannot become {status_word(refused.requested)}."


SUGGESTED_SLOTS = 3
SUGGESTED_RESOURCES = 5
SUGGESTION_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Suggestion:
    """One click-away alternative to a refused time: a resource and an interval (UTC)."""

    resource: Resource
    start_at: dt.datetime
    end_at: dt.datetime

    @property
    def label(self) -> str:
        return local_span(self.start_at, self.end_at)


def suggestions_for(user, resource: Resource, start: dt.datetime, end: dt.datetime) -> dict:
    """The next free slots of `resource` from `start` (same length), and other free resources of its
    type for [start, end) that `user` may book."""
    duration = end - start
    try:
        slots = availability.free_slots(resource, start, start + SUGGESTION_WINDOW, duration, limit=SUGGESTED_SLOTS)
        others = [r for r in availability.available_resources(resource.type, start, end, user=user) if r.pk != resource.pk]
    except ValidationError:
        return {"slots": [], "resources": []}
    bookable = set(permitted_resources(user, "add", Booking).filter(pk__in=[r.pk for r in others]).values_list("pk", flat=True))
    return {
        "slots": [Suggestion(resource, a, b) for a, b in slots],
        "resources": [Suggestion(r, start, end) for r in others if r.pk in bookable][:SUGGESTED_RESOURCES],
    }


# --- The form ---------------------------------------------------------------------------------------

MINE, RESOURCE_ZONE = "mine", "resource"


class ZonedResourceSelect(forms.Select):
    """The resource choice, each option carrying its resource's zone for the form's zone preview."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        resource = getattr(value, "instance", None)
        if resource is not None:
            option["attrs"]["data-zone"] = resource.timezone
        return option


class BookingAdminForm(forms.ModelForm):
    """Set `user` on the class (ModelAdmin.get_form does) before use.

    Start and end are typed in the resource's zone by default (`input_zone`), since the booking is
    an appointment at that place and its e-mail speaks that zone; the other zone is shown beside
    (static/scheduling/booking_form.js). A post without `input_zone` reads them in the user's zone.
    """

    user = None
    input_zone = forms.ChoiceField(
        label="Times typed in",
        choices=((RESOURCE_ZONE, "The resource's time zone"), (MINE, "My time zone")),
        initial=RESOURCE_ZONE,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "sched-input-zone"}),
    )

    class Meta:
        model = Booking
        fields = ["resource", "customer", "input_zone", "start_at", "end_at", "quantity", "status", "notes", "override_availability"]
        labels = {"override_availability": "Override availability", "start_at": "Start", "end_at": "End"}

    class Media:
        js = ["scheduling/booking_form.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._show_zones()
        adding = self.instance.pk is None
        if "resource" in self.fields:
            self.fields["resource"].queryset = permitted_resources(self.user, "add" if adding else "change", Booking).select_related("type")
        if "customer" in self.fields:
            self.fields["customer"].queryset = restrict(self.user, self.fields["customer"].queryset)
        if "status" in self.fields:
            self.fields["status"].choices = [(value, label) for value, label in BookingStatus.choices if value in self._allowed_statuses()]
        if "quantity" in self.fields:
            # Left out of a post (a form from before pools, a script): the booking's, or one unit.
            self.fields["quantity"].required = False

    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        return (self.instance.quantity or 1) if quantity is None else quantity

    def _initial_resource_zone(self) -> zoneinfo.ZoneInfo | None:
        if self.instance.resource_id is not None:
            return self.instance.resource.zone
        resource_id = parse_id(str(self.initial.get("resource") or ""))
        if resource_id is None:
            return None
        name = Resource.objects.filter(pk=resource_id).values_list("timezone", flat=True).first()
        return zoneinfo.ZoneInfo(name) if name else None

    def _show_zones(self) -> None:
        if "input_zone" not in self.fields:
            return
        mine = timezone.get_current_timezone()
        field = self.fields["input_zone"]
        field.widget.attrs["data-my-zone"] = mine.key
        resource_zone = self._initial_resource_zone() if not self.is_bound else None
        field.choices = [
            (RESOURCE_ZONE, f"The resource's time zone{f' ({resource_zone.key})' if resource_zone else ''}"),
            (MINE, f"My time zone ({mine.key})"),
        ]
        for name in ("start_at", "end_at"):
            if name in self.fields:
                self.fields[name].help_text = "In the time zone chosen above; the other zone is shown below."
        # Shown in the resource's zone: the initial values as that zone's wall clock.
        if resource_zone is not None and resource_zone.key != mine.key:
            for name in ("start_at", "end_at"):
                value = self.initial.get(name)
                if isinstance(value, dt.datetime) and timezone.is_aware(value):
                    self.initial[name] = timezone.make_naive(value, resource_zone)

    def chosen_zone(self, data) -> zoneinfo.ZoneInfo:
        """The zone the start and end were typed in: the resource's, or the user's own."""
        if data.get("input_zone") == RESOURCE_ZONE:
            resource = data.get("resource") or (self.instance.resource if self.instance.resource_id else None)
            if resource is not None:
                return resource.zone
        return timezone.get_current_timezone()

    def _read_times_in(self, data, zone: zoneinfo.ZoneInfo) -> None:
        # The fields read the typed wall clock in the user's zone; the same wall clock in `zone`.
        for name in ("start_at", "end_at"):
            value = data.get(name)
            if isinstance(value, dt.datetime):
                data[name] = timezone.make_aware(timezone.make_naive(value), zone)

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
        self._zone = self.chosen_zone(data)
        self._read_times_in(data, self._zone)
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
            self.add_error("status" if "status" in self.fields else None, transition_refusal(refused))
        except PermissionDenied as denied:
            self.add_error(None, str(denied))
        except ValidationError as invalid:
            for name, messages_ in invalid.message_dict.items():
                for message in messages_:
                    self.add_error(name if name in self.fields else None, for_people(message))
        return data

    suggestions = None

    def _add_conflicts(self, conflicts: list[Conflict]) -> None:
        lines = describe_conflicts(conflicts, self._zone)
        if "override_availability" in self.fields and all(c.overridable for c in conflicts):
            lines.append('Tick "override availability" to book it anyway.')
        for line in lines:
            self.add_error(None, line)
        changes = self.service_changes()
        resource = changes.get("resource")
        if resource is not None and changes.get("start_at") and changes.get("end_at"):
            with timezone.override(self._zone):
                self.suggestions = suggestions_for(self.user, resource, changes["start_at"], changes["end_at"])


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

"""Admin: groups and series (docs/spec.md §14) — a repeat-and-several-resources booking form with a
preview of each occurrence, and the series' and groups' pages with their occurrences and parts.

The form only translates: the preview is `series_preview` / `group_check`, the save `series_create`
/ `group_create` with the requesting user, and their refusals become form errors.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from scheduling.admin.forms import describe_conflicts, local_span
from scheduling.models import Booking, BookingGroup, BookingSeries, Customer, SeriesMode
from scheduling.permissions import can, permitted_resources, restrict
from scheduling.services import groups as group_service
from scheduling.services import series as series_service
from scheduling.services.errors import GroupConflict, SeriesConflict

WEEKDAYS = [("MO", "Mon"), ("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu"), ("FR", "Fri"), ("SA", "Sat"), ("SU", "Sun")]
NO_REPEAT, WEEKLY = "", "weekly"


class RepeatBookingForm(forms.Form):
    """Several resources and/or a weekly rule. Set `user` before use (the view does)."""

    resources = forms.ModelMultipleChoiceField(queryset=Booking.objects.none(), help_text="Two or more for a group; one or more for a series.")
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    start_at = forms.DateTimeField(help_text="Local time of the first resource, e.g. 2030-03-04 18:00.")
    duration = forms.IntegerField(min_value=1, max_value=24 * 60, initial=60, help_text="Minutes.")
    repeat = forms.ChoiceField(choices=[(NO_REPEAT, "Does not repeat"), (WEEKLY, "Weekly")], required=False)
    weekdays = forms.MultipleChoiceField(choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple)
    interval = forms.IntegerField(min_value=1, max_value=52, initial=1, required=False, help_text="Every N weeks.")
    count = forms.IntegerField(min_value=1, max_value=series_service.MAX_OCCURRENCES, required=False, help_text="Number of occurrences…")
    until = forms.DateField(required=False, help_text="…or the last day (inclusive).")
    mode = forms.ChoiceField(choices=SeriesMode.choices, initial=SeriesMode.ALL_OR_NOTHING)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = permitted_resources(self.user, "add", Booking).select_related("type")
        self.fields["customer"].queryset = restrict(self.user, Customer.objects.all())

    def clean(self):
        data = super().clean()
        resources = list(data.get("resources") or [])
        if not resources or "start_at" not in data or "duration" not in data:
            return data
        zone = min(resources, key=lambda r: r.pk).zone
        start = data["start_at"]
        data["start_at"] = timezone.make_aware(start.replace(tzinfo=None), zone)
        data["end_at"] = data["start_at"] + dt.timedelta(minutes=data["duration"])
        if data.get("repeat") == WEEKLY:
            data["rrule"] = self.rule(data, zone)
        elif len(resources) < 2:
            raise ValidationError("Without a repeat rule, choose two or more resources (one resource: use the booking form).")
        return data

    def rule(self, data, zone) -> str:
        parts = ["FREQ=WEEKLY", f"INTERVAL={data.get('interval') or 1}"]
        if data.get("weekdays"):
            parts.append("BYDAY=" + ",".join(data["weekdays"]))
        if data.get("count"):
            parts.append(f"COUNT={data['count']}")
        elif data.get("until"):
            last = timezone.make_aware(dt.datetime.combine(data["until"], dt.time(23, 59, 59)), zone)
            parts.append(f"UNTIL={last.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}")
        else:
            raise ValidationError({"count": "Give a number of occurrences or a last day."})
        return ";".join(parts)


def repeat_view(model_admin, request):
    """`admin:scheduling_bookingseries_add`: preview with "Preview", write with "Save"."""
    if not can(request.user, "add", model=Booking):
        raise PermissionDenied
    form_class = type("RepeatBookingForm", (RepeatBookingForm,), {"user": request.user})
    form = form_class(request.POST or None, initial={"start_at": request.GET.get("start_at", "")})
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "_save" in request.POST:
                return _save(model_admin, request, data)
            preview = _preview(data)
        except (ValidationError, PermissionDenied, GroupConflict, SeriesConflict) as error:
            _form_error(form, error)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "New series or group",
        "form": form,
        "preview": preview,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/scheduling/bookingseries/repeat.html", context)


def _resources(data):
    return sorted(data["resources"], key=lambda r: r.pk)


def _preview(data) -> list[dict]:
    if "rrule" in data:
        occurrences = series_service.series_preview(resources=_resources(data), start_at=data["start_at"], end_at=data["end_at"], rrule=data["rrule"])
        return [_row(o.start_at, o.end_at, o.conflicts) for o in occurrences]
    check = group_service.group_check(resources=_resources(data), start_at=data["start_at"], end_at=data["end_at"])
    return [_row(data["start_at"], data["end_at"], check.conflicts)]


def _row(start, end, conflicts) -> dict:
    return {"when": local_span(start, end), "ok": not conflicts, "reasons": describe_conflicts([c for _, c in conflicts])}


def _save(model_admin, request, data):
    common = {"by": request.user, "resources": _resources(data), "customer": data["customer"], "start_at": data["start_at"], "end_at": data["end_at"], "notes": data.get("notes", "")}
    if "rrule" in data:
        result = series_service.series_create(rrule=data["rrule"], mode=data["mode"], **common)
        skipped = sum(1 for o in result.occurrences if o.status == series_service.SKIPPED)
        messages.success(request, f"Series {result.series.pk} saved: {len(result.occurrences) - skipped} occurrence(s) booked, {skipped} skipped.")
        return HttpResponseRedirect(reverse("admin:scheduling_bookingseries_change", args=[result.series.pk]))
    group = group_service.group_create(**common)
    messages.success(request, f"Group {group.pk} saved.")
    return HttpResponseRedirect(reverse("admin:scheduling_bookinggroup_change", args=[group.pk]))


def _form_error(form, error) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    elif isinstance(error, GroupConflict):
        form.add_error(None, [f"Resource {r}: {line}" for (r, _), line in zip(error.conflicts, describe_conflicts([c for _, c in error.conflicts]))])
    elif isinstance(error, SeriesConflict):
        form.add_error(None, f"{error} Preview to see which, or choose “Skip conflicts”.")
    else:
        form.add_error(None, str(error) or "You may not make this booking.")


class PartsVisibleAdmin(admin.ModelAdmin):
    """Read-only pages: visible when one part is; changes go through the API's verbs or the bookings."""

    parts_link = "group_id"

    def get_queryset(self, request):
        visible = restrict(request.user, Booking.objects.all()).filter(**{f"{self.parts_link}__isnull": False})
        return super().get_queryset(request).filter(pk__in=visible.values(self.parts_link))

    def has_module_permission(self, request):
        return can(request.user, "view", model=Booking)

    def has_view_permission(self, request, obj=None):
        return can(request.user, "view", model=Booking)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _parts_table(bookings) -> str:
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td><span class="sched-status status-{}">{}</span>{}</td></tr>',
        (
            (reverse("admin:scheduling_booking_change", args=[b.pk]), b.pk, b.resource.name, local_span(b.start_at, b.end_at), b.status, b.get_status_display(), " (detached)" if b.detached else "")
            for b in bookings
        ),
    )
    return format_html('<table class="sched-parts"><tr><th>booking</th><th>resource</th><th>when</th><th>status</th></tr>{}</table>', rows)


@admin.register(BookingGroup)
class BookingGroupAdmin(PartsVisibleAdmin):
    list_display = ["__str__", "customer", "resource_names", "status"]
    list_filter = ["status"]
    fields = ["customer", "start_at", "end_at", "status", "notes", "series", "parts_table"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description="resources")
    def resource_names(self, obj):
        return ", ".join(obj.parts.order_by("resource__name").values_list("resource__name", flat=True))

    @admin.display(description="parts")
    def parts_table(self, obj):
        return _parts_table(obj.parts.select_related("resource").order_by("resource__name"))


@admin.register(BookingSeries)
class BookingSeriesAdmin(PartsVisibleAdmin):
    parts_link = "series_id"
    list_display = ["__str__", "customer", "start_at", "mode"]
    fields = ["customer", "rrule", "start_at", "end_at", "mode", "exception_dates", "notes", "occurrences_table"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return can(request.user, "add", model=Booking)

    def add_view(self, request, form_url="", extra_context=None):
        return repeat_view(self, request)

    @admin.display(description="exception dates")
    def exception_dates(self, obj):
        dates = map(dt.datetime.fromisoformat, series_service.series_exception_dates(obj))
        return ", ".join(f"{timezone.localtime(d):%a %Y-%m-%d %H:%M}" for d in dates) or "—"

    @admin.display(description="occurrences")
    def occurrences_table(self, obj):
        bookings = {b.pk: b for b in Booking.objects.filter(series=obj).select_related("resource")}
        rows = format_html_join(
            "",
            '<tr class="occurrence-{}"><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (o.status, local_span(o.start_at, o.end_at), o.status, ", ".join(f"#{pk} {bookings[pk].resource.name} ({bookings[pk].status})" for pk in o.bookings) or "—")
                for o in series_service.series_occurrences(obj)
            ),
        )
        return format_html('<table class="sched-occurrences"><tr><th>when</th><th>occurrence</th><th>bookings</th></tr>{}</table>', rows)

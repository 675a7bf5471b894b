"""Admin: the scheduling models, and the calendar, board and palette pages hung on them.

Every ModelAdmin and inline asks scheduling.permissions through the adapters in
scheduling/admin/permissions.py; bookings are written through scheduling.services.bookings.
See docs/spec.md §8.
"""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.urls import path
from django.utils import formats, timezone
from django.utils.html import format_html
from guardian.admin import (
    AdminGroupObjectPermissionsForm,
    AdminUserObjectPermissionsForm,
    GuardedModelAdminMixin,
)

from scheduling.admin import board, calendar, palette
from scheduling.admin.forms import (
    BookingAdminForm,
    ZonedResourceSelect,
    booking_label,
    local_span,
    ConflictSafeChangeform,
    initial_from_query,
    save_booking_form,
)
from scheduling.admin.permissions import LayeredPermissionAdmin, LayeredPermissionInline
from scheduling.models import (
    OCCUPYING,
    Availability,
    Booking,
    Customer,
    Resource,
    ResourceType,
    ScheduleException,
)
from scheduling.services import bookings as booking_service
from scheduling.services import resources as resource_service
from scheduling.permissions import (
    BOOK,
    SCHEDULE,
    can_override_availability,
    permitted_resources,
    restrict,
)

PREFILLED = ("resource", "start_at", "end_at")
# Filter choices drawn from the rows the user may see (get_queryset is restricted), so the sidebar
# never names a resource or type beyond the user's grants.
RelatedOnly = admin.RelatedOnlyFieldListFilter


def _wrap(model_admin, view):
    return model_admin.admin_site.admin_view(partial(view, model_admin))


def _local(value):
    # The admin's one format (scheduling_site/formats), in the viewer's zone, which the header names.
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"


class OverrideFieldMixin:
    """The override checkbox exists only for users the permission layer lets override."""

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if can_override_availability(request.user):
            return fields
        return [name for name in fields if name != "override_availability"]

    def get_form_class_for(self, request, form_class):
        return type(form_class.__name__, (form_class,), {"user": request.user})


# --- Resource types and customers -------------------------------------------------------------------


@admin.register(ResourceType)
class ResourceTypeAdmin(LayeredPermissionAdmin):
    list_display = ["name", "swatch", "resource_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        # Count only the resources this user may see, or the number would tell of the others.
        visible = restrict(request.user, Resource.objects.all()).values("pk")
        return super().get_queryset(request).annotate(resource_count=Count("resources", filter=Q(resources__in=visible)))

    @admin.display(description="colour", ordering="color")
    def swatch(self, obj):
        return format_html('<span class="sched-swatch" style="background:{}"></span> {}', obj.color, obj.color)

    @admin.display(description="resources", ordering="resource_count")
    def resource_count(self, obj):
        return obj.resource_count


@admin.register(Customer)
class CustomerAdmin(LayeredPermissionAdmin):
    list_display = ["name", "email", "phone", "booking_count"]
    # Searches the restricted list only: a grant holder finds no customer beyond restrict().
    search_fields = ["name", "email", "phone"]
    ordering = ["name", "id"]  # also the booking form's customer search (autocomplete) pages by it
    readonly_fields = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user  # so a grant holder keeps seeing whom they registered
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        visible = restrict(request.user, Booking.objects.all()).values("pk")
        return super().get_queryset(request).annotate(booking_count=Count("bookings", filter=Q(bookings__in=visible)))

    @admin.display(description="bookings", ordering="booking_count")
    def booking_count(self, obj):
        return obj.booking_count


# --- Availability and exceptions ----------------------------------------------------------------------


class ScheduleRowAdmin(LayeredPermissionAdmin):
    """Availability rows and exceptions: only for resources whose schedule the user may manage."""

    list_select_related = ["resource__type"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "resource":
            kwargs["queryset"] = permitted_resources(request.user, "add", self.model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Availability)
class AvailabilityAdmin(ScheduleRowAdmin):
    list_display = ["resource", "weekday", "start_time", "end_time"]
    list_filter = ["weekday", ("resource__type", RelatedOnly)]
    search_fields = ["resource__name"]


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(ScheduleRowAdmin):
    list_display = ["resource", "starts", "ends", "reason", "kind"]
    list_filter = ["kind", ("resource__type", RelatedOnly)]
    search_fields = ["resource__name", "reason"]
    date_hierarchy = "start_at"

    @admin.display(description="start", ordering="start_at")
    def starts(self, obj):
        return _local(obj.start_at)

    @admin.display(description="end", ordering="end_at")
    def ends(self, obj):
        return _local(obj.end_at)


# --- Resources ----------------------------------------------------------------------------------------


class AvailabilityInline(LayeredPermissionInline, admin.TabularInline):
    model = Availability
    extra = 0


class ScheduleExceptionInline(LayeredPermissionInline, admin.TabularInline):
    model = ScheduleException
    extra = 0


class UpcomingBookingInline(OverrideFieldMixin, LayeredPermissionInline, admin.TabularInline):
    """Bookings not yet ended; saved through the service by ResourceAdmin.save_formset."""

    model = Booking
    form = BookingAdminForm
    fields = ["start_at", "end_at", "customer", "status", "notes", "override_availability"]
    extra = 0
    verbose_name_plural = "upcoming bookings"
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end_at__gt=timezone.now()).select_related("customer")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self.get_form_class_for(request, formset.form)
        return formset


class ObjectGrantMixin:
    """django-guardian's object-permission forms, limited to the two per-resource grants."""

    class UserGrantForm(AdminUserObjectPermissionsForm):
        def get_obj_perms_field_choices(self):
            return [choice for choice in super().get_obj_perms_field_choices() if choice[0] in (BOOK, SCHEDULE)]

    class GroupGrantForm(AdminGroupObjectPermissionsForm):
        def get_obj_perms_field_choices(self):
            return [choice for choice in super().get_obj_perms_field_choices() if choice[0] in (BOOK, SCHEDULE)]

    def get_obj_perms_manage_user_form(self, request):
        return self.UserGrantForm

    def get_obj_perms_manage_group_form(self, request):
        return self.GroupGrantForm


class ResourceAdminForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "capacity" in self.fields:
            # Left out of a post (a form from before pools): the resource's, or one unit.
            self.fields["capacity"].required = False

    def clean_capacity(self):
        capacity = self.cleaned_data.get("capacity")
        if capacity is None:
            capacity = self.instance.capacity or 1
        if self.instance.pk is not None and capacity is not None and capacity != self.initial.get("capacity"):
            try:
                resource_service.resource_capacity_refusal(resource_id=self.instance.pk, capacity=capacity)
            except forms.ValidationError as refused:
                raise forms.ValidationError(refused.message_dict["capacity"]) from None
        return capacity


@admin.register(Resource)
class ResourceAdmin(ConflictSafeChangeform, ObjectGrantMixin, GuardedModelAdminMixin, LayeredPermissionAdmin):
    list_display = ["name", "type", "active", "timezone", "owner"]
    list_filter = [("type", RelatedOnly), "active", "timezone"]
    list_select_related = ["type", "owner"]
    search_fields = ["name", "type__name", "owner__username"]
    inlines = [AvailabilityInline, ScheduleExceptionInline, UpcomingBookingInline]
    change_form_template = "admin/scheduling/resource/change_form.html"
    change_list_template = "admin/scheduling/resource/change_list.html"

    form = ResourceAdminForm

    def save_model(self, request, obj, form, change):
        previous_owner_id = form.initial.get("owner") if change else None
        # The form asked already; the service asks again under the resource's lock (§17.1).
        with resource_service.resource_capacity_change(resource=obj, capacity=obj.capacity if change else None):
            super().save_model(request, obj, form, change)
        if change:  # a new resource's owner gets the grant from the post_save receiver
            resource_service.resource_owner_changed(resource=obj, previous_owner_id=previous_owner_id)

    def get_inlines(self, request, obj):
        # A booking needs a saved resource to be checked against.
        return self.inlines if obj is not None else [AvailabilityInline, ScheduleExceptionInline]

    def get_urls(self):
        return [
            path("calendar/", _wrap(self, calendar.calendar_view), name="scheduling_resource_calendar"),
            path("available-now/", _wrap(self, palette.available_now_view), name="scheduling_available_now"),
        ] + super().get_urls()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Booking:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # fills new/changed/deleted_objects for the change message; writes nothing
        for booking in formset.deleted_objects:
            booking_service.booking_delete(booking=booking, by=request.user)
        for booking_form in formset.forms:
            if booking_form.has_changed() and booking_form not in formset.deleted_forms:
                save_booking_form(booking_form, user=request.user)


# --- Bookings -----------------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Status, with "occupying" (everything but cancelled) for "what holds time"."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("occupying", "Occupying"), *Booking._meta.get_field("status").choices]

    def queryset(self, request, queryset):
        if self.value() == "occupying":
            return queryset.filter(OCCUPYING)
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


@admin.register(Booking)
class BookingAdmin(ConflictSafeChangeform, OverrideFieldMixin, LayeredPermissionAdmin):
    form = BookingAdminForm
    list_display = ["when", "resource", "customer", "status_badge", "override_availability"]
    list_filter = [StatusFilter, ("resource__type", RelatedOnly), ("resource", RelatedOnly), "override_availability"]
    list_select_related = ["resource__type", "customer"]
    search_fields = ["customer__name", "customer__email", "resource__name", "notes"]
    autocomplete_fields = ["customer"]  # a search, not a select of every customer
    date_hierarchy = "start_at"
    readonly_fields = ["created_by", "created_at", "updated_at"]
    change_list_template = "admin/scheduling/booking/change_list.html"

    def get_urls(self):
        return [
            path("board/", _wrap(self, board.board_view), name="scheduling_booking_board"),
            path("<int:object_id>/transition/", _wrap(self, board.transition_view), name="scheduling_booking_transition"),
            path("<int:object_id>/move/", _wrap(self, calendar.move_view), name="scheduling_booking_move"),
            path("palette/", _wrap(self, palette.palette_view), name="scheduling_booking_palette"),
        ] + super().get_urls()

    def get_form(self, request, obj=None, change=False, **kwargs):
        return self.get_form_class_for(request, super().get_form(request, obj, change, **kwargs))

    def get_changeform_initial_data(self, request):
        # Django's own prefill takes any field from the query string as a raw string, which the
        # split date/time widgets cannot show; ours parses the three the calendar and palette send.
        initial = {k: v for k, v in super().get_changeform_initial_data(request).items() if k not in PREFILLED}
        return {**initial, **initial_from_query(request.GET)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = restrict(request.user, Customer.objects.all())
        if db_field.name == "resource":
            kwargs["widget"] = ZonedResourceSelect
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        save_booking_form(form, user=request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if obj is not None and obj.pk is not None:
            # A refused save has put the rejected values on `obj`: name the booking as it is stored.
            stored = Booking.objects.select_related("resource", "customer").get(pk=obj.pk) if form.errors else obj
            context["original"] = stored
            context["subtitle"] = context["stored_label"] = booking_label(stored)
        context["suggestions"] = getattr(form, "suggestions", None)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def delete_model(self, request, obj):
        booking_service.booking_delete(booking=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for booking in queryset:
            booking_service.booking_delete(booking=booking, by=request.user)

    @admin.display(description="when", ordering="start_at")
    def when(self, obj):
        return local_span(obj.start_at, obj.end_at)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="sched-status status-{}">{}</span>', obj.status, obj.get_status_display())

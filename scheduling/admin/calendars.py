"""Admin: calendar subscriptions (busy times in) and resource feeds (out), docs/spec.md §16.

Writes go through `scheduling.services.calendars` and `scheduling.services.feeds`; a subscription
whose last fetch failed shows its error in the list, next to what it imported before.
"""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from scheduling.admin.permissions import LayeredPermissionAdmin
from scheduling.models import CalendarSubscription, ResourceFeed
from scheduling.permissions import permitted_resources
from scheduling.services import calendars, feeds


# The calendars one "Fetch now" may fetch inside a web request.
SYNC_NOW_MAX = 5


@admin.register(CalendarSubscription)
class CalendarSubscriptionAdmin(LayeredPermissionAdmin):
    list_display = ["__str__", "resource", "health", "last_synced_at", "imported"]
    list_filter = [("last_error", admin.EmptyFieldListFilter)]
    search_fields = ["name", "url", "resource__name"]
    list_select_related = ["resource"]
    fields = ["resource", "url", "name", "last_synced_at", "last_error", "next_sync_at"]
    readonly_fields = ["last_synced_at", "last_error", "next_sync_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["sync_now"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "resource":
            kwargs["queryset"] = permitted_resources(request.user, "add", CalendarSubscription)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="status")
    def health(self, obj):
        if obj.last_error:
            return format_html('<span style="color:#b91c1c" title="{}">broken: {}</span>', obj.last_error, obj.last_error[:80])
        return "never fetched" if obj.last_synced_at is None else "ok"

    @admin.display(description="busy times")
    def imported(self, obj):
        return obj.exceptions.count()

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in calendars.EDITABLE_FIELDS}
        if change:
            calendars.calendar_subscription_update(by=request.user, subscription=obj, **fields)
        else:
            form.instance = calendars.calendar_subscription_create(by=request.user, **fields)
            obj.pk = form.instance.pk

    def delete_model(self, request, obj):
        calendars.calendar_subscription_delete(by=request.user, subscription=obj)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            calendars.calendar_subscription_delete(by=request.user, subscription=subscription)

    @admin.action(description="Fetch now", permissions=["change"])
    def sync_now(self, request, queryset):
        # Each fetch runs in this request (30 s fetch + 5 s reading at most): a few at a time.
        if queryset.count() > SYNC_NOW_MAX:
            self.message_user(request, f"Fetch at most {SYNC_NOW_MAX} calendars at a time; the worker fetches every one on its schedule.", messages.ERROR)
            return
        for subscription in queryset.select_related("resource"):
            outcome = calendars.calendar_sync(subscription=subscription, by=request.user)
            level = messages.ERROR if outcome == "failed" else messages.SUCCESS
            self.message_user(request, f"{subscription}: {outcome.replace('_', ' ')}{': ' + subscription.last_error if subscription.last_error else ''}", level)


class ResourceFeedForm(forms.ModelForm):
    class Meta:
        model = ResourceFeed
        fields = ["resource", "details"]


@admin.register(ResourceFeed)
class ResourceFeedAdmin(admin.ModelAdmin):
    """Managers only (model permissions): a feed's URL shows the times of every booking."""

    form = ResourceFeedForm
    list_display = ["resource", "details", "created_at", "path"]
    list_select_related = ["resource"]
    readonly_fields = ["path", "created_at"]
    actions = ["rotate", "revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "resource"] if obj else self.readonly_fields

    @admin.display(description="feed URL")
    def path(self, obj):
        return reverse("resource_feed", args=[obj.token]) if obj and obj.token else "—"

    def save_model(self, request, obj, form, change):
        # A refusal (PermissionDenied) is the admin's 403 page.
        if change:
            feeds.resource_feed_set_details(by=request.user, feed=obj, details=form.cleaned_data["details"])
        else:
            created = feeds.resource_feed_rotate(by=request.user, resource=form.cleaned_data["resource"], details=form.cleaned_data["details"])
            obj.pk, obj.token = created.pk, created.token

    def delete_model(self, request, obj):
        feeds.resource_feed_revoke(by=request.user, feed=obj)

    def delete_queryset(self, request, queryset):
        for feed in queryset.select_related("resource"):
            feeds.resource_feed_revoke(by=request.user, feed=feed)

    @admin.action(description="Rotate the URL (the old one stops working)", permissions=["change"])
    def rotate(self, request, queryset):
        for feed in queryset.select_related("resource"):
            feeds.resource_feed_rotate(by=request.user, resource=feed.resource)
        self.message_user(request, f"{queryset.count()} feed URL(s) replaced.", messages.SUCCESS)

    @admin.action(description="Revoke (the URL stops working; no new one)", permissions=["delete"])
    def revoke(self, request, queryset):
        count = queryset.count()
        self.delete_queryset(request, queryset)
        self.message_user(request, f"{count} feed(s) revoked.", messages.SUCCESS)

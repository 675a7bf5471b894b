"""Admin: managers' webhook endpoints, and each delivery with its attempts (docs/spec.md §15.2).

Deliveries are written and sent only by `scheduling.services.webhooks`; the one verb here is resend.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import ngettext

from scheduling.admin.outbox import OutboxRowAdmin
from scheduling.admin.permissions import LayeredPermissionAdmin
from scheduling.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from scheduling.permissions import can
from scheduling.services.webhooks import secret_or_new, webhook_resend


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "secret", "active"]

    def clean_secret(self):
        return secret_or_new(self.cleaned_data.get("secret"))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(LayeredPermissionAdmin):
    form = WebhookEndpointForm
    list_display = ["id", "url", "event_list", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url"]

    @admin.display(description="events")
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OutboxRowAdmin):
    deleted_with = WebhookEndpoint  # deliveries go with their endpoint

    list_display = ["id", "event", "endpoint", "booking_id", "state", "attempts", "response_status", "next_attempt_at", "sent_at"]
    list_filter = ["state", "event"]
    search_fields = ["message_id", "=booking__id"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [
        "endpoint", "booking", "event", "message_id", "state", "attempts", "response_status", "last_error",
        "attempt_log", "next_attempt_at", "sent_at", "created_at", "updated_at", "body",
    ]  # fmt: skip

    @admin.action(description="Resend selected deliveries", permissions=["resend"])
    def resend(self, request, queryset):
        deliveries = list(queryset)
        with transaction.atomic():
            for delivery in deliveries:
                webhook_resend(delivery=delivery)
        count = len(deliveries)
        self.message_user(
            request, ngettext("%d delivery queued again.", "%d deliveries queued again.", count) % count, messages.SUCCESS
        )

    def has_resend_permission(self, request) -> bool:
        return can(request.user, "change", model=WebhookDelivery)

"""Admin: "My settings" — each staff user chooses the time zone the admin speaks in (docs/spec.md §12.1)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from scheduling.models import _available_timezones
from scheduling.services.preferences import SESSION_KEY, staff_preference_set


class MySettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="My time zone",
        help_text="Every time the back-office shows you, and every time you type, is in this zone unless the page says otherwise.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in sorted(_available_timezones())]


def my_settings_view(request: HttpRequest) -> HttpResponse:
    current = timezone.get_current_timezone_name()
    form = MySettingsForm(request.POST if request.method == "POST" else None, initial={"time_zone": current})
    if request.method == "POST" and form.is_valid():
        try:
            preference = staff_preference_set(by=request.user, user=request.user, time_zone=form.cleaned_data["time_zone"])
        except ValidationError as invalid:
            form.add_error("time_zone", " ".join(invalid.messages))
        else:
            request.session[SESSION_KEY] = preference.time_zone
            messages.success(request, f"Times are now shown in {preference.time_zone}.")
            return HttpResponseRedirect(reverse("admin:scheduling_my_settings"))
    context = admin.site.each_context(request) | {"title": "My settings", "form": form, "current_zone": current}
    return TemplateResponse(request, "admin/scheduling/my_settings.html", context)

"""The back-office's admin site: Django's own, plus the pages that belong to no single model.

Installed as the default site (`scheduling.apps.SchedulingAdminConfig`), so every ModelAdmin
registered with `admin.site` lands here, and the extra pages live under the `admin:` namespace like
the calendar and the board (which hang off their ModelAdmins). It lives outside the
`scheduling.admin` package: importing that package registers the ModelAdmins on `admin.site`, which
must not happen while the default site itself is being built.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import path


class SchedulingAdminSite(admin.AdminSite):
    site_url = None  # "/" only leads back here
    index_title = "Front desk"

    @property
    def site_header(self) -> str:
        return settings.SITE_HEADER

    @property
    def site_title(self) -> str:
        return settings.SITE_TITLE

    def index(self, request, extra_context=None):
        """The front desk's "Today" above Django's own list of models (scheduling/admin/today.py)."""
        from scheduling.admin.today import front_desk

        return super().index(request, {**front_desk(request.user), **(extra_context or {})})

    def get_urls(self):
        from scheduling.admin import my_settings, reports

        return [
            path("scheduling/utilisation/", self.admin_view(reports.utilisation_view), name="scheduling_utilisation"),
            path("my-settings/", self.admin_view(my_settings.my_settings_view), name="scheduling_my_settings"),
        ] + super().get_urls()

"""The back-office's admin site: Django's own, plus the pages that belong to no single model.

Installed as the default site (`scheduling.apps.SchedulingAdminConfig`), so every ModelAdmin
registered with `admin.site` lands here, and the extra pages live under the `admin:` namespace like
the calendar and the board (which hang off their ModelAdmins). It lives outside the
`scheduling.admin` package: importing that package registers the ModelAdmins on `admin.site`, which
must not happen while the default site itself is being built.
"""

from django.contrib import admin
from django.urls import path


class SchedulingAdminSite(admin.AdminSite):
    def get_urls(self):
        from scheduling.admin import reports

        return [
            path("scheduling/utilisation/", self.admin_view(reports.utilisation_view), name="scheduling_utilisation"),
        ] + super().get_urls()

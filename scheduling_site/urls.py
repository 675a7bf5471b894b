"""Top-level routes: the admin back-office, the REST API and the e-mail provider webhooks."""
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("scheduling.api.urls")),
    # Secret ICS feeds of resources, for calendar apps to subscribe to (docs/spec.md §16.2).
    path("feeds/", include("scheduling.feeds")),
    # anymail's tracking webhooks (delivered, bounced…), served only while secured (docs/spec.md §9.7).
    path("anymail/", include("scheduling.webhooks")),
]

# Refusals raised before a view runs (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields):
# JSON under /api/, Django's page elsewhere.
handler400 = "scheduling.api.errors.bad_request"
# A refusal under /admin/ keeps the admin's frame, with a sentence and a way back (docs/spec.md §12.6).
handler403 = "scheduling.admin.refusals.permission_denied"

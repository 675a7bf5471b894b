"""Routes of the REST API, mounted at /api/: the scheduling models under scheduling/, and the schema.

The router's trailing slash is the regex `/?`, so every route answers with and without the slash,
never by redirect. (DRF's constructor turns its argument into a boolean, hence the subclass.)
"""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from scheduling.api import groups, sessions, views


class OptionalSlashRouter(DefaultRouter):
    # No `.json` suffix routes: an id such as "0.5" must reach the view and be a JSON 404.
    include_format_suffixes = False

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        return r"(?P<pk>[^/]+)"


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under /api/: the same JSON 404 as an unknown object, not Django's HTML page.

    CSRF-exempt because it writes nothing: otherwise a POST without a CSRF token (any token client)
    would get the middleware's HTML 403 page instead of the 404."""
    return JsonResponse({"detail": "Not found."}, status=404)


# The API docs pages load only from this site (docs/spec.md §12.8): the browser itself refuses what the
# bundles would fetch elsewhere (ReDoc's footer logo from cdn.redoc.ly has no option to turn it off).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def this_site_only(view):
    def guarded(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    return guarded


router = OptionalSlashRouter()
router.register("resource_type", views.ResourceTypeViewSet, basename="resource_type")
router.register("resource", views.ResourceViewSet, basename="resource")
router.register("customer", views.CustomerViewSet, basename="customer")
router.register("booking", views.BookingViewSet, basename="booking")
router.register("availability", views.AvailabilityViewSet, basename="availability")
router.register("exception", views.ScheduleExceptionViewSet, basename="exception")
router.register("booking_group", groups.BookingGroupViewSet, basename="booking_group")
router.register("series", groups.BookingSeriesViewSet, basename="series")
router.register("session", sessions.SessionViewSet, basename="session")
router.register("webhook", views.WebhookEndpointViewSet, basename="webhook")
router.register("calendar_subscription", views.CalendarSubscriptionViewSet, basename="calendar_subscription")

urlpatterns = [
    path("scheduling/", include(router.urls)),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", this_site_only(SpectacularSwaggerView.as_view(url_name="schema")), name="swagger-ui"),
    re_path(r"^redoc/?$", this_site_only(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    re_path(r"", not_found),
]

"""Activate each signed-in user's own time zone for the request (docs/spec.md §12.1).

Every admin page, form, list and message then shows and reads times in it, with Django's own
`timezone.localtime` and form fields. The REST API keeps its answers in the server's zone (ISO 8601
with the offset), so a client never depends on who else uses the site.
"""

from django.utils import timezone

from scheduling.services.preferences import session_time_zone

API_PREFIX = "/api/"


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) or not request.user.is_authenticated:
            return self.get_response(request)
        with timezone.override(session_time_zone(request)):
            return self.get_response(request)

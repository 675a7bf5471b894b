"""The secret ICS feed route, `/feeds/resource/<token>.ics` (docs/spec.md §16.2).

No login: calendar apps cannot log in, the 256-bit token is the credential. An unknown token is a
plain 404 that says nothing about which tokens exist.
"""

from django.http import Http404, HttpResponse
from django.urls import re_path
from django.views.decorators.http import require_safe

from scheduling.services.feeds import feed_by_token, feed_ics


@require_safe
def resource_feed(request, token: str):
    feed = feed_by_token(token)
    if feed is None:
        raise Http404("No such feed.")
    response = HttpResponse(feed_ics(feed), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [re_path(r"^resource/(?P<token>[A-Za-z0-9_-]{16,128})\.ics$", resource_feed, name="resource_feed")]

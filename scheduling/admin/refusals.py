"""A refusal inside the admin (docs/spec.md §12.6): the admin's frame, a sentence and a way back.

Installed as `handler403`: a signed-in staff user refused a page under the admin sees it in the
admin's own frame (header, their links, the palette); anyone else gets Django's plain 403 page.
"""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

ADMIN_PREFIX = "/admin/"


def permission_denied(request, exception=None):
    user = getattr(request, "user", None)
    if not request.path.startswith(ADMIN_PREFIX) or not (user and user.is_active and user.is_staff):
        return defaults.permission_denied(request, exception)
    referer = request.headers.get("referer", "")
    back = referer if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()) else ""
    context = admin.site.each_context(request) | {
        "title": "You may not open this page",
        "reason": _reason(exception),
        "back_url": back if back and back != request.build_absolute_uri() else "",
        "home_url": reverse("admin:index"),
    }
    response = TemplateResponse(request, "admin/403.html", context, status=403)
    return response.render()


def _reason(exception) -> str:
    # The service's sentences ("You may not change this booking.") are meant for people; Django's
    # bare PermissionDenied() carries none.
    text = str(exception or "").strip()
    return text if text and text != "403 Forbidden" else "Your account does not have the rights this page needs."

"""A staff user's own settings (docs/spec.md §12.1): the time zone the admin shows and reads times in.

The zone is read once per session (at login, or on the first request of an older session) and kept
in the session, so a page costs no query for it; saving the settings refreshes the session copy.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import PermissionDenied

from scheduling.models import StaffPreference

SESSION_KEY = "scheduling_time_zone"


def user_time_zone(user) -> str:
    """The user's chosen zone name, or "" when they have not chosen one (one query)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return StaffPreference.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""


def session_time_zone(request) -> zoneinfo.ZoneInfo:
    """The zone of this request: the session's copy of the user's choice (read once), else `TIME_ZONE`."""
    session = getattr(request, "session", None)
    name = session.get(SESSION_KEY) if session is not None else None
    if name is None:
        name = user_time_zone(request.user)
        if session is not None and request.user.is_authenticated:
            session[SESSION_KEY] = name
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a zone removed from tzdata since it was chosen
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def staff_preference_set(*, by, user, time_zone: str) -> StaffPreference:
    """Save `user`'s time zone; a user changes only their own settings."""
    if by != user:
        raise PermissionDenied("You may change only your own settings.")
    preference = StaffPreference.objects.filter(user=user).first() or StaffPreference(user=user)
    preference.time_zone = time_zone
    preference.full_clean(exclude=["user"])
    preference.save()
    return preference

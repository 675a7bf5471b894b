"""The API's adapter to the permission layer (scheduling.permissions): no rules of its own.

Each view maps its actions to one of "view", "add", "change", "delete" in `permission_actions`
(data, not code); anything not listed is a read for GET and a change otherwise.
"""

from django.http import Http404
from rest_framework.permissions import BasePermission

from scheduling.permissions import can

DEFAULT_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def permission_action(request, view) -> str:
    action = getattr(view, "action", None)
    mapping = {**DEFAULT_ACTIONS, **getattr(view, "permission_actions", {})}
    if action in mapping:
        return mapping[action]
    return "view" if request.method in ("GET", "HEAD", "OPTIONS") else "change"


class LayeredPermission(BasePermission):
    """Before the object is known: could the user do this to some row? With the object: exactly this row.

    Invisible objects never reach here (the view's queryset is restricted, so they are 404); a
    visible object the user may not change is 403.
    """

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = permission_action(request, view)
        if action == "view":
            # Reads are decided by the restricted queryset: a list shows what the user may see
            # (possibly nothing, never 403) and an invisible object is 404.
            return True
        return can(user, action, model=view.get_queryset().model)

    def has_object_permission(self, request, view, obj):
        if not can(request.user, "view", obj):
            raise Http404
        return can(request.user, permission_action(request, view), obj)

"""Who may do what: the one permission layer that the API and the admin both ask (docs/spec.md §7).

Two sources of rights, both read here and nowhere else:
- model permissions, held through the role groups of `scheduling.roles` (or given to a user directly),
  which cover every object of a model;
- per-resource grants stored by django-guardian: `book_resource` and `manage_schedule` on one
  Resource, covering that resource's bookings, or its availability rows and exceptions.

`can(user, action, obj)` answers for one object; with no object it answers "could the user do this
to at least one object" (used before the object is known, e.g. to offer an add button).
`restrict(user, queryset)` filters a list to what the user may see. Nothing here raises: the API
turns an invisible object into 404 and a visible but forbidden one into 403.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from guardian.shortcuts import get_objects_for_user

from scheduling.models import (
    Availability,
    Booking,
    Customer,
    Resource,
    ResourceType,
    ScheduleException,
)

BOOK = "book_resource"
SCHEDULE = "manage_schedule"


class _System:
    """The back-office acting on its own behalf: management commands, the demo loader, the worker.

    Services take it as their actor (`by=SYSTEM`) where no person is behind a write; it may do
    everything, and is recorded as nobody (`user_or_none`).
    """

    is_authenticated = True
    is_active = True
    is_superuser = True
    pk = None

    def has_perm(self, perm: str, obj=None) -> bool:
        return True

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def user_or_none(actor):
    """The user to record as the author of a write: None for SYSTEM."""
    return None if actor is SYSTEM else actor

# Which per-resource grant lets a user act on a model's rows of that resource. An action missing
# here needs the model permission.
GRANTS: dict[type[Model], dict[str, frozenset[str]]] = {
    Resource: {"view": frozenset({BOOK, SCHEDULE})},
    Booking: {"view": frozenset({BOOK, SCHEDULE}), "add": frozenset({BOOK}), "change": frozenset({BOOK})},
    Availability: {
        "view": frozenset({BOOK, SCHEDULE}),
        "add": frozenset({SCHEDULE}),
        "change": frozenset({SCHEDULE}),
        "delete": frozenset({SCHEDULE}),
    },
    ScheduleException: {
        "view": frozenset({BOOK, SCHEDULE}),
        "add": frozenset({SCHEDULE}),
        "change": frozenset({SCHEDULE}),
        "delete": frozenset({SCHEDULE}),
    },
    # Whoever may book a resource must be able to pick or register the customer.
    Customer: {"view": frozenset({BOOK}), "add": frozenset({BOOK})},
    # Types are visible with any resource of theirs.
    ResourceType: {"view": frozenset({BOOK, SCHEDULE})},
}


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _model_perm(user, action: str, model: type[Model]) -> bool:
    return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")


def granted_resources(user, grants: frozenset[str]) -> QuerySet[Resource]:
    """Resources on which the user, or one of their groups, holds any of `grants` as an object grant."""
    return get_objects_for_user(
        user,
        [f"scheduling.{grant}" for grant in sorted(grants)],
        klass=Resource,
        any_perm=True,
        with_superuser=False,
        accept_global_perms=False,
    )


def resource_of(obj) -> Resource | None:
    if isinstance(obj, Resource):
        return obj
    return getattr(obj, "resource", None)


def can(user, action: str, obj=None, *, model: type[Model] | None = None, resource: Resource | None = None) -> bool:
    """May `user` do `action` ("view", "add", "change", "delete") to `obj` (or, without one, to some row of `model`)?

    `resource` names the resource a new or moved row would belong to.
    """
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    model = model or type(obj)
    if _model_perm(user, action, model):
        return True
    grants = GRANTS.get(model, {}).get(action)
    if not grants:
        return False
    target = resource or resource_of(obj)
    if target is None or model in (Customer, ResourceType):
        if model is ResourceType and obj is not None:
            return granted_resources(user, grants).filter(type=obj).exists()
        return _holds_any_grant(user, grants)
    return any(user.has_perm(f"scheduling.{grant}", target) for grant in grants)


def _holds_any_grant(user, grants: frozenset[str]) -> bool:
    # Asked for every model on every admin page; remembered on the user object, which lives for
    # one request, as Django remembers model permissions (user._perm_cache).
    memo = user.__dict__.setdefault("_scheduling_grant_cache", {})
    if grants not in memo:
        memo[grants] = granted_resources(user, grants).exists()
    return memo[grants]


def permitted_resources(user, action: str, model: type[Model], queryset: QuerySet[Resource] | None = None) -> QuerySet[Resource]:
    """The resources on whose rows of `model` the user may do `action`, as one lazy query.

    The bulk form of `can(user, action, model=model, resource=r)`, for choice lists and calendars.
    """
    queryset = Resource.objects.all() if queryset is None else queryset
    if not _active(user):
        return queryset.none()
    if user.is_superuser or _model_perm(user, action, model):
        return queryset
    grants = GRANTS.get(model, {}).get(action)
    if not grants:
        return queryset.none()
    return queryset.filter(pk__in=granted_resources(user, grants).values("pk"))


def can_override_availability(user) -> bool:
    """Only a manager may place a booking outside working hours or over an exception."""
    return _active(user) and user.has_perm("scheduling.override_availability")


def can_view_reports(user) -> bool:
    """The utilisation report covers every resource, so it needs model-wide view rights, not grants."""
    return _active(user) and (user.is_superuser or (_model_perm(user, "view", Booking) and _model_perm(user, "view", Resource)))


def restrict(user, queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` that `user` may view; a filter, never an error."""
    model = queryset.model
    if not _active(user):
        return queryset.none()
    if user.is_superuser or _model_perm(user, "view", model):
        return queryset
    grants = GRANTS.get(model, {}).get("view")
    if not grants:
        return queryset.none()
    granted = granted_resources(user, grants).values("pk")
    if model is Resource:
        return queryset.filter(pk__in=granted)
    if model is ResourceType:
        return queryset.filter(pk__in=Resource.objects.filter(pk__in=granted).values("type_id"))
    if model is Customer:
        return queryset if granted_resources(user, grants).exists() else queryset.none()
    return queryset.filter(resource__in=granted)

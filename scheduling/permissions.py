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

Customers have no resource. A holder of booking grants sees those booked on a resource they may
book, and those they registered; anyone else only one at a time, by exact e-mail address
(`customers_with_email`), so the customer list is no address book of everybody.
"""

from __future__ import annotations

from django.db.models import Case, Exists, IntegerField, Model, Q, QuerySet, Value, When
from guardian.shortcuts import get_objects_for_user

from scheduling.models import (
    Availability,
    CalendarSubscription,
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
    # A subscription's URL may hold a secret (a private calendar address): schedule keepers only.
    CalendarSubscription: {
        "view": frozenset({SCHEDULE}),
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
        if model is Customer and obj is not None and obj.pk is not None:
            # Exactly the customers restrict() lists: no customer page beyond them.
            return _granted_customers(user, grants, Customer.objects.filter(pk=obj.pk)).exists()
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
        return _granted_customers(user, grants, queryset)
    return queryset.filter(resource__in=granted)


def _granted_customers(user, grants: frozenset[str], queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers booked on a resource the grants cover, or registered by the user while holding one.

    One query: the grant is a subquery, so a user whose grants were all revoked keeps none.
    """
    granted = granted_resources(user, grants)
    booked_here = Booking.objects.filter(resource__in=granted.values("pk")).values("customer_id")
    return queryset.filter(Q(pk__in=booked_here) | (Q(created_by=user) & Exists(granted)))


def may_name_any_customer(user) -> bool:
    """May `user` put any existing customer on a booking (by id), not only the ones they see?

    Whoever may add or change bookings: a customer found by e-mail (customers_with_email) must be
    bookable. Naming one does not show it; the booking that results does, and that booking carries
    its author and is e-mailed to the customer.
    """
    return can(user, "add", model=Booking) or can(user, "change", model=Booking)


def customers_with_email(user, email: str, queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """The customers with exactly this address (case-insensitive) that `user` may look up.

    Model-wide viewers: every one, a plain filter. A holder of booking grants: at most one, even
    beyond restrict() — the one a front desk needs to book someone who exists already; a visible
    one when several share the address, else the oldest. Anyone else: none.
    """
    queryset = Customer.objects.all() if queryset is None else queryset
    matching = Customer.objects.filter(email__iexact=email.strip())
    visible = restrict(user, matching)
    if visible is matching:  # restrict filtered nothing: a model-wide viewer
        return queryset.filter(pk__in=matching.values("pk"))
    if not can(user, "view", model=Customer):
        return queryset.none()
    seen_first = Case(When(pk__in=visible.values("pk"), then=Value(0)), default=Value(1), output_field=IntegerField())
    one = matching.annotate(seen=seen_first).order_by("seen", "pk").values("pk")[:1]
    return queryset.filter(pk__in=one)

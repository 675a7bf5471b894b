"""Personas of the API tests and the scene they act on (docs/spec.md §6.6).

Test modules import the fixtures they use by name (`from scheduling.tests.api.personas import …`),
so the permission matrix at the top of scheduling/tests and the other API tests share one cast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Availability, Booking, Customer, Resource, ResourceType, ScheduleException
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
)

UTC = dt.timezone.utc
API = "/api/scheduling"
# A Monday far enough ahead that nothing else in the suite books it.
MONDAY = dt.datetime(2030, 3, 4, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    return MONDAY + dt.timedelta(days=day, hours=hour, minutes=minute)


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def client_for(user=None) -> APIClient:
    """A client that authenticates as `user` the way integrators do: with a token."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def user_in(role: str | None, name: str, **extra):
    # Groups come from a data migration; a transactional test's flush removes them, so resync.
    if not Group.objects.filter(name=roles.MANAGER).exists():
        roles.sync_roles()
    # No password: these users authenticate by token, and hashing one costs more than the request.
    user = get_user_model().objects.create(username=name, email=f"{name}@example.com", **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@dataclass
class Scene:
    """Two resources of one type: A (owned by `owner`, with working hours, leave, bookings) and B."""

    owner: object
    type: ResourceType
    spare_type: ResourceType
    a: Resource
    b: Resource
    spare: Resource
    customer: Customer
    spare_customer: Customer
    booking_a: Booking
    confirmed_a: Booking
    booking_b: Booking
    availability_a: Availability
    availability_b: Availability
    exception_a: ScheduleException
    exception_b: ScheduleException


def build_scene() -> Scene:
    owner = user_in(None, "owner")
    kind = ResourceTypeFactory(name="Trainer")
    a = ResourceFactory(name="A", type=kind, owner=owner)
    b = ResourceFactory(name="B", type=kind)
    customer = CustomerFactory(name="Carla")
    return Scene(
        owner=owner,
        type=kind,
        spare_type=ResourceTypeFactory(name="Unused"),
        a=a,
        b=b,
        spare=ResourceFactory(name="Spare", type=kind),
        customer=customer,
        spare_customer=CustomerFactory(name="Nobody"),
        booking_a=BookingFactory(resource=a, customer=customer, start_at=at(9), end_at=at(10)),
        confirmed_a=BookingFactory(resource=a, customer=customer, start_at=at(11), end_at=at(12), status="confirmed"),
        booking_b=BookingFactory(resource=b, customer=customer, start_at=at(9), end_at=at(10)),
        availability_a=AvailabilityFactory(resource=a, weekday=0, start_time=dt.time(8), end_time=dt.time(18)),
        availability_b=AvailabilityFactory(resource=b, weekday=0, start_time=dt.time(8), end_time=dt.time(18)),
        exception_a=ScheduleExceptionFactory(resource=a, start_at=at(9, day=1), end_at=at(10, day=1)),
        exception_b=ScheduleExceptionFactory(resource=b, start_at=at(9, day=1), end_at=at(10, day=1)),
    )


@pytest.fixture
def scene(db) -> Scene:
    return build_scene()


@pytest.fixture
def superuser(db):
    return user_in(None, "root", is_superuser=True, is_staff=True)


@pytest.fixture
def manager(db):
    return user_in(roles.MANAGER, "manager")


@pytest.fixture
def booker(db):
    return user_in(roles.BOOKER, "booker")


@pytest.fixture
def viewer(db):
    return user_in(roles.VIEWER, "viewer")


@pytest.fixture
def outsider(db):
    return user_in(None, "outsider")


@pytest.fixture
def a_booker(scene):
    """In no group, with the booking grant on resource A only."""
    user = user_in(None, "a-booker")
    assign_perm("book_resource", user, scene.a)
    return user


@pytest.fixture
def api(manager):
    """The manager's client: most behaviour tests are about the rules, not about who asks."""
    return client_for(manager)


def snapshot() -> dict:
    """Every row of the scheduling models, to prove that a refused request changed nothing."""
    models = (ResourceType, Resource, Customer, Booking, Availability, ScheduleException)
    return {m.__name__: sorted(m.objects.values_list()) for m in models}


__all__ = [
    "API",
    "MONDAY",
    "Scene",
    "a_booker",
    "api",
    "at",
    "booker",
    "build_scene",
    "client_for",
    "iso",
    "manager",
    "outsider",
    "scene",
    "snapshot",
    "superuser",
    "user_in",
    "viewer",
]

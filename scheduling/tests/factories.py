"""Test data: factory-boy factories for the models, the users behind the personas, the API's scene,
and the time helpers. Fixtures (personas, scenes, clocks) are in conftest.py and build on these."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import factory
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling import roles
from scheduling.models import Availability, Booking, Customer, Resource, ResourceType, ScheduleException
from scheduling.services.notifications import notifications_muted

UTC = dt.timezone.utc


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")


class ResourceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResourceType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"type{n}")
    color = "#336699"


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    name = factory.Sequence(lambda n: f"Resource {n}")
    type = factory.SubFactory(ResourceTypeFactory)
    timezone = "UTC"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class BookingFactory(factory.django.DjangoModelFactory):
    """Writes rows directly (no availability check): for arranging a scene, not for testing the rules.

    Writes no e-mail notice either (rendering one costs more than the row): `notify=True` does."""

    class Meta:
        model = Booking

    @classmethod
    def _create(cls, model_class, *args, notify: bool = False, **kwargs):
        if notify:
            return super()._create(model_class, *args, **kwargs)
        with notifications_muted():
            return super()._create(model_class, *args, **kwargs)

    resource = factory.SubFactory(ResourceFactory)
    customer = factory.SubFactory(CustomerFactory)
    start_at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    end_at = factory.LazyAttribute(lambda b: b.start_at + dt.timedelta(hours=1))
    status = "pending"


class AvailabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Availability

    resource = factory.SubFactory(ResourceFactory)
    weekday = 0
    start_time = dt.time(9, 0)
    end_time = dt.time(17, 0)


class ScheduleExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleException

    resource = factory.SubFactory(ResourceFactory)
    start_at = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    end_at = factory.LazyAttribute(lambda e: e.start_at + dt.timedelta(hours=1))
    reason = "Leave"


# --- People ---------------------------------------------------------------------------------------
# The personas of the tests (fixtures in conftest.py) are built with `staff`; they are staff so that
# the same manager or viewer serves the admin's tests and the API's.


def staff(role: str | None = None, **fields):
    """A staff user in `role`'s group (or in none). Roles are group names (scheduling.roles)."""
    # An unusable password: force_login and tokens need none, and hashing one costs a third of a second.
    user = UserFactory(is_staff=True, password=factory.Transformer.Force("!"), **fields)
    if role:
        # The groups come from a data migration; a transactional test's flush removes them.
        if not Group.objects.filter(name=roles.MANAGER).exists():
            roles.sync_roles()
        user.groups.add(Group.objects.get(name=role))
    return user


# --- Time -----------------------------------------------------------------------------------------
# Every test starts at NOW (conftest.py freezes the clock there, ticking): an ordinary Wednesday.
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")


def warsaw(*args) -> dt.datetime:
    """A wall-clock time in Warsaw, as UTC (time-machine would also switch the process's zone to a
    destination's ZoneInfo)."""
    return dt.datetime(*args, tzinfo=WARSAW).astimezone(UTC)


# The instants where "today", "this week" and "this month" go wrong, in Europe/Warsaw: date-sensitive
# tests run at each (`@pytest.mark.parametrize("instant", AWKWARD_INSTANTS)`, then move the clock).
AWKWARD_INSTANTS = [
    # Half past midnight on Tuesday 1 September in Warsaw, still Monday 31 August in UTC: a new
    # month whose week began in the last one.
    pytest.param(warsaw(2026, 9, 1, 0, 30), id="month-end"),
    # Half past midnight on Monday 1 January 2029 in Warsaw, still Sunday 31 December 2028 in UTC:
    # another day, week, month and year depending on the zone.
    pytest.param(warsaw(2029, 1, 1, 0, 30), id="year-end"),
    # Clocks go forward on Sunday 29 March 2026 at 02:00: that day has 23 hours, the week 167.
    pytest.param(warsaw(2026, 3, 29, 12, 0), id="dst-start"),
    # Clocks go back on Sunday 25 October 2026 at 03:00: that day has 25 hours, the week 169.
    pytest.param(warsaw(2026, 10, 25, 12, 0), id="dst-end"),
]

# A Monday far enough ahead that nothing else in the suite books it (the API scene's week).
MONDAY = dt.datetime(2030, 3, 4, tzinfo=UTC)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    """`hour`:`minute` UTC on MONDAY + `day` days."""
    return MONDAY + dt.timedelta(days=day, hours=hour, minutes=minute)


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# --- The API's scene and its clients (docs/spec.md §6.6) ------------------------------------------
API = "/api/scheduling"


def client_for(user=None) -> APIClient:
    """A client that authenticates as `user` the way integrators do: with a token."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


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
    owner = staff(username="owner")
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


def snapshot() -> dict:
    """Every row of the scheduling models, to prove that a refused request changed nothing."""
    models = (ResourceType, Resource, Customer, Booking, Availability, ScheduleException)
    return {m.__name__: sorted(m.objects.values_list()) for m in models}


# --- The admin's forms ----------------------------------------------------------------------------


def split_times(start: dt.datetime, end: dt.datetime) -> dict:
    """The admin's split date and time widgets for start_at and end_at, in the viewer's zone."""
    fields = {}
    for name, value in (("start_at", start), ("end_at", end)):
        local = timezone.localtime(value)
        fields.update({f"{name}_0": f"{local:%Y-%m-%d}", f"{name}_1": f"{local:%H:%M}"})
    return fields

"""factory-boy factories for the scheduling models."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from scheduling.services.notifications import notifications_muted
from scheduling.models import Availability, Booking, Customer, Resource, ResourceType, ScheduleException

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
    """Writes rows directly (no availability check, no e-mail notice): for arranging a scene, not for
    testing the rules. Tests about notices use NoticedBookingFactory or the booking service."""

    class Meta:
        model = Booking

    resource = factory.SubFactory(ResourceFactory)
    customer = factory.SubFactory(CustomerFactory)
    start_at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    end_at = factory.LazyAttribute(lambda b: b.start_at + dt.timedelta(hours=1))
    status = "pending"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with notifications_muted():
            return super()._create(model_class, *args, **kwargs)


class NoticedBookingFactory(BookingFactory):
    """A booking row whose creation writes its e-mail notice, for the tests about notices."""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return factory.django.DjangoModelFactory._create.__func__(cls, model_class, *args, **kwargs)


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

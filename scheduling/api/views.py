"""The REST API's views (docs/spec.md §6): HTTP in, the permission layer and the services, HTTP out.

Every queryset goes through `restrict`, so what a user may not see is 404 and lists are filtered.
Who may do what is asked of `scheduling.permissions` only; the views name the action as data.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from scheduling import audit
from scheduling.api import filters, schema
from scheduling.api.permissions import LayeredPermission
from scheduling.api.serializers import (
    AuditEntrySerializer,
    AuditHistoryPageSerializer,
    AvailabilityAnswerSerializer,
    AvailabilitySerializer,
    AvailableQuerySerializer,
    BookingSerializer,
    CalendarSubscriptionSerializer,
    CheckAvailabilitySerializer,
    CustomerSerializer,
    ResourceFeedDetailsSerializer,
    ResourceFeedSerializer,
    ResourceSerializer,
    ResourceTypeSerializer,
    ScheduleExceptionSerializer,
    SlotsAnswerSerializer,
    SlotsQuerySerializer,
    WebhookEndpointSerializer,
)
from scheduling.ids import parse_id
from scheduling.models import (
    Availability,
    Booking,
    CalendarSubscription,
    Customer,
    Resource,
    ResourceFeed,
    ResourceType,
    ScheduleException,
    WebhookEndpoint,
)
from scheduling.permissions import can, may_name_any_customer, restrict
from scheduling.services import availability as availability_service
from scheduling.services import bookings as booking_service
from scheduling.services import calendars as calendar_service
from scheduling.services import feeds as feed_service
from scheduling.services import resources as resource_service
from scheduling.services.bookings import TRANSITION_ACTIONS


class HistoryMixin:
    """`GET …/{id}/history`: the object's audit trail, newest first, paginated (docs/spec.md §15.1)."""

    filterset_class = None

    @extend_schema(responses={200: AuditHistoryPageSerializer})
    @action(detail=True, methods=["get"], filterset_class=None)
    def history(self, request, pk=None):
        page = self.paginate_queryset(audit.entries_for(self.get_object()))
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)


class ScopedViewSet(HistoryMixin, viewsets.ModelViewSet):
    """CRUD over the rows the user may see; a row's resource decides what the user may do to it."""

    permission_classes = [LayeredPermission]
    filterset_class = None
    ordering: tuple[str, ...] = ("id",)
    conflict_responses: dict = {}

    def get_queryset(self):
        return restrict(self.request.user, self.queryset.model.objects.order_by(*self.ordering))

    def get_object(self):
        # The router lets any path segment through so that a non-id is this JSON 404, not Django's
        # HTML one; the ORM would read "٣" or "1 " as an id, so the id is parsed here, once.
        lookup = self.lookup_url_kwarg or self.lookup_field
        pk = parse_id(self.kwargs.get(lookup))
        if pk is None:
            raise Http404
        self.kwargs[lookup] = pk
        return super().get_object()

    def perform_create(self, serializer):
        self.require("add", serializer.validated_data.get("resource"))
        serializer.save()

    def perform_update(self, serializer):
        self.require_move(serializer.instance, serializer.validated_data)
        serializer.save()

    def require(self, action: str, resource: Resource | None) -> None:
        """The row would belong to `resource`: may the user `action` such rows there? (403 if not)"""
        if resource is not None and not can(self.request.user, action, model=self.queryset.model, resource=resource):
            raise PermissionDenied(f"You may not {action} {self.queryset.model._meta.verbose_name_plural} of resource {resource.pk}.")

    def require_move(self, instance, data) -> None:
        # The object check covered the row where it is; moving it elsewhere needs the right there too.
        target = data.get("resource")
        if target is not None and target.pk != getattr(instance, "resource_id", None):
            self.require("change", target)


class ResourceTypeViewSet(ScopedViewSet):
    queryset = ResourceType.objects.all()
    serializer_class = ResourceTypeSerializer
    ordering = ("name", "id")
    conflict_responses = {"destroy": schema.PROTECTED}


class ResourceViewSet(ScopedViewSet):
    queryset = Resource.objects.all()
    serializer_class = ResourceSerializer
    filterset_class = filters.ResourceFilter
    ordering = ("name", "id")
    # The feed's URL is a secret that shows every booking's time: the feeds service lets managers
    # only; asked as a read here, so an invisible resource is 404 and a visible one 403 (§16.2).
    permission_actions = {"slots": "view", "available": "view", "feed": "view", "feed_rotate": "view"}
    conflict_responses = {"destroy": schema.PROTECTED}

    def perform_update(self, serializer):
        previous_owner_id = serializer.instance.owner_id
        with resource_service.resource_capacity_change(resource=serializer.instance, capacity=serializer.validated_data.get("capacity")):
            super().perform_update(serializer)
        resource_service.resource_owner_changed(resource=serializer.instance, previous_owner_id=previous_owner_id)

    @extend_schema(parameters=[SlotsQuerySerializer], responses={200: SlotsAnswerSerializer})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def slots(self, request, pk=None):
        resource = self.get_object()
        q = validated(SlotsQuerySerializer, request.query_params)
        duration = _minutes(q["duration"])
        step = _minutes(q["step"]) if "step" in q else None
        page = availability_service.free_slots_page(resource, q["start"], q["end"], duration, step, limit=q["limit"], quantity=q["quantity"])
        answer = {"resource": resource.pk, "slots": [{"start_at": s, "end_at": e} for s, e in page.slots], "next": page.next_start}
        return Response(SlotsAnswerSerializer(answer).data)

    @extend_schema(parameters=[AvailableQuerySerializer], responses={200: ResourceSerializer(many=True)})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def available(self, request):
        q = validated(AvailableQuerySerializer, request.query_params)
        resource_type = get_object_or_404(restrict(request.user, ResourceType.objects.all()), pk=q["type"])
        free = availability_service.available_resources(resource_type, q["start_at"], q["end_at"], user=request.user, quantity=q["quantity"])
        return Response(self.get_serializer(free, many=True).data)


    @extend_schema(methods=["GET"], request=None, responses={200: ResourceFeedSerializer})
    @extend_schema(methods=["PATCH"], request=ResourceFeedDetailsSerializer, responses={200: ResourceFeedSerializer})
    @action(detail=True, methods=["get", "patch"], filterset_class=None, pagination_class=None)
    def feed(self, request, pk=None):
        """The feed's URL and details choice; PATCH `{"details": bool}` changes the choice, not the URL."""
        feed = feed_service.resource_feed(by=request.user, resource=self.get_object())
        if request.method == "PATCH":
            body = ResourceFeedDetailsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            if "details" in body.validated_data:
                feed = feed_service.resource_feed_set_details(by=request.user, feed=feed, details=body.validated_data["details"])
        return Response(_feed_answer(request, feed))

    @extend_schema(request=ResourceFeedDetailsSerializer, responses={200: ResourceFeedSerializer})
    @action(detail=True, methods=["post"], url_path="feed/rotate", filterset_class=None, pagination_class=None)
    def feed_rotate(self, request, pk=None):
        resource = self.get_object()
        body = ResourceFeedDetailsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        feed = feed_service.resource_feed_rotate(by=request.user, resource=resource, details=body.validated_data.get("details"))
        return Response(_feed_answer(request, feed))


def _feed_answer(request, feed: ResourceFeed) -> dict:
    return {"url": request.build_absolute_uri(reverse("resource_feed", args=[feed.token])), "details": feed.details}


class CustomerViewSet(ScopedViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = filters.CustomerFilter
    ordering = ("name", "id")
    conflict_responses = {"destroy": schema.PROTECTED}

    def perform_create(self, serializer):
        # The registering user keeps seeing the customer (scheduling.permissions.restrict).
        serializer.save(created_by=self.request.user)


class AvailabilityViewSet(ScopedViewSet):
    queryset = Availability.objects.all()
    serializer_class = AvailabilitySerializer
    filterset_class = filters.AvailabilityFilter
    ordering = ("resource_id", "weekday", "start_time", "id")


class ScheduleExceptionViewSet(ScopedViewSet):
    queryset = ScheduleException.objects.all()
    serializer_class = ScheduleExceptionSerializer
    filterset_class = filters.ScheduleExceptionFilter
    ordering = ("start_at", "id")


class WebhookEndpointViewSet(ScopedViewSet):
    """Managers' webhook receivers (docs/spec.md §15.2): model permissions only, no per-resource grant."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer


class CalendarSubscriptionViewSet(ScopedViewSet):
    """External calendars whose busy times block a resource; writes through the calendars service."""

    queryset = CalendarSubscription.objects.all()
    serializer_class = CalendarSubscriptionSerializer
    filterset_class = filters.CalendarSubscriptionFilter
    ordering = ("resource_id", "id")

    def perform_create(self, serializer):
        serializer.instance = calendar_service.calendar_subscription_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = calendar_service.calendar_subscription_update(
            by=self.request.user, subscription=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        calendar_service.calendar_subscription_delete(by=self.request.user, subscription=instance)


class BookingViewSet(ScopedViewSet):
    """Every write is one call of the booking service, which decides with the requesting user."""

    queryset = Booking.objects.all()
    serializer_class = BookingSerializer
    filterset_class = filters.BookingFilter
    ordering = ("start_at", "id")
    permission_actions = {"check_availability": "view", **{name: "change" for name in TRANSITION_ACTIONS}}
    conflict_responses = {
        "create": schema.CONFLICT,
        "update": schema.CONFLICT,
        "partial_update": schema.CONFLICT,
        **{name: schema.ILLEGAL_TRANSITION for name in TRANSITION_ACTIONS},
    }

    def perform_create(self, serializer):
        serializer.instance = booking_service.booking_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        changes.pop("status", None)  # unchanged, or the serializer would have refused it
        serializer.instance = booking_service.booking_edit(booking=serializer.instance, by=self.request.user, changes=changes)

    def perform_destroy(self, instance):
        booking_service.booking_delete(booking=instance, by=self.request.user)

    @extend_schema(
        request=CheckAvailabilitySerializer,
        responses={200: AvailabilityAnswerSerializer},
        description=(
            "Would this time be free on this resource? Nothing is written. The body names the resource "
            "(`resource_id`), the interval (`start_at` < `end_at`, ISO 8601 with an offset) and, when a "
            "booking is being moved, that booking (`booking_id`), which is then not a conflict with itself. "
            "The answer says `available` and lists the conflicts (bookings, exceptions, time outside "
            "working hours, an inactive resource)."
        ),
        examples=[
            OpenApiExample(
                "Is resource 1 free on Monday 2 March 2026, 10:00–11:00 Warsaw time?",
                value={"resource_id": 1, "start_at": "2026-03-02T10:00:00+01:00", "end_at": "2026-03-02T11:00:00+01:00"},
                request_only=True,
            ),
            OpenApiExample(
                "Could booking 1 move to 14:00–15:00 UTC on resource 2?",
                value={"resource_id": 2, "start_at": "2026-03-02T14:00:00Z", "end_at": "2026-03-02T15:00:00Z", "booking_id": 1},
                request_only=True,
            ),
        ],
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def check_availability(self, request):
        q = validated(CheckAvailabilitySerializer, request.data)
        resource = get_object_or_404(restrict(request.user, Resource.objects.all()), pk=q["resource_id"])
        customer = None
        if q.get("customer_id") is not None:
            # The customers the user may put on a booking (docs/spec.md §6.6), as the write would.
            bookable = Customer.objects.all() if may_name_any_customer(request.user) else restrict(request.user, Customer.objects.all())
            customer = get_object_or_404(bookable, pk=q["customer_id"])
        answer = availability_service.check_availability(
            resource, q["start_at"], q["end_at"], ignore_booking=q.get("booking_id"), customer=customer, by=request.user, quantity=q["quantity"]
        )
        return Response(AvailabilityAnswerSerializer(answer).data)


def _transition_action(name: str, to_status: str):
    """`POST booking/{id}/<name>`: the life-cycle step to `to_status`, one per entry of LIFE_CYCLE."""

    def transition(self, request, pk=None):
        booking = self.get_object()
        booking_service.booking_transition(booking=booking, to_status=to_status, by=request.user)
        return Response(self.get_serializer(booking).data)

    transition.__name__ = name
    transition.__doc__ = f"Make the booking {to_status} (docs/spec.md §3)."
    routed = action(detail=True, methods=["post"], filterset_class=None)(transition)
    return extend_schema(request=None, responses={200: BookingSerializer})(routed)


for _name, _to_status in TRANSITION_ACTIONS.items():
    setattr(BookingViewSet, _name, _transition_action(_name, _to_status))


def validated(serializer_class, data) -> dict:
    """The question's fields, or a 400 naming the bad ones."""
    question = serializer_class(data=data)
    question.is_valid(raise_exception=True)
    return question.validated_data


def _minutes(value: int) -> dt.timedelta:
    return dt.timedelta(minutes=value)

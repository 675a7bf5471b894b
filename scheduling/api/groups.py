"""`booking_group/` and `series/` (docs/spec.md §14): shapes in, the group and series services, shapes out.

A group or series is visible when one of its parts is (the parts' visibility is the bookings'); the
services decide every write, part by part, with the requesting user.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from scheduling.api.fields import AwareDateTimeField, StrictCharField, StrictChoiceField, StrictIntegerField
from scheduling.api.serializers import (
    DEFAULT_SLOT_LIMIT,
    MAX_SLOT_LIMIT,
    MAX_SLOT_MINUTES,
    MIN_STEP_MINUTES,
    BookableCustomerField,
    ConflictSerializer,
    VisibleRelatedField,
    validate_stored_interval,
)
from scheduling.api.views import HistoryMixin
from scheduling.ids import parse_id
from scheduling.models import Booking, BookingGroup, BookingSeries, BookingStatus, Customer, Resource, ResourceType, SeriesMode
from scheduling.permissions import restrict
from scheduling.services import groups as group_service
from scheduling.services import series as series_service
from scheduling.services.availability import MAX_SLOT_WINDOW
from scheduling.services.bookings import TRANSITION_ACTIONS



def conflict_rows(conflicts) -> list[dict]:
    """(resource id, conflict) pairs as the API's conflicts, each naming its `resource_id`."""
    return [{**ConflictSerializer(c).data, "resource_id": resource_id} for resource_id, c in conflicts]


def occurrence_rows(occurrences) -> list[dict]:
    field = AwareDateTimeField()
    return [
        {
            "start_at": field.to_representation(o.start_at),
            "end_at": field.to_representation(o.end_at),
            "status": o.status,
            "conflicts": conflict_rows(o.conflicts),
            "bookings": o.bookings,
        }
        for o in occurrences
    ]


# --- Answers (documentation of the shapes; the views build them from the services' results) --------


class GroupConflictSerializer(ConflictSerializer):
    resource_id = serializers.IntegerField(help_text="The resource of the part that conflicts.")


class GroupConflictErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    conflicts = GroupConflictSerializer(many=True)


class GroupAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resources = serializers.ListField(child=serializers.IntegerField(), help_text="Resource ids of the parts, by resource name.")
    customer = serializers.IntegerField()
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    notes = serializers.CharField()
    series = serializers.IntegerField(allow_null=True)
    bookings = serializers.ListField(child=serializers.IntegerField(), help_text="Booking ids of the parts, in the order of `resources`.")


class GroupCheckAnswerSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    conflicts = GroupConflictSerializer(many=True)


class GroupSlotSerializer(serializers.Serializer):
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    resources = serializers.ListField(child=serializers.IntegerField(), help_text="One free resource per type, in the order of `types`; the first by name.")


class GroupFindAnswerSerializer(serializers.Serializer):
    types = serializers.ListField(child=serializers.IntegerField())
    slots = GroupSlotSerializer(many=True)
    next = AwareDateTimeField(allow_null=True, help_text="Start of the first slot not returned (null: none left).")


OCCURRENCE_STATUSES = ["booked", "skipped", "cancelled", "detached"]


class OccurrenceSerializer(serializers.Serializer):
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    status = serializers.ChoiceField(choices=OCCURRENCE_STATUSES)
    conflicts = GroupConflictSerializer(many=True)
    bookings = serializers.ListField(child=serializers.IntegerField())


class SeriesConflictErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    occurrences = OccurrenceSerializer(many=True)


class SeriesAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rrule = serializers.CharField()
    resources = serializers.ListField(child=serializers.IntegerField())
    customer = serializers.IntegerField()
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    exdates = serializers.ListField(child=serializers.CharField(), help_text="Exception dates (UTC): left out on request, or detached since.")
    mode = serializers.ChoiceField(choices=SeriesMode.choices)
    notes = serializers.CharField()
    bookings = serializers.ListField(child=serializers.IntegerField())
    occurrences = OccurrenceSerializer(many=True)


class SeriesExtendAnswerSerializer(SeriesAnswerSerializer):
    added = OccurrenceSerializer(many=True)


GROUP_CONFLICT = OpenApiResponse(GroupConflictErrorSerializer, "A part conflicts; nothing was written.")
SERIES_CONFLICT = OpenApiResponse(SeriesConflictErrorSerializer, "All or nothing: an occurrence conflicts; nothing was written.")


# --- Questions -------------------------------------------------------------------------------------


class FlatListField(serializers.ListField):
    def run_child_validation(self, data):
        # The errors of the items as one flat list naming each item, as every other field's (§6.7).
        values, errors = [], []
        for index, item in enumerate(data):
            try:
                values.append(self.child.run_validation(item))
            except serializers.ValidationError as error:
                detail = error.detail if isinstance(error.detail, list) else [error.detail]
                errors.extend(f"Item {index}: {message}" for message in detail)
        if errors:
            raise serializers.ValidationError(errors)
        return values


class ResourceListField(FlatListField):
    child = VisibleRelatedField(queryset=Resource.objects.all())

    def __init__(self, **kwargs):
        super().__init__(min_length=kwargs.pop("min_length", 2), max_length=group_service.MAX_GROUP_RESOURCES, **kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if len({r.pk for r in values}) != len(values):
            raise serializers.ValidationError("Each resource may be listed once.")
        return values


class GroupCheckSerializer(serializers.Serializer):
    resources = ResourceListField()
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()

    def validate(self, attrs):
        validate_stored_interval(attrs)
        return attrs


class GroupCreateSerializer(GroupCheckSerializer):
    customer = BookableCustomerField(queryset=Customer.objects.all())
    notes = StrictCharField(required=False, allow_blank=True, max_length=10000, default="")
    status = StrictChoiceField(choices=BookingStatus.choices, required=False, default=BookingStatus.PENDING, help_text="pending (default) or confirmed.")


class GroupEditSerializer(serializers.Serializer):
    customer = BookableCustomerField(queryset=Customer.objects.all(), required=False)
    start_at = AwareDateTimeField(required=False)
    end_at = AwareDateTimeField(required=False)
    notes = StrictCharField(required=False, allow_blank=True, max_length=10000)
    status = StrictChoiceField(choices=BookingStatus.choices, required=False)
    resources = serializers.ListField(child=StrictIntegerField(), required=False, max_length=group_service.MAX_GROUP_RESOURCES)

    def validate_status(self, value):
        if value != self.instance.status:
            actions = ", ".join(f"POST /api/scheduling/booking_group/{self.instance.pk}/{a}" for a in TRANSITION_ACTIONS)
            raise serializers.ValidationError(f"The status is not writable here; change it with {actions}.")
        return value

    def validate_resources(self, value):
        if sorted(value) != sorted(self.instance.parts.values_list("resource_id", flat=True)):
            raise serializers.ValidationError("A group's resources are fixed; cancel it and book a new group.")
        return value

    def validate(self, attrs):
        validate_stored_interval(attrs, self.instance)
        return attrs


def group_answer(group: BookingGroup, user) -> dict:
    """The group as `user` may see it: only the parts (and so the resources) visible to them."""
    parts = list(restrict(user, group.parts.order_by("resource__name", "resource_id")).values_list("id", "resource_id"))
    field = AwareDateTimeField()
    return {
        "id": group.pk,
        "resources": [r for _, r in parts],
        "customer": group.customer_id,
        "start_at": field.to_representation(group.start_at),
        "end_at": field.to_representation(group.end_at),
        "status": group.status,
        "notes": group.notes,
        "series": group.series_id,
        "bookings": [b for b, _ in parts],
    }


class GroupFindQuerySerializer(serializers.Serializer):
    types = serializers.CharField(help_text="Resource type ids, comma-separated.")
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    duration = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_MINUTES)
    step = serializers.IntegerField(min_value=MIN_STEP_MINUTES, max_value=MAX_SLOT_MINUTES, required=False)
    limit = serializers.IntegerField(min_value=1, required=False, default=DEFAULT_SLOT_LIMIT)

    def validate_types(self, value):
        ids = [parse_id(part.strip()) for part in value.split(",")]
        if not ids or None in ids or len(ids) > group_service.MAX_GROUP_RESOURCES:
            raise serializers.ValidationError(f"Between 1 and {group_service.MAX_GROUP_RESOURCES} resource type ids, comma-separated.")
        visible = {t.pk: t for t in restrict(self.context["request"].user, ResourceType.objects.filter(pk__in=ids))}
        missing = [i for i in ids if i not in visible]
        if missing:
            raise serializers.ValidationError(f"Unknown resource type {missing[0]}.")
        return [visible[i] for i in ids]

    def validate_limit(self, value):
        return min(value, MAX_SLOT_LIMIT)

    def validate(self, attrs):
        validate_stored_interval(attrs, names=("start", "end"), max_span=MAX_SLOT_WINDOW)
        return attrs


class PartsVisibleMixin:
    """A group or series is visible when one of its parts is; ids parsed once (a non-id is 404)."""

    permission_classes = [IsAuthenticated]

    parts_link = "group_id"  # the column of Booking that points at the model

    def get_queryset(self):
        # Through parts still attached: an occurrence moved alone onto another resource (detached)
        # does not open the series to that resource's users.
        visible = restrict(self.request.user, Booking.objects.all()).filter(**{f"{self.parts_link}__isnull": False, "detached": False})
        return self.queryset.model.objects.filter(pk__in=visible.values(self.parts_link)).order_by("start_at", "id")

    def get_object(self):
        pk = parse_id(self.kwargs.get("pk"))
        if pk is None:
            raise Http404
        return get_object_or_404(self.get_queryset(), pk=pk)


class BookingGroupViewSet(HistoryMixin, PartsVisibleMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = BookingGroup.objects.all()
    serializer_class = GroupAnswerSerializer
    conflict_responses = {
        "create": GROUP_CONFLICT,
        "update": GROUP_CONFLICT,
        "partial_update": GROUP_CONFLICT,
        **{name: OpenApiResponse(description="A part conflicts, or the life cycle does not allow the change.") for name in TRANSITION_ACTIONS},
    }

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([group_answer(g, request.user) for g in page])

    @extend_schema(request=GroupCreateSerializer, responses={201: GroupAnswerSerializer})
    def create(self, request):
        data = self._valid(GroupCreateSerializer, request.data)
        group = group_service.group_create(by=request.user, **data)
        return Response(group_answer(group, request.user), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(group_answer(self.get_object(), request.user))

    @extend_schema(request=GroupEditSerializer, responses={200: GroupAnswerSerializer})
    def partial_update(self, request, pk=None):
        group = self.get_object()
        edit = GroupEditSerializer(group, data=request.data, partial=True, context={"request": request})
        edit.is_valid(raise_exception=True)
        changes = {k: v for k, v in edit.validated_data.items() if k not in ("status", "resources")}
        group_service.group_edit(group=group, by=request.user, changes=changes)
        return Response(group_answer(group, request.user))

    @extend_schema(request=GroupEditSerializer, responses={200: GroupAnswerSerializer})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(request=GroupCheckSerializer, responses={200: GroupCheckAnswerSerializer})
    @action(detail=False, methods=["post"], pagination_class=None)
    def check(self, request):
        data = self._valid(GroupCheckSerializer, request.data)
        answer = group_service.group_check(**data)
        return Response({"available": answer.available, "conflicts": conflict_rows(answer.conflicts)})

    @extend_schema(parameters=[GroupFindQuerySerializer], responses={200: GroupFindAnswerSerializer})
    @action(detail=False, methods=["get"], pagination_class=None)
    def find(self, request):
        q = self._valid(GroupFindQuerySerializer, request.query_params)
        duration = dt.timedelta(minutes=q["duration"])
        step = dt.timedelta(minutes=q["step"]) if "step" in q else None
        page = group_service.group_find(user=request.user, types=q["types"], start=q["start"], end=q["end"], duration=duration, step=step, limit=q["limit"])
        field = AwareDateTimeField()
        slots = [
            {
                "start_at": field.to_representation(s.start_at),
                "end_at": field.to_representation(s.end_at),
                "resources": [r.pk for r in s.resources],
            }
            for s in page.slots
        ]
        return Response({"types": [t.pk for t in q["types"]], "slots": slots, "next": page.next_start and field.to_representation(page.next_start)})

    def _valid(self, serializer_class, data):
        serializer = serializer_class(data=data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _group_transition(name: str, to_status: str):
    def transition(self, request, pk=None):
        group = self.get_object()
        group_service.group_transition(group=group, to_status=to_status, by=request.user)
        return Response(group_answer(group, request.user))

    transition.__name__ = name
    transition.__doc__ = f"Make every part of the group {to_status} (docs/spec.md §14)."
    return extend_schema(request=None, responses={200: GroupAnswerSerializer})(action(detail=True, methods=["post"])(transition))


for _name, _to_status in TRANSITION_ACTIONS.items():
    setattr(BookingGroupViewSet, _name, _group_transition(_name, _to_status))


# --- Series ----------------------------------------------------------------------------------------


class SeriesCreateSerializer(serializers.Serializer):
    resource = VisibleRelatedField(queryset=Resource.objects.all(), required=False)
    resources = ResourceListField(required=False, min_length=1)
    customer = BookableCustomerField(queryset=Customer.objects.all())
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    rrule = StrictCharField(max_length=500)
    exdates = FlatListField(child=StrictCharField(max_length=40), required=False, default=list, max_length=series_service.MAX_OCCURRENCES)
    mode = StrictChoiceField(choices=SeriesMode.choices, required=False, default=SeriesMode.ALL_OR_NOTHING)
    notes = StrictCharField(required=False, allow_blank=True, max_length=10000, default="")
    status = StrictChoiceField(choices=BookingStatus.choices, required=False, default=BookingStatus.PENDING, help_text="pending (default) or confirmed.")

    def validate(self, attrs):
        if ("resource" in attrs) == ("resources" in attrs):
            raise serializers.ValidationError({"resource": "Give either resource or resources."})
        attrs["resources"] = [attrs.pop("resource")] if "resource" in attrs else attrs["resources"]
        validate_stored_interval(attrs)
        return attrs


class SeriesCancelSerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared under its wire name below.
    pass


SeriesCancelSerializer._declared_fields["from"] = AwareDateTimeField(required=False, allow_null=True, help_text="Cancel the occurrences starting at or after this; now when left out.")


class SeriesExtendSerializer(serializers.Serializer):
    count = StrictIntegerField(required=False, min_value=1, max_value=series_service.MAX_OCCURRENCES)
    until = AwareDateTimeField(required=False)
    mode = StrictChoiceField(choices=SeriesMode.choices, required=False)

    def validate(self, attrs):
        if "count" in attrs and "until" in attrs:
            raise serializers.ValidationError({"count": "Give either count or until, not both."})
        return attrs


def series_answer(series: BookingSeries, user, occurrences=None) -> dict:
    """The series as `user` may see it: its visible resources, and of each occurrence the visible parts."""
    field = AwareDateTimeField()
    occurrences = series_service.series_occurrences(series) if occurrences is None else occurrences
    visible = set(restrict(user, Booking.objects.filter(series=series)).values_list("pk", flat=True))
    occurrences = [replace(o, bookings=[pk for pk in o.bookings if pk in visible]) for o in occurrences]
    return {
        "id": series.pk,
        "rrule": series.rrule,
        "resources": sorted(restrict(user, series.resources.all()).values_list("id", flat=True)),
        "customer": series.customer_id,
        "start_at": field.to_representation(series.start_at),
        "end_at": field.to_representation(series.end_at),
        "exdates": series_service.series_exception_dates(series),
        "mode": series.mode,
        "notes": series.notes,
        "bookings": [pk for o in occurrences for pk in o.bookings],
        "occurrences": occurrence_rows(occurrences),
    }


class BookingSeriesViewSet(HistoryMixin, PartsVisibleMixin, viewsets.GenericViewSet):
    queryset = BookingSeries.objects.all()
    parts_link = "series_id"
    serializer_class = SeriesAnswerSerializer
    conflict_responses = {"create": SERIES_CONFLICT, "extend": SERIES_CONFLICT}

    @extend_schema(request=SeriesCreateSerializer, responses={201: SeriesAnswerSerializer})
    def create(self, request):
        serializer = SeriesCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        result = series_service.series_create(by=request.user, **serializer.validated_data)
        return Response(series_answer(result.series, request.user, result.occurrences), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(series_answer(self.get_object(), request.user))

    @extend_schema(request=SeriesCancelSerializer, responses={200: SeriesAnswerSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        series = self.get_object()
        serializer = SeriesCancelSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        series_service.series_cancel(series=series, by=request.user, since=serializer.validated_data.get("from"))
        return Response(series_answer(series, request.user))

    @extend_schema(request=SeriesExtendSerializer, responses={200: SeriesExtendAnswerSerializer})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        series = self.get_object()
        serializer = SeriesExtendSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        result = series_service.series_extend(series=series, by=request.user, **serializer.validated_data)
        answer = series_answer(result.series, request.user)
        answer["added"] = occurrence_rows(result.occurrences)
        return Response(answer)

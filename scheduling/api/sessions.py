"""`session/` (docs/spec.md §17.4): classes with seats and a waiting line; shapes in, the sessions
service, shapes out. A session is visible when one of its bookings is."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from scheduling.api.fields import AwareDateTimeField, StrictCharField, StrictIntegerField
from scheduling.api.groups import FlatListField, ResourceListField
from scheduling.api.serializers import BookableCustomerField, VisibleRelatedField, validate_stored_interval
from scheduling.ids import parse_id
from scheduling.models import MAX_SEATS, Attendance, AttendanceStatus, Booking, Customer, Resource, Session, SessionStatus
from scheduling.permissions import restrict
from scheduling.services import series as series_service
from scheduling.services import sessions as session_service


class SessionCreateSerializer(serializers.Serializer):
    resource = VisibleRelatedField(queryset=Resource.objects.all(), required=False)
    resources = ResourceListField(required=False, min_length=1)
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    seats = StrictIntegerField(min_value=1, max_value=MAX_SEATS)
    title = StrictCharField(max_length=200)
    rrule = StrictCharField(max_length=500, required=False)
    exdates = FlatListField(child=StrictCharField(max_length=40), required=False, default=list, max_length=series_service.MAX_OCCURRENCES)

    def validate(self, attrs):
        if ("resource" in attrs) == ("resources" in attrs):
            raise serializers.ValidationError({"resource": "Give either resource or resources."})
        attrs["resources"] = [attrs.pop("resource")] if "resource" in attrs else attrs["resources"]
        if attrs.get("exdates") and not attrs.get("rrule"):
            raise serializers.ValidationError({"exdates": "exdates go with an rrule."})
        validate_stored_interval(attrs)
        return attrs


class AttendeeSerializer(serializers.Serializer):
    customer = BookableCustomerField(queryset=Customer.objects.all())


class SessionAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    resource = serializers.IntegerField(help_text="The first resource (lowest id).")
    resources = serializers.ListField(child=serializers.IntegerField())
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    seats = serializers.IntegerField()
    taken = serializers.IntegerField(help_text="Seats held: booked and offered.")
    waitlist = serializers.IntegerField(help_text="People waiting for a seat.")
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    bookings = serializers.ListField(child=serializers.IntegerField())


class AttendanceAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    position = serializers.IntegerField(required=False, help_text="Place in the waiting line (waitlisted only).")


def session_answer(session: Session) -> dict:
    parts = list(session.bookings.order_by("resource_id").values_list("id", "resource_id"))
    taken, waiting = session_service.fill(session)
    field = AwareDateTimeField()
    return {
        "id": session.pk,
        "title": session.title,
        "resource": parts[0][1] if parts else None,
        "resources": [r for _, r in parts],
        "start_at": field.to_representation(session.start_at),
        "end_at": field.to_representation(session.end_at),
        "seats": session.seats,
        "taken": taken,
        "waitlist": waiting,
        "status": session.status,
        "bookings": [b for b, _ in parts],
    }


def attendance_answer(attendance: Attendance) -> dict:
    if attendance.status == AttendanceStatus.WAITLISTED:
        return {"status": attendance.status, "position": session_service.place_in_line(attendance)}
    return {"status": attendance.status}


class SessionViewSet(viewsets.GenericViewSet):
    queryset = Session.objects.all()
    serializer_class = SessionAnswerSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        visible = restrict(self.request.user, Booking.objects.all()).filter(session__isnull=False)
        return Session.objects.filter(pk__in=visible.values("session_id")).order_by("start_at", "id")

    def get_object(self):
        pk = parse_id(self.kwargs.get("pk"))
        if pk is None:
            raise Http404
        return get_object_or_404(self.get_queryset(), pk=pk)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([session_answer(s) for s in page])

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionAnswerSerializer})
    def create(self, request):
        data = self._valid(SessionCreateSerializer, request.data)
        sessions = session_service.session_create(by=request.user, **data)
        answer = session_answer(sessions[0])
        if "rrule" in data:
            answer["sessions"] = [session_answer(s) for s in sessions]
        return Response(answer, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(session_answer(self.get_object()))

    @extend_schema(request=AttendeeSerializer, responses={201: AttendanceAnswerSerializer})
    @action(detail=True, methods=["post"])
    def attend(self, request, pk=None):
        session = self.get_object()
        data = self._valid(AttendeeSerializer, request.data)
        attendance = session_service.attend(by=request.user, session=session, customer=data["customer"])
        return Response(attendance_answer(attendance), status=status.HTTP_201_CREATED)

    @extend_schema(request=AttendeeSerializer, responses={200: AttendanceAnswerSerializer})
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        session = self.get_object()
        data = self._valid(AttendeeSerializer, request.data)
        try:
            attendance = session_service.leave(by=request.user, session=session, customer=data["customer"])
        except Attendance.DoesNotExist:
            raise Http404 from None
        return Response(attendance_answer(attendance))

    @extend_schema(request=AttendeeSerializer, responses={200: AttendanceAnswerSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        session = self.get_object()
        data = self._valid(AttendeeSerializer, request.data)
        attendance = session_service.accept(by=request.user, session=session, customer=data["customer"])
        return Response(attendance_answer(attendance))

    @extend_schema(request=None, responses={200: SessionAnswerSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        session = self.get_object()
        session_service.session_cancel(by=request.user, session=session)
        return Response(session_answer(session))

    def _valid(self, serializer_class, data):
        serializer = serializer_class(data=data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

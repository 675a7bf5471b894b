"""The OpenAPI description of the error answers (docs/spec.md §6.7), added to every operation.

drf-spectacular documents the successful answer of each route; the errors follow from the route's
shape (a body, an id, query parameters) and, for 409, from the view's `conflict_responses` (data).
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from scheduling.api.serializers import ConflictSerializer
from scheduling.models import BookingStatus


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    conflicts = ConflictSerializer(many=True)


class TransitionErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Names the current and the requested status.")
    current = serializers.ChoiceField(choices=BookingStatus.choices)
    requested = serializers.ChoiceField(choices=BookingStatus.choices)


class ValidationErrorSerializer(serializers.Serializer):
    """Field name → messages; described by ValidationErrorExtension below."""


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "Each invalid field (or query parameter) names its messages; `non_field_errors` holds errors of "
            "the whole object, `detail` a body that could not be parsed.",
            "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "example": {"end_at": ["end_at must be after start_at."]},
        }


PROTECTED = OpenApiResponse(ErrorSerializer, "The row is still referenced (e.g. by bookings); nothing was removed.")
CONFLICT = OpenApiResponse(ConflictErrorSerializer, "The booking conflicts; nothing was written.")
ILLEGAL_TRANSITION = OpenApiResponse(TransitionErrorSerializer, "The booking's life cycle does not allow this change.")


class SchedulingAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return responses

    def _error_responses(self) -> dict[int, OpenApiResponse]:
        errors = {
            401: OpenApiResponse(ErrorSerializer, "No or invalid credentials."),
            403: OpenApiResponse(ErrorSerializer, "Not allowed for this user."),
            503: OpenApiResponse(ErrorSerializer, "The database is unavailable for a moment; retry after the Retry-After header's seconds."),
        }
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        has_query = self.method == "GET" and bool(self._get_filter_parameters() or self.get_override_parameters())
        if has_body or has_query:
            errors[400] = OpenApiResponse(ValidationErrorSerializer, "Malformed input.")
        if has_body:
            errors[415] = OpenApiResponse(ErrorSerializer, "The body is not JSON, form or multipart data.")
        looks_up = "{id}" in self.path or has_query or self._is_list_view()
        if looks_up or (self.method == "POST" and not self._is_create_operation()):
            errors[404] = OpenApiResponse(ErrorSerializer, "Unknown or invisible object (or page).")
        conflict = getattr(self.view, "conflict_responses", {}).get(getattr(self.view, "action", None))
        if conflict is not None:
            errors[409] = conflict
        return errors

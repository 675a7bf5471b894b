"""The OpenAPI description of the error answers (docs/spec.md §6.7), added to every operation, and
the constraints drf-spectacular does not see on its own (§6.2): ids are integers from 1, strings
carry no NUL, and a field left out on create takes the model's default.

drf-spectacular documents the successful answer of each route; the errors follow from the route's
shape (a body, an id, query parameters) and, for 409, from the view's `conflict_responses` (data).
What OpenAPI cannot say (end after start, ids that name rows, uniqueness) is listed in docs/spec.md §6.9.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers

from scheduling.api.fields import MAX_ID
from scheduling.api.serializers import ConflictSerializer
from scheduling.models import BookingStatus

ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
# DRF's CharField refuses NUL characters (PostgreSQL cannot store them); the pattern says so.
NO_NUL_PATTERN = "^[^\\u0000]*$"


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
    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] == "id":  # the router's lookup takes any segment; the view answers 404 but to an id
                parameter["schema"] = dict(ID_SCHEMA)
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.PrimaryKeyRelatedField) and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=MAX_ID)
        if direction == "request" and self.method != "PATCH":
            self._add_model_default(field, schema)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # After drf-spectacular's own pass, which would wrap a blank-allowing field with a pattern in
        # a oneOf that "" matches twice (so refuses).
        if isinstance(field, serializers.CharField) and schema.get("type") == "string":
            schema.setdefault("pattern", NO_NUL_PATTERN)

    @staticmethod
    def _add_model_default(field, schema) -> None:
        """A field left out on create takes the model's default; say which (a PUT keeps the current value)."""
        model = getattr(getattr(field.parent, "Meta", None), "model", None)
        if model is None or field.required or field.read_only or "default" in schema:
            return
        try:
            model_field = model._meta.get_field(field.source)
        except FieldDoesNotExist:
            return
        if model_field.has_default():
            schema["default"] = model_field.get_default()
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
        has_query = self.method == "GET" and bool(self._get_filter_parameters() or self.get_override_parameters() or self._is_list_view())
        if has_body or has_query:
            errors[400] = OpenApiResponse(ValidationErrorSerializer, "Malformed input.")
        if has_body:
            errors[413] = OpenApiResponse(ErrorSerializer, "The body is larger than the server accepts.")
            errors[415] = OpenApiResponse(ErrorSerializer, "The body is not JSON.")
        looks_up = "{id}" in self.path or has_query or self._is_list_view()
        if looks_up or (self.method == "POST" and not self._is_create_operation()):
            errors[404] = OpenApiResponse(ErrorSerializer, "Unknown or invisible object (or page).")
        conflict = getattr(self.view, "conflict_responses", {}).get(getattr(self.view, "action", None))
        if conflict is not None:
            errors[409] = conflict
        return errors

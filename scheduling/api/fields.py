"""Fields that hold the API's input rules (docs/spec.md §6.2): aware datetimes answered in UTC,
a bounded calendar, `24:00` as the end of a day, and JSON of bounded depth.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling.validators import METADATA_MAX_DEPTH, json_depth, validate_single_line
from scheduling.ids import MAX_ID, parse_id
from scheduling.services.availability import NAIVE_MESSAGE, RANGE_MESSAGE

UTC = dt.timezone.utc


def to_utc(value: dt.datetime) -> dt.datetime:
    """`value` in UTC; raises ValueError for a naive value or one that UTC cannot represent."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(NAIVE_MESSAGE)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(RANGE_MESSAGE) from None


def _holds_control_characters(value) -> bool:
    try:
        validate_single_line(value)
    except DjangoValidationError:
        return True
    return False


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset in, UTC out; a naive value is refused instead of guessed."""

    def to_internal_value(self, value):
        # Python's ISO parser takes any character as the date-time separator, NUL included.
        if _holds_control_characters(value):
            self.fail("invalid", format="ISO 8601 with an offset")
        return super().to_internal_value(value)

    def enforce_timezone(self, value):
        try:
            return to_utc(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


class AwareDateTimeFormField(forms.DateTimeField):
    """The same rule for query parameters (django-filter uses Django forms)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            parsed = value
        elif _holds_control_characters(value):
            parsed = None
        else:
            try:
                parsed = parse_datetime(str(value).strip())
            except ValueError:
                parsed = None
        if parsed is None:
            raise DjangoValidationError("Enter an ISO 8601 datetime with an offset, e.g. 2026-01-05T09:00:00Z.", code="invalid")
        try:
            return to_utc(parsed)
        except ValueError as error:
            raise DjangoValidationError(str(error), code="invalid") from None


TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
END_TIME_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?|24:00(:00)?)$"


@extend_schema_field({"type": "string", "pattern": TIME_PATTERN, "example": "09:00"})
class WallClockTimeField(serializers.TimeField):
    """HH:MM[:SS] and nothing else: Python's parser would also take 0900 or 09:00+01:00."""

    pattern = re.compile(TIME_PATTERN)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            self.fail("invalid", format="HH:MM[:SS]")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": END_TIME_PATTERN,
        "example": "17:00",
        "description": "HH:MM[:SS]; 24:00 (or 00:00) means until midnight and is answered as 00:00:00.",
    }
)
class EndTimeField(WallClockTimeField):
    """A wall-clock end time that also accepts 24:00, stored as 00:00 (docs/spec.md §2.2)."""

    pattern = re.compile(END_TIME_PATTERN)

    def to_internal_value(self, value):
        if isinstance(value, str) and value in ("24:00", "24:00:00"):
            return dt.time(0, 0)
        return super().to_internal_value(value)


class BoundedIdField(serializers.IntegerField):
    """An id in a body or a query string: an integer a database key can hold, so a lookup never
    overflows; given as text, ASCII digits only (`parse_id`: DRF's own parsing reads "٣" as 3)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            if parse_id(data) is None:
                self.fail("invalid")
            data = int(data)
        return super().to_internal_value(data)


class BoundedJSONField(serializers.JSONField):
    """JSON whose depth is checked before DRF serialises it to validate it, which a value nested
    hundreds of levels deep would crash; the model's validators then apply the field's own bounds."""

    def to_internal_value(self, data):
        if json_depth(data) > METADATA_MAX_DEPTH:
            raise serializers.ValidationError(f"Nested deeper than {METADATA_MAX_DEPTH} levels.", code="too_deep")
        return super().to_internal_value(data)


# --- JSON values of the type the schema says (docs/spec.md §6.2) ------------------------------------
# DRF converts by default ("5" is an integer, 0 a string, 1 a boolean); the schema promises types,
# so the body fields take only the JSON type they are documented with.


def is_json_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class StrictCharField(serializers.CharField):
    """A JSON string, kept as sent: trimming would let `maxLength` + spaces through, and blank-after-trim
    refuse what `minLength` allows."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(StrictCharField, serializers.EmailField):
    pass


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not "5", not 5.0, not true."""

    def to_internal_value(self, data):
        if not is_json_integer(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false: not 1, not "true"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictChoiceField(serializers.ChoiceField):
    """A choice of the JSON type of the choices: weekday 3, not "3"."""

    def to_internal_value(self, data):
        integers = all(is_json_integer(key) for key in self.choices)
        if (integers and not is_json_integer(data)) or (not integers and not isinstance(data, str)):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class JsonIdField(StrictIntegerField):
    """An id in a JSON body: a JSON integer a database key can hold."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JsonObjectField(BoundedJSONField):
    """A JSON object (metadata): a list, a number or a string is refused."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.", code="not_an_object")
        return super().to_internal_value(data)

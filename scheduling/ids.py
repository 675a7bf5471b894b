"""Row ids from untrusted text (URL paths, query strings, forms, command arguments, JSON, webhook
metadata): one parser, `parse_id`, and the adapters that put it in front of each kind of input
(docs/spec.md §1, "Ids from outside").

`str.isdigit()` also accepts digits such as "²" that `int()` refuses, and `int()` itself accepts
"٣" (Arabic-Indic three) and " 1 ": one would be a 500, the others another row than the one
written. A number past 2**63 makes the database driver overflow. Only ASCII digits within a bigint
are ids.
"""

import re

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")
INVALID_ID_MESSAGE = f"Enter an id: ASCII digits 0-9 only, from 1 to {MAX_ID}."


def parse_id(value) -> int | None:
    """The id that `value` spells, or None when it spells none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


class IdField(forms.Field):
    """A form (or django-filter) field holding an id; empty is None, anything not an id is invalid."""

    default_error_messages = {"invalid": INVALID_ID_MESSAGE}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IdModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose submitted key must be an id: Django's own would read "٣" as 3."""

    def to_python(self, value):
        by_pk = self.to_field_name in (None, self.queryset.model._meta.pk.name)
        if value in self.empty_values or isinstance(value, self.queryset.model) or not by_pk:
            return super().to_python(value)
        number = parse_id(value)
        if number is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return super().to_python(number)

"""Bounds on the text and JSON the scheduling models accept (docs/spec.md §6.2 "Text", "metadata").

Attached to the model fields, so model validation, DRF's ModelSerializers and the admin's
ModelForms all refuse the same values with the same message, naming the field.
"""

from __future__ import annotations

import json
import unicodedata

from django.core.exceptions import ValidationError

METADATA_MAX_DEPTH = 32
METADATA_MAX_BYTES = 16 * 1024
# What a stored metadata deeper than METADATA_MAX_DEPTH reads as: parsing it could exhaust the
# stack of whatever page or answer loads the row.
UNREADABLE_METADATA_KEY = "_unreadable"
UNREADABLE_METADATA_TEXT = (
    f"Stored metadata nests deeper than {METADATA_MAX_DEPTH} levels; it is not shown. Saving the resource replaces it."
)
# Line breaks and tabs belong in notes; every other control character is refused there too.
MULTI_LINE_ALLOWED = frozenset("\t\n\r")


def _control_characters(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(char) == "Cc" and char not in allowed for char in value)


def validate_single_line(value) -> None:
    """Names, addresses, reasons: no control character at all (a CR/LF would reach mail headers)."""
    if isinstance(value, str) and _control_characters(value):
        raise ValidationError("Control characters (line breaks, tabs, NUL…) are not allowed here.", code="control_character")


def validate_multi_line(value) -> None:
    """Notes: tabs and line breaks, but no NUL or other control character."""
    if isinstance(value, str) and _control_characters(value, MULTI_LINE_ALLOWED):
        raise ValidationError(
            "Control characters other than tab and line breaks (NUL…) are not allowed here.", code="control_character"
        )


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, `{}` is 1), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def json_text_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON text nests deeper than `limit`, read without parsing it (parsing is what fails)."""
    if text.count("{") + text.count("[") <= limit:
        return False  # the common case, at C speed
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > limit:
                return True
        elif char in "}]":
            depth -= 1
    return False


def _holds_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def validate_metadata(value) -> None:
    """A JSON object of bounded depth and size that PostgreSQL's jsonb can store (no NUL)."""
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="not_an_object")
    # Depth first: serialising a value that is too deep is what would fail.
    if json_depth(value) > METADATA_MAX_DEPTH:
        raise ValidationError(f"Nested deeper than {METADATA_MAX_DEPTH} levels.", code="too_deep")
    if _holds_nul(value):
        raise ValidationError("Text may not contain NUL (\\u0000) characters.", code="nul_character")
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > METADATA_MAX_BYTES:
        raise ValidationError(f"Larger than {METADATA_MAX_BYTES // 1024} KiB ({size} bytes).", code="too_large")


def unreadable_metadata() -> dict:
    return {UNREADABLE_METADATA_KEY: UNREADABLE_METADATA_TEXT}

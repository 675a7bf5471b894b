"""Domain errors as HTTP answers (docs/spec.md §6.7), and the parser that keeps hostile bodies at 400.

The services raise `BookingConflict`, `InvalidTransition` and Django's `ValidationError`; the ORM
raises `ProtectedError` when a row is still referenced; Django raises `RequestDataTooBig` and
`TooManyFieldsSent` when a body is first read. Each becomes a JSON 4xx here, in one place: inside a
DRF view through `exception_handler`, before or outside one through `bad_request` (the site's handler400).
"""

from __future__ import annotations

import io
import logging
import sys
from collections import Counter

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.db.models import ProtectedError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from scheduling.api.serializers import ConflictSerializer
from scheduling.services.errors import BookingConflict, GroupConflict, InvalidTransition, PartOfGroup, SeriesConflict, SessionRefused


logger = logging.getLogger(__name__)

# How long a client should wait when the database is briefly away (a restart, a failover).
DATABASE_RETRY_AFTER_SECONDS = 5


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the server accepts."
    default_code = "request_too_large"


def refused_body(exc: Exception) -> exceptions.APIException | None:
    """Django's refusals of a body (raised lazily, when the body is first read) as API errors."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return exceptions.ParseError("The form has more fields or files than the server accepts.")
    return None


def exception_handler(exc, context):
    exc = refused_body(exc) or exc
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable, not the request wrong: say so, and when to come back.
        # Connections are health-checked (CONN_HEALTH_CHECKS), so the next request reconnects.
        logger.warning("Database unavailable: %s", exc)
        body = {"detail": "The database is unavailable for a moment; retry shortly."}
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, BookingConflict):
        return Response({"detail": str(exc), "conflicts": ConflictSerializer(exc.conflicts, many=True).data}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (GroupConflict, SeriesConflict, PartOfGroup)):
        return Response(_group_error_body(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, SessionRefused):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, InvalidTransition):
        body = {"detail": str(exc), "current": exc.current, "requested": exc.requested}
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError):
        return Response({"detail": protected_message(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(field_errors(exc))
    elif isinstance(exc, DjangoPermissionDenied) and str(exc):
        exc = exceptions.PermissionDenied(str(exc))  # DRF would drop the service's reason
    return drf_exception_handler(exc, context)


def _group_error_body(exc) -> dict:
    from scheduling.api.groups import conflict_rows, occurrence_rows  # it imports this module's neighbours

    if isinstance(exc, GroupConflict):
        return {"detail": str(exc), "conflicts": conflict_rows(exc.conflicts)}
    if isinstance(exc, SeriesConflict):
        return {"detail": str(exc), "occurrences": occurrence_rows(exc.occurrences)}
    if getattr(exc, "session_id", None) is not None:
        return {"detail": str(exc), "session": exc.session_id}
    return {"detail": str(exc), "group": exc.group_id}


def bad_request(request, exception=None):
    """handler400: a refusal raised before a view runs (a body read by the CSRF check, say) is JSON
    under /api/, like every other answer there; the rest of the site keeps Django's page."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    error = refused_body(exception) or exceptions.ParseError("Bad request.")
    return JsonResponse({"detail": str(error.detail)}, status=error.status_code)


def field_errors(error: DjangoValidationError) -> dict:
    """Django's {"field": [...], "__all__": [...]} with DRF's name for errors of the whole object."""
    errors = as_serializer_error(error)
    if NON_FIELD_ERRORS in errors:
        errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
    return errors


def protected_message(error: ProtectedError) -> str:
    counts = Counter(obj._meta.verbose_name_plural for obj in error.protected_objects)
    what = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return f"Cannot delete: still referenced by {what}. Nothing was removed."


MAX_BODY_NESTING = 1000


def _nesting(raw: bytes) -> int:
    """The deepest nesting of brackets outside strings, counted without parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class StrictJSONParser(JSONParser):
    """JSON that the databases can store: no lone surrogates, no nesting deep enough to crash the parser."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        depth = _nesting(raw)
        if depth > MAX_BODY_NESTING:
            raise exceptions.ParseError("JSON parse error - nested too deeply.")
        # Python's parser recurses per level: leave it room for a body that is deep but within the
        # bound, so that a field's own limit (metadata: 32 levels) answers, naming the field.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, limit + depth + 100))
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        finally:
            sys.setrecursionlimit(limit)
        # Walked without recursion: a deep but parseable body is the field's error (named), not ours.
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise exceptions.ParseError("JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff).") from None
        return data

"""The audit trail (docs/spec.md §15.1): which models are audited, and who writes through which channel.

django-auditlog writes one `LogEntry` per write of an audited model from its post_save/post_delete
receivers, so in the writer's own transaction, with the changed fields as {"field": [before, after]}.
This module adds what auditlog does not know: the channel ("api", "admin", "board", "command",
"worker") and the reason, kept in the entry's `additional_data`, and the actor, all set by
`audit_context` — opened per request by `AuditMiddleware`, by the board around its writes, and by
the worker's tasks; a write outside any context is a command's (manage.py, the shell).
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, replace
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.db.models.signals import pre_save
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

CHANNELS = ("api", "admin", "board", "command", "worker")
DEFAULT_CHANNEL = "command"
MAX_REASON = 200
NOT_AUDITED_FIELDS = ["created_at", "updated_at"]


@dataclass(frozen=True)
class AuditContext:
    channel: str = DEFAULT_CHANNEL
    # A user, or a request whose user is read when the entry is written (DRF authenticates late).
    actor: Any = None
    reason: str = ""


_current = contextvars.ContextVar("audit_context", default=AuditContext())


def audited_models() -> list[tuple[type, dict]]:
    """Every audited model with its auditlog options; a new model is one more line here."""
    from scheduling import models as m

    return [
        (m.Booking, {}),
        (m.BookingGroup, {}),
        (m.BookingSeries, {}),
        (m.Resource, {}),
        (m.ResourceType, {}),
        (m.Availability, {}),
        (m.ScheduleException, {}),
        (m.Customer, {}),
        (m.WebhookEndpoint, {"mask_fields": ["secret"]}),
        (get_user_obj_perms_model(), {}),
        (get_group_obj_perms_model(), {}),
    ]


def register_audited_models() -> None:
    for model, options in audited_models():
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=NOT_AUDITED_FIELDS, **options)
    pre_save.connect(_fill_entry, sender=LogEntry, dispatch_uid="scheduling.audit_context")


@contextlib.contextmanager
def audit_context(*, channel: str | None = None, actor: Any = None, reason: str | None = None):
    """Writes inside are recorded with this channel, actor and reason; what is not given is inherited."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"Unknown audit channel {channel!r}")
    outer = _current.get()
    changes = {"channel": channel, "actor": actor, "reason": None if reason is None else reason[:MAX_REASON]}
    token = _current.set(replace(outer, **{k: v for k, v in changes.items() if v is not None}))
    try:
        yield
    finally:
        _current.reset(token)


def current_actor():
    """The user of the current context, or None (a command, the worker, an anonymous request)."""
    actor = _current.get().actor
    actor = getattr(actor, "user", actor)  # a request
    if actor is None or not getattr(actor, "is_authenticated", False) or getattr(actor, "pk", None) is None:
        return None
    return actor


def _fill_entry(sender, instance: LogEntry, **kwargs) -> None:
    if instance.pk is not None:
        return
    context = _current.get()
    if instance.actor_id is None:
        instance.actor = current_actor()
    instance.additional_data = {**(instance.additional_data or {}), "channel": context.channel, "reason": context.reason}


class AuditMiddleware:
    """One audit context per request: "api" under /api/, "admin" elsewhere (the admin; the board
    narrows it to "board"); the actor is the request's user, read when an entry is written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "admin"
        reason = request.headers.get("X-Audit-Reason", "")
        reason = "".join(ch for ch in reason if ch.isprintable())
        with audit_context(channel=channel, actor=request, reason=reason):
            return self.get_response(request)


def log_bulk_created(objs) -> None:
    """The entries auditlog's `post_save` receiver would write, for rows made by `bulk_create`
    (a group's or a series' parts), which sends no signal: one per row, in this transaction."""
    from auditlog.receivers import log_create

    for obj in objs:
        log_create(type(obj), obj, True)


def entries_for(obj):
    """The audit entries of one object, newest first."""
    return LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp", "-id")


def entry_channel(entry: LogEntry) -> str | None:
    return (entry.additional_data or {}).get("channel")


def entry_reason(entry: LogEntry) -> str:
    return (entry.additional_data or {}).get("reason", "")

"""The outbox's delivery bookkeeping, shared by every kind of outgoing message (docs/spec.md §9, §15).

An outbox row (an e-mail notice, a webhook delivery, a reminder) has `state`, `attempts`,
`last_error`, `next_attempt_at`, `sent_at` and `updated_at`. A sender claims a due row with one
conditional UPDATE — of two workers racing for it exactly one wins — sends, then records the
outcome: sent (never due again) or failed with its next attempt after an exponential backoff, until
the attempt budget is spent. Each kind of message brings only its own sending.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from scheduling.models import NotificationState

logger = logging.getLogger(__name__)

# Longer than any send may take (EMAIL_TIMEOUT, an ESP's or a webhook's HTTP timeout), so a row
# being sent is never claimed twice; a process that dies mid-send makes the row due again when it ends.
CLAIM_LEASE = dt.timedelta(minutes=10)
MAX_RETRY_DELAY = dt.timedelta(hours=6)
SKIPPED = "skipped"


def due_condition(now: dt.datetime) -> Q:
    return Q(
        state__in=[NotificationState.PENDING, NotificationState.FAILED],
        next_attempt_at__lte=now,
        attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS,
    )


def due(model: type[Model]):
    return model.objects.filter(due_condition(timezone.now()))


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff: the base delay doubled for every attempt after the first, capped."""
    delay = dt.timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS) * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_RETRY_DELAY)


def claim(model: type[Model], pk: int):
    """The row, counted as one more attempt and leased, if it was due; None if it was not."""
    now = timezone.now()
    claimed = model.objects.filter(due_condition(now), pk=pk).update(
        attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE, updated_at=now
    )
    return model.objects.get(pk=pk) if claimed else None


def deliver(model: type[Model], pk: int, send: Callable[[Model], dict], *, task=None) -> str:
    """Claim a due row, `send` it, record the outcome; the state afterwards, or "skipped".

    `send` returns the fields to store with a success and raises on a failure; a failure is
    recorded, never raised, and retried by `task` at its time where the task backend can defer.
    """
    row = claim(model, pk)
    if row is None:
        return SKIPPED
    try:
        stored = send(row)
    except Exception as error:  # noqa: BLE001 — any failure of the peer is recorded, never raised
        next_attempt_at = record_failure(row, error)
        if task is not None and next_attempt_at is not None:
            retry_later(task, pk, next_attempt_at)
        return NotificationState.FAILED
    record_success(row, **stored)
    return NotificationState.SENT


def deliver_due(model: type[Model], deliver_one: Callable[[int], str], *, limit: int | None = None) -> dict[str, int]:
    """Deliver every due row of `model`, oldest due first (the cron safety net)."""
    rows = due(model).order_by("next_attempt_at", "id").values_list("pk", flat=True)
    outcomes = {NotificationState.SENT.value: 0, NotificationState.FAILED.value: 0, SKIPPED: 0}
    for pk in list(rows[:limit] if limit else rows):
        outcomes[deliver_one(pk)] += 1
    return outcomes


def record_success(row: Model, **fields) -> None:
    now = timezone.now()
    type(row).objects.filter(pk=row.pk).update(
        state=NotificationState.SENT, sent_at=now, next_attempt_at=None, last_error="", updated_at=now, **fields
    )


def record_failure(row: Model, error: Exception) -> dt.datetime | None:
    """Store the failure and the next attempt's time (None once the budget is spent), and return it."""
    now = timezone.now()
    gave_up = row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    next_attempt_at = None if gave_up else now + retry_delay(row.attempts)
    logger.warning("%s %s failed (attempt %s): %s", type(row).__name__, row.pk, row.attempts, error)
    type(row).objects.filter(pk=row.pk).update(
        state=NotificationState.FAILED,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=next_attempt_at,
        updated_at=now,
    )
    return next_attempt_at


def enqueue_after_commit(task, pk: int) -> None:
    # robust: a task backend that cannot enqueue (database worker's table unreachable…) must not
    # turn a committed write into an error; the row stays due for the cron run.
    transaction.on_commit(lambda: task.enqueue(pk), robust=True)


def retry_later(task, pk: int, run_after: dt.datetime) -> None:
    # A backend that can defer (django_tasks_db) retries by itself; the immediate backend cannot,
    # and the cron run picks the row up when it is due.
    if task.get_backend().supports_defer:
        task.using(run_after=run_after).enqueue(pk)


def retry_later_after_commit(task, pk: int, run_after: dt.datetime) -> None:
    transaction.on_commit(lambda: retry_later(task, pk, run_after), robust=True)


def reset(row: Model, *, due_at: dt.datetime | None = None) -> None:
    """Make a row due again (now, or at `due_at`) with a fresh attempt budget: a resend, a re-plan."""
    now = timezone.now()
    type(row).objects.filter(pk=row.pk).update(
        state=NotificationState.PENDING, attempts=0, last_error="", next_attempt_at=due_at or now, updated_at=now
    )

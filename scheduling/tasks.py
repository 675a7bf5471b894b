"""Background tasks (the django.tasks API; the django-tasks backport on Django 5.2).

The default task backend runs them right after commit in the same process; production runs them in
`manage.py db_worker` processes (docs/deploy-email.md).
"""

import datetime as dt
import functools

from django.db import transaction
from django_tasks import task

from scheduling.audit import audit_context
from scheduling.services import notifications, policies, reminders, webhooks


def worker_task(function):
    """A task whose writes the audit trail records under the "worker" channel (docs/spec.md §15.1)."""

    @functools.wraps(function)
    def in_worker(*args, **kwargs):
        with audit_context(channel="worker"):
            return function(*args, **kwargs)

    return task()(in_worker)


@worker_task
def deliver_notification(notification_id: int) -> str:
    """Send one outbox notice; a failure is recorded on the row with its next attempt, not raised."""
    return notifications.notification_deliver(notification_id=notification_id)


@worker_task
def expire_approval(booking_id: int) -> bool:
    """Cancel a booking still awaiting approval once its time is up; a no-op when it is not (yet) due."""
    return policies.approval_expire(booking_id=booking_id)


def schedule_approval_expiry(booking_id: int, expires_at: dt.datetime) -> None:
    """After commit, enqueue the expiry to run at `expires_at` where the backend can defer; elsewhere
    `manage.py expire_approvals` (cron) is the one that finds it due (docs/spec.md §13.5)."""

    def enqueue():
        if expire_approval.get_backend().supports_defer:
            expire_approval.using(run_after=expires_at).enqueue(booking_id)

    transaction.on_commit(enqueue, robust=True)


@worker_task
def expire_offer(attendance_id: int) -> bool:
    """Pass an offered seat on once its time is up; a no-op when it is not (yet) due (docs/spec.md §17.4)."""
    from scheduling.services import sessions

    return sessions.offer_expire(attendance_id=attendance_id)


def schedule_offer_expiry(attendance_id: int, expires_at: dt.datetime) -> None:
    """After commit, enqueue the offer's expiry for `expires_at` where the backend can defer;
    elsewhere `manage.py expire_offers` (cron) finds it due."""

    def enqueue():
        if expire_offer.get_backend().supports_defer:
            expire_offer.using(run_after=expires_at).enqueue(attendance_id)

    transaction.on_commit(enqueue, robust=True)


@worker_task
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery; a failure is recorded on the row with its next attempt, not raised."""
    return webhooks.webhook_deliver(delivery_id=delivery_id)


@worker_task
def deliver_reminder(reminder_id: int) -> str:
    """Send one due reminder e-mail (or skip it: cancelled, started); a failure is retried."""
    return reminders.reminder_deliver(reminder_id=reminder_id)


@worker_task
def sync_calendar(subscription_id: int) -> str:
    """The scheduled sync of one calendar subscription; it plans its own next run (docs/spec.md §16.3)."""
    from scheduling.services import calendars

    return calendars.calendar_sync_due(subscription_id=subscription_id)

"""Background tasks (the django.tasks API; the django-tasks backport on Django 5.2).

The default task backend runs them right after commit in the same process; production runs them in
`manage.py db_worker` processes (docs/deploy-email.md).
"""

import functools

from django_tasks import task

from scheduling.audit import audit_context
from scheduling.services import notifications, reminders, webhooks


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
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery; a failure is recorded on the row with its next attempt, not raised."""
    return webhooks.webhook_deliver(delivery_id=delivery_id)


@worker_task
def deliver_reminder(reminder_id: int) -> str:
    """Send one due reminder e-mail (or skip it: cancelled, started); a failure is retried."""
    return reminders.reminder_deliver(reminder_id=reminder_id)

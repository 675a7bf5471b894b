"""Background tasks (the django.tasks API; the django-tasks backport on Django 5.2).

The default task backend runs them right after commit in the same process; production runs them in
`manage.py db_worker` processes (docs/deploy-email.md).
"""

from django_tasks import task

from scheduling.services import notifications, webhooks


@task()
def deliver_notification(notification_id: int) -> str:
    """Send one outbox notice; a failure is recorded on the row with its next attempt, not raised."""
    return notifications.notification_deliver(notification_id=notification_id)


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery; a failure is recorded on the row with its next attempt, not raised."""
    return webhooks.webhook_deliver(delivery_id=delivery_id)

"""Background tasks (the django.tasks API; the django-tasks backport on Django 5.2).

The default task backend runs them right after commit in the same process; production runs them in
`manage.py db_worker` processes (docs/deploy-email.md).
"""

from django_tasks import task

from scheduling.services import notifications


@task()
def deliver_notification(notification_id: int) -> str:
    """Send one outbox notice; a failure is recorded on the row with its next attempt, not raised."""
    return notifications.notification_deliver(notification_id=notification_id)


@task()
def sync_calendar(subscription_id: int) -> str:
    """The scheduled sync of one calendar subscription; it plans its own next run (docs/spec.md §16.3)."""
    from scheduling.services import calendars

    return calendars.calendar_sync_due(subscription_id=subscription_id)

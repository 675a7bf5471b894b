"""Every signal receiver of the app, in one place; each only translates, the rules live in services.

- A booking's e-mail notice hangs off `post_save` (the design card's hook). The booking service
  saves with `update_fields` naming what it changed, so the receiver can tell the event from the
  save alone: a new row is "created", a save whose fields include `status` is that transition. It
  records the notice in the outbox in the saving transaction; delivery happens after commit.
- The same save writes the booking's webhook deliveries (created, the transitions, rescheduled when
  the times or the resource change) into their outbox, also in the saving transaction.
- And its reminders (§15.3): planned on create, re-planned when the start or the resource changes.
- A resource's owner holds the `manage_schedule` grant on it (docs/spec.md §7): given on create here,
  moved on an owner change by `scheduling.services.resources`, dropped with the resource here.
- anymail's tracking webhooks update a notice's delivery log.
- A login copies the user's time zone into the session (read per request by the middleware).
"""

from anymail.signals import tracking
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from scheduling.models import Booking, Resource
from scheduling.services import group_notices, notifications, preferences, reminders, resources, webhooks


@receiver(post_save, sender=Booking, dispatch_uid="scheduling.booking_notice")
def write_booking_notice(sender, instance: Booking, created: bool, raw: bool, update_fields=None, **kwargs) -> None:
    if raw or instance.session_id is not None:
        return  # loaddata: history, not news; a session's booking: the session tells its attendees (§17.4)
    if instance.group_id is not None or instance.series_id is not None:
        # The group or series states its own event, in one message for all its parts (docs/spec.md §14).
        group_notices.part_saved(booking=instance, created=created, update_fields=update_fields)
        return
    event = notifications.booking_event(created=created, update_fields=update_fields, status=instance.status)
    if event is not None:
        notifications.notification_record(booking_id=instance.pk, event=event)


@receiver(post_save, sender=Booking, dispatch_uid="scheduling.booking_webhooks")
def write_booking_webhooks(sender, instance: Booking, created: bool, raw: bool, update_fields=None, **kwargs) -> None:
    if raw:
        return
    events = webhooks.booking_webhook_events(created=created, update_fields=update_fields, status=instance.status)
    webhooks.webhook_deliveries_record(booking_id=instance.pk, events=events)


@receiver(post_save, sender=Booking, dispatch_uid="scheduling.booking_reminders")
def plan_booking_reminders(sender, instance: Booking, created: bool, raw: bool, update_fields=None, **kwargs) -> None:
    if not raw and instance.session_id is None and reminders.booking_needs_reminder_plan(created=created, update_fields=update_fields):
        reminders.booking_reminders_plan(booking=instance, created=created)


@receiver(post_save, sender=Resource, dispatch_uid="scheduling.owner_grant_on_create")
def give_owner_grant(sender, instance: Resource, created: bool, raw: bool, **kwargs) -> None:
    if created and not raw:
        resources.resource_owner_changed(resource=instance, previous_owner_id=None)


@receiver(post_delete, sender=Resource, dispatch_uid="scheduling.grants_of_deleted_resource")
def drop_grants_of_deleted_resource(sender, instance: Resource, **kwargs) -> None:
    resources.resource_grants_drop(resource=instance)


@receiver(tracking, dispatch_uid="scheduling.notice_tracking")
def track_notice(sender, event, esp_name: str, **kwargs) -> None:
    notifications.notification_track(event=event)


@receiver(user_logged_in, dispatch_uid="scheduling.time_zone_on_login")
def remember_time_zone(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[preferences.SESSION_KEY] = preferences.user_time_zone(user)

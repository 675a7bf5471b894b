"""Signal receivers: booking saves write their e-mail notice (the outbox), ESP webhooks track it.

The receivers only translate; the rules live in `scheduling.services.notifications`.
"""

from anymail.signals import tracking
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from scheduling.models import Booking
from scheduling.services import notifications


@receiver(pre_save, sender=Booking, dispatch_uid="scheduling.booking_status_before_save")
def remember_stored_status(sender, instance: Booking, raw: bool, **kwargs) -> None:
    # Instances read from the database carry their stored status (Booking.from_db); one built by
    # hand with a primary key, or read with the status deferred, does not, so read it once.
    if raw or instance.pk is None or getattr(instance, "_loaded_status", None) is not None:
        return
    instance._loaded_status = Booking.objects.filter(pk=instance.pk).values_list("status", flat=True).first()


@receiver(post_save, sender=Booking, dispatch_uid="scheduling.booking_notice")
def write_booking_notice(sender, instance: Booking, created: bool, raw: bool, update_fields=None, **kwargs) -> None:
    if raw:
        return  # loaddata: history, not news
    if update_fields is not None and "status" not in update_fields:
        return  # the stored status did not change
    previous_status = getattr(instance, "_loaded_status", None)
    # The next save of this same instance compares with what is stored now.
    instance._loaded_status = instance.status
    event = notifications.booking_event(created=created, previous_status=previous_status, status=instance.status)
    if event is not None:
        notifications.notification_record(booking_id=instance.pk, event=event)


@receiver(tracking, dispatch_uid="scheduling.notice_tracking")
def track_notice(sender, event, esp_name: str, **kwargs) -> None:
    notifications.notification_track(event=event)

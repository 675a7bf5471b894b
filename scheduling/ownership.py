"""A resource's owner may manage its schedule: the grant follows ownership (docs/spec.md §7)."""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from guardian.shortcuts import assign_perm, remove_perm

from scheduling.models import Resource
from scheduling.permissions import SCHEDULE


@receiver(pre_save, sender=Resource)
def remember_previous_owner(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._previous_owner_id = None
        return
    instance._previous_owner_id = Resource.objects.filter(pk=instance.pk).values_list("owner_id", flat=True).first()


@receiver(post_save, sender=Resource)
def move_schedule_grant_with_owner(sender, instance, raw=False, **kwargs):
    if raw:
        return
    previous = getattr(instance, "_previous_owner_id", None)
    if previous == instance.owner_id:
        return
    if previous is not None:
        from django.contrib.auth import get_user_model

        old_owner = get_user_model().objects.filter(pk=previous).first()
        if old_owner is not None:
            remove_perm(SCHEDULE, old_owner, instance)
    if instance.owner_id is not None:
        assign_perm(SCHEDULE, instance.owner, instance)

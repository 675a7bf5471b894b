"""A resource's owner may manage its schedule: the grant follows ownership (docs/spec.md §7)."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission
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


@receiver(post_delete, sender=Resource)
def drop_grants_of_deleted_resource(sender, instance, **kwargs):
    # Guardian keys grants by a generic foreign key, which no database cascade reaches; a new
    # resource reusing the id must not inherit them.
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type__app_label="scheduling", content_type__model="resource", object_pk=str(instance.pk)).delete()

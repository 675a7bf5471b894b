"""manage.py grant: give (or take back) a role or a per-resource right, for scripts and first setup.

    manage.py grant alice --role booker
    manage.py grant bob --resource 3 --book --schedule
    manage.py grant "front desk" --group --resource 3 --book
    manage.py grant bob --resource 3 --book --revoke
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from guardian.shortcuts import assign_perm, remove_perm

from scheduling import roles
from scheduling.models import Resource
from scheduling.permissions import BOOK, SCHEDULE

ROLES = {"manager": roles.MANAGER, "booker": roles.BOOKER, "viewer": roles.VIEWER}


class Command(BaseCommand):
    help = "Give a user a role, or a user or group the right to book a resource or manage its schedule."

    def add_arguments(self, parser):
        parser.add_argument("name", help="User name (or group name with --group).")
        parser.add_argument("--group", action="store_true", help="NAME is a group, not a user.")
        parser.add_argument("--role", choices=sorted(ROLES), help="Add the user to this role's group.")
        parser.add_argument("--resource", type=int, help="Resource id for a per-resource right.")
        parser.add_argument("--book", action="store_true", help="The right to book the resource.")
        parser.add_argument("--schedule", action="store_true", help="The right to manage its working hours and exceptions.")
        parser.add_argument("--revoke", action="store_true", help="Take the role or rights back.")

    def handle(self, *args, name, group, role, resource, book, schedule, revoke, **options):
        holder = self._holder(name, group)
        if role:
            if group:
                raise CommandError("--role applies to users.")
            role_group = Group.objects.get(name=ROLES[role])
            (holder.groups.remove if revoke else holder.groups.add)(role_group)
            self.stdout.write(f"{'Removed' if revoke else 'Added'} {name} {'from' if revoke else 'to'} {role_group.name}.")
        if resource is not None:
            rights = [perm for perm, wanted in ((BOOK, book), (SCHEDULE, schedule)) if wanted]
            if not rights:
                raise CommandError("Say which right: --book and/or --schedule.")
            target = Resource.objects.filter(pk=resource).first()
            if target is None:
                raise CommandError(f"No resource with id {resource}.")
            for perm in rights:
                (remove_perm if revoke else assign_perm)(perm, holder, target)
            self.stdout.write(f"{'Revoked' if revoke else 'Granted'} {', '.join(rights)} on {target} for {name}.")
        if not role and resource is None:
            raise CommandError("Nothing to do: give --role or --resource.")

    def _holder(self, name, group):
        model = Group if group else get_user_model()
        lookup = {"name": name} if group else {"username": name}
        holder = model.objects.filter(**lookup).first()
        if holder is None:
            raise CommandError(f"No {'group' if group else 'user'} named {name!r}.")
        return holder

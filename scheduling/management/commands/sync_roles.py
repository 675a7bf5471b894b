"""manage.py sync_roles: recreate the three role groups with exactly their permissions (idempotent)."""

from django.core.management.base import BaseCommand

from scheduling.roles import sync_roles


class Command(BaseCommand):
    help = "Create or reset the groups scheduling_manager, scheduling_booker and scheduling_viewer."

    def handle(self, *args, **options):
        for name, count in sync_roles().items():
            self.stdout.write(f"{name}: {count} permissions")

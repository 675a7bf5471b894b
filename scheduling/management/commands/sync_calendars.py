"""manage.py sync_calendars: fetch every calendar subscription now and import its busy times
(docs/spec.md §16.3). For cron, or where the task backend cannot run the scheduled syncs."""

from django.core.management.base import BaseCommand

from scheduling.permissions import SYSTEM
from scheduling.services.calendars import calendars_sync_all


class Command(BaseCommand):
    help = "Fetch every external calendar now and update the busy times imported from it."

    def handle(self, *args, **options):
        outcomes = calendars_sync_all(by=SYSTEM)
        self.stdout.write(" ".join(f"{name}={count}" for name, count in outcomes.items()))

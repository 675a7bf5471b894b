"""manage.py prune_history --older-than DAYS: the audit trail's retention (docs/spec.md §15.1), the
only way audit rows are ever deleted."""

import datetime as dt

from auditlog.models import LogEntry
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "Delete audit-trail rows older than DAYS days."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS", help="Age in days (at least 1).")

    def handle(self, *args, older_than: int, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - dt.timedelta(days=older_than)
        deleted, _ = LogEntry.objects.filter(timestamp__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} audit rows older than {cutoff:%Y-%m-%d %H:%M} UTC.")

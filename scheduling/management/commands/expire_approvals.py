"""manage.py expire_approvals: cancel the bookings whose approval time has run out (with their
cancellation notice). Run it from cron every few minutes next to the workers; each booking is
cancelled once whoever gets there first (docs/spec.md §13.5)."""

from django.core.management.base import BaseCommand

from scheduling.services.policies import approvals_expire_due


class Command(BaseCommand):
    help = "Cancel pending bookings whose approval_timeout has passed."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Cancel at most this many bookings in this run.")

    def handle(self, *args, limit, **options):
        self.stdout.write(f"expired={approvals_expire_due(limit=limit)}")

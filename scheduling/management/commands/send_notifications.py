"""manage.py send_notifications: deliver every due outbox notice (new ones not yet sent, failed ones
whose next attempt has come). Run it from cron every few minutes; it is safe next to workers."""

from django.core.management.base import BaseCommand

from scheduling.services.notifications import notifications_deliver_due


class Command(BaseCommand):
    help = "Send the booking e-mails that are due: pending ones and failed ones whose retry time has come."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Send at most this many notices in this run.")

    def handle(self, *args, limit, **options):
        outcomes = notifications_deliver_due(limit=limit)
        self.stdout.write(" ".join(f"{name}={count}" for name, count in outcomes.items()))

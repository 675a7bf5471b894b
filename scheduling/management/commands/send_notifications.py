"""manage.py send_notifications: deliver everything due in the outbox — e-mail notices, webhook
deliveries and reminders (new ones not yet sent, failed ones whose next attempt has come). Run it
from cron every few minutes; it is safe next to workers."""

from collections import Counter

from django.core.management.base import BaseCommand

from scheduling.services.notifications import notifications_deliver_due
from scheduling.services.reminders import reminders_deliver_due
from scheduling.services.webhooks import webhooks_deliver_due


class Command(BaseCommand):
    help = "Send the booking e-mails and webhooks that are due: pending ones and failed ones whose retry time has come."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Send at most this many notices in this run.")

    def handle(self, *args, limit, **options):
        totals = Counter(notifications_deliver_due(limit=limit))
        for deliver_due in (webhooks_deliver_due, reminders_deliver_due):
            totals.update(deliver_due(limit=limit))
        self.stdout.write(" ".join(f"{name}={totals[name]}" for name in ("sent", "failed", "skipped")))

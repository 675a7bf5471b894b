"""manage.py expire_offers: pass on the seats whose offer has run out (with the next one's e-mail).
Run it from cron every few minutes next to the workers; each offer is expired once whoever gets
there first (docs/spec.md §17.4)."""

from django.core.management.base import BaseCommand

from scheduling.services.sessions import offers_expire_due


class Command(BaseCommand):
    help = "Expire offered seats of classes whose hold has passed, and offer them to the next in line."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Expire at most this many offers in this run.")

    def handle(self, *args, limit, **options):
        self.stdout.write(f"expired={offers_expire_due(limit=limit)}")

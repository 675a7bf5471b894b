"""manage.py seed_demo: the quick start's demo week, or with --resources/--bookings a reproducible bulk load.

Rules in docs/spec.md §10.4.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling.demo import BulkPlan, NotEnoughWorkingTime, default_days, default_start, has_demo_data, load_bulk, load_demo
from scheduling.management.cli import int_at_least, iso_date, progress_bar


class Command(BaseCommand):
    help = (
        "Load realistic demo data (resource types, resources in two time zones, leave and this week's bookings), "
        "or with --resources N --bookings M a reproducible bulk load for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for reproducible data (default 7).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when resources already exist.")
        bulk = parser.add_argument_group("bulk generator", "Give both sizes to generate rows in bulk instead of the demo week.")
        bulk.add_argument("--resources", type=int_at_least(1), metavar="N", help="Number of resources.")
        bulk.add_argument("--bookings", type=int_at_least(0), metavar="M", help="Number of bookings, spread evenly over the resources.")
        bulk.add_argument("--start", type=iso_date, metavar="DATE", help="First day (UTC) of the span (default: so that its middle is this week).")
        bulk.add_argument("--days", type=int_at_least(1), metavar="D", help="Length of the span in days (default: about three bookings per resource per day).")
        bulk.add_argument("--batch-size", type=int_at_least(1), default=5000, metavar="B", help="Rows per INSERT (default 5000).")

    def handle(self, *args, seed, if_empty, resources, bookings, start, days, batch_size, **options):
        bulk = resources is not None or bookings is not None
        if bulk and (resources is None or bookings is None):
            raise CommandError("--resources and --bookings go together; give both.")
        if not bulk and (start or days):
            raise CommandError("--start and --days apply to the bulk generator; give --resources and --bookings too.")
        if if_empty and has_demo_data():
            self.stdout.write("Demo data already present; nothing loaded.")
            return
        if bulk:
            counts = self._bulk(seed=seed, resources=resources, bookings=bookings, start=start, days=days, batch_size=batch_size)
        else:
            counts = load_demo(seed=seed)
        self.stdout.write(self.style.SUCCESS("Loaded " + ", ".join(f"{n} {what}" for what, n in counts.items()) + "."))

    def _bulk(self, *, seed, resources, bookings, start, days, batch_size) -> dict[str, int]:
        days = days or default_days(resources, bookings)
        start = start or default_start(days, timezone.localdate())
        plan = BulkPlan(resources=resources, bookings=bookings, seed=seed, start=start, days=days, batch_size=batch_size)
        self.stdout.write(
            f"Generating {resources} resources and {bookings} bookings over {days} days from {start}; "
            f"the same data again: seed_demo --resources {resources} --bookings {bookings} --seed {seed} --start {start} --days {days}"
        )
        with progress_bar(self, total=bookings, desc="Bookings", unit=" bookings") as bar:
            try:
                return load_bulk(plan, on_batch=bar.update)
            except NotEnoughWorkingTime as error:
                raise CommandError(str(error)) from None

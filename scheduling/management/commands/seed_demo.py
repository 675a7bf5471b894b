"""manage.py seed_demo: load the quick start's demo data (trainers, rooms, vehicles, a week of bookings)."""

from django.core.management.base import BaseCommand

from scheduling.demo import has_demo_data, load_demo


class Command(BaseCommand):
    help = "Load realistic demo data: resource types, resources in two time zones, leave and this week's bookings."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for reproducible data (default 7).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when resources already exist.")

    def handle(self, *args, seed, if_empty, **options):
        if if_empty and has_demo_data():
            self.stdout.write("Demo data already present; nothing loaded.")
            return
        counts = load_demo(seed=seed)
        self.stdout.write(self.style.SUCCESS("Loaded " + ", ".join(f"{n} {what}" for what, n in counts.items()) + "."))

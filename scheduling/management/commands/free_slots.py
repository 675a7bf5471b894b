"""manage.py free_slots: who of a type is free on a day, and when — for the front desk on the phone.

Slots follow `free_slots` (docs/spec.md §2.4) for every active resource of the type, in four queries;
the rules of this command are in docs/spec.md §10.3.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils import timezone

from scheduling.csv_safe import SafeWriter
from scheduling.management.cli import command_error, iso_date
from scheduling.services.reports import ResourceSlots, find_type, free_slots_of_type

FORMATS = ("table", "csv", "json")


class Command(BaseCommand):
    help = "The free slots of every active resource of a type on one day (slots already begun are left out)."

    def add_arguments(self, parser):
        parser.add_argument("--type", dest="type_name", required=True, metavar="NAME|ID")
        parser.add_argument("--on", dest="day", type=iso_date, required=True, metavar="DATE", help="The day, YYYY-MM-DD.")
        parser.add_argument("--duration", type=int, required=True, metavar="MINUTES", help="Length of the booking.")
        parser.add_argument("--step", type=int, metavar="MINUTES", help="Distance between slot starts (default: the duration).")
        parser.add_argument("--tz", metavar="ZONE", help="Read the day in this IANA zone (default: each resource's own).")
        parser.add_argument("--format", dest="output_format", choices=FORMATS, default="table")

    def handle(self, *args, type_name, day, duration, step, tz, output_format, **options):
        try:
            resource_type = find_type(type_name)
            found = free_slots_of_type(
                resource_type=resource_type,
                day=day,
                duration=dt.timedelta(minutes=duration),
                step=dt.timedelta(minutes=step) if step is not None else None,
                tz=tz,
                # On the phone today, slots that have begun are no use; other days are shown whole.
                not_before=timezone.now() if day == timezone.localdate() else None,
            )
        except ValidationError as error:
            raise command_error(error) from None
        if output_format == "csv":
            writer = SafeWriter(self.stdout)
            writer.writerow(["resource_id", "resource", "timezone", "start", "end"])
            writer.writerows([r.resource.pk, r.resource.name, r.zone, s.isoformat(), e.isoformat()] for r in found for s, e in _local(r))
        elif output_format == "json":
            data = {
                "type": resource_type.name,
                "on": day.isoformat(),
                "duration_minutes": duration,
                "step_minutes": step or duration,
                "resources": [
                    {"id": r.resource.pk, "name": r.resource.name, "timezone": r.zone, "slots": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in _local(r)]}
                    for r in found
                ],
            }
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_table(resource_type.name, day, found))


def _local(found: ResourceSlots) -> list[tuple[dt.datetime, dt.datetime]]:
    zone = ZoneInfo(found.zone)
    return [(s.astimezone(zone), e.astimezone(zone)) for s, e in found.slots]


def render_table(type_name: str, day: dt.date, found: list[ResourceSlots]) -> str:
    lines = [f"Free {type_name} slots on {day:%A %Y-%m-%d}"]
    if not found:
        lines.append("No active resource of this type.")
    for row in found:
        lines.append(f"\n{row.resource.name} ({row.zone})")
        slots = _local(row)
        lines.extend(f"  {s:%H:%M}–{e:%H:%M}" for s, e in slots)
        if not slots:
            lines.append("  no free slot")
    return "\n".join(lines)

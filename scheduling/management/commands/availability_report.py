"""manage.py availability_report: working, leave, booked and free hours per resource over a period.

The figures and their rules are the service's (docs/spec.md §10.1); this command parses the
options, picks the output format and draws a progress bar on a terminal.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from scheduling.management.cli import command_error, iso_date, iterate_with_progress, row_id, text_table
from scheduling.services.reports import STATUSES, UtilisationReport, find_type, select_resources, utilisation_report

FORMATS = ("table", "csv", "json")
FIGURE_HEADERS = ("Working h", "Exceptions h", "Booked h", "Free h", "Util. %", "Booked unit-h", "Class seats (fill %)")


class Command(BaseCommand):
    help = "Utilisation per resource (and per type) over a period: working, exception, booked and free hours, bookings by status."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first_day", type=iso_date, required=True, metavar="DATE", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last_day", type=iso_date, required=True, metavar="DATE", help="Last day (included), YYYY-MM-DD.")
        parser.add_argument("--type", dest="type_name", metavar="NAME|ID", help="Only the active resources of this type.")
        parser.add_argument("--resource", dest="resource_ids", type=row_id, nargs="+", action="extend", default=[], metavar="ID", help="Only these resources (active or not).")
        parser.add_argument("--format", dest="output_format", choices=FORMATS, default="table")
        parser.add_argument("--tz", metavar="ZONE", help="Read the dates in this IANA zone (default: each resource's own).")

    def handle(self, *args, first_day, last_day, type_name, resource_ids, output_format, tz, **options):
        try:
            resource_type = find_type(type_name) if type_name else None
            resources = select_resources(resource_type=resource_type, resource_ids=resource_ids)
            report = utilisation_report(
                first_day=first_day,
                last_day=last_day,
                resources=resources,
                tz=tz,
                progress=iterate_with_progress(self),
            )
        except ValidationError as error:
            raise command_error(error) from None
        if output_format == "csv":
            report.write_csv(self.stdout)
        elif output_format == "json":
            self.stdout.write(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_table(report))


def render_table(report: UtilisationReport) -> str:
    zone = report.timezone or "each resource's own time zone"
    heading = f"Utilisation {report.first_day} – {report.last_day} ({zone})"
    if not report.resources:
        return f"{heading}\nNo resource matches."
    rows = []
    for total, resources in report.grouped():
        for row in resources:
            rows.append([row.resource.name, row.resource.type.name, *_figures(row.figures), *(row.bookings[s] for s in STATUSES)])
        rows.append([f"Total {total.type.name}", f"{total.resources} resource{'' if total.resources == 1 else 's'}", *_figures(total.figures), *(total.bookings[s] for s in STATUSES)])
    return f"{heading}\n\n" + text_table(("Resource", "Type", *FIGURE_HEADERS, *STATUSES), rows, align_left=2)


def _figures(figures) -> list:
    data = figures.as_dict()
    return [f"{data[k]:.2f}" for k in ("working_hours", "exception_hours", "booked_hours", "free_hours")] + [
        "–" if data["utilisation_pct"] is None else f"{data['utilisation_pct']:.1f}",
        f"{data['booked_unit_hours']:.2f}",
        "–" if data["fill_pct"] is None else f"{data['seats_taken']}/{data['seats']} ({data['fill_pct']:.1f})",
    ]

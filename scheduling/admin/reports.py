"""Admin page "Utilisation": the report of docs/spec.md §10.1 for a period and a type, a heatmap
of daily utilisation (resource × day, server-rendered SVG) and the same figures as CSV.

Thin: the form parses, `scheduling.services.reports` computes, this module only lays the heatmap out.
Mounted by the admin site (scheduling/admin_site.py) as `admin:scheduling_utilisation`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone

from scheduling.ids import IdModelChoiceField
from scheduling.models import ResourceType
from scheduling.permissions import can_view_reports
from scheduling.services.reports import Figures, UtilisationReport, select_resources, utilisation_report, validate_period, validate_zone

# Both: the page shows resources and what their bookings add up to.
HEATMAP_MAX_RESOURCES = 200
# A web request must end well inside the gunicorn worker timeout: three months × 1,000 resources
# is measured in docs/performance.md. The command takes the service's full 366 days.
MAX_PAGE_PERIOD_DAYS = 93


class UtilisationForm(forms.Form):
    type = IdModelChoiceField(queryset=ResourceType.objects.all(), required=False, empty_label="All types")
    tz = forms.CharField(required=False, label="Time zone", help_text="An IANA zone, e.g. Europe/Warsaw; empty: each resource's own.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so the date fields cannot be class attributes.
        dates = {"from": forms.DateField(label="From"), "to": forms.DateField(label="To", help_text="Included.")}
        for field in dates.values():
            field.widget = forms.DateInput(attrs={"type": "date"})
        self.fields = dates | self.fields

    def clean(self):
        data = super().clean()
        # The service's own checks, each reported on its field.
        checks = [lambda: validate_zone(data.get("tz") or None)]
        if data.get("from") and data.get("to"):
            checks.append(lambda: validate_period(data["from"], data["to"], max_days=MAX_PAGE_PERIOD_DAYS))
        for check in checks:
            try:
                check()
            except ValidationError as error:
                self.add_error(None, error)
        return data


def current_month(today: dt.date) -> dict[str, str]:
    last = calendar.monthrange(today.year, today.month)[1]
    return {"from": today.replace(day=1).isoformat(), "to": today.replace(day=last).isoformat()}


def utilisation_view(request: HttpRequest) -> HttpResponse:
    if not can_view_reports(request.user):
        raise PermissionDenied
    form = UtilisationForm(request.GET if "from" in request.GET else current_month(timezone.localdate()))
    report = None
    if form.is_valid():
        data = form.cleaned_data
        as_csv = request.GET.get("format") == "csv"
        report = utilisation_report(
            first_day=data["from"],
            last_day=data["to"],
            resources=select_resources(resource_type=data["type"]),
            tz=data["tz"] or None,
            # The daily split feeds only the heatmap; the CSV has no use for its quarter of the time.
            daily=not as_csv,
        )
        if as_csv:
            return csv_response(report)
    context = admin.site.each_context(request) | {
        "title": "Utilisation",
        "form": form,
        "report": report,
        "heatmap": heatmap(report) if report else None,
        "heatmap_limit": HEATMAP_MAX_RESOURCES,
        "csv_query": _csv_query(form),
    }
    return TemplateResponse(request, "admin/scheduling/utilisation.html", context)


def csv_response(report: UtilisationReport) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="utilisation-{report.first_day}-{report.last_day}.csv"'
    report.write_csv(response)
    return response


def _csv_query(form: UtilisationForm) -> str:
    """The page's own query (or its defaults) asking for the CSV."""
    query = QueryDict(mutable=True)
    query.update(form.data)
    query["format"] = "csv"
    return query.urlencode()


# --- Heatmap ----------------------------------------------------------------------------------------

CELL = 16
GAP = 2
LABEL_WIDTH = 190
HEADER_HEIGHT = 34
EMPTY_COLOUR = "#e5e7eb"
OVER_COLOUR = "#dc2626"
LOW, HIGH = (238, 242, 255), (49, 46, 129)  # light for 0 %, dark for 100 %


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    fill: str
    title: str


@dataclass(frozen=True)
class Label:
    x: int
    y: int
    text: str
    title: str = ""
    weekend: bool = False
    group: bool = False


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    cell: int
    columns: list[Label]
    rows: list[Label]
    cells: list[Cell]
    truncated: bool


def colour(figures: Figures) -> str:
    utilisation = figures.utilisation
    if utilisation is None:
        return EMPTY_COLOUR
    if utilisation > 100:
        return OVER_COLOUR
    share = utilisation / 100
    return "#" + "".join(f"{round(lo + (hi - lo) * share):02x}" for lo, hi in zip(LOW, HIGH))


def cell_title(name: str, day: dt.date, figures: Figures) -> str:
    if figures.utilisation is None:
        return f"{name}, {day:%a %Y-%m-%d}: no available time"
    booked, available = figures.booked.total_seconds() / 3600, figures.available.total_seconds() / 3600
    return f"{name}, {day:%a %Y-%m-%d}: {booked:.2f} of {available:.2f} h booked ({figures.utilisation:.1f} %)"


def heatmap(report: UtilisationReport, limit: int = HEATMAP_MAX_RESOURCES) -> Heatmap:
    """Rows per resource under a heading per type, one column per day; at most `limit` resources."""
    days = report.days
    step = CELL + GAP
    columns = [Label(LABEL_WIDTH + i * step, HEADER_HEIGHT - 6, f"{day.day}", f"{day:%a %Y-%m-%d}", weekend=day.weekday() >= 5) for i, day in enumerate(days)]
    rows, cells, y, shown = [], [], HEADER_HEIGHT, 0
    for total, resources in report.grouped():
        if shown >= limit:
            break
        rows.append(Label(0, y + CELL - 4, total.type.name, group=True))
        y += step
        for row in resources[: limit - shown]:
            name = row.resource.name
            rows.append(Label(0, y + CELL - 4, name if len(name) <= 26 else name[:25] + "…", name))
            cells.extend(Cell(LABEL_WIDTH + i * step, y, colour(figures), cell_title(name, day, figures)) for i, (day, figures) in enumerate(zip(days, row.days)))
            y += step
            shown += 1
    return Heatmap(LABEL_WIDTH + len(days) * step, y, CELL, columns, rows, cells, truncated=len(report.resources) > shown)


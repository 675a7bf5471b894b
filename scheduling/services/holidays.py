"""Public holidays as whole-day exceptions (docs/spec.md §16.4), from the `holidays` package.

Each holiday is one exception per resource, from local midnight to the next local midnight in the
resource's own zone. The unique constraint `exception_one_per_holiday` makes an import idempotent,
also when two imports run at once: a row that exists is skipped, not doubled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from scheduling import engine, permissions
from scheduling.models import ExceptionKind, Resource, ScheduleException
from scheduling.services.availability import validate_day


def public_holidays(*, country: str, year: int, subdivision: str | None = None) -> dict[dt.date, str]:
    """The public holidays of a country (and subdivision) in a year; ValidationError for unknown ones."""
    if not 1 <= year <= 9999:
        raise ValidationError({"year": f"{year} is not a year of the calendar."})
    validate_day(dt.date(year, 1, 1), name="year")
    try:
        found = holidays.country_holidays(country.upper(), subdiv=subdivision, years=year)
    except NotImplementedError as error:
        raise ValidationError({"subdivision" if subdivision and "subdivision" in str(error) else "country": str(error)}) from error
    return dict(sorted(found.items()))


def holidays_import(
    *, by, country: str, year: int, resources: Iterable[Resource], subdivision: str | None = None
) -> int:
    """Create the holiday exceptions of `year` for each resource; the number created (0 the second time)."""
    days = public_holidays(country=country, year=year, subdivision=subdivision)
    resources = list(resources)
    for resource in resources:
        if not permissions.can(by, "add", model=ScheduleException, resource=resource):
            raise PermissionDenied(f"You may not add exceptions to resource {resource.pk}.")
    region = country.upper() + (f"-{subdivision.upper()}" if subdivision else "")
    rows = []
    for resource in resources:
        for day, name in days.items():
            start, end = engine.whole_days_to_utc(day, day + dt.timedelta(days=1), resource.timezone)
            rows.append(
                ScheduleException(
                    resource=resource,
                    kind=ExceptionKind.HOLIDAY,
                    source_uid=f"holiday:{region}:{day.isoformat()}",
                    start_at=start,
                    end_at=end,
                    reason=f"Holiday: {name}"[:200],
                )
            )
    with transaction.atomic():
        before = ScheduleException.objects.filter(kind=ExceptionKind.HOLIDAY, resource__in=resources).count()
        ScheduleException.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        after = ScheduleException.objects.filter(kind=ExceptionKind.HOLIDAY, resource__in=resources).count()
    return after - before

"""manage.py import_holidays: public holidays as whole-day exceptions (docs/spec.md §16.4)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from scheduling.ids import parse_id
from scheduling.models import Resource, ResourceType
from scheduling.permissions import SYSTEM
from scheduling.services.holidays import holidays_import


class Command(BaseCommand):
    help = "Create a whole-day exception (local midnight to midnight) on each public holiday of a year; running it again adds nothing."

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. PL.")
        parser.add_argument("--subdivision", default=None, help="The country's subdivision code, e.g. BY for Bavaria (DE).")
        parser.add_argument("--year", required=True, type=int)
        selection = parser.add_mutually_exclusive_group()
        selection.add_argument("--type", dest="type_name", help="Only the resources of this type (its name).")
        selection.add_argument("--resource", dest="resource_ids", nargs="+", metavar="ID", help="Only these resources (ids).")

    def handle(self, *args, country, subdivision, year, type_name, resource_ids, **options):
        resources = self._resources(type_name, resource_ids)
        try:
            created = holidays_import(by=SYSTEM, country=country, subdivision=subdivision, year=year, resources=resources)
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())) from error
        self.stdout.write(f"created={created} resources={len(resources)}")

    def _resources(self, type_name, resource_ids) -> list[Resource]:
        if type_name is not None:
            resource_type = ResourceType.objects.filter(name=type_name).first()
            if resource_type is None:
                raise CommandError(f"No resource type is named {type_name!r}.")
            return list(Resource.objects.filter(type=resource_type))
        if resource_ids is not None:
            ids = [parse_id(value) for value in resource_ids]
            if None in ids:
                raise CommandError(f"Not a resource id: {resource_ids[ids.index(None)]!r}.")
            found = Resource.objects.in_bulk(ids)
            missing = [pk for pk in ids if pk not in found]
            if missing:
                raise CommandError(f"No resource with id {missing[0]}.")
            return [found[pk] for pk in dict.fromkeys(ids)]
        return list(Resource.objects.all())

"""Query parameters of the list routes (docs/spec.md §6.3).

Ids are plain integers, not looked up: an unknown or invisible id filters to nothing instead of
answering an error that would tell which ids exist. Time windows keep the overlap rule of §2.1.
A parameter sent empty is refused, not ignored, and the schema states each parameter's values.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from scheduling.api.fields import AwareDateTimeFormField
from scheduling.ids import MAX_ID, IdField
from scheduling.models import Availability, Booking, BookingStatus, CalendarSubscription, Customer, Resource, ScheduleException
from scheduling.permissions import customers_with_email


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    # parse_id's rule: Django's IntegerField would read "٣" or "1 " as an id.
    field_class = IdField


class AwareDateTimeFilter(filters.Filter):
    field_class = AwareDateTimeFormField


TRUE_WORDS, FALSE_WORDS = ("true", "True", "1"), ("false", "False", "0")


@extend_schema_field({"type": "string", "enum": list(TRUE_WORDS + FALSE_WORDS)})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """true/false (also True/False and 1/0, as clients spell them); anything else is a 400, not silently ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(word, word) for word in TRUE_WORDS + FALSE_WORDS])
        kwargs.setdefault("coerce", lambda value: value in TRUE_WORDS)
        super().__init__(*args, **kwargs)


class StrictFilterSet(filters.FilterSet):
    """`?start=` is a 400 naming `start`, not "no filter": no parameter's schema allows an empty value."""

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if "" in self.data.getlist(name):
                self.form.add_error(name, "This parameter may not be empty.")
                valid = False
        return valid


class OverlapWindowFilterSet(StrictFilterSet):
    """`start`/`end`: rows whose [start_at, end_at) overlaps the window; either bound alone works."""

    start = AwareDateTimeFilter(field_name="end_at", lookup_expr="gt", label="Rows ending after this instant.")
    end = AwareDateTimeFilter(field_name="start_at", lookup_expr="lt", label="Rows starting before this instant.")

    def is_valid(self):
        valid = super().is_valid()
        data = self.form.cleaned_data if valid else {}
        if valid and data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.form.add_error("end", "end must be after start.")
            return False
        return valid


class BookingFilter(OverlapWindowFilterSet):
    resource = IdFilter(field_name="resource_id")
    customer = IdFilter(field_name="customer_id")
    resource_type = IdFilter(field_name="resource__type_id", label="Resource type id.")
    type = IdFilter(field_name="resource__type_id", label="Resource type id (alias of resource_type).")
    status = filters.MultipleChoiceFilter(choices=BookingStatus.choices)

    class Meta:
        model = Booking
        fields = ["resource", "customer", "resource_type", "type", "status", "start", "end"]


class ResourceFilter(StrictFilterSet):
    type = IdFilter(field_name="type_id")
    active = StrictBooleanFilter()

    class Meta:
        model = Resource
        fields = ["type", "active"]


@extend_schema_field({"type": "string", "minLength": 1, "pattern": "^[^\\x00]*$"})
class NonEmptyCharFilter(filters.CharFilter):
    """Text whose schema says what StrictFilterSet enforces: never empty."""


class CustomerFilter(StrictFilterSet):
    email = NonEmptyCharFilter(
        method="filter_email",
        label="An exact e-mail address (case-insensitive). A user limited to per-resource grants gets at most one "
        "customer, also one not otherwise visible to them, so that they can book someone who exists already.",
    )

    class Meta:
        model = Customer
        fields = ["email"]

    def filter_email(self, queryset, name, value):
        # Who may find whom is the permission layer's; it also reaches beyond the restricted list.
        return customers_with_email(self.request.user, value, Customer.objects.order_by(*queryset.query.order_by))


class AvailabilityFilter(StrictFilterSet):
    resource = IdFilter(field_name="resource_id")
    weekday = filters.ChoiceFilter(choices=Availability.Weekday.choices)

    class Meta:
        model = Availability
        fields = ["resource", "weekday"]


class ScheduleExceptionFilter(OverlapWindowFilterSet):
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = ScheduleException
        fields = ["resource", "start", "end"]


class CalendarSubscriptionFilter(StrictFilterSet):
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = CalendarSubscription
        fields = ["resource"]

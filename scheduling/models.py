"""The scheduling domain: resources, their working hours and leave, customers and bookings.

Invariants that a database can hold live here as constraints; the rules that need several rows
(availability, transitions) live in `scheduling.services`.
"""

import base64
import binascii
import datetime as dt
import secrets
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact

from scheduling.outbound import validate_outbound_url
from scheduling.validators import (
    METADATA_MAX_DEPTH,
    json_text_deeper_than,
    unreadable_metadata,
    validate_metadata,
    validate_multi_line,
    validate_single_line,
)

MIDNIGHT = dt.time(0, 0)


def validate_timezone(value: str) -> None:
    if not value or value not in _available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name.", code="invalid_timezone")


# Files a zoneinfo directory may hold that are not places (docs/spec.md §1, "Time zone names"):
# `localtime` is the host's own zone under another name (Debian links it), `Factory` is tzdata's
# "zone not set" placeholder, `posixrules` a template; `posix/` and `right/` are copies, and
# `right/` counts leap seconds, so its UTC would be wrong.
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
NOT_PLACE_PREFIXES = ("posix/", "right/")


def _available_timezones() -> set[str]:
    if not hasattr(_available_timezones, "cache"):
        names = zoneinfo.available_timezones() | {"UTC"}
        _available_timezones.cache = {n for n in names if n not in NOT_PLACES and not n.startswith(NOT_PLACE_PREFIXES)}
    return _available_timezones.cache


def validate_json_object(value) -> None:
    # Migration 0001 refers to it; the field itself now uses validators.validate_metadata.
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="not_an_object")


def default_timezone() -> str:
    return settings.TIME_ZONE


def empty_object() -> dict:
    return {}


def empty_list() -> list:
    return []


MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 60 * 24 * 60  # 60 days


def validate_reminder_minutes(value) -> None:
    """A list of at most MAX_REMINDERS distinct whole minutes, each 1 … MAX_REMINDER_MINUTES."""
    if not isinstance(value, list) or len(value) > MAX_REMINDERS:
        raise ValidationError(f"Send a list of at most {MAX_REMINDERS} numbers of minutes.", code="invalid_reminders")
    for minutes in value:
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_REMINDER_MINUTES:
            raise ValidationError(
                f"Each reminder is a whole number of minutes from 1 to {MAX_REMINDER_MINUTES}.", code="invalid_reminders"
            )
    if len(set(value)) != len(value):
        raise ValidationError("Each reminder time may appear once.", code="invalid_reminders")


class MetadataFormField(forms.JSONField):
    """The admin's JSON box: text nested too deeply is a form error, not a parser crash."""

    def to_python(self, value):
        if isinstance(value, str) and json_text_deeper_than(value, METADATA_MAX_DEPTH):
            raise ValidationError(f"Nested deeper than {METADATA_MAX_DEPTH} levels.", code="too_deep")
        return super().to_python(value)

    def bound_data(self, data, initial):
        if isinstance(data, str) and json_text_deeper_than(data, METADATA_MAX_DEPTH):
            return forms.fields.InvalidJSONInput(data)  # shown again as typed, with the error
        return super().bound_data(data, initial)


class MetadataField(models.JSONField):
    """A JSON object within the bounds of `validate_metadata`.

    A row stored deeper than the bound (before it existed, or by raw SQL) is never parsed: parsing
    could exhaust the stack of whichever page loads the row, so it reads as a placeholder.
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and json_text_deeper_than(value, METADATA_MAX_DEPTH):
            return unreadable_metadata()
        return super().from_db_value(value, expression, connection)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": MetadataFormField, **kwargs})



# --- Booking policies (docs/spec.md §13) ----------------------------------------------------------

MINUTES_PER_DAY = 1440
# Bounds that keep every rule within the engine's reach (a year of minutes; ten years of horizon).
MAX_POLICY_MINUTES = 366 * MINUTES_PER_DAY
MAX_HORIZON_DAYS = 3660
MAX_QUOTA = 10_000
# The rules in the order they are checked and reported; all minutes unless stated.
POLICY_MINUTE_FIELDS = (
    "buffer_before",
    "buffer_after",
    "min_notice",
    "min_duration",
    "max_duration",
    "granularity",
    "cancel_deadline",
    "change_deadline",
    "approval_timeout",
)
POLICY_FIELDS = (
    "buffer_before",
    "buffer_after",
    "min_notice",
    "max_horizon",
    "min_duration",
    "max_duration",
    "granularity",
    "cancel_deadline",
    "change_deadline",
    "quota_per_day",
    "quota_per_week",
    "requires_approval",
    "approval_timeout",
)


def _minutes(help_text: str, *, inherit: bool, default=None, maximum: int = MAX_POLICY_MINUTES):
    kwargs = {"null": True, "blank": True} if inherit or default is None else {}
    return models.PositiveIntegerField(
        default=None if inherit else default,
        validators=[MinValueValidator(0), MaxValueValidator(maximum)],
        help_text=help_text + (" Empty: as the resource type." if inherit else ""),
        **kwargs,
    )


def policy_fields(*, inherit: bool) -> dict[str, models.Field]:
    """The policy columns of a type (`inherit=False`) or of a resource (every one null = inherit)."""
    return {
        "buffer_before": _minutes("Minutes kept free before each booking.", inherit=inherit, default=0),
        "buffer_after": _minutes("Minutes kept free after each booking.", inherit=inherit, default=0),
        "min_notice": _minutes("Minutes a booking must start after the request.", inherit=inherit),
        "max_horizon": _minutes("Days ahead a booking may start at most.", inherit=inherit, maximum=MAX_HORIZON_DAYS),
        "min_duration": _minutes("Shortest booking, minutes.", inherit=inherit),
        "max_duration": _minutes("Longest booking, minutes.", inherit=inherit),
        "granularity": _minutes(
            "Start and end lie on local midnight + k × this many minutes; must divide 1440.", inherit=inherit, maximum=MINUTES_PER_DAY
        ),
        "cancel_deadline": _minutes("Minutes before the start after which only a manager may cancel.", inherit=inherit),
        "change_deadline": _minutes("Minutes before the start after which only a manager may move or re-time.", inherit=inherit),
        "quota_per_day": _minutes("Occupying bookings of this type per customer per local day.", inherit=inherit, maximum=MAX_QUOTA),
        "quota_per_week": _minutes("Occupying bookings of this type per customer per local ISO week.", inherit=inherit, maximum=MAX_QUOTA),
        "requires_approval": (
            models.BooleanField(null=True, blank=True, default=None, help_text="Empty: as the resource type.")
            if inherit
            else models.BooleanField(default=False, help_text="Bookings by non-approvers are created pending and wait for approval.")
        ),
        "approval_timeout": _minutes("Minutes a booking may wait for approval before it is cancelled; empty: never.", inherit=inherit),
    }


def policy_constraints(prefix: str) -> list[models.BaseConstraint]:
    """min ≤ max and a granularity that divides a day, held by the database."""
    return [
        models.CheckConstraint(
            condition=Q(min_duration__isnull=True) | Q(max_duration__isnull=True) | Q(max_duration=0) | Q(min_duration__lte=models.F("max_duration")),
            name=f"{prefix}_min_duration_le_max",
        ),
        models.CheckConstraint(
            condition=Q(granularity__isnull=True) | Q(granularity=0) | Q(Exact(Mod(models.Value(MINUTES_PER_DAY), models.F("granularity")), 0)),
            name=f"{prefix}_granularity_divides_day",
        ),
    ]


def policy_errors(values: dict) -> dict[str, str]:
    """The cross-field rules of one set of policy values (a type's, or a resource's resolved ones)."""
    errors = {}
    low, high = values.get("min_duration"), values.get("max_duration")
    if low and high and low > high:
        errors["max_duration"] = "max_duration must be at least min_duration."
    granularity = values.get("granularity")
    if granularity and MINUTES_PER_DAY % granularity:
        errors["granularity"] = "granularity must divide a day (1440 minutes): 5, 10, 15, 30, 60…"
    return errors

class ResourceType(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[validate_single_line])
    color = models.CharField(
        max_length=7,
        default="#4f46e5",
        validators=[validate_single_line, RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour of the form #rrggbb.")],
    )
    reminder_before = models.JSONField(
        default=empty_list,
        blank=True,
        validators=[validate_reminder_minutes],
        help_text="Minutes before the start at which the customer is reminded by e-mail, e.g. [1440, 60].",
    )
    offer_hold = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POLICY_MINUTES)],
        help_text="Minutes a seat freed in a class is held for the next on the waiting list.",
    )

    class Meta:
        ordering = ["name"]
        constraints = policy_constraints("resourcetype")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = policy_errors({name: getattr(self, name) for name in POLICY_FIELDS})
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.color = self.color.lower()
        super().save(*args, **kwargs)


for _name, _field in policy_fields(inherit=False).items():
    ResourceType.add_to_class(_name, _field)


MAX_CAPACITY = 100_000


class Resource(models.Model):
    name = models.CharField(max_length=200, validators=[validate_single_line])
    type = models.ForeignKey(ResourceType, on_delete=models.PROTECT, related_name="resources")
    active = models.BooleanField(default=True)
    metadata = MetadataField(default=empty_object, blank=True, validators=[validate_metadata])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_resources",
    )
    timezone = models.CharField(max_length=64, default=default_timezone, validators=[validate_single_line, validate_timezone])
    # Identical units booked together (docs/spec.md §17.1): 1 is an exclusive resource.
    capacity = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)],
        help_text="How many identical units the resource has; 1 means one booking at a time.",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["type", "active"], name="resource_type_active_idx")]
        permissions = [
            ("manage_schedule", "Can manage the working hours and exceptions of the resource"),
            ("book_resource", "Can book the resource"),
        ]
        constraints = [*policy_constraints("resource"), models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_positive")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        # The resource's own values; with its type's, the API checks the resolved pair.
        errors = policy_errors({name: getattr(self, name) for name in POLICY_FIELDS})
        if errors:
            raise ValidationError(errors)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


for _name, _field in policy_fields(inherit=True).items():
    Resource.add_to_class(_name, _field)


class Customer(models.Model):
    name = models.CharField(max_length=200, validators=[validate_single_line])
    email = models.EmailField(validators=[validate_single_line])
    phone = models.CharField(max_length=40, blank=True, default="", validators=[validate_single_line])
    notes = models.TextField(blank=True, default="", validators=[validate_multi_line])
    # Who registered the customer: a holder of booking grants keeps seeing the customers they
    # registered before any booking exists (scheduling.permissions.restrict).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="registered_customers",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["email"], name="customer_email_idx")]

    def __str__(self) -> str:
        return self.name


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


# Every status but cancelled holds its time. As a query condition it is written as the exclusion
# constraint's own condition, so that PostgreSQL can answer it from the constraint's index.
OCCUPYING_STATUSES = frozenset(BookingStatus) - {BookingStatus.CANCELLED}
OCCUPYING = ~Q(status=BookingStatus.CANCELLED)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that the SQLite schema editor and model validation skip.

    On SQLite the same guarantee is kept by the booking service under an immediate transaction.
    """

    @staticmethod
    def _is_postgres(connection) -> bool:
        return connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._is_postgres(schema_editor.connection) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._is_postgres(schema_editor.connection) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._is_postgres(schema_editor.connection) else None

    def validate(self, model, instance, exclude=None, using="default"):
        # The booking service reports overlaps with their details; a second, vaguer message from
        # model validation would only duplicate it.
        return None


class BookingQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # save() derives the occupied range; bulk loads (demo data, benches) skip save().
        objs = list(objs)
        for booking in objs:
            booking.occupied_start, booking.occupied_end = occupied_range(booking)
        return super().bulk_create(objs, *args, **kwargs)


class SeriesMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
    SKIP_CONFLICTS = "skip_conflicts", "Skip conflicts"


class BookingSeries(models.Model):
    """A recurrence rule (RFC 5545) over one resource or a group of resources (docs/spec.md §14).

    The rule applies to the first occurrence's local start in the first resource's zone, so an
    18:00 class stays 18:00 across DST. Each occurrence written is an ordinary Booking (one per
    resource, tied by a BookingGroup when there are several) carrying its `recurrence_id`.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="series")
    resources = models.ManyToManyField(Resource, related_name="series")
    start_at = models.DateTimeField(help_text="The first occurrence's start (the rule's DTSTART).")
    end_at = models.DateTimeField(help_text="The first occurrence's end.")
    rrule = models.CharField(max_length=500, validators=[validate_single_line])
    exdates = models.JSONField(default=empty_list, blank=True, help_text="Dates or starts left out by request (ISO 8601).")
    skipped = models.JSONField(default=empty_list, blank=True, editable=False, help_text="Starts skipped for a conflict (ISO 8601, UTC).")
    mode = models.CharField(max_length=16, choices=SeriesMode.choices, default=SeriesMode.ALL_OR_NOTHING)
    notes = models.TextField(blank=True, default="", validators=[validate_multi_line])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_at", "id"]
        verbose_name_plural = "booking series"
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="series_end_after_start"),
            models.CheckConstraint(condition=Q(mode__in=SeriesMode.values), name="series_mode_valid"),
        ]

    def __str__(self) -> str:
        return f"Series {self.pk}: {self.rrule}"


class BookingGroup(models.Model):
    """One customer, one interval, two or more resources; each resource's part is a Booking."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="booking_groups")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    notes = models.TextField(blank=True, default="", validators=[validate_multi_line])
    series = models.ForeignKey(BookingSeries, on_delete=models.CASCADE, null=True, blank=True, related_name="groups")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="group_end_after_start"),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="group_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Group {self.pk} {self.start_at:%Y-%m-%d %H:%M} ({self.status})"


class Booking(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    # Empty only for a session's occupying booking (docs/spec.md §17.4; CHECK booking_customer_or_session).
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, related_name="bookings")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    notes = models.TextField(blank=True, default="", validators=[validate_multi_line])
    override_availability = models.BooleanField(
        default=False,
        help_text="Set by a manager to allow this booking outside working hours or over an exception.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The buffers in force when the booking was written (docs/spec.md §13.2), and the range they
    # make it occupy: [start_at − buffer_before, end_at + buffer_after), which save() derives.
    buffer_before = models.PositiveIntegerField(default=0, editable=False)
    buffer_after = models.PositiveIntegerField(default=0, editable=False)
    occupied_start = models.DateTimeField(editable=False, blank=True)
    occupied_end = models.DateTimeField(editable=False, blank=True)
    # When a booking awaiting approval is cancelled unless approved (null: never).
    approval_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A part of a group is moved and transitioned only with its group (services/groups.py).
    group = models.ForeignKey(BookingGroup, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="parts")
    # An occurrence of a series: its original start (the iCalendar RECURRENCE-ID); once moved or
    # cancelled alone it is `detached`, an exception date of the series.
    series = models.ForeignKey(BookingSeries, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="bookings")
    recurrence_id = models.DateTimeField(null=True, blank=True, editable=False)
    detached = models.BooleanField(default=False, editable=False)
    # The session (class) this booking holds the resource for (docs/spec.md §17.4).
    session = models.ForeignKey("Session", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="bookings")
    # Units of a pool held (docs/spec.md §17.1), and whether the booking was written under the pool
    # rules (its resource's capacity > 1): the exclusion constraint holds the others only.
    quantity = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)], help_text="Units of the resource held; at most its capacity."
    )
    pooled = models.BooleanField(default=False, editable=False)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["start_at", "id"]
        permissions = [
            ("override_availability", "Can book outside working hours or over an exception"),
            ("approve_booking", "Can approve bookings of resources that require approval"),
        ]
        indexes = [
            # The overlap query (resource_id = ? AND end_at > ? AND start_at < ?): on SQLite always,
            # on PostgreSQL when cancelled bookings are wanted too (calendar, lists).
            models.Index(fields=["resource", "end_at", "start_at"], name="booking_resource_end_idx"),
            # Booking lists filtered by a time window across resources.
            models.Index(fields=["start_at"], name="booking_start_idx"),
            # The occupied-range overlap query on SQLite (selectors.overlapping_bookings).
            models.Index(fields=["resource", "occupied_end", "occupied_start"], name="booking_resource_occupied_idx"),
            # The expiry run: pending bookings whose approval time has run out.
            models.Index(fields=["approval_expires_at"], name="booking_approval_due_idx", condition=Q(status="pending", approval_expires_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="booking_end_after_start"),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="booking_status_valid"),
            models.CheckConstraint(
                condition=Q(occupied_start__lte=models.F("start_at"), occupied_end__gte=models.F("end_at")),
                name="booking_occupied_covers_booking",
            ),
            models.CheckConstraint(condition=Q(series__isnull=True) | Q(recurrence_id__isnull=False), name="booking_occurrence_has_recurrence_id"),
            models.CheckConstraint(condition=Q(customer__isnull=False) | Q(session__isnull=False), name="booking_customer_or_session"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="booking_quantity_positive"),
            # A booking outside the pool rules holds one unit: the exclusion constraint counts it right.
            models.CheckConstraint(condition=Q(pooled=True) | Q(quantity=1), name="booking_unpooled_holds_one"),
            PostgresOnlyExclusionConstraint(
                name="booking_no_overlap",
                # Over the occupied range, buffers included, so a race cannot slip two buffered
                # bookings together. Pool bookings are summed under the resource lock instead
                # (docs/spec.md §17.1); the overlap query reads through booking_occupied_gist.
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    (TsTzRange("occupied_start", "occupied_end", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
                condition=OCCUPYING & Q(pooled=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.start_at:%Y-%m-%d %H:%M}–{self.end_at:%H:%M} ({self.status})"

    @property
    def occupies(self) -> bool:
        return self.status in OCCUPYING_STATUSES

    @property
    def who(self) -> str:
        """The customer's name; a session's booking (no customer) names its class (docs/spec.md §17.4)."""
        return self.customer.name if self.customer_id is not None else f"Class: {self.notes}"

    def clean(self):
        # Derived before the constraints are validated (full_clean), as save() derives it.
        if isinstance(self.start_at, dt.datetime) and isinstance(self.end_at, dt.datetime):
            self.occupied_start, self.occupied_end = occupied_range(self)
        # One unit always fits (capacity ≥ 1); more are measured against the resource.
        if not (isinstance(self.quantity, int) and self.quantity > 1 and self.resource_id):
            return
        resource = self._state.fields_cache.get("resource") or Resource.objects.filter(pk=self.resource_id).only("capacity").first()
        if resource is not None and self.quantity > resource.capacity:
            raise ValidationError({"quantity": f"At most the resource's capacity ({resource.capacity})."})

    def save_base(self, *args, update_fields=None, **kwargs):
        # The occupied range follows the times and buffers, whichever channel saved them (fixtures too).
        self.occupied_start, self.occupied_end = occupied_range(self)
        if update_fields is not None and {"start_at", "end_at", "buffer_before", "buffer_after"} & set(update_fields):
            update_fields = [*update_fields, "occupied_start", "occupied_end"]
        super().save_base(*args, update_fields=update_fields, **kwargs)


MAX_SEATS = 10_000


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class Session(models.Model):
    """A class: an interval on one or more resources (each held by a Booking) offering `seats` (§17.4)."""

    title = models.CharField(max_length=200, validators=[validate_single_line])
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    seats = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_SEATS)])
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="session_end_after_start"),
            models.CheckConstraint(condition=Q(seats__gte=1, seats__lte=MAX_SEATS), name="session_seats_range"),
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="session_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.start_at:%Y-%m-%d %H:%M}"


class AttendanceStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    WAITLISTED = "waitlisted", "Waitlisted"
    OFFERED = "offered", "Offered a seat"
    LEFT = "left", "Left"
    EXPIRED = "expired", "Offer expired"
    CANCELLED = "cancelled", "Session cancelled"


SEAT_HOLDING = (AttendanceStatus.BOOKED, AttendanceStatus.OFFERED)
ACTIVE_ATTENDANCE = (AttendanceStatus.BOOKED, AttendanceStatus.WAITLISTED, AttendanceStatus.OFFERED)


class Attendance(models.Model):
    """A customer's place in a session: a seat (booked, offered) or a ticket in the line (§17.4).

    The database holds the seat count: a holder's `seat` lies in 1 … `seats` (the session's, copied)
    and is unique per session among holders, so no code path can seat more than `seats` people.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="attendances")
    status = models.CharField(max_length=16, choices=AttendanceStatus.choices)
    seats = models.PositiveIntegerField(editable=False)
    seat = models.PositiveIntegerField(null=True, blank=True, editable=False)
    position = models.PositiveIntegerField(null=True, blank=True, editable=False, help_text="Arrival ticket in the waiting line.")
    offer_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "created_at", "id"]
        indexes = [
            models.Index(fields=["offer_expires_at"], name="attendance_offer_due_idx", condition=Q(status="offered")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AttendanceStatus.values), name="attendance_status_valid"),
            models.CheckConstraint(
                condition=(Q(status__in=SEAT_HOLDING) & Q(seat__isnull=False, seat__gte=1, seat__lte=models.F("seats")))
                | (~Q(status__in=SEAT_HOLDING) & Q(seat__isnull=True)),
                name="attendance_seat_within_seats",
            ),
            models.CheckConstraint(
                condition=~Q(status=AttendanceStatus.WAITLISTED) | Q(position__isnull=False), name="attendance_waitlisted_has_position"
            ),
            models.CheckConstraint(
                condition=Q(status=AttendanceStatus.OFFERED, offer_expires_at__isnull=False) | ~Q(status=AttendanceStatus.OFFERED),
                name="attendance_offer_has_expiry",
            ),
            models.UniqueConstraint(fields=["session", "seat"], condition=Q(status__in=SEAT_HOLDING), name="attendance_one_per_seat"),
            models.UniqueConstraint(fields=["session", "customer"], condition=Q(status__in=ACTIVE_ATTENDANCE), name="attendance_once_active"),
            models.UniqueConstraint(fields=["session", "position"], name="attendance_one_per_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.session} ({self.status})"


def occupied_range(booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    return (
        booking.start_at - dt.timedelta(minutes=booking.buffer_before or 0),
        booking.end_at + dt.timedelta(minutes=booking.buffer_after or 0),
    )


class Availability(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="00:00 means until midnight.")

    class Meta:
        ordering = ["resource", "weekday", "start_time"]
        verbose_name_plural = "availability"
        indexes = [models.Index(fields=["resource", "weekday"], name="availability_resource_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday_range"),
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")) | Q(end_time=MIDNIGHT),
                name="availability_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        end = "24:00" if self.end_time == MIDNIGHT else f"{self.end_time:%H:%M}"
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{end}"


class ExceptionKind(models.TextChoices):
    MANUAL = "manual", "Manual"
    EXTERNAL = "external", "External calendar"
    HOLIDAY = "holiday", "Public holiday"


class CalendarSubscription(models.Model):
    """An external ICS calendar whose busy times block a resource (docs/spec.md §16.3)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="calendar_subscriptions")
    url = models.URLField(max_length=2000, validators=[validate_single_line, URLValidator(schemes=["http", "https"]), validate_outbound_url])
    name = models.CharField(max_length=100, blank=True, default="", validators=[validate_single_line])
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, default="", editable=False)
    # The validators of the last 200 answer, sent back as If-None-Match / If-Modified-Since.
    etag = models.CharField(max_length=255, blank=True, default="", editable=False)
    last_modified = models.CharField(max_length=64, blank=True, default="", editable=False)
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resource", "id"]
        indexes = [models.Index(fields=["next_sync_at"], name="subscription_next_sync_idx")]

    def __str__(self) -> str:
        return self.name or self.url


class ScheduleException(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="exceptions")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, default="", validators=[validate_single_line])
    # Set by the code that writes the row (a person's form is always manual), so no form offers it.
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices, default=ExceptionKind.MANUAL, editable=False)
    # Where an imported row came from, so that the next import updates it in place (docs/spec.md §16.1).
    subscription = models.ForeignKey(
        CalendarSubscription, on_delete=models.CASCADE, null=True, blank=True, editable=False, related_name="exceptions"
    )
    source_uid = models.CharField(max_length=255, blank=True, default="", editable=False)
    source_recurrence = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        db_table = "scheduling_exception"
        ordering = ["start_at", "id"]
        verbose_name = "exception"
        indexes = [models.Index(fields=["resource", "end_at", "start_at"], name="exception_resource_end_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="exception_end_after_start"),
            models.CheckConstraint(condition=Q(kind__in=ExceptionKind.values), name="exception_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=ExceptionKind.EXTERNAL, subscription__isnull=False)
                | (~Q(kind=ExceptionKind.EXTERNAL) & Q(subscription__isnull=True)),
                name="exception_external_has_subscription",
            ),
            models.UniqueConstraint(
                fields=["subscription", "source_uid", "source_recurrence"],
                condition=Q(subscription__isnull=False),
                name="exception_one_per_source_event",
            ),
            models.UniqueConstraint(
                fields=["resource", "source_uid"], condition=Q(kind=ExceptionKind.HOLIDAY), name="exception_one_per_holiday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource}: {self.reason or 'blocked'} {self.start_at:%Y-%m-%d %H:%M}"


class NotificationEvent(models.TextChoices):
    CREATED = "created", "Created"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    APPROVAL = "approval", "Awaiting approval"
    RESCHEDULED = "rescheduled", "Rescheduled"
    OFFERED = "offered", "Seat offered"


class NotificationState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """The outbox: one e-mail notice about a booking event, written in the booking's transaction.

    The message is rendered when the row is written, so a retry sends what was true at the event.
    Delivery and retries: `scheduling.services.notifications`.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notifications")
    # A notice to one attendee of a session (docs/spec.md §17.4), attached to the session's booking.
    attendance = models.ForeignKey("Attendance", on_delete=models.CASCADE, null=True, blank=True, editable=False, related_name="notifications")
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
    # The .ics SEQUENCE of this notice: one more than the booking's previous notice, so a calendar
    # app takes each notice as an update of the last (a booking can be moved many times).
    sequence = models.PositiveIntegerField(default=0)
    recipients = models.JSONField(default=empty_list)
    subject = models.CharField(max_length=255)
    text_body = models.TextField()
    html_body = models.TextField()
    ics = models.TextField()
    state = models.CharField(max_length=16, choices=NotificationState.choices, default=NotificationState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Empty when nothing is scheduled.")
    sent_at = models.DateTimeField(null=True, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    delivery = models.JSONField(default=empty_object, blank=True, help_text="Tracking events by recipient.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The due query of every delivery run: state IN (pending, failed) AND next_attempt_at <= now.
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due_idx",
                condition=Q(state__in=[NotificationState.PENDING, NotificationState.FAILED]),
            ),
        ]
        constraints = [
            # Created, confirmed and cancelled happen once in a life cycle that never goes back;
            # a booking can be rescheduled any number of times.
            models.UniqueConstraint(
                fields=["booking", "event"],
                name="notification_one_per_event",
                condition=~Q(event=NotificationEvent.RESCHEDULED) & Q(attendance__isnull=True),
            ),
            models.UniqueConstraint(fields=["attendance", "event"], name="notification_one_per_attendee_event", condition=Q(attendance__isnull=False)),
            models.UniqueConstraint(fields=["booking", "sequence"], name="notification_sequence_unique"),
            models.CheckConstraint(condition=Q(state__in=NotificationState.values), name="notification_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} notice for booking {self.booking_id} ({self.state})"


class StaffPreference(models.Model):
    """A staff user's own settings (the "My settings" page): the time zone the admin speaks in.

    A user without a row uses `TIME_ZONE`; `scheduling.middleware.UserTimeZoneMiddleware` activates
    the zone for each request, so every page, form and message of the admin follows it.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduling_preference")
    time_zone = models.CharField(
        "time zone", max_length=64, default=default_timezone, validators=[validate_single_line, validate_timezone]
    )

    def __str__(self) -> str:
        return f"Settings of {self.user}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class WebhookEvent(models.TextChoices):
    BOOKING_CREATED = "booking.created", "Booking created"
    BOOKING_CONFIRMED = "booking.confirmed", "Booking confirmed"
    BOOKING_CANCELLED = "booking.cancelled", "Booking cancelled"
    BOOKING_RESCHEDULED = "booking.rescheduled", "Booking rescheduled"
    BOOKING_COMPLETED = "booking.completed", "Booking completed"
    BOOKING_NO_SHOW = "booking.no_show", "Booking no-show"


WEBHOOK_SECRET_PREFIX = "whsec_"


def new_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 after "whsec_" (Standard Webhooks)."""
    return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)


def validate_webhook_secret(value: str) -> None:
    try:
        key = webhook_secret_key(value) if value.startswith(WEBHOOK_SECRET_PREFIX) else b""
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        raise ValidationError("Use whsec_ followed by the base64 of 24 to 64 random bytes.", code="invalid_secret")


def validate_webhook_events(value) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        raise ValidationError("Send a non-empty list of event types.", code="invalid_events")
    unknown = sorted(set(value) - set(WebhookEvent.values))
    if unknown:
        raise ValidationError(
            f"Unknown event types: {', '.join(unknown)}; known: {', '.join(WebhookEvent.values)}.", code="invalid_events"
        )
    if len(set(value)) != len(value):
        raise ValidationError("Each event type may appear once.", code="invalid_events")


class WebhookEndpoint(models.Model):
    """A receiver that managers registered for booking events (docs/spec.md §15.2)."""

    url = models.URLField(max_length=500, validators=[validate_single_line, validate_outbound_url])
    events = models.JSONField(validators=[validate_webhook_events], help_text="The event types sent here, e.g. [\"booking.created\"].")
    secret = models.CharField(
        max_length=200,
        default=new_webhook_secret,
        blank=True,
        validators=[validate_webhook_secret],
        help_text="whsec_<base64>: the key of the Standard Webhooks signature; generated when left empty.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """The outbox row of one event for one endpoint, written in the writer's transaction.

    The body is rendered when the row is written, so every attempt sends the same bytes under the
    same `webhook-id`, which receivers use to drop duplicates. Delivery: `scheduling.services.webhooks`.
    """

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    message_id = models.CharField(max_length=64, unique=True)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=NotificationState.choices, default=NotificationState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Empty when nothing is scheduled.")
    sent_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    attempt_log = models.JSONField(default=empty_list, blank=True, help_text="One entry per attempt: when, and the answer or error.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The due query of every delivery run, as for notices.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(state__in=[NotificationState.PENDING, NotificationState.FAILED]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=NotificationState.values), name="webhook_delivery_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.state})"


class Reminder(models.Model):
    """The outbox row of one reminder e-mail: due `minutes_before` the booking's start (§15.3).

    `next_attempt_at` is the due time; a move of the booking re-plans it. Rendered when sent, so
    the e-mail shows the booking as it is then.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    minutes_before = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=NotificationState.choices, default=NotificationState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="The due time; empty when nothing is scheduled.")
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped = models.CharField(max_length=200, blank=True, default="", help_text="Why no e-mail went out, if none did.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="reminder_due_idx",
                condition=Q(state__in=[NotificationState.PENDING, NotificationState.FAILED]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["booking", "minutes_before"], name="reminder_one_per_offset"),
            models.CheckConstraint(condition=Q(state__in=NotificationState.values), name="reminder_state_valid"),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.minutes_before} min before booking {self.booking_id} ({self.state})"


class ResourceFeed(models.Model):
    """The secret ICS feed of a resource's busy times (docs/spec.md §16.2).

    The token is kept so that a manager can be shown the URL again; requests find the feed by the
    token's SHA-256 digest, so the index lookup's timing says nothing about the token itself.
    """

    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, related_name="feed")
    token = models.CharField(max_length=64, editable=False)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    details = models.BooleanField(default=False, help_text="Show customer names and notes instead of \"Busy\".")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resource"]

    def __str__(self) -> str:
        return f"Feed of {self.resource}"

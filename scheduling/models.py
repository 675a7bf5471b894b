"""The scheduling domain: resources, their working hours and leave, customers and bookings.

Invariants that a database can hold live here as constraints; the rules that need several rows
(availability, transitions) live in `scheduling.services`.
"""

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Func, Q

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


class ResourceType(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[validate_single_line])
    color = models.CharField(
        max_length=7,
        default="#4f46e5",
        validators=[validate_single_line, RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour of the form #rrggbb.")],
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.color = self.color.lower()
        super().save(*args, **kwargs)


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

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["type", "active"], name="resource_type_active_idx")]
        permissions = [
            ("manage_schedule", "Can manage the working hours and exceptions of the resource"),
            ("book_resource", "Can book the resource"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


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


class Booking(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="bookings")
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

    class Meta:
        ordering = ["start_at", "id"]
        permissions = [("override_availability", "Can book outside working hours or over an exception")]
        indexes = [
            # The overlap query (resource_id = ? AND end_at > ? AND start_at < ?): on SQLite always,
            # on PostgreSQL when cancelled bookings are wanted too (calendar, lists).
            models.Index(fields=["resource", "end_at", "start_at"], name="booking_resource_end_idx"),
            # Booking lists filtered by a time window across resources.
            models.Index(fields=["start_at"], name="booking_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="booking_end_after_start"),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="booking_status_valid"),
            PostgresOnlyExclusionConstraint(
                name="booking_no_overlap",
                # Its GiST index also serves the overlap query on PostgreSQL (selectors.py).
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    (TsTzRange("start_at", "end_at", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
                condition=OCCUPYING,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.start_at:%Y-%m-%d %H:%M}–{self.end_at:%H:%M} ({self.status})"

    @property
    def occupies(self) -> bool:
        return self.status in OCCUPYING_STATUSES


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
    url = models.URLField(max_length=2000, validators=[validate_single_line, URLValidator(schemes=["http", "https"])])
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


class NotificationState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


def empty_list() -> list:
    return []


class Notification(models.Model):
    """The outbox: one e-mail notice about a booking event, written in the booking's transaction.

    The message is rendered when the row is written, so a retry sends what was true at the event.
    Delivery and retries: `scheduling.services.notifications`.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
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
            models.UniqueConstraint(fields=["booking", "event"], name="notification_one_per_event"),
            models.CheckConstraint(condition=Q(state__in=NotificationState.values), name="notification_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} notice for booking {self.booking_id} ({self.state})"


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

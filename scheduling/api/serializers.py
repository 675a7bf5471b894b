"""The scheduling models on the wire, and the bodies of the availability questions (docs/spec.md §6).

Shape only: the booking rules live in scheduling.services, who may do what in scheduling.permissions.
Foreign keys accept only rows the requesting user may see, so an invisible id reads as unknown.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import RegexValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from scheduling import audit
from scheduling.ids import parse_id
from scheduling.api.fields import (
    AwareDateTimeField,
    BoundedIdField,
    EndTimeField,
    JsonIdField,
    JsonObjectField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictIntegerField,
    WallClockTimeField,
    is_json_integer,
)
from scheduling.models import (
    CalendarSubscription,
    MIDNIGHT,
    POLICY_FIELDS,
    Availability,
    Booking,
    BookingStatus,
    Customer,
    Resource,
    ResourceType,
    ScheduleException,
    policy_errors,
    WebhookEndpoint,
    WebhookEvent,
    MAX_REMINDER_MINUTES,
    MAX_REMINDERS,
    MAX_CAPACITY,
    validate_reminder_minutes,
    validate_webhook_events,
    validate_webhook_secret,
)
from scheduling.services.webhooks import secret_or_new
from scheduling.engine import ConflictKind
from scheduling.permissions import may_name_any_customer, restrict
from scheduling.services.availability import MAX_CHECK_SPAN, MAX_SLOT_WINDOW, MIN_SLOT_STEP, validate_interval
from scheduling.services.bookings import TRANSITION_ACTIONS

MAX_SLOT_MINUTES = int(MAX_SLOT_WINDOW.total_seconds() // 60)
MIN_STEP_MINUTES = int(MIN_SLOT_STEP.total_seconds() // 60)
# One answer holds at most this many slots (docs/spec.md §6.5): the worst request stays far from the
# worker timeout (docs/performance.md); a larger `limit` is read as this, not refused.
DEFAULT_SLOT_LIMIT, MAX_SLOT_LIMIT = 500, 5000


class StrictRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key written as a JSON integer id (not "5", not 5.0: the schema says integer)."""

    def to_internal_value(self, data):
        if not is_json_integer(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if parse_id(data) is None:  # outside 1 … 2⁶³−1: no row has it, and the lookup would overflow
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class VisibleRelatedField(StrictRelatedField):
    """A foreign key written as an integer id, looked up among the rows the user may see.

    An id outside them is 400 "does not exist" for a user who sees every row of the model (the id
    is unknown), and 403 for a user whose view is cut down to their grants: for them unknown and
    invisible ids answer alike, so ids cannot be probed, and "not yours" is the truthful answer.
    """

    def get_queryset(self):
        return self._querysets()[1]

    def _querysets(self):
        """(every row, the rows the user may see); restrict() hands back the very queryset it was
        given when it filters nothing."""
        everything = super().get_queryset()
        request = self.context.get("request")
        return everything, (self.visible(request.user, everything) if request is not None else everything.none())

    def visible(self, user, everything):
        return restrict(user, everything)

    def to_internal_value(self, data):
        if not is_json_integer(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        everything, visible = self._querysets()
        try:
            if parse_id(data) is None:  # outside 1 … 2⁶³−1: unknown, and the lookup would overflow
                raise visible.model.DoesNotExist
            return visible.get(pk=data)
        except ObjectDoesNotExist:
            if visible is everything:
                self.fail("does_not_exist", pk_value=data)
            raise PermissionDenied(f"You may not refer to {visible.model._meta.verbose_name} {data}.") from None


class BookableCustomerField(VisibleRelatedField):
    """A booking's customer: any existing one for a user who may book (docs/spec.md §6.6), so that a
    customer found by `?email=` can be booked; naming an id shows nothing of the customer."""

    def visible(self, user, everything):
        return everything if may_name_any_customer(user) else restrict(user, everything)


# DRF's field for each model field, swapped for the one that takes only the schema's JSON type.
STRICT_FIELDS = {
    serializers.CharField: StrictCharField,
    serializers.EmailField: StrictEmailField,
    serializers.IntegerField: StrictIntegerField,
    serializers.BooleanField: StrictBooleanField,
    serializers.JSONField: JsonObjectField,
}


class ScheduledModelSerializer(serializers.ModelSerializer):
    serializer_related_field = VisibleRelatedField
    serializer_choice_field = StrictChoiceField
    serializer_field_mapping = {
        **{model_field: STRICT_FIELDS.get(field, field) for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()},
        models.DateTimeField: AwareDateTimeField,
        models.JSONField: JsonObjectField,
    }


def validate_stored_interval(attrs, instance=None, *, names=("start_at", "end_at"), max_span=MAX_CHECK_SPAN) -> None:
    """The service's one interval rule (`validate_interval`), as a serializer error naming the field."""
    start_name, end_name = names
    start = attrs.get(start_name, getattr(instance, start_name, None))
    end = attrs.get(end_name, getattr(instance, end_name, None))
    try:
        validate_interval(start, end, max_span=max_span, names=names)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict) from None


def validate_policy(values: dict) -> None:
    """min ≤ max and a granularity that divides a day (docs/spec.md §13.1), as 400 naming the field."""
    errors = policy_errors(values)
    if errors:
        raise serializers.ValidationError(errors)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_REMINDER_MINUTES},
        "maxItems": MAX_REMINDERS,
        "uniqueItems": True,
    }
)
class ReminderMinutesField(serializers.JSONField):
    """A list of minutes, checked as a whole by the model's validator (one flat list of messages)."""

    def __init__(self, **kwargs):
        super().__init__(validators=[validate_reminder_minutes], **kwargs)


@extend_schema_field({"type": "array", "items": {"enum": WebhookEvent.values, "type": "string"}, "minItems": 1, "uniqueItems": True})
class WebhookEventsField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(validators=[validate_webhook_events], **kwargs)


class ResourceTypeSerializer(ScheduledModelSerializer):
    reminder_before = ReminderMinutesField(
        required=False, help_text="Minutes before the start at which the customer is reminded by e-mail, e.g. [1440, 60]."
    )

    class Meta:
        model = ResourceType
        fields = ["id", "name", "color", *POLICY_FIELDS, "reminder_before", "offer_hold"]

    def validate(self, attrs):
        validate_policy({name: attrs.get(name, getattr(self.instance, name, None)) for name in POLICY_FIELDS})
        return attrs


class ResourceSerializer(ScheduledModelSerializer):
    owner = StrictRelatedField(
        queryset=get_user_model().objects.all(), allow_null=True, required=False, help_text="A user id; the owner may manage the resource's schedule."
    )

    class Meta:
        model = Resource
        fields = ["id", "name", "type", "active", "metadata", "owner", "timezone", "capacity", *POLICY_FIELDS]

    def validate(self, attrs):
        # The values in force: the resource's own where set, else its type's.
        resource_type = attrs.get("type", getattr(self.instance, "type", None))
        values = {}
        for name in POLICY_FIELDS:
            own = attrs.get(name, getattr(self.instance, name, None))
            values[name] = getattr(resource_type, name, None) if own is None else own
        validate_policy(values)
        return attrs


# whsec_ and the base64 of 24 to 64 bytes (8–21 groups of four characters and an optional padded tail).
WEBHOOK_SECRET_PATTERN = r"^(?:|whsec_(?:[A-Za-z0-9+/]{4}){8,21}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$"


class WebhookEndpointSerializer(ScheduledModelSerializer):
    events = WebhookEventsField()
    secret = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        validators=[RegexValidator(WEBHOOK_SECRET_PATTERN, "Use whsec_ followed by the base64 of 24 to 64 random bytes.")],
        help_text="whsec_<base64 of 24 to 64 bytes>; generated when not given or empty.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "secret", "active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_secret(self, value):
        value = secret_or_new(value)
        validate_webhook_secret(value)
        return value

    def create(self, validated_data):
        validated_data.setdefault("secret", secret_or_new(None))
        return super().create(validated_data)


class AuditEntrySerializer(serializers.Serializer):
    """One audit row (docs/spec.md §15.1): when, who, through which channel, what changed, why."""

    at = serializers.DateTimeField(source="timestamp", read_only=True)
    actor = serializers.SerializerMethodField(help_text="The username, or null for the back-office itself.")
    channel = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField(help_text='{"field": [before, after], …}')
    reason = serializers.SerializerMethodField()

    def get_actor(self, entry) -> str | None:
        return entry.actor.get_username() if entry.actor is not None else None

    def get_channel(self, entry) -> str | None:
        return audit.entry_channel(entry)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2, "items": {}}})
    def get_changes(self, entry) -> dict:
        return entry.changes_dict

    def get_reason(self, entry) -> str:
        return audit.entry_reason(entry)


class AuditHistoryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AuditEntrySerializer(many=True)


class CustomerSerializer(ScheduledModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "notes"]


class BookingSerializer(ScheduledModelSerializer):
    customer = BookableCustomerField(queryset=Customer.objects.all())
    status = StrictChoiceField(
        choices=BookingStatus.choices,
        required=False,
        help_text="On create: pending (default) or confirmed. Afterwards only through the actions "
        + ", ".join(TRANSITION_ACTIONS)
        + "; PUT/PATCH may repeat the current value but not change it.",
    )

    class Meta:
        model = Booking
        fields = [
            "id",
            "resource",
            "customer",
            "start_at",
            "end_at",
            "status",
            "notes",
            "override_availability",
            "quantity",
            "buffer_before",
            "buffer_after",
            "approval_expires_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["buffer_before", "buffer_after", "approval_expires_at", "created_by", "created_at", "updated_at"]

    def validate(self, attrs):
        validate_stored_interval(attrs, self.instance)
        return attrs

    def validate_status(self, value):
        if self.instance is not None and value != self.instance.status:
            actions = ", ".join(f"POST /api/scheduling/booking/{self.instance.pk}/{a}" for a in TRANSITION_ACTIONS)
            raise serializers.ValidationError(f"The status is not writable here; change it with {actions}.")
        return value


class AvailabilitySerializer(ScheduledModelSerializer):
    start_time = WallClockTimeField()
    end_time = EndTimeField()

    class Meta:
        model = Availability
        fields = ["id", "resource", "weekday", "start_time", "end_time"]

    def validate(self, attrs):
        start = attrs.get("start_time", getattr(self.instance, "start_time", None))
        end = attrs.get("end_time", getattr(self.instance, "end_time", None))
        if end != MIDNIGHT and end <= start:
            raise serializers.ValidationError({"end_time": "end_time must be after start_time (00:00 or 24:00 means until midnight)."})
        return attrs


class ScheduleExceptionSerializer(ScheduledModelSerializer):
    class Meta:
        model = ScheduleException
        fields = ["id", "resource", "start_at", "end_at", "reason", "kind"]
        read_only_fields = ["kind"]

    def validate(self, attrs):
        # Leave may last years; only the calendar bounds it.
        validate_stored_interval(attrs, self.instance, max_span=dt.timedelta.max)
        return attrs


class CalendarSubscriptionSerializer(ScheduledModelSerializer):
    class Meta:
        model = CalendarSubscription
        fields = ["id", "resource", "url", "name", "last_synced_at", "last_error"]
        read_only_fields = ["last_synced_at", "last_error"]


class ResourceFeedSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True, help_text="The secret ICS URL; anyone who has it can read the feed.")
    details = StrictBooleanField(help_text="Customer names and notes instead of \"Busy\".")


class ResourceFeedDetailsSerializer(serializers.Serializer):
    details = StrictBooleanField(required=False, help_text="The details choice; left out, it stays as it is.")


# --- Availability questions ------------------------------------------------------------------------


# The conflict kinds as the schema names them (ENUM_NAME_OVERRIDES: ConflictKindEnum).
CONFLICT_KINDS = [kind.value for kind in ConflictKind]


class ConflictSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CONFLICT_KINDS)
    id = serializers.IntegerField(
        allow_null=True, help_text="The booking's, the exception's, the resource's (inactive_resource) or null (outside_availability)."
    )
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    status = serializers.ChoiceField(choices=BookingStatus.choices, required=False, help_text="Only for kind booking.")
    rule = serializers.ChoiceField(choices=list(POLICY_FIELDS), required=False, help_text="Only for kind policy: the policy field broken.")
    detail = serializers.CharField(required=False, help_text="Only for kind policy: the rule in a sentence.")
    reason = serializers.CharField(
        required=False, help_text="Only for kind exception: its reason; an imported busy time names its source (docs/spec.md §16.1)."
    )
    remaining = serializers.IntegerField(
        required=False, help_text="Only for kind capacity: the units of the pool free over this part (docs/spec.md §17.2)."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["kind"] != ConflictKind.BOOKING:
            data.pop("status", None)
        if data["kind"] != ConflictKind.POLICY:
            data.pop("rule", None)
            data.pop("detail", None)
        if data["kind"] != ConflictKind.EXCEPTION:
            data.pop("reason", None)
        if data["kind"] != ConflictKind.CAPACITY:
            data.pop("remaining", None)
        return data


class CheckAvailabilitySerializer(serializers.Serializer):
    resource_id = JsonIdField()
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    booking_id = JsonIdField(required=False, allow_null=True, help_text="A booking being moved: it is not a conflict with itself.")
    customer_id = JsonIdField(required=False, allow_null=True, help_text="The customer to book for: their quotas are checked too.")
    quantity = StrictIntegerField(
        min_value=1, max_value=MAX_CAPACITY, required=False, default=1, help_text="Units of the resource wanted (a pool); at most its capacity."
    )

    def validate(self, attrs):
        validate_stored_interval(attrs)
        return attrs


class AvailabilityAnswerSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    conflicts = ConflictSerializer(many=True)
    remaining = serializers.IntegerField(help_text="The smallest number of units free over the interval (1 or 0 on an exclusive resource).")


class SlotsQuerySerializer(serializers.Serializer):
    start = AwareDateTimeField(help_text="Start of the search window.")
    end = AwareDateTimeField(help_text="End of the search window; at most 62 days after start.")
    duration = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_MINUTES, help_text="Length of a slot in minutes.")
    step = serializers.IntegerField(
        min_value=MIN_STEP_MINUTES,
        max_value=MAX_SLOT_MINUTES,
        required=False,
        help_text=f"Minutes between slot starts, at least {MIN_STEP_MINUTES}; defaults to duration (but at least {MIN_STEP_MINUTES}).",
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_CAPACITY, required=False, default=1, help_text="Units of the resource wanted (a pool); at most its capacity."
    )
    limit = serializers.IntegerField(
        min_value=1,
        required=False,
        default=DEFAULT_SLOT_LIMIT,
        help_text=f"At most this many slots in the answer (default {DEFAULT_SLOT_LIMIT}; more than {MAX_SLOT_LIMIT} is read as {MAX_SLOT_LIMIT}). "
        "Continue from `next`.",
    )

    def validate_limit(self, value):
        return min(value, MAX_SLOT_LIMIT)

    def validate(self, attrs):
        validate_stored_interval(attrs, names=("start", "end"), max_span=MAX_SLOT_WINDOW)
        return attrs


class SlotSerializer(serializers.Serializer):
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()


class SlotsAnswerSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    slots = SlotSerializer(many=True)
    next = AwareDateTimeField(
        allow_null=True, help_text="Start of the first slot not returned (null: none left); ask again with start=<next> and the same end, duration and step."
    )


class AvailableQuerySerializer(serializers.Serializer):
    type = BoundedIdField(help_text="A resource type id.")
    start_at = AwareDateTimeField()
    end_at = AwareDateTimeField()
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_CAPACITY, required=False, default=1, help_text="Units wanted: resources with fewer free are not listed."
    )

    def validate(self, attrs):
        validate_stored_interval(attrs)
        return attrs

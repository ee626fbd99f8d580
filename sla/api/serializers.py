"""Validation and shapes of SLA configuration (DESIGN §5 "SLA" and "Escalation").

A calendar is validated by building the engine's BusinessCalendar from it, so the API and
the engine can never disagree about what a valid calendar is."""

import re
from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tickets.api.fields import (
    MAX_YEAR,
    MIN_YEAR,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
    StrictRegexField,
    StrictSerializerMixin,
    StrictSlugField,
    StrictSlugRelatedField,
)
from tickets.models import Channel, Priority, Queue, Status, Tier

from ..calendar import BusinessCalendar, CalendarSpecError
from ..models import Action, Calendar, EscalationRule, Metric, SlaPolicy, Trigger

PAUSABLE = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]
MAX_TARGET_MINUTES = 10 * 365 * 24 * 60


def calendar_spec_error(error: CalendarSpecError, prefix: str = "") -> serializers.ValidationError:
    param = f"{prefix}.{error.param}" if prefix else error.param
    return serializers.ValidationError({param: [error.message]}, code="invalid")


def _engine_calendar(spec: dict, prefix: str = "") -> BusinessCalendar:
    try:
        return BusinessCalendar.from_spec(spec)
    except CalendarSpecError as error:
        raise calendar_spec_error(error, prefix) from None


_START = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_END = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
# Holidays share the timestamps' year range (tickets.api.fields): a year-1 or year-9999
# holiday is a typo, and dates that far out overflow the engine's day arithmetic.
_HOLIDAY_DATE = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
assert (MIN_YEAR, MAX_YEAR) == (1970, 2999), "keep _HOLIDAY_DATE's pattern in step"


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "example": "America/New_York",
        "description": "An IANA time zone name, e.g. America/New_York or Europe/London.",
    }
)
class TimezoneField(StrictCharField):
    """The engine checks the zone (sla.calendar). Not an enum in the schema: 600 values
    would make every fuzzing run try each of them."""


class HourSerializer(StrictSerializerMixin, serializers.Serializer):
    weekday = StrictIntegerField(min_value=0, max_value=6, help_text="0-6, Monday = 0.")
    start = StrictRegexField(_START, help_text='"HH:MM", 00:00-23:59 (local time).')
    end = StrictRegexField(
        _END,
        help_text='"HH:MM" or "24:00"; an end not after the start runs past midnight.',
    )


@extend_schema_field({"type": "string", "format": "date", "pattern": _HOLIDAY_DATE})
class HolidayDateField(StrictCharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            day = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
        except ValueError:
            day = None
        if day is None:
            raise serializers.ValidationError(
                f'"{value}" is not a date; use "YYYY-MM-DD".', code="invalid"
            )
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise serializers.ValidationError(
                f"The year must be from {MIN_YEAR} to {MAX_YEAR}.", code="out_of_range"
            )
        return value  # stored as the ISO text the engine reads


class HolidaySerializer(StrictSerializerMixin, serializers.Serializer):
    date = HolidayDateField()
    name = StrictCharField(max_length=100, required=False, allow_blank=True)


class CalendarSpecSerializer(StrictSerializerMixin, serializers.Serializer):
    """An inline calendar (the preview's): the same fields and rules as a saved one."""

    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    timezone = TimezoneField(max_length=64)
    always_open = StrictBooleanField(required=False, default=False)
    hours = HourSerializer(many=True, required=False, max_length=200)
    holiday_country = StrictCharField(
        max_length=8, required=False, allow_null=True, allow_blank=True
    )
    holiday_subdivision = StrictCharField(
        max_length=16, required=False, allow_null=True, allow_blank=True
    )
    holidays = HolidaySerializer(many=True, required=False, max_length=500)


def build_calendar(spec: object, prefix: str = "") -> BusinessCalendar:
    """The engine's calendar from an inline spec, validated like a saved calendar."""
    serializer = CalendarSpecSerializer(data=spec)
    if not serializer.is_valid():
        errors = serializer.errors
        raise serializers.ValidationError({prefix: errors} if prefix else errors)
    return _engine_calendar(serializer.validated_data, prefix)


class CalendarSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    timezone = TimezoneField(max_length=64)
    hours = HourSerializer(many=True, required=False, max_length=200)
    holidays = HolidaySerializer(many=True, required=False, max_length=500)
    holiday_country = StrictCharField(
        max_length=8, required=False, allow_null=True, allow_blank=True
    )
    holiday_subdivision = StrictCharField(
        max_length=16, required=False, allow_null=True, allow_blank=True
    )

    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "timezone",
            "always_open",
            "hours",
            "holiday_country",
            "holiday_subdivision",
            "holidays",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]

    def validate(self, attrs):
        spec = {field: getattr(self.instance, field) for field in CALENDAR_SPEC if self.instance}
        spec.update(attrs)
        _engine_calendar(spec)
        # Store what was validated, normalised: upper-case country, "" -> null.
        attrs["holiday_country"] = (spec.get("holiday_country") or "").upper() or None
        attrs["holiday_subdivision"] = spec.get("holiday_subdivision") or None
        return attrs


CALENDAR_SPEC = (
    "timezone",
    "always_open",
    "hours",
    "holiday_country",
    "holiday_subdivision",
    "holidays",
)


class TargetSerializer(StrictSerializerMixin, serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    metric = serializers.ChoiceField(choices=Metric.choices)
    minutes = StrictIntegerField(min_value=0, max_value=MAX_TARGET_MINUTES)
    business_hours = StrictBooleanField(default=True)


def validate_targets(targets: list[dict]) -> list[dict]:
    seen = set()
    for index, target in enumerate(targets):
        key = (target["priority"], target["metric"])
        if key in seen:
            raise serializers.ValidationError(
                {f"targets[{index}]": ["Only one target per priority and metric."]}
            )
        seen.add(key)
    return targets


class MatchSerializer(StrictSerializerMixin, serializers.Serializer):
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, default=list
    )
    tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=Tier.choices), required=False, default=list
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), required=False, default=list
    )
    queues = serializers.ListField(
        child=StrictSlugField(max_length=64), required=False, default=list
    )

    def validate_queues(self, value):
        known = set(Queue.objects.filter(slug__in=value).values_list("slug", flat=True))
        unknown = [slug for slug in value if slug not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown queue: {', '.join(unknown)}.")
        return value


class PolicySerializer(StrictSerializerMixin, serializers.ModelSerializer):
    calendar = StrictPrimaryKeyRelatedField(queryset=Calendar.objects.all())
    match = MatchSerializer(required=False)
    targets = TargetSerializer(many=True)
    warn_at_percent = StrictIntegerField(min_value=1, max_value=99, default=75)
    pause_on = serializers.ListField(
        child=serializers.ChoiceField(choices=PAUSABLE),
        required=False,
        default=lambda: [Status.PENDING, Status.ON_HOLD],
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "position",
            "calendar",
            "match",
            "targets",
            "warn_at_percent",
            "pause_on",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]

    def validate(self, attrs):
        if "targets" in attrs:
            validate_targets(attrs["targets"])
        return attrs

    def to_representation(self, policy: SlaPolicy):
        return {
            "id": policy.pk,
            "name": policy.name,
            "position": policy.position,
            "calendar": policy.calendar_id,
            "match": {
                "priorities": policy.match_priorities,
                "tiers": policy.match_tiers,
                "channels": policy.match_channels,
                "queues": policy.match_queues,
            },
            "targets": [
                {
                    "priority": t.priority,
                    "metric": t.metric,
                    "minutes": t.minutes,
                    "business_hours": t.business_hours,
                }
                for t in policy.targets.all()
            ],
            "warn_at_percent": policy.warn_at_percent,
            "pause_on": policy.pause_on,
            "updated_at": serializers.DateTimeField().to_representation(policy.updated_at),
        }


class RuleSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    trigger = serializers.ChoiceField(choices=Trigger.choices, default=Trigger.BREACH)
    action = serializers.ChoiceField(choices=Action.choices, default=Action.NOTIFY)
    after_minutes = StrictIntegerField(min_value=0, max_value=MAX_TARGET_MINUTES, default=0)
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, default=list
    )
    target_queue = StrictSlugRelatedField(
        slug_field="slug", queryset=Queue.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = EscalationRule
        fields = [
            "id",
            "name",
            "metric",
            "trigger",
            "after_minutes",
            "priorities",
            "action",
            "target_queue",
            "position",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs):
        action = attrs.get("action", getattr(self.instance, "action", None))
        queue = attrs.get("target_queue", getattr(self.instance, "target_queue", None))
        if action == Action.MOVE_TO_QUEUE and queue is None:
            raise serializers.ValidationError(
                {"target_queue": ["move_to_queue needs a target_queue."]}
            )
        return attrs


class InlineRuleSerializer(StrictSerializerMixin, serializers.Serializer):
    """A rule in a preview: not saved, so its queue need not exist."""

    name = StrictCharField(max_length=100)
    metric = serializers.ChoiceField(choices=Metric.choices)
    trigger = serializers.ChoiceField(choices=Trigger.choices, default=Trigger.BREACH)
    after_minutes = StrictIntegerField(min_value=0, max_value=MAX_TARGET_MINUTES, default=0)
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, default=list
    )
    action = serializers.ChoiceField(choices=Action.choices, default=Action.NOTIFY)
    target_queue = StrictCharField(max_length=64, required=False, allow_null=True)
    position = StrictIntegerField(
        required=False, default=0, min_value=-(2**31), max_value=2**31 - 1
    )

"""Validation and shapes of SLA configuration (DESIGN §5 "SLA" and "Escalation").

A calendar is validated by building the engine's BusinessCalendar from it, so the API and
the engine can never disagree about what a valid calendar is."""

from rest_framework import serializers

from tickets.api.fields import StrictSerializerMixin
from tickets.models import Channel, Priority, Queue, Status, Tier

from ..calendar import BusinessCalendar, CalendarSpecError
from ..models import Action, Calendar, EscalationRule, Metric, SlaPolicy, Trigger

PAUSABLE = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]
MAX_TARGET_MINUTES = 10 * 365 * 24 * 60


def calendar_spec_error(error: CalendarSpecError, prefix: str = "") -> serializers.ValidationError:
    param = f"{prefix}.{error.param}" if prefix else error.param
    return serializers.ValidationError({param: [error.message]}, code="invalid")


def build_calendar(spec: dict, prefix: str = "") -> BusinessCalendar:
    try:
        return BusinessCalendar.from_spec(spec)
    except CalendarSpecError as error:
        raise calendar_spec_error(error, prefix) from None


class CalendarSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    hours = serializers.ListField(child=serializers.DictField(), required=False, max_length=200)
    holidays = serializers.ListField(child=serializers.DictField(), required=False, max_length=500)
    holiday_country = serializers.CharField(
        max_length=8, required=False, allow_null=True, allow_blank=True
    )
    holiday_subdivision = serializers.CharField(
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
        build_calendar(spec)
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
    minutes = serializers.IntegerField(min_value=0, max_value=MAX_TARGET_MINUTES)
    business_hours = serializers.BooleanField(default=True)


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
        child=serializers.SlugField(max_length=64), required=False, default=list
    )

    def validate_queues(self, value):
        known = set(Queue.objects.filter(slug__in=value).values_list("slug", flat=True))
        unknown = [slug for slug in value if slug not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown queue: {', '.join(unknown)}.")
        return value


class PolicySerializer(StrictSerializerMixin, serializers.ModelSerializer):
    calendar = serializers.PrimaryKeyRelatedField(queryset=Calendar.objects.all())
    match = MatchSerializer(required=False)
    targets = TargetSerializer(many=True)
    warn_at_percent = serializers.IntegerField(min_value=1, max_value=99, default=75)
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
    after_minutes = serializers.IntegerField(min_value=0, max_value=MAX_TARGET_MINUTES, default=0)
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, default=list
    )
    target_queue = serializers.SlugRelatedField(
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

    name = serializers.CharField(max_length=100)
    metric = serializers.ChoiceField(choices=Metric.choices)
    trigger = serializers.ChoiceField(choices=Trigger.choices, default=Trigger.BREACH)
    after_minutes = serializers.IntegerField(min_value=0, max_value=MAX_TARGET_MINUTES, default=0)
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, default=list
    )
    action = serializers.ChoiceField(choices=Action.choices, default=Action.NOTIFY)
    target_queue = serializers.CharField(max_length=64, required=False, allow_null=True)
    position = serializers.IntegerField(required=False, default=0)

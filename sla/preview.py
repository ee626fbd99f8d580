"""POST /api/v1/sla/preview: what-if with the very engine live tickets use (DESIGN §5)."""

from datetime import datetime, timedelta

from django.utils import timezone
from rest_framework import serializers

from tickets.api.fields import parse_aware
from tickets.models import Channel, Priority, Status, Tier

from . import engine
from .api.serializers import (
    PAUSABLE,
    InlineRuleSerializer,
    TargetSerializer,
    build_calendar,
    validate_targets,
)
from .calendar import CalendarSpecError
from .loading import calendar_from_model, policy_from_model, policy_match
from .models import Calendar, SlaPolicy

MAX_EVENTS = 1000
MAX_SPAN = timedelta(days=3 * 366)


def _error(param: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({param: [message]})


def _object(value, param: str) -> dict:
    if not isinstance(value, dict):
        raise _error(param, "Expected a JSON object.")
    return value


def _valid(serializer_class, data, param: str) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError({param: serializer.errors})
    return serializer.validated_data


def _calendar(value):
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        calendar = Calendar.objects.filter(pk=value).first()
        if calendar is None:
            raise _error("calendar", f"No calendar {value}.")
        try:
            return calendar_from_model(calendar)
        except CalendarSpecError as error:  # stored around the config services
            raise _error(
                "calendar", f'Calendar "{calendar.name}" is invalid: {error.message}'
            ) from None
    return build_calendar(_object(value, "calendar"), prefix="calendar")


def _ticket(value) -> dict:
    data = _object(value if value is not None else {}, "ticket")
    fields = {
        "priority": serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL),
        "tier": serializers.ChoiceField(choices=Tier.choices, default=Tier.STANDARD),
        "channel": serializers.ChoiceField(choices=Channel.choices, default=Channel.API),
        "queue": serializers.CharField(max_length=64, default="", allow_blank=True),
    }
    serializer = type("PreviewTicket", (serializers.Serializer,), fields)(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError({"ticket": serializer.errors})
    return serializer.validated_data


def _saved_policy(policy: SlaPolicy, calendar) -> engine.Policy:
    try:
        return policy_from_model(policy, calendar)
    except CalendarSpecError as error:  # its calendar was stored around the config services
        raise _error(
            "policy",
            f'Policy "{policy.name}" uses calendar "{policy.calendar.name}", which is invalid: '
            f"{error.message}",
        ) from None


def _policy(value, calendar, ticket: dict) -> engine.Policy:
    if value is None:
        # No policy given: choose among the saved ones exactly as live tickets do (P1).
        policies = list(SlaPolicy.objects.select_related("calendar").prefetch_related("targets"))
        index = engine.select_policy(
            [(p.position, policy_match(p)) for p in policies],
            priority=ticket["priority"],
            tier=ticket["tier"],
            channel=ticket["channel"],
            queue=ticket["queue"],
        )
        if index is None:
            raise _error("policy", "No saved policy matches this ticket; give one inline.")
        return _saved_policy(policies[index], calendar)
    if isinstance(value, int) and not isinstance(value, bool):
        policy = SlaPolicy.objects.filter(pk=value).select_related("calendar").first()
        if policy is None:
            raise _error("policy", f"No policy {value}.")
        return _saved_policy(policy, calendar)
    data = _object(value, "policy")
    unknown = sorted(set(data) - {"targets", "warn_at_percent", "pause_on", "name"})
    if unknown:
        raise _error(f"policy.{unknown[0]}", "Unknown field.")
    if calendar is None:
        raise _error("calendar", "An inline policy needs a calendar (inline or an id).")
    if not isinstance(data.get("targets"), list):
        raise _error("policy.targets", "A list of {priority, metric, minutes} is required.")
    targets = []
    for index, target in enumerate(data["targets"]):
        targets.append(_valid(TargetSerializer, target, f"policy.targets[{index}]"))
    try:
        validate_targets(targets)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"policy": error.detail}) from None
    warn = data.get("warn_at_percent", 75)
    if isinstance(warn, bool) or not isinstance(warn, int) or not 1 <= warn <= 99:
        raise _error("policy.warn_at_percent", "A whole number from 1 to 99.")
    pause_on = data.get("pause_on", [Status.PENDING, Status.ON_HOLD])
    if not isinstance(pause_on, list) or any(s not in PAUSABLE for s in pause_on):
        raise _error("policy.pause_on", f"A list of statuses among {', '.join(PAUSABLE)}.")
    return engine.Policy(
        targets=tuple(engine.Target(**t) for t in targets),
        calendar=calendar,
        warn_at_percent=warn,
        pause_on=tuple(pause_on),
        name=str(data.get("name") or "preview"),
    )


def _rules(value) -> list[engine.Rule]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _error("escalation_rules", "Expected a list of rules.")
    rules = []
    for index, item in enumerate(value):
        data = _valid(InlineRuleSerializer, item, f"escalation_rules[{index}]")
        rules.append(
            engine.Rule(
                name=data["name"],
                metric=data["metric"],
                trigger=data["trigger"],
                after_minutes=data["after_minutes"],
                priorities=tuple(data["priorities"]),
                action=data["action"],
                target_queue=data.get("target_queue"),
                position=data["position"],
                id=index,
            )
        )
    return rules


def _events(value, ticket: dict) -> list[engine.Event]:
    if not isinstance(value, list) or not value:
        raise _error("events", "A non-empty list of {type, at} in time order is required.")
    if len(value) > MAX_EVENTS:
        raise _error("events", f"At most {MAX_EVENTS} events.")
    events: list[engine.Event] = []
    previous: datetime | None = None
    for index, item in enumerate(value):
        param = f"events[{index}]"
        item = _object(item, param)
        kind = item.get("type")
        if kind not in engine.EVENT_TYPES:
            raise _error(f"{param}.type", f"One of {', '.join(engine.EVENT_TYPES)}.")
        if (index == 0) != (kind == "created"):
            raise _error(f"{param}.type", "The first event, and only the first, is `created`.")
        try:
            at = parse_aware(item.get("at"))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({f"{param}.at": error.detail}) from None
        if previous is not None and at < previous:
            raise _error(f"{param}.at", "Events must be in time order.")
        previous = at
        status = item.get("status")
        priority = item.get("priority")
        if kind == "status_changed" and status not in Status.values:
            raise _error(f"{param}.status", f"One of {', '.join(Status.values)}.")
        if kind == "priority_changed" and priority not in Priority.values:
            raise _error(f"{param}.priority", f"One of {', '.join(Priority.values)}.")
        if kind == "created":
            priority, status = ticket["priority"], "new"
        events.append(engine.Event(type=kind, at=at, status=status, priority=priority))
    return events


def sla_preview(body: object) -> dict:
    """Validate the what-if body and run the engine once. Raises ValidationError (400)."""
    body = _object(body, "non_field_errors")
    unknown = sorted(
        set(body) - {"calendar", "policy", "escalation_rules", "ticket", "events", "now"}
    )
    if unknown:
        raise _error(unknown[0], "Unknown field.")
    ticket = _ticket(body.get("ticket"))
    calendar = _calendar(body.get("calendar"))
    policy = _policy(body.get("policy"), calendar, ticket)
    rules = _rules(body.get("escalation_rules"))
    events = _events(body.get("events"), ticket)
    if body.get("now") is None:
        now = timezone.now()
    else:
        try:
            now = parse_aware(body["now"])
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"now": error.detail}) from None
    if abs(now - events[0].at) > MAX_SPAN:
        raise _error("now", "A preview spans at most 3 years from its first event.")
    result = engine.compute(events=events, policy=policy, now=now, rules=rules)
    return {
        "now": now,
        "timers": result.timers,
        "firings": result.firings,
        "upcoming": result.upcoming,
    }

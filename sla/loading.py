"""Turn database rows into the pure engine's inputs (and nothing else).

Policies, calendars and rules change rarely and every recompute needs them, so they are
cached per process and reloaded when any of them changes (one cheap query per batch).
A policy's calendar is built when a ticket first needs it, and a calendar that cannot be
built (a row saved around the config services) fails only the tickets of its policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from tickets.models import AuthorType, EventType, Ticket, TicketEvent

from . import engine
from .calendar import BusinessCalendar, CalendarSpecError
from .models import Calendar, EscalationRule, SlaPolicy


def calendar_from_model(calendar: Calendar) -> BusinessCalendar:
    return BusinessCalendar.from_spec(
        {
            "timezone": calendar.timezone,
            "always_open": calendar.always_open,
            "hours": calendar.hours,
            "holiday_country": calendar.holiday_country,
            "holiday_subdivision": calendar.holiday_subdivision,
            "holidays": calendar.holidays,
        }
    )


def policy_from_model(policy: SlaPolicy, calendar: BusinessCalendar | None = None) -> engine.Policy:
    return engine.Policy(
        targets=tuple(
            engine.Target(
                priority=t.priority,
                metric=t.metric,
                minutes=t.minutes,
                business_hours=t.business_hours,
            )
            for t in policy.targets.all()
        ),
        calendar=calendar or calendar_from_model(policy.calendar),
        warn_at_percent=policy.warn_at_percent,
        pause_on=tuple(policy.pause_on),
        id=policy.pk,
        name=policy.name,
    )


def rule_from_model(rule: EscalationRule) -> engine.Rule:
    return engine.Rule(
        name=rule.name,
        metric=rule.metric,
        trigger=rule.trigger,
        after_minutes=rule.after_minutes,
        priorities=tuple(rule.priorities),
        id=rule.pk,
        action=rule.action,
        target_queue=rule.target_queue.slug if rule.target_queue_id else None,
        position=rule.position,
    )


def policy_match(policy: SlaPolicy) -> dict[str, list[str]]:
    return {
        "priorities": list(policy.match_priorities),
        "tiers": list(policy.match_tiers),
        "channels": list(policy.match_channels),
        "queues": list(policy.match_queues),
    }


class BrokenPolicy(Exception):
    """The policy that applies to a ticket cannot be used (its calendar is invalid)."""


@dataclass
class SlaConfig:
    """Every policy (in position order) and rule; policies become engine objects lazily."""

    stamp: tuple
    rows: list[SlaPolicy]
    matches: list[tuple[int, dict[str, list[str]]]]
    rules: list[engine.Rule]
    _policies: dict[int, engine.Policy] = field(default_factory=dict)
    _calendars: dict[int, BusinessCalendar | CalendarSpecError] = field(default_factory=dict)

    def policy_for(self, ticket: Ticket) -> engine.Policy | None:
        """P1's choice for this ticket. Raises BrokenPolicy if that policy is unusable."""
        index = engine.select_policy(
            self.matches,
            priority=ticket.priority,
            tier=ticket.organization.tier if ticket.organization_id else "standard",
            channel=ticket.channel,
            queue=ticket.queue.slug,
        )
        return None if index is None else self.policy(index)

    def policy_by_id(self, policy_id: int | None) -> engine.Policy | None:
        """The policy with this id, or None if it is gone. Raises BrokenPolicy."""
        for index, row in enumerate(self.rows):
            if row.pk == policy_id:
                return self.policy(index)
        return None

    def policy(self, index: int) -> engine.Policy:
        row = self.rows[index]
        if row.pk not in self._policies:
            self._policies[row.pk] = policy_from_model(row, self._calendar(row))
        return self._policies[row.pk]

    def _calendar(self, row: SlaPolicy) -> BusinessCalendar:
        if row.calendar_id not in self._calendars:
            try:
                self._calendars[row.calendar_id] = calendar_from_model(row.calendar)
            except CalendarSpecError as error:
                self._calendars[row.calendar_id] = error
        calendar = self._calendars[row.calendar_id]
        if isinstance(calendar, CalendarSpecError):
            raise BrokenPolicy(
                f'Policy "{row.name}": calendar "{row.calendar.name}" is invalid '
                f"({calendar.param}: {calendar.message})"
            )
        return calendar


_cache: SlaConfig | None = None


def _stamp() -> tuple:
    """Changes anywhere in the configuration change this (rows added, edited or deleted)."""
    parts = ", ".join(
        f"(SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM {table})"
        for table in ("sla_calendar", "sla_slapolicy", "sla_slatarget", "sla_escalationrule")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")  # table names are ours, not user input
        return tuple(cursor.fetchone())


def sla_config(*, refresh: bool = False) -> SlaConfig:
    """The current configuration, cached until a calendar, policy or rule changes."""
    global _cache
    stamp = _stamp()
    if _cache is not None and not refresh and _cache.stamp == stamp:
        return _cache
    policies = list(
        SlaPolicy.objects.select_related("calendar")
        .prefetch_related("targets")
        .order_by("position", "id")
    )
    _cache = SlaConfig(
        stamp=stamp,
        rows=policies,
        matches=[(p.position, policy_match(p)) for p in policies],
        rules=[rule_from_model(r) for r in EscalationRule.objects.select_related("target_queue")],
    )
    return _cache


def config_changed() -> None:
    """Forget the cache in this process (the stamp catches changes made elsewhere)."""
    global _cache
    _cache = None


def engine_events(events: list[TicketEvent]) -> list[engine.Event]:
    """The ticket's history as the engine sees it: only what can move a timer (SLA_SPEC §3)."""
    out: list[engine.Event] = []
    for event in events:
        data = event.data or {}
        kind = event.type
        if kind == EventType.CREATED:
            out.append(
                engine.Event(
                    type="created",
                    at=event.at,
                    priority=data.get("priority"),
                    status=data.get("status") or "new",
                )
            )
        elif kind == EventType.MESSAGE_ADDED:
            author = data.get("author_type")
            if author == AuthorType.REQUESTER:
                out.append(engine.Event(type="customer_reply", at=event.at))
            elif author == AuthorType.AGENT:
                kind_ = "agent_reply" if data.get("public", True) else "internal_note"
                out.append(engine.Event(type=kind_, at=event.at))
        elif kind == EventType.STATUS_CHANGED:
            out.append(engine.Event(type="status_changed", at=event.at, status=data["status"]))
        elif kind == EventType.PRIORITY_CHANGED:
            out.append(
                engine.Event(type="priority_changed", at=event.at, priority=data["priority"])
            )
    return out


TIMER_EVENT_TYPES = (
    EventType.CREATED,
    EventType.MESSAGE_ADDED,
    EventType.STATUS_CHANGED,
    EventType.PRIORITY_CHANGED,
)


def ticket_history(ticket_id: int) -> list[engine.Event]:
    rows = list(
        TicketEvent.objects.filter(ticket_id=ticket_id, type__in=TIMER_EVENT_TYPES)
        .only("type", "at", "data")
        .order_by("at", "id")
    )
    return engine_events(rows)

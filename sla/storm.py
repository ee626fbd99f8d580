"""The sweep's set-based path: breaches and warnings the stored rows already know, recorded
for a whole claimed batch in a few statements instead of a full recompute per ticket
(SLA_SPEC I2; what makes a Monday-morning breach storm visible in seconds).

A stored row knows its breach when nothing has happened since it was computed: the ticket
is not stale (every change marks it, in the change's transaction), its policy and calendar
have not been edited since, and the timer was running, active and in time then
(`due_at >= computed_at`). Its breach is then exactly the engine's: at `due_at`, under the
target of the row (D2, Q1, Q4). The same holds for a warning at `warning_at`. Everything
else -- a stale ticket, an instant before the row was computed (Q2 edges, X2), a rule whose
offset has already passed -- goes to the full recompute, as before.

Exactly once (E2) rests where it did: the ticket rows are locked (FOR UPDATE, skipping the
ones another writer holds: those take the full path and wait there), the timer moves from
active to breached in one conditional UPDATE whose RETURNING says which rows this sweep
recorded, and escalations are inserted with ON CONFLICT DO NOTHING against the unique
(ticket, metric, cycle, rule) constraint; only rows actually inserted get their event,
notifications and action. Rules with `after_minutes: 0` fire here at their theoretical
instant (E3); rules with an offset set the timer's next check to their instant, when the
full recompute fires them (or at once, late, if that instant has passed: E4).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from tickets import services as ticket_services
from tickets.models import EventType, Queue, Ticket

from . import engine
from .calendar import REAL_TIME, Unreachable
from .loading import BrokenPolicy, SlaConfig, sla_config
from .models import Action, Escalation, EscalationRule, Notification, Trigger
from .notifications import notify_bulk

logger = logging.getLogger(__name__)


@dataclass
class _Known:
    """A claimed timer whose breach or warning this sweep has just recorded."""

    timer_id: int
    ticket_id: int
    metric: str
    cycle: int
    kind: str  # "breach" or "warning"
    due_at: datetime | None
    warning_at: datetime | None
    business_hours: bool
    policy_id: int
    computed_at: datetime  # when the row was computed, before this sweep


@dataclass
class _Firing:
    ticket_id: int
    metric: str
    cycle: int
    rule: engine.Rule
    at: datetime


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def known_record(*, claimed: list[tuple[int, int]], now: datetime) -> set[int]:
    """Record, set-based, what the claimed (timer id, ticket id) rows already know. Runs in
    the caller's transaction. Returns the tickets that still need a full recompute."""
    ticket_ids = sorted({ticket_id for _, ticket_id in claimed})
    if not ticket_ids:
        return set()
    tickets = Ticket._meta.db_table
    locked = {
        row[0]: row
        for row in _fetch(
            f"""
            SELECT id, priority, assignee_id, subject, queue_id FROM {tickets}
            WHERE id = ANY(%s) AND NOT sla_stale
            ORDER BY id
            FOR UPDATE SKIP LOCKED
            """,
            [ticket_ids],
        )
    }
    slow = set(ticket_ids) - set(locked)
    known = _record_breaches_and_warnings(
        timer_ids=[timer_id for timer_id, ticket_id in claimed if ticket_id in locked],
        ticket_ids=sorted(locked),
        now=now,
    )
    done = {k.timer_id for k in known}
    slow |= {ticket_id for timer_id, ticket_id in claimed if timer_id not in done}
    if not known:
        return slow

    detected = now.isoformat()
    events = []
    warnings = []
    for k in known:
        if k.kind == "breach":
            events.append(
                (
                    k.ticket_id,
                    EventType.SLA_BREACHED,
                    k.due_at,
                    {
                        "metric": k.metric,
                        "cycle": k.cycle,
                        "due_at": k.due_at.isoformat(),
                        "detected_at": detected,
                    },
                )
            )
        else:
            events.append(
                (k.ticket_id, EventType.SLA_WARNING, now, {"metric": k.metric, "cycle": k.cycle})
            )
            assignee, subject = locked[k.ticket_id][2], locked[k.ticket_id][3]
            if assignee:
                text = f"#{k.ticket_id} {k.metric.replace('_', ' ')} is about to breach: {subject}"
                warnings.append(
                    Notification(user_id=assignee, ticket_id=k.ticket_id, text=text[:300])
                )
    ticket_services.ticket_record_events_bulk(events=events)
    if warnings:
        Notification.objects.bulk_create(warnings)

    config = sla_config()
    firings, next_checks, late = _ladder(known, locked=locked, config=config, now=now)
    slow |= late
    _set_next_checks(next_checks)
    if firings:
        slow |= _fire(firings, locked=locked, now=now)
    return slow


def _record_breaches_and_warnings(
    *, timer_ids: list[int], ticket_ids: list[int], now: datetime
) -> list[_Known]:
    """One statement: the claimed rows whose breach (or warning) is known from the row are
    recorded, and returned -- only those this statement moved (E2)."""
    if not timer_ids:
        return []
    # Both steps are MATERIALIZED and the re-check compares with known.status, not with the
    # constant: the claimed rows are then read by primary key whatever the statistics say.
    # Inlined, a planner that believed no timer active (statistics taken before a bulk of
    # new tickets, autovacuum behind) read the partial index of active timers whole, once
    # per claimed row, and a sweep batch took tens of seconds.
    rows = _fetch(
        """
        WITH claimed AS MATERIALIZED (
            SELECT * FROM sla_slatimer
            WHERE id = ANY(%(timers)s) AND ticket_id = ANY(%(tickets)s)
        ), known AS MATERIALIZED (
            SELECT t.id, t.status, t.computed_at,
                   CASE WHEN t.due_at < %(now)s THEN 'breach' ELSE 'warning' END AS kind
            FROM claimed t
            JOIN sla_slapolicy p ON p.id = t.policy_id
            JOIN sla_calendar c ON c.id = p.calendar_id
            WHERE t.status = 'active' AND t.running
              AND p.updated_at <= t.computed_at AND c.updated_at <= t.computed_at
              AND (
                (t.due_at < %(now)s AND t.due_at >= t.computed_at)
                OR ((t.due_at IS NULL OR t.due_at >= %(now)s) AND t.warned_at IS NULL
                    AND t.warning_at < %(now)s AND t.warning_at >= t.computed_at)
              )
        )
        UPDATE sla_slatimer t SET
            status = CASE WHEN known.kind = 'breach' THEN 'breached' ELSE t.status END,
            breached_at = CASE WHEN known.kind = 'breach' THEN t.due_at ELSE t.breached_at END,
            warned_at = CASE WHEN known.kind = 'warning' THEN %(now)s ELSE t.warned_at END,
            next_check_at = CASE WHEN known.kind = 'breach' THEN NULL ELSE t.due_at END,
            computed_at = %(now)s
        FROM known
        WHERE t.id = known.id AND t.status = known.status
        RETURNING t.id, t.ticket_id, t.metric, t.cycle, known.kind, t.due_at, t.warning_at,
                  t.business_hours, t.policy_id, known.computed_at
        """,
        {"now": now, "timers": timer_ids, "tickets": ticket_ids},
    )
    return [_Known(*row) for row in rows]


def _ladder(
    known: list[_Known], *, locked: dict, config: SlaConfig, now: datetime
) -> tuple[list[_Firing], dict[int, datetime | None], set[int]]:
    """The rule firings due now (after_minutes 0), the next check of each recorded timer
    (its due instant after a warning, the instant of a rule with an offset), and the
    tickets whose offset rule is already overdue (the full recompute fires it, late)."""
    firings: list[_Firing] = []
    next_checks: dict[int, datetime | None] = {}
    late: set[int] = set()
    for k in known:
        priority = locked[k.ticket_id][1]
        candidates = [k.due_at] if k.kind == "warning" and k.due_at else []
        for rule in config.rules:
            if rule.metric != k.metric or rule.id is None:
                continue
            if rule.trigger == Trigger.BREACH:
                trigger = k.due_at if k.kind == "breach" else None
                fresh = True
            else:
                trigger = k.warning_at if k.warning_at and k.warning_at < now else None
                # A warning before the row was computed was judged then (fired, or not
                # for its priority at that instant); only a later one is judged here.
                fresh = trigger is not None and trigger >= k.computed_at
            if trigger is None:
                continue
            applies = not rule.priorities or priority in rule.priorities
            if rule.after_minutes == 0:
                if fresh and applies:
                    firings.append(_Firing(k.ticket_id, k.metric, k.cycle, rule, trigger))
                continue
            at = _add(config, k, trigger, rule.after_minutes)
            if at is None:
                late.add(k.ticket_id)
            elif at < now:
                if fresh and applies:
                    late.add(k.ticket_id)  # E4: overdue already; the full path fires it
            else:
                candidates.append(at)  # an early check is harmless: it recomputes
        next_checks[k.timer_id] = min(candidates) if candidates else None
    return firings, next_checks, late


def _add(config: SlaConfig, k: _Known, start: datetime, minutes: int) -> datetime | None:
    """`minutes` after `start` in the timer's own basis (E1); the timer runs unpaused from
    there unless something changes, and a change marks the ticket for a full recompute."""
    try:
        policy = config.policy_by_id(k.policy_id)
        if policy is None:
            return None
        basis = policy.calendar if k.business_hours else REAL_TIME
        return basis.add(start, minutes * 60)
    except (BrokenPolicy, Unreachable):
        return None


def _set_next_checks(next_checks: dict[int, datetime | None]) -> None:
    """Only rows whose next check differs from what the recording UPDATE wrote."""
    changed = [(timer_id, at) for timer_id, at in next_checks.items() if at is not None]
    if not changed:
        return
    values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(changed))
    params = [item for pair in changed for item in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE sla_slatimer t SET next_check_at = v.at
            FROM (VALUES {values}) AS v(id, at)
            WHERE t.id = v.id AND t.next_check_at IS DISTINCT FROM v.at
            """,
            params,
        )


def _fire(firings: list[_Firing], *, locked: dict, now: datetime) -> set[int]:
    """Insert the escalations (each at most once: ON CONFLICT DO NOTHING), then for the
    ones inserted: their events in one INSERT, notifications in one INSERT, and the
    actions that change a ticket (raise priority, move) through the ticket services.
    Returns the tickets left to the full recompute: several firings at once of which one
    changes the ticket (each must start from the ticket as the previous one left it, and
    record the queue it was moved from)."""
    ticket_ids = sorted({f.ticket_id for f in firings})
    count = Counter(f.ticket_id for f in firings)
    chained = {
        f.ticket_id for f in firings if f.rule.action != Action.NOTIFY and count[f.ticket_id] > 1
    }
    fired = Escalation.objects.filter(ticket_id__in=ticket_ids, rule__isnull=False).values_list(
        "ticket_id", "metric", "cycle", "rule_id"
    )
    fired = set(fired)
    per_cycle = Counter((t, m, c) for t, m, c, _ in fired)
    # Held until commit: a rule deleted meanwhile is skipped; one being deleted waits for
    # this firing and then refuses (it has fired), as on the per-ticket path.
    there = {
        row[0]
        for row in _fetch(
            f"SELECT id FROM {EscalationRule._meta.db_table} WHERE id = ANY(%s) FOR KEY SHARE",
            [sorted({f.rule.id for f in firings})],
        )
    }
    queues = {
        q.slug: q
        for q in Queue.objects.filter(
            slug__in={f.rule.target_queue for f in firings if f.rule.target_queue}
        )
    }
    rows = []
    firings = sorted(firings, key=lambda f: (f.ticket_id, f.at, f.rule.position, f.rule.name))
    for f in firings:
        if (f.ticket_id, f.metric, f.cycle, f.rule.id) in fired or f.rule.id not in there:
            continue
        if f.ticket_id in chained:
            continue  # the full recompute fires these in order, each from the ticket as left
        per_cycle[(f.ticket_id, f.metric, f.cycle)] += 1
        to_queue = None
        if f.rule.action == Action.MOVE_TO_QUEUE and f.rule.target_queue:
            to_queue = queues.get(f.rule.target_queue)
        rows.append((f, per_cycle[(f.ticket_id, f.metric, f.cycle)], to_queue))
    if not rows:
        return chained
    processed = timezone.now()
    late_after = timedelta(seconds=settings.SLA_LATE_AFTER_SECONDS)
    values, params = [], []
    for f, level, to_queue in rows:
        trigger = "breached" if f.rule.trigger == Trigger.BREACH else "reached its warning"
        reason = f"{f.metric.replace('_', ' ')} #{f.cycle} {trigger}: {f.rule.name}"
        values.append("(%s, %s, %s, %s, %s, %s, '{}'::jsonb, %s, %s, %s, %s, %s)")
        params += [
            f.ticket_id,
            f.rule.id,
            level,
            f.metric,
            f.cycle,
            reason,
            locked[f.ticket_id][4],
            to_queue.pk if to_queue else None,
            f.at,
            processed,
            now - f.at > late_after,
        ]
    inserted = _fetch(
        f"""
        INSERT INTO {Escalation._meta.db_table} (ticket_id, rule_id, level, metric, cycle, reason,
            details, from_queue_id, to_queue_id, fire_at, created_at, late)
        VALUES {", ".join(values)}
        ON CONFLICT DO NOTHING
        RETURNING id, ticket_id, metric, cycle, rule_id, reason, late
        """,
        params,
    )
    by_key = {(f.ticket_id, f.metric, f.cycle, f.rule.id): (f, q) for f, _, q in rows}
    events, notices, actions = [], [], []
    leads = list(User.objects.filter(role=Role.LEAD, is_active=True).only("id"))
    for escalation_id, ticket_id, metric, cycle, rule_id, reason, late in inserted:
        f, to_queue = by_key[(ticket_id, metric, cycle, rule_id)]
        events.append(
            (
                ticket_id,
                EventType.ESCALATED,
                f.at,
                {
                    "escalation_id": escalation_id,
                    "rule": f.rule.name,
                    "action": f.rule.action,
                    "metric": metric,
                    "cycle": cycle,
                    "fire_at": f.at.isoformat(),
                    "processed_at": now.isoformat(),
                    "late": late,
                    "to_queue": to_queue.slug if to_queue else None,
                },
            )
        )
        escalation = Escalation(pk=escalation_id, ticket_id=ticket_id, reason=reason)
        if f.rule.action == Action.NOTIFY:
            users = list(leads)
            if locked[ticket_id][2]:
                users.append(User(pk=locked[ticket_id][2]))
            notices.append((escalation, users, reason))
        else:
            actions.append((f, escalation_id, to_queue))
    ticket_services.ticket_record_events_bulk(events=events)
    notify_bulk(items=notices)
    if actions:
        _run_actions(actions, now=now)
    return chained


def _run_actions(actions: list, *, now: datetime) -> None:
    """Raise priority or move: changes to the ticket, through its services, in firing
    order per ticket (a second action starts from the ticket as the first left it). They
    mark the ticket stale, so the next recompute applies the new priority or queue."""
    from .services import _run_action  # the per-ticket path's own, not a copy

    by_ticket = defaultdict(list)
    for f, escalation_id, to_queue in actions:
        by_ticket[f.ticket_id].append((f, escalation_id, to_queue))
    escalations = Escalation.objects.in_bulk([e for _, e, _ in actions])
    tickets = Ticket.objects.select_related("queue", "assignee").in_bulk(list(by_ticket))
    for ticket_id, items in by_ticket.items():
        ticket = tickets[ticket_id]
        for f, escalation_id, to_queue in items:
            ticket = _run_action(ticket, f.rule, escalations[escalation_id], to_queue, now)

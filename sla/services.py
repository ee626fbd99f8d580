"""Stored SLA timers and what happens when they come due.

The engine (sla/engine.py) derives timers from a ticket's events; this module keeps its
output in `SlaTimer` rows (a cache, SLA_SPEC I1), claims the rows that come due (the sweep,
I2), and turns breaches, warnings and rule firings into ticket events, escalations and
notifications exactly once (E2): every writer holds the ticket's row lock, and escalations
are unique per (ticket, metric, cycle, rule) in the database.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from support_desk.errors import Conflict, InvalidRequest, NotFound
from tickets import services as ticket_services
from tickets.models import EventType, Priority, Queue, QueueKind, Status, Ticket
from tickets.visibility import visible_tickets

from . import engine, storm
from .loading import BrokenPolicy, sla_config, ticket_history
from .models import (
    Action,
    Escalation,
    Notification,
    RecomputeClaim,
    SlaTimer,
    TimerStatus,
    Trigger,
)
from .notifications import notify
from .visibility import acknowledgeable

logger = logging.getLogger(__name__)

FINAL = (TimerStatus.MET, TimerStatus.BREACHED, TimerStatus.CANCELLED)
PRIORITY_LADDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
# A claimed row that is not processed (the worker died) becomes due again after this lease.
CLAIM_LEASE = timedelta(seconds=60)
# A ticket whose recompute failed is retried after 1, 2, 4 ... minutes, at most hourly.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)


@dataclass
class RecomputeOutcome:
    ticket_id: int
    breached: list[tuple[str, int]] = field(default_factory=list)
    warned: list[tuple[str, int]] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)


def keep_recorded_outcome(timer: engine.Timer, stored: SlaTimer | None) -> None:
    """D4/X3/X5: a recorded breach is permanent and frozen (target, due_at, breached_at),
    whatever a later recompute (lower priority, new policy, queue or calendar) would say.
    The engine already applies the recorded outcomes it is given (met and cancelled ones
    too, see `_recorded`); this keeps the breach rule for timers built some other way."""
    if stored is None or stored.breached_at is None:
        return
    timer.breached_at = stored.breached_at
    timer.target_minutes = stored.target_minutes
    timer.business_hours = stored.business_hours
    if stored.due_at is not None and stored.due_at <= stored.breached_at:
        timer.due_at = stored.due_at
    elif timer.due_at is None or timer.due_at > stored.breached_at:
        timer.due_at = stored.breached_at
    timer.status = TimerStatus.BREACHED


def _recorded(stored: Iterable[SlaTimer]) -> dict[tuple[str, int], engine.Recorded]:
    """The stored rows' final outcomes, for the engine to keep (X3): the rows are the
    record of how each timer was judged, under the policy that applied then."""
    recorded: dict[tuple[str, int], engine.Recorded] = {}
    for t in stored:
        if t.breached_at is None and t.status not in (TimerStatus.MET, TimerStatus.CANCELLED):
            continue
        recorded[(t.metric, t.cycle)] = engine.Recorded(
            breached_at=t.breached_at,
            due_at=t.due_at,
            target_minutes=t.target_minutes,
            business_hours=t.business_hours,
            status=TimerStatus.BREACHED if t.breached_at is not None else t.status,
            fulfilled_at=t.fulfilled_at,
            cancelled_at=t.cancelled_at,
            warning_at=t.warning_at,
            elapsed_seconds=t.elapsed_seconds,
            started_at=t.started_at,
        )
    return recorded


def _compute(
    ticket: Ticket, *, now: datetime, stored: Iterable[SlaTimer]
) -> tuple[engine.Result, int | None]:
    """The engine's timers for this ticket. Raises BrokenPolicy if its policy is unusable."""
    config = sla_config()
    policy = config.policy_for(ticket)
    result = engine.compute(
        events=ticket_history(ticket.pk),
        policy=policy,
        now=now,
        rules=config.rules,
        recorded=_recorded(stored),
    )
    return result, (policy.id if policy else None)


def compute_for_ticket(ticket: Ticket, *, now: datetime) -> tuple[engine.Result, int | None]:
    """For reads (the ticket's SLA, the workspace): never raises for a broken policy, it
    shows the stored timers instead (without segments) while /healthz reports the ticket."""
    stored = list(ticket.sla_timers.all())
    try:
        return _compute(ticket, now=now, stored=stored)
    except BrokenPolicy as error:
        logger.warning("ticket %s: %s; showing its stored timers", ticket.pk, error)
        return engine.Result([_stored_timer(t) for t in stored], [], []), None


def _stored_timer(row: SlaTimer) -> engine.Timer:
    return engine.Timer(
        metric=row.metric,
        cycle=row.cycle,
        status=row.status,
        running=row.running,
        target_minutes=row.target_minutes,
        business_hours=row.business_hours,
        started_at=row.started_at,
        due_at=row.due_at,
        warning_at=row.warning_at,
        fulfilled_at=row.fulfilled_at,
        breached_at=row.breached_at,
        cancelled_at=row.cancelled_at,
        elapsed_seconds=row.elapsed_seconds,
        segments=[],
        next_change_at=row.next_check_at,
    )


def _next_check(timer: engine.Timer, upcoming: list[engine.Firing], now: datetime, warned: bool):
    """The earliest instant after `now` at which this timer needs the sweeper."""
    candidates = [f.at for f in upcoming if (f.metric, f.cycle) == (timer.metric, timer.cycle)]
    if timer.running and timer.status == TimerStatus.ACTIVE:
        if timer.warning_at and not warned:
            candidates.append(timer.warning_at)
        if timer.due_at:
            candidates.append(timer.due_at)
    if timer.next_change_at:
        candidates.append(timer.next_change_at)
    # A past instant here means "check at once" (a warning not yet acted on, say).
    return min(candidates) if candidates else None


def _lock_ticket(ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("queue", "organization", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


def _policy_still_there(policy_id: int | None) -> bool:
    """Hold the policy row (KEY SHARE) until commit so it cannot vanish under the timers
    written for it; False if it was deleted since the configuration was loaded."""
    if policy_id is None:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sla_slapolicy WHERE id = %s FOR KEY SHARE", [policy_id])
        return cursor.fetchone() is not None


def ticket_sla_recompute(*, ticket_id: int, now: datetime | None = None) -> RecomputeOutcome | None:
    """Recompute one ticket's timers and act on what has come due. Idempotent: running it
    twice, or in two workers at once, gives the same rows and fires nothing twice. Raises
    if the ticket cannot be recomputed (BrokenPolicy, say): callers that process many
    tickets use `ticket_sla_recompute_isolated`."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket_id)
        if ticket is None:
            return None
        now = now or timezone.now()
        stored_rows = list(SlaTimer.objects.filter(ticket_id=ticket.pk))
        result, policy_id = _compute(ticket, now=now, stored=stored_rows)
        if not _policy_still_there(policy_id):
            sla_config(refresh=True)  # deleted meanwhile: compute with what is there now
            result, policy_id = _compute(ticket, now=now, stored=stored_rows)
            if not _policy_still_there(policy_id):
                policy_id = None
        outcome = RecomputeOutcome(ticket_id=ticket.pk)
        stored = {(t.metric, t.cycle): t for t in stored_rows}
        rows: list[SlaTimer] = []
        previous: list[SlaTimer | None] = []
        for timer in result.timers:
            old = stored.pop((timer.metric, timer.cycle), None)
            previous.append(old)
            keep_recorded_outcome(timer, old)
            warned_at = old.warned_at if old else None
            if (
                warned_at is None
                and timer.warning_at
                and timer.warning_at <= now
                and timer.status == TimerStatus.ACTIVE
                and timer.running
            ):
                warned_at = now
                outcome.warned.append((timer.metric, timer.cycle))
            if timer.breached_at and not (old and old.breached_at):
                outcome.breached.append((timer.metric, timer.cycle))
                ticket_services.ticket_record_event(
                    ticket=ticket,
                    type_=EventType.SLA_BREACHED,
                    at=timer.breached_at,
                    metric=timer.metric,
                    cycle=timer.cycle,
                    due_at=timer.due_at.isoformat() if timer.due_at else None,
                    detected_at=now.isoformat(),
                )
            rows.append(_timer_row(ticket, timer, policy_id, now, warned_at, result.upcoming))
        _store_timers(
            ticket, list(zip(rows, previous, strict=True)), leftovers=list(stored.values()), now=now
        )
        for metric, cycle in outcome.warned:
            _warn(ticket, metric, cycle, now)
        running_due = [r.due_at for r in rows if r.running and r.due_at is not None]
        next_due = min(running_due) if running_due else None
        if ticket.sla_stale or ticket.next_due_at != next_due:
            Ticket.objects.filter(pk=ticket.pk).update(sla_stale=False, next_due_at=next_due)
        RecomputeClaim.objects.filter(ticket_id=ticket.pk).delete()  # not failing any more
        # Actions change the ticket through its services, which mark it stale again and
        # announce it: the next recompute sees the new priority or queue (X1). Within this
        # one, each action starts from the ticket as the previous one left it.
        if result.firings:
            recorded = _RecordedFirings.load(ticket.pk)
            for firing in result.firings:
                escalation, ticket = _fire(ticket, firing, now, recorded)
                if escalation is not None:
                    outcome.escalations.append(escalation.pk)
        return outcome


@dataclass
class _RecordedFirings:
    """The ticket's rule firings already recorded, loaded once per recompute (not one query
    per historical firing): which (metric, cycle, rule) fired, and how many per cycle."""

    fired: set[tuple[str, int, int]]
    per_cycle: Counter

    @classmethod
    def load(cls, ticket_id: int) -> _RecordedFirings:
        fired = set(
            Escalation.objects.filter(ticket_id=ticket_id, rule__isnull=False).values_list(
                "metric", "cycle", "rule_id"
            )
        )
        return cls(fired=fired, per_cycle=Counter((m, c) for m, c, _ in fired))

    def add(self, metric: str, cycle: int, rule_id: int) -> int:
        """Record one more firing; returns its level within the cycle."""
        self.fired.add((metric, cycle, rule_id))
        self.per_cycle[(metric, cycle)] += 1
        return self.per_cycle[(metric, cycle)]


def _timer_row(ticket, timer, policy_id, now, warned_at, upcoming) -> SlaTimer:
    return SlaTimer(
        ticket=ticket,
        metric=timer.metric,
        cycle=timer.cycle,
        policy_id=policy_id,
        status=timer.status,
        running=timer.running,
        target_minutes=timer.target_minutes,
        business_hours=timer.business_hours,
        started_at=timer.started_at,
        due_at=timer.due_at,
        warning_at=timer.warning_at,
        fulfilled_at=timer.fulfilled_at,
        breached_at=timer.breached_at,
        cancelled_at=timer.cancelled_at,
        warned_at=warned_at,
        elapsed_seconds=timer.elapsed_seconds,
        computed_at=now,
        next_check_at=_next_check(timer, upcoming, now, warned=warned_at is not None),
    )


TIMER_FIELDS = [
    "policy",
    "status",
    "running",
    "target_minutes",
    "business_hours",
    "started_at",
    "due_at",
    "warning_at",
    "fulfilled_at",
    "breached_at",
    "cancelled_at",
    "warned_at",
    "elapsed_seconds",
    "computed_at",
    "next_check_at",
]


def _changed_fields(row: SlaTimer, old: SlaTimer) -> list[str]:
    """The stored fields this recompute changes (computed_at aside: it moves with them)."""
    fields = []
    for name in TIMER_FIELDS:
        if name == "computed_at":
            continue
        attname = SlaTimer._meta.get_field(name).attname
        if getattr(row, attname) != getattr(old, attname):
            fields.append(name)
    return fields


def _store_timers(
    ticket: Ticket,
    rows: list[tuple[SlaTimer, SlaTimer | None]],
    *,
    leftovers: list[SlaTimer],
    now,
):
    """Write only what changed (issue 10): new timers are inserted, changed ones get their
    changed fields (and computed_at: when the row last changed), unchanged ones are not
    written at all -- the usual case for a recompute with nothing new. `computed_at` thus
    stays the instant since which the row has held, which the set-based sweep relies on
    (sla.storm: a row known to be in time then and unchanged since)."""
    new = [row for row, old in rows if old is None]
    if new:
        # The ticket's lock keeps other writers out; the upsert only guards rows that a
        # writer without it (none today) might have added.
        SlaTimer.objects.bulk_create(
            new,
            update_conflicts=True,
            unique_fields=["ticket", "metric", "cycle"],
            update_fields=TIMER_FIELDS,
        )
    by_fields: dict[tuple[str, ...], list[SlaTimer]] = {}
    for row, old in rows:
        if old is None:
            continue
        fields = _changed_fields(row, old)
        if fields == ["elapsed_seconds"] and row.running and old.running:
            # Only time has passed: the stored pair (elapsed_seconds, computed_at) still
            # says what it did; rewriting it every sweep would be all the writing.
            continue
        if fields:
            row.pk = old.pk
            by_fields.setdefault((*fields, "computed_at"), []).append(row)
    for fields, changed in by_fields.items():
        SlaTimer.objects.bulk_update(changed, list(fields))
    # Timers the engine no longer derives (the new policy has no such target): recorded
    # outcomes stay; anything still running ends as cancelled.
    for old in leftovers:
        if old.status in FINAL:
            if old.next_check_at is not None or old.running:
                SlaTimer.objects.filter(pk=old.pk).update(next_check_at=None, running=False)
            continue
        SlaTimer.objects.filter(pk=old.pk).update(
            status=TimerStatus.CANCELLED,
            running=False,
            cancelled_at=now,
            due_at=None,
            next_check_at=None,
            computed_at=now,
        )


def _warn(ticket: Ticket, metric: str, cycle: int, now: datetime) -> None:
    ticket_services.ticket_record_event(
        ticket=ticket, type_=EventType.SLA_WARNING, at=now, metric=metric, cycle=cycle
    )
    if ticket.assignee_id:
        Notification.objects.create(
            user=ticket.assignee,
            ticket=ticket,
            text=f"#{ticket.pk} {metric.replace('_', ' ')} is about to breach: {ticket.subject}"[
                :300
            ],
        )


# --- escalation rules -------------------------------------------------------------------


def _rule_still_there(rule_id: int) -> bool:
    """Hold the rule row (KEY SHARE) until commit: a rule deleted meanwhile is skipped, and
    one being deleted waits for this firing and then refuses (it has fired)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sla_escalationrule WHERE id = %s FOR KEY SHARE", [rule_id])
        return cursor.fetchone() is not None


def _fire(
    ticket: Ticket, firing: engine.Firing, now: datetime, recorded: _RecordedFirings
) -> tuple[Escalation | None, Ticket]:
    """Record one rule firing and run its action, once (E2). Returns the escalation, or
    None if it was already recorded (another worker, a retry or an earlier sweep got there
    first), and the ticket as the action left it."""
    rule = firing.rule
    if rule.id is None or (firing.metric, firing.cycle, rule.id) in recorded.fired:
        return None, ticket
    if not _rule_still_there(rule.id):
        return None, ticket
    level = recorded.add(firing.metric, firing.cycle, rule.id)
    late = now - firing.at > timedelta(seconds=settings.SLA_LATE_AFTER_SECONDS)
    trigger = "breached" if rule.trigger == Trigger.BREACH else "reached its warning"
    delay = f" + {rule.after_minutes} min" if rule.after_minutes else ""
    reason = f"{firing.metric.replace('_', ' ')} #{firing.cycle} {trigger}{delay}: {rule.name}"
    to_queue = None
    if rule.action == Action.MOVE_TO_QUEUE and rule.target_queue:
        to_queue = Queue.objects.filter(slug=rule.target_queue).first()
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                ticket=ticket,
                rule_id=rule.id,
                level=level,
                metric=firing.metric,
                cycle=firing.cycle,
                reason=reason,
                from_queue=ticket.queue,
                to_queue=to_queue,
                fire_at=firing.at,
                late=late,
            )
    except IntegrityError:
        return None, ticket  # recorded meanwhile: exactly once is the constraint's job
    ticket_services.ticket_record_event(
        ticket=ticket,
        type_=EventType.ESCALATED,
        at=firing.at,
        escalation_id=escalation.pk,
        rule=rule.name,
        action=rule.action,
        metric=firing.metric,
        cycle=firing.cycle,
        fire_at=firing.at.isoformat(),
        processed_at=now.isoformat(),
        late=late,
        to_queue=to_queue.slug if to_queue else None,
    )
    ticket = _run_action(ticket, rule, escalation, to_queue, now)
    return escalation, ticket


def _run_action(ticket, rule: engine.Rule, escalation: Escalation, to_queue, now) -> Ticket:
    """Run the rule's action and notify; returns the ticket as the action left it."""
    roles = [Role.LEAD]
    if rule.action == Action.RAISE_PRIORITY:
        index = PRIORITY_LADDER.index(ticket.priority)
        if index + 1 < len(PRIORITY_LADDER):
            ticket = ticket_services.ticket_update(
                ticket_id=ticket.pk, actor=None, priority=PRIORITY_LADDER[index + 1], at=now
            )
    elif rule.action == Action.MOVE_TO_QUEUE and to_queue is not None:
        if to_queue.pk != ticket.queue_id:  # E3: moving to where it already is does nothing
            ticket = ticket_services.ticket_update(
                ticket_id=ticket.pk, actor=None, queue=to_queue, at=now
            )
        if to_queue.kind == QueueKind.ENGINEERING:
            roles.append(Role.ENGINEER)
    recipients = list(User.objects.filter(role__in=roles, is_active=True))
    if ticket.assignee_id:
        recipients.append(ticket.assignee)
    notify(escalation=escalation, users=recipients, text=escalation.reason)
    return ticket


# --- sweeps -----------------------------------------------------------------------------


def _claim_due_rows(*, now: datetime, limit: int) -> list[tuple[int, int]]:
    """Claim timers whose next check has passed, set-based and index-backed (I2): their
    cost follows the rows coming due, not the open backlog. SKIP LOCKED keeps two sweepers
    apart; the claim is a lease, so rows of a worker that dies come due again. Returns
    (timer id, ticket id) of each claimed row."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE sla_slatimer SET next_check_at = %s
            WHERE id IN (
                SELECT id FROM sla_slatimer
                WHERE next_check_at IS NOT NULL AND next_check_at < %s
                ORDER BY next_check_at
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id, ticket_id
            """,
            [now + CLAIM_LEASE, now, limit],
        )
        return cursor.fetchall()


def timers_claim_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim due timers (see `_claim_due_rows`); returns their tickets."""
    rows = _claim_due_rows(now=now or timezone.now(), limit=limit)
    return sorted({ticket_id for _, ticket_id in rows})


def ticket_sla_recompute_isolated(*, ticket_id: int, now: datetime | None = None) -> bool:
    """Recompute one ticket among many: a failure (a broken policy, a bug, a vanished row)
    is logged and recorded with a retry instant further off each time, never raised, so
    one ticket cannot stop the others. True if it succeeded."""
    try:
        ticket_sla_recompute(ticket_id=ticket_id, now=now)
        return True
    except Exception as error:
        logger.exception("SLA recompute failed for ticket %s", ticket_id)
        try:
            recompute_failure_record(ticket_id=ticket_id, error=error)
        except Exception:  # the database itself is failing: the leases bring it back
            logger.exception("could not record the failure of ticket %s", ticket_id)
        return False


def recompute_failure_record(*, ticket_id: int, error: BaseException) -> datetime | None:
    """Count the failure and push the ticket back: the reconciliation claims it again, and
    the sweep checks its timers again, only after 1, 2, 4 ... minutes (at most hourly).
    Returns the retry instant (None if the ticket is gone)."""
    now = timezone.now()
    text = f"{error.__class__.__name__}: {error}"[:2000]
    table = RecomputeClaim._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} AS claim
                    (ticket_id, retry_at, failures, last_error, first_failed_at, last_failed_at)
                VALUES (%(ticket)s, %(now)s + make_interval(secs => %(first)s), 1, %(error)s,
                        %(now)s, %(now)s)
                ON CONFLICT (ticket_id) DO UPDATE SET
                    failures = claim.failures + 1,
                    last_error = EXCLUDED.last_error,
                    first_failed_at = coalesce(claim.first_failed_at, EXCLUDED.first_failed_at),
                    last_failed_at = EXCLUDED.last_failed_at,
                    retry_at = %(now)s + make_interval(
                        secs => least(%(first)s * power(2, claim.failures), %(max)s)
                    )
                RETURNING retry_at
                """,
                {
                    "ticket": ticket_id,
                    "now": now,
                    "error": text,
                    "first": RETRY_FIRST.total_seconds(),
                    "max": RETRY_MAX.total_seconds(),
                },
            )
            (retry_at,) = cursor.fetchone()
            SlaTimer.objects.filter(ticket_id=ticket_id, next_check_at__isnull=False).update(
                next_check_at=retry_at
            )
            return retry_at
    except IntegrityError:
        return None  # the ticket was deleted: nothing to retry


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """One sweep: claim due timers; record the breaches and warnings their stored rows
    already know for the whole batch at once (sla.storm: a few statements, no recompute
    per ticket); recompute the rest ticket by ticket (stale tickets, rule offsets, edge
    instants). Returns the tickets handled."""
    now = now or timezone.now()
    claimed = _claim_due_rows(now=now, limit=limit)
    ticket_ids = sorted({ticket_id for _, ticket_id in claimed})
    try:
        with transaction.atomic():
            slow = storm.known_record(claimed=claimed, now=now)
    except Exception:
        # Whatever failed there, the per-ticket path is the reference: it does it all.
        logger.exception("SLA sweep: set-based recording failed; recomputing the batch")
        slow = set(ticket_ids)
    for ticket_id in sorted(slow):
        ticket_sla_recompute_isolated(ticket_id=ticket_id)
    return len(ticket_ids)


# Long enough for a batch of recomputes; a worker that dies leaves claims that expire.
RECONCILE_LEASE = timedelta(minutes=5)


def stale_tickets_claim(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim stale tickets for the reconciliation, as the sweep claims timers: a lease in
    a RecomputeClaim row, so two reconcilers never take the same ticket, and a ticket
    whose recompute failed waits out its backoff instead of being claimed again."""
    now = now or timezone.now()
    claims, tickets = RecomputeClaim._meta.db_table, Ticket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {claims} AS claim (ticket_id, retry_at, failures, last_error)
            SELECT t.id, %(lease)s, 0, '' FROM {tickets} t
            WHERE t.sla_stale AND NOT EXISTS (
                SELECT 1 FROM {claims} c WHERE c.ticket_id = t.id AND c.retry_at > %(now)s
            )
            ORDER BY t.id
            LIMIT %(limit)s
            ON CONFLICT (ticket_id) DO UPDATE SET retry_at = EXCLUDED.retry_at
            WHERE claim.retry_at <= %(now)s
            RETURNING ticket_id
            """,
            {"lease": now + RECONCILE_LEASE, "now": now, "limit": limit},
        )
        return sorted(row[0] for row in cursor.fetchall())


def sla_reconcile(*, limit: int = 500) -> int:
    """Recompute tickets still marked stale (their recompute task was lost: Redis down, a
    worker killed; or a configuration change marked them all). Returns how many were
    claimed: a full batch means more may be waiting. Failures are counted apart and
    pushed back, so they never make a batch look full forever."""
    ids = stale_tickets_claim(limit=limit)
    failed = sum(not ticket_sla_recompute_isolated(ticket_id=ticket_id) for ticket_id in ids)
    if failed:
        logger.warning("SLA reconciliation: %s of %s tickets failed", failed, len(ids))
    return len(ids)


def open_tickets_mark_stale() -> int:
    """X4: a calendar, policy or rule changed; every unsolved ticket is recomputed in the
    background, in batches, by the reconciliation."""
    return Ticket.objects.filter(
        status__in=[Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD], sla_stale=False
    ).update(sla_stale=True)


# --- manual escalation and acknowledgement ----------------------------------------------


@transaction.atomic
def escalation_create_manual(
    *,
    ticket_id: int,
    actor: User,
    to_queue: Queue,
    impact: str,
    steps: str = "",
    account_ids: list[str] | None = None,
    links: list[str] | None = None,
) -> Escalation:
    """An agent escalates a ticket to an Engineering queue with what engineers need."""
    if to_queue is None or to_queue.kind != QueueKind.ENGINEERING:
        raise InvalidRequest("Choose an Engineering queue.", param="to_queue")
    impact = (impact or "").strip()
    if not impact:
        raise InvalidRequest("Describe the customer impact.", param="impact")
    ticket = _lock_ticket(ticket_id)
    if ticket is None:
        raise NotFound(f"No ticket {ticket_id}.")
    if ticket.status == Status.CLOSED:
        raise Conflict("A closed ticket cannot be escalated.", code="ticket_closed")
    now = timezone.now()
    details = {
        "impact": impact,
        "steps": (steps or "").strip(),
        "account_ids": [a.strip() for a in account_ids or [] if a.strip()],
        "links": [link.strip() for link in links or [] if link.strip()],
    }
    escalation = Escalation.objects.create(
        ticket=ticket,
        rule=None,
        level=1,
        reason=impact[:500],
        details=details,
        from_queue=ticket.queue,
        to_queue=to_queue,
        fire_at=now,
        created_by=actor,
    )
    ticket_services.ticket_record_event(
        ticket=ticket,
        type_=EventType.ESCALATED,
        at=now,
        actor=actor,
        escalation_id=escalation.pk,
        manual=True,
        to_queue=to_queue.slug,
        from_queue=ticket.queue.slug,
    )
    if ticket.queue_id != to_queue.pk:
        ticket_services.ticket_update(ticket_id=ticket.pk, actor=actor, queue=to_queue, at=now)
    engineers = list(User.objects.filter(role=Role.ENGINEER, is_active=True))
    notify(escalation=escalation, users=engineers, text=f"escalated by {actor}: {impact[:200]}")
    return escalation


@transaction.atomic
def escalation_acknowledge(*, escalation_id: int, actor: User) -> Escalation:
    if not actor.can_acknowledge_escalations:
        raise InvalidRequest("Only engineers, leads and admins acknowledge escalations.")
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("ticket", "to_queue")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None or not visible_tickets(actor).filter(pk=escalation.ticket_id).exists():
        raise NotFound(f"No escalation {escalation_id}.")
    if not acknowledgeable(escalation):
        raise Conflict(
            "This escalation was a notification, not sent to Engineering: there is nothing "
            "to acknowledge.",
            code="not_acknowledgeable",
        )
    if escalation.acknowledged_at is not None:
        raise Conflict(
            f"Already acknowledged by {escalation.acknowledged_by} at "
            f"{escalation.acknowledged_at:%Y-%m-%d %H:%M} UTC.",
            code="already_acknowledged",
        )
    now = timezone.now()
    escalation.acknowledged_at = now
    escalation.acknowledged_by = actor
    escalation.save(update_fields=["acknowledged_at", "acknowledged_by"])
    ticket_services.ticket_record_event(
        ticket=escalation.ticket,
        type_=EventType.ESCALATION_ACKNOWLEDGED,
        at=now,
        actor=actor,
        escalation_id=escalation.pk,
    )
    return escalation

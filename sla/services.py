"""Stored SLA timers and what happens when they come due.

The engine (sla/engine.py) derives timers from a ticket's events; this module keeps its
output in `SlaTimer` rows (a cache, SLA_SPEC I1), claims the rows that come due (the sweep,
I2), and turns breaches, warnings and rule firings into ticket events, escalations and
notifications exactly once (E2): every writer holds the ticket's row lock, and escalations
are unique per (ticket, metric, cycle, rule) in the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from support_desk.errors import Conflict, InvalidRequest, NotFound
from tickets import services as ticket_services
from tickets.models import EventType, Priority, Queue, QueueKind, Status, Ticket

from . import engine
from .loading import sla_config, ticket_history
from .models import Action, Escalation, Notification, SlaTimer, TimerStatus, Trigger

logger = logging.getLogger(__name__)

FINAL = (TimerStatus.MET, TimerStatus.BREACHED, TimerStatus.CANCELLED)
PRIORITY_LADDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
# A claimed row that is not processed (the worker died) becomes due again after this lease.
CLAIM_LEASE = timedelta(seconds=60)


@dataclass
class RecomputeOutcome:
    ticket_id: int
    breached: list[tuple[str, int]] = field(default_factory=list)
    warned: list[tuple[str, int]] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)


def keep_recorded_outcome(timer: engine.Timer, stored: SlaTimer | None) -> None:
    """D4/X3: a recorded breach is permanent, whatever a later recompute (lower priority,
    new policy or calendar) would say."""
    if stored is None or stored.breached_at is None:
        return
    if timer.breached_at is None or timer.breached_at > stored.breached_at:
        timer.breached_at = stored.breached_at
    if timer.status in (TimerStatus.MET, TimerStatus.ACTIVE, TimerStatus.PAUSED):
        timer.status = TimerStatus.BREACHED
    if timer.status == TimerStatus.CANCELLED:
        timer.status = TimerStatus.BREACHED


def compute_for_ticket(ticket: Ticket, *, now: datetime) -> tuple[engine.Result, int | None]:
    config = sla_config()
    policy = config.policy_for(ticket)
    result = engine.compute(
        events=ticket_history(ticket.pk), policy=policy, now=now, rules=config.rules
    )
    return result, (policy.id if policy else None)


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


def ticket_sla_recompute(*, ticket_id: int, now: datetime | None = None) -> RecomputeOutcome | None:
    """Recompute one ticket's timers and act on what has come due. Idempotent: running it
    twice, or in two workers at once, gives the same rows and fires nothing twice."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket_id)
        if ticket is None:
            return None
        now = now or timezone.now()
        result, policy_id = compute_for_ticket(ticket, now=now)
        outcome = RecomputeOutcome(ticket_id=ticket.pk)
        stored = {(t.metric, t.cycle): t for t in SlaTimer.objects.filter(ticket_id=ticket.pk)}
        rows: list[SlaTimer] = []
        for timer in result.timers:
            old = stored.pop((timer.metric, timer.cycle), None)
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
        _store_timers(ticket, rows, leftovers=list(stored.values()), now=now)
        for metric, cycle in outcome.warned:
            _warn(ticket, metric, cycle, now)
        running_due = [r.due_at for r in rows if r.running and r.due_at is not None]
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_stale=False, next_due_at=min(running_due) if running_due else None
        )
        # Actions change the ticket through its services, which mark it stale again and
        # announce it: the next recompute sees the new priority or queue (X1).
        for firing in result.firings:
            escalation = _fire(ticket, firing, now)
            if escalation is not None:
                outcome.escalations.append(escalation.pk)
        return outcome


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


def _store_timers(ticket: Ticket, rows: list[SlaTimer], *, leftovers: list[SlaTimer], now):
    if rows:
        SlaTimer.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["ticket", "metric", "cycle"],
            update_fields=TIMER_FIELDS,
        )
    # Timers the engine no longer derives (the new policy has no such target): recorded
    # outcomes stay; anything still running ends as cancelled.
    for old in leftovers:
        if old.status in (TimerStatus.MET, TimerStatus.BREACHED, TimerStatus.CANCELLED):
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


def _fire(ticket: Ticket, firing: engine.Firing, now: datetime) -> Escalation | None:
    """Record one rule firing and run its action, once (E2). Returns None if it was already
    recorded (another worker, a retry or an earlier sweep got there first)."""
    rule = firing.rule
    if rule.id is None:
        return None
    if Escalation.objects.filter(
        ticket=ticket, metric=firing.metric, cycle=firing.cycle, rule_id=rule.id
    ).exists():
        return None
    level = (
        Escalation.objects.filter(
            ticket=ticket, metric=firing.metric, cycle=firing.cycle, rule__isnull=False
        ).count()
        + 1
    )
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
        return None  # recorded meanwhile: exactly once is the constraint's job
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
    _run_action(ticket, rule, escalation, to_queue, now)
    return escalation


def _run_action(ticket, rule: engine.Rule, escalation: Escalation, to_queue, now) -> None:
    recipients: list[User] = []
    if rule.action == Action.RAISE_PRIORITY:
        index = PRIORITY_LADDER.index(ticket.priority)
        if index + 1 < len(PRIORITY_LADDER):
            ticket_services.ticket_update(
                ticket_id=ticket.pk, actor=None, priority=PRIORITY_LADDER[index + 1], at=now
            )
    elif rule.action == Action.MOVE_TO_QUEUE and to_queue is not None:
        if to_queue.pk != ticket.queue_id:  # E3: moving to where it already is does nothing
            ticket_services.ticket_update(ticket_id=ticket.pk, actor=None, queue=to_queue, at=now)
        if to_queue.kind == QueueKind.ENGINEERING:
            recipients += list(User.objects.filter(role=Role.ENGINEER, is_active=True))
    recipients += list(User.objects.filter(role=Role.LEAD, is_active=True))
    if ticket.assignee_id:
        recipients.append(ticket.assignee)
    notify(escalation=escalation, users=recipients, text=escalation.reason)


def notify(*, escalation: Escalation, users: list[User], text: str) -> None:
    """In-app notifications now; e-mail copies after commit, once per (user, escalation)."""
    seen: set[int] = set()
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        Notification.objects.get_or_create(
            user=user,
            escalation=escalation,
            defaults={
                "ticket_id": escalation.ticket_id,
                "text": f"#{escalation.ticket_id} {text}"[:300],
            },
        )
    escalation_id = escalation.pk
    transaction.on_commit(lambda: _enqueue_emails(escalation_id))


def _enqueue_emails(escalation_id: int) -> None:
    from .tasks import sla_send_notifications_task

    try:
        sla_send_notifications_task.delay(escalation_id)
    except Exception:  # the broker is down: the periodic mailer sends it later
        logger.warning("could not enqueue e-mails for escalation %s", escalation_id)


def notifications_send(*, escalation_id: int | None = None, limit: int = 200) -> int:
    """E-mail notifications not yet e-mailed. Each row is claimed before sending so two
    workers never send the same one; a failed send is released for the next run."""
    from django.core.mail import send_mail

    pending = Notification.objects.filter(emailed_at__isnull=True, escalation__isnull=False)
    if escalation_id is not None:
        pending = pending.filter(escalation_id=escalation_id)
    sent = 0
    for notification_id in list(pending.values_list("id", flat=True)[:limit]):
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        note = Notification.objects.select_related("user").get(pk=notification_id)
        if not note.user.email:
            continue
        try:
            send_mail(
                subject=f"[Support Desk] {note.text[:120]}",
                message=f"{note.text}\n\n{settings.DESK_BASE_URL}/tickets/{note.ticket_id}/\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[note.user.email],
            )
            sent += 1
        except Exception:
            logger.exception("e-mail for notification %s failed", notification_id)
            Notification.objects.filter(pk=notification_id).update(emailed_at=None)
    return sent


# --- sweeps -----------------------------------------------------------------------------


def timers_claim_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim timers whose next check has passed, set-based and index-backed (I2): their
    cost follows the rows coming due, not the open backlog. SKIP LOCKED keeps two sweepers
    apart; the claim is a lease, so rows of a worker that dies come due again."""
    now = now or timezone.now()
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
            RETURNING ticket_id
            """,
            [now + CLAIM_LEASE, now, limit],
        )
        return sorted({row[0] for row in cursor.fetchall()})


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """One sweep: claim due timers, recompute their tickets. Returns the tickets handled."""
    ticket_ids = timers_claim_due(now=now, limit=limit)
    for ticket_id in ticket_ids:
        try:
            ticket_sla_recompute(ticket_id=ticket_id)
        except Exception:
            # One bad ticket must not stop the sweep; its lease brings it back later.
            logger.exception("SLA recompute failed for ticket %s", ticket_id)
    return len(ticket_ids)


def sla_reconcile(*, limit: int = 500) -> int:
    """Recompute tickets still marked stale (their recompute task was lost: Redis down, a
    worker killed). Returns how many were handled."""
    ids = list(
        Ticket.objects.filter(sla_stale=True).order_by("id").values_list("id", flat=True)[:limit]
    )
    for ticket_id in ids:
        try:
            ticket_sla_recompute(ticket_id=ticket_id)
        except Exception:
            logger.exception("SLA recompute failed for ticket %s", ticket_id)
            # Leave it stale; skipping it here keeps one bad ticket from blocking the rest.
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
        .select_related("ticket")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise NotFound(f"No escalation {escalation_id}.")
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

"""Thin Celery tasks over sla.services. Deadlines live in PostgreSQL; beat only triggers
the sweeps (SLA_SPEC I3), so a lost message is at worst a few seconds late, never lost.
The beat schedule is in settings (CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from . import notifications, services, stale_drain


@shared_task(name="sla.recompute_ticket")
def sla_recompute_ticket_task(ticket_id: int) -> bool:
    """A failure is recorded and retried with backoff by the reconciliation (the ticket
    stays stale), not re-raised for Celery to redeliver at once."""
    return services.ticket_sla_recompute_isolated(ticket_id=ticket_id)


@shared_task(name="sla.drain")
def sla_drain_task() -> int:
    """Recompute the tickets marked stale (sla.stale_drain): woken by ticket changes, and
    run by beat every SLA_DRAIN_SECONDS. A long backlog is handed on to a fresh task every
    DRAIN_SECONDS."""
    return stale_drain.drain(
        recompute=lambda ticket_id: services.ticket_sla_recompute_isolated(ticket_id=ticket_id),
        hand_on=sla_drain_task.delay,
    )


@shared_task(name="sla.sweep")
def sla_sweep_task() -> int:
    """Claim and process due timers until none are left (bounded so beat ticks overlap
    little: a long backlog is shared by the next ticks and other workers)."""
    handled = 0
    for _ in range(20):
        batch = services.sla_sweep(limit=200)
        handled += batch
        if batch < 200:
            break
    return handled


RECONCILE_BATCH = 500


@shared_task(name="sla.reconcile")
def sla_reconcile_task() -> int:
    """One batch; a full batch of claims means more are waiting (a policy change marked
    every open ticket stale), so the next batch is queued at once rather than at the next
    beat. Failing tickets are pushed back by their claim, so this chain ends."""
    handled = services.sla_reconcile(limit=RECONCILE_BATCH)
    if handled == RECONCILE_BATCH:
        sla_reconcile_task.delay()
    return handled


@shared_task(name="sla.recompute_open_tickets")
def sla_recompute_open_tickets_task() -> int:
    """X4: after a calendar, policy or rule change. Marks every unsolved ticket stale (one
    UPDATE) and starts the reconciliation, which recomputes them in batches."""
    marked = services.open_tickets_mark_stale()
    sla_reconcile_task.delay()
    return marked


@shared_task(name="sla.send_notifications")
def sla_send_notifications_task(escalation_id: int | None = None) -> int:
    return notifications.notifications_send(escalation_id=escalation_id)

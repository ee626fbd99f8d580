"""Reads for SLA views and the API."""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from tickets.models import QueueKind, Ticket
from tickets.visibility import visible_tickets

from . import engine
from .models import Escalation, RecomputeClaim
from .services import compute_for_ticket, keep_recorded_outcome


def ticket_sla_explained(ticket: Ticket, *, now: datetime | None = None) -> list[engine.Timer]:
    """The ticket's timers as of now, straight from the engine so each carries the segments
    that explain it; recorded breaches are kept as stored (D4)."""
    now = now or timezone.now()
    result, _ = compute_for_ticket(ticket, now=now)
    stored = {(t.metric, t.cycle): t for t in ticket.sla_timers.all()}
    for timer in result.timers:
        keep_recorded_outcome(timer, stored.get((timer.metric, timer.cycle)))
    return result.timers


def escalation_list(
    *, user: User, ticket_id: int | None = None, status: str | None = None
) -> QuerySet[Escalation]:
    """Escalations on tickets the user may read, newest first. `status` is open (sent to
    Engineering, not yet acknowledged) or acknowledged."""
    qs = Escalation.objects.filter(ticket__in=visible_tickets(user)).select_related(
        "rule", "from_queue", "to_queue", "acknowledged_by", "created_by", "ticket"
    )
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if status == "open":
        # Open = waiting for Engineering; a notify-only firing never waits for anyone.
        qs = qs.filter(acknowledged_at__isnull=True, to_queue__kind=QueueKind.ENGINEERING)
    elif status == "acknowledged":
        qs = qs.filter(acknowledged_at__isnull=False)
    return qs.order_by("-created_at", "-id")


def recompute_failures(*, limit: int = 20) -> tuple[int, list[RecomputeClaim]]:
    """Tickets whose recompute keeps failing, most failures first (for /healthz, admin)."""
    failing = RecomputeClaim.objects.filter(failures__gt=0)
    return failing.count(), list(failing.order_by("-failures", "ticket_id")[:limit])

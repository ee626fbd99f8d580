"""Reads for the agent workspace: who sees what, queues by SLA urgency, one ticket."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from sla.models import Escalation, Notification, SlaTimer
from sla.visibility import acknowledgeable
from tickets.models import UNSOLVED_STATUSES, ContactReason, Queue, QueueKind, Ticket, TicketEvent
from tickets.visibility import visible_tickets

PAGE_SIZE = 50


def visible_queue_kinds(user: User) -> tuple[str, ...]:
    """Agents work support queues, engineers Engineering ones; leads and admins both."""
    if user.is_lead_or_admin:
        return (QueueKind.SUPPORT, QueueKind.ENGINEERING)
    if user.role == Role.ENGINEER:
        return (QueueKind.ENGINEERING,)
    return (QueueKind.SUPPORT,)


def visible_queues(user: User) -> QuerySet[Queue]:
    return Queue.objects.filter(kind__in=visible_queue_kinds(user)).order_by("kind", "name")


def contact_reasons() -> QuerySet[ContactReason]:
    """The queue filter's choices: every reason, retired ones too (old tickets keep them)."""
    return ContactReason.objects.order_by("-active", "position", "name")


def queue_for(user: User, slug: str) -> Queue:
    queue = Queue.objects.filter(slug=slug).first()
    if queue is None or queue.kind not in visible_queue_kinds(user):
        raise PermissionDenied("This queue belongs to another team.")
    return queue


@dataclass
class Badge:
    """The SLA badge of a queue row: the most urgent running timer."""

    state: str  # active, warning, breached, paused, met, none
    due_at: datetime | None = None
    warning_at: datetime | None = None
    metric: str = ""


def badge_for(timers: list[SlaTimer], now: datetime) -> Badge:
    running = [t for t in timers if t.running and t.due_at is not None]
    breached = [t for t in running if t.status == "breached"]
    if breached:
        worst = min(breached, key=lambda t: t.breached_at or t.due_at)
        return Badge("breached", worst.breached_at or worst.due_at, None, worst.metric)
    if running:
        soonest = min(running, key=lambda t: t.due_at)
        if soonest.due_at <= now:
            return Badge("breached", soonest.due_at, None, soonest.metric)
        state = "warning" if soonest.warning_at and soonest.warning_at <= now else "active"
        return Badge(state, soonest.due_at, soonest.warning_at, soonest.metric)
    if any(t.status == "paused" for t in timers):
        return Badge("paused", None, None, "resolution")
    if timers and all(t.status in ("met", "cancelled") for t in timers):
        return Badge("met")
    return Badge("none")


def queue_tickets(*, base: QuerySet[Ticket], unsolved_only: bool) -> QuerySet[Ticket]:
    """Tickets by SLA urgency: the most overdue first, then the soonest deadline, then the
    oldest. `next_due_at` is the earliest `due_at` of a running timer; a breached timer keeps
    the `due_at` it was judged by (never after its breach, X5), so one ascending sort puts the
    longest-overdue tickets on top and is served by the (status, queue, next_due_at) index:
    no per-row subquery, whatever the size of the queue. Constant number of queries."""
    qs = base
    if unsolved_only:
        qs = qs.filter(status__in=UNSOLVED_STATUSES)
    return (
        qs.select_related("queue", "assignee", "requester", "organization")
        .prefetch_related(
            Prefetch(
                "sla_timers",
                queryset=SlaTimer.objects.filter(Q(running=True) | Q(status="paused")),
                to_attr="live_timers",
            )
        )
        .order_by(F("next_due_at").asc(nulls_last=True), "created_at", "id")
    )


def attach_badges(tickets: list[Ticket]) -> list[Ticket]:
    now = timezone.now()
    for ticket in tickets:
        ticket.badge = badge_for(ticket.live_timers, now)
    return tickets


def ticket_page_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related(
        "queue", "assignee", "requester", "organization"
    ).prefetch_related(
        "sla_timers",
        Prefetch(
            "escalations",
            queryset=Escalation.objects.select_related(
                "rule", "from_queue", "to_queue", "acknowledged_by", "created_by"
            ).order_by("-created_at"),
        ),
    )


def conversation(ticket: Ticket):
    # email_meta: the e-mail side of a message (mail app), for its delivery status.
    return ticket.messages.select_related("author", "email_meta").order_by("created_at", "id")


def history(ticket: Ticket):
    return ticket.events.select_related("actor").order_by("-at", "-id")[:200]


def changes_since(ticket: Ticket, since: datetime | None) -> list[TicketEvent]:
    """What happened to the ticket after a form was rendered (for "no lost work")."""
    if since is None:
        return []
    return list(
        ticket.events.filter(recorded_at__gt=since).select_related("actor").order_by("at", "id")
    )


def other_open_tickets(ticket: Ticket) -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(requester_id=ticket.requester_id, status__in=UNSOLVED_STATUSES)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:10]
    )


def ticket_escalations(ticket: Ticket) -> list[Escalation]:
    """The ticket's escalations (prefetched by `ticket_page_queryset`), each marked with
    whether it waits for an acknowledgement and, for a notify-only firing, whom it told:
    such a firing was a notification, never sent to Engineering (one query for all)."""
    escalations = list(ticket.escalations.all())
    notified: dict[int, list[str]] = {}
    told = (
        Notification.objects.filter(escalation__in=[e.pk for e in escalations])
        .select_related("user")
        .order_by("user__username")
    )
    for note in told if escalations else ():
        notified.setdefault(note.escalation_id, []).append(_who(note.user, ticket))
    for escalation in escalations:
        escalation.acknowledgeable = acknowledgeable(escalation)
        escalation.notified = notified.get(escalation.pk, [])
    return escalations


def _who(user: User, ticket: Ticket) -> str:
    if user.pk == ticket.assignee_id:
        return f"{user.username} (assignee)"
    if user.role == Role.LEAD:
        return f"{user.username} (lead)"
    return user.username


def awaiting_acknowledgement(user: User) -> QuerySet[Escalation]:
    """What was sent to Engineering queues and nobody has acknowledged yet, on tickets the
    user may read. Notify-only rule firings are notifications: nothing to acknowledge."""
    qs = Escalation.objects.filter(
        acknowledged_at__isnull=True,
        to_queue__kind=QueueKind.ENGINEERING,
        ticket__in=visible_tickets(user),
    )
    return qs.select_related("ticket", "rule", "from_queue", "to_queue", "created_by").order_by(
        "created_at"
    )

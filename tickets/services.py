"""Every change to a ticket goes through here: the change, its TicketEvent and the SLA
stale mark are written in one transaction, then listeners hear about it after commit."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from support_desk.errors import Conflict, InvalidRequest, NotFound, PreconditionFailed

from .models import (
    UNSOLVED_STATUSES,
    AuthorType,
    Channel,
    EventType,
    Message,
    Organization,
    Priority,
    Queue,
    Requester,
    Status,
    Ticket,
    TicketEvent,
    Tier,
)
from .subscribers import announce_after_commit

# A customer message on these statuses sets the ticket back to open (SLA_SPEC S2).
REOPENED_BY_CUSTOMER = (Status.PENDING, Status.ON_HOLD, Status.SOLVED)


def _event(ticket: Ticket, type_: str, at: datetime, actor: User | None, **data: Any) -> None:
    TicketEvent.objects.create(ticket=ticket, type=type_, at=at, actor=actor, data=data)


def _check_past(when: datetime | None, *, param: str) -> datetime:
    now = timezone.now()
    if when is None:
        return now
    if timezone.is_naive(when):
        raise InvalidRequest("Timestamps need a UTC offset.", param=param)
    if when > now:
        raise InvalidRequest("Cannot be in the future.", param=param)
    return when


def queue_default() -> Queue:
    queue = Queue.objects.filter(is_default=True).first() or Queue.objects.order_by("id").first()
    if queue is None:
        # An empty desk's first tickets may arrive together: get_or_create survives the race.
        queue, _ = Queue.objects.get_or_create(
            slug="support", defaults={"name": "Support", "is_default": True}
        )
    return queue


@transaction.atomic
def queue_create(*, slug: str, name: str, kind: str) -> Queue:
    return Queue.objects.create(slug=slug, name=name, kind=kind, is_default=False)


@transaction.atomic
def queue_update(*, queue: Queue, **changes: Any) -> Queue:
    for field in ("slug", "name", "kind"):
        if field in changes:
            setattr(queue, field, changes[field])
    queue.save()
    return queue


def organization_resolve(
    *, name: str = "", external_id: str = "", tier: str = ""
) -> Organization | None:
    """Match an organisation by external_id (creating it if new); else create by name."""
    if tier and tier not in Tier.values:
        raise InvalidRequest(f'"{tier}" is not a valid choice.', param="organization.tier")
    if external_id:
        org, created = Organization.objects.get_or_create(
            external_id=external_id,
            defaults={"name": name or external_id, "tier": tier or Tier.STANDARD},
        )
        changed = [
            f
            for f, v in (("name", name), ("tier", tier))
            if v and getattr(org, f) != v and not created
        ]
        for field in changed:
            setattr(org, field, name if field == "name" else tier)
        if changed:
            org.save(update_fields=changed)
        return org
    if name:
        org = Organization.objects.filter(name=name, external_id__isnull=True).first()
        return org or Organization.objects.create(name=name, tier=tier or Tier.STANDARD)
    return None


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    subject: str,
    description: str,
    requester_email: str,
    requester_name: str = "",
    organization: dict | None = None,
    priority: str = Priority.NORMAL,
    channel: str = Channel.API,
    queue: Queue | None = None,
    tags: Sequence[str] = (),
    external_id: str = "",
    created_at: datetime | None = None,
) -> Ticket:
    at = _check_past(created_at, param="created_at")
    org = organization_resolve(**(organization or {}))
    requester, created = Requester.objects.get_or_create(
        email=requester_email.lower(), defaults={"name": requester_name, "organization": org}
    )
    if not created and (
        (requester_name and not requester.name) or (org and not requester.organization)
    ):
        requester.name = requester.name or requester_name
        requester.organization = requester.organization or org
        requester.save(update_fields=["name", "organization"])
    queue = queue or queue_default()
    ticket = Ticket.objects.create(
        subject=subject,
        description=description,
        priority=priority,
        channel=channel,
        queue=queue,
        requester=requester,
        organization=org or requester.organization,
        tags=_clean_tags(tags),
        external_id=external_id,
        created_at=at,
        updated_at=at,
    )
    _event(
        ticket,
        EventType.CREATED,
        at,
        actor,
        priority=priority,
        status=ticket.status,
        channel=channel,
        queue=queue.slug,
    )
    announce_after_commit(ticket.pk)
    return ticket


def _clean_tags(tags: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip().lower()
        if tag:
            seen[tag] = None
    return list(seen)


def _lock(ticket_id: int) -> Ticket:
    try:
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {ticket_id}.") from None


def _touch(ticket: Ticket, at: datetime, fields: list[str]) -> None:
    ticket.version += 1
    ticket.sla_stale = True
    ticket.updated_at = max(ticket.updated_at, at)
    ticket.save(update_fields=[*fields, "version", "sla_stale", "updated_at"])
    announce_after_commit(ticket.pk)


def _set_status(ticket: Ticket, status: str, at: datetime, actor: User | None) -> bool:
    if status == ticket.status:
        return False
    if ticket.status == Status.CLOSED:
        raise Conflict(
            "A closed ticket cannot change status.", param="status", code="ticket_closed"
        )
    _event(ticket, EventType.STATUS_CHANGED, at, actor, status=status, previous=ticket.status)
    ticket.status = status
    if status in (Status.SOLVED, Status.CLOSED):
        ticket.solved_at = ticket.solved_at if status == Status.CLOSED and ticket.solved_at else at
    elif status in UNSOLVED_STATUSES:
        ticket.solved_at = None
    return True


@transaction.atomic
def ticket_add_message(
    *,
    ticket_id: int,
    actor: User | None,
    body: str,
    public: bool = True,
    author_type: str = AuthorType.AGENT,
    created_at: datetime | None = None,
    then_status: str | None = None,
    expected_version: int | None = None,
) -> Message:
    """Add a reply, an internal note or a customer message; optionally change the status
    in the same update (SLA_SPEC S4: the message applies first)."""
    ticket = _lock(ticket_id)
    if expected_version is not None and expected_version != ticket.version:
        raise PreconditionFailed(
            f"The ticket changed meanwhile (version {ticket.version}, you had {expected_version})."
        )
    if ticket.status == Status.CLOSED:
        raise Conflict(
            "The ticket is closed; open a follow-up ticket instead.", code="ticket_closed"
        )
    at = _check_past(created_at, param="created_at")
    if at < ticket.created_at:
        raise InvalidRequest("A message cannot predate its ticket.", param="created_at")
    if author_type == AuthorType.REQUESTER and not public:
        raise InvalidRequest("A customer message is always public.", param="public")
    message = Message.objects.create(
        ticket=ticket,
        body=body,
        public=public,
        author_type=author_type,
        author=actor if author_type == AuthorType.AGENT else None,
        created_at=at,
    )
    _event(
        ticket,
        EventType.MESSAGE_ADDED,
        at,
        actor,
        message_id=message.pk,
        public=public,
        author_type=author_type,
    )
    fields: list[str] = []
    if author_type == AuthorType.REQUESTER and ticket.status in REOPENED_BY_CUSTOMER:
        _set_status(ticket, Status.OPEN, at, actor)
        fields += ["status", "solved_at"]
    elif message.is_reply and ticket.status == Status.NEW and then_status is None:
        # Answering a new ticket opens it, as every help desk does.
        _set_status(ticket, Status.OPEN, at, actor)
        fields += ["status", "solved_at"]
    if then_status and _set_status(ticket, then_status, at, actor):
        fields += ["status", "solved_at"]
    _touch(ticket, at, sorted(set(fields)))
    return message


UPDATABLE_FIELDS = ("subject", "priority", "queue", "assignee", "tags", "status")


@transaction.atomic
def ticket_update(
    *,
    ticket_id: int,
    actor: User | None,
    expected_version: int | None = None,
    subject: str | None = None,
    priority: str | None = None,
    queue: Queue | None = None,
    assignee: User | object | None = ...,
    tags: Sequence[str] | None = None,
    status: str | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Change fields; the status change is applied last (SLA_SPEC S4). `assignee=None`
    unassigns; leaving it out keeps the assignee."""
    ticket = _lock(ticket_id)
    if expected_version is not None and expected_version != ticket.version:
        raise PreconditionFailed(
            f"The ticket changed meanwhile (version {ticket.version}, you had {expected_version})."
        )
    at = at or timezone.now()
    changed: list[str] = []
    if subject is not None and subject != ticket.subject:
        _event(
            ticket, EventType.SUBJECT_CHANGED, at, actor, subject=subject, previous=ticket.subject
        )
        ticket.subject = subject
        changed.append("subject")
    if priority is not None and priority != ticket.priority:
        _event(
            ticket,
            EventType.PRIORITY_CHANGED,
            at,
            actor,
            priority=priority,
            previous=ticket.priority,
        )
        ticket.priority = priority
        changed.append("priority")
    if queue is not None and queue.pk != ticket.queue_id:
        _event(
            ticket,
            EventType.QUEUE_CHANGED,
            at,
            actor,
            queue=queue.slug,
            previous=ticket.queue.slug,
        )
        ticket.queue = queue
        changed.append("queue")
    if assignee is not ... and getattr(assignee, "pk", None) != ticket.assignee_id:
        _event(
            ticket,
            EventType.ASSIGNEE_CHANGED,
            at,
            actor,
            assignee=getattr(assignee, "username", None),
            previous=ticket.assignee.username if ticket.assignee else None,
        )
        ticket.assignee = assignee
        changed.append("assignee")
    if tags is not None:
        clean = _clean_tags(tags)
        if clean != ticket.tags:
            _event(ticket, EventType.TAGS_CHANGED, at, actor, tags=clean, previous=ticket.tags)
            ticket.tags = clean
            changed.append("tags")
    if status is not None and _set_status(ticket, status, at, actor):
        changed += ["status", "solved_at"]
    if changed:
        _touch(ticket, at, changed)
    return ticket


def ticket_record_event(
    *, ticket: Ticket, type_: str, at: datetime, actor: User | None = None, **data: Any
) -> None:
    """For other apps (SLA breaches, escalations) to append to a ticket's history."""
    _event(ticket, type_, at, actor, **data)

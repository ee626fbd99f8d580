"""Ticket histories for the SLA benchmarks (breach_storm, recompute), written in bulk.

A history is planned in Python as the ticket services would have written it (the created
event, messages with their message_added events, status, priority and assignee changes with
their `previous` values, the ticket's version and updated_at) and stored with COPY: 10,000
tickets with ~100,000 events in seconds, where bulk_create spends most of a minute in
Python. Ids are drawn from the tables' own sequences first, so events can name their
ticket and message. Every concrete column of the model is written: a column this file does
not know (a field added later) gets the field's default, as the ORM would give it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.models import Role, User
from tickets.models import AuthorType, EventType, Message, Queue, Requester, Ticket, TicketEvent

REOPENED_BY_CUSTOMER = ("pending", "on_hold", "solved")


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` ids from the model's own sequence (identity or serial), in order."""
    if count == 0:
        return []
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """COPY rows (dicts by field attname, e.g. `ticket_id`) into the model's table."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for f in fields:
        if f.attname in rows[0]:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default() or f.null:
            defaults[f.attname] = f.get_default()
        else:
            raise ValueError(f"{model.__name__}.{f.name} has no default: the plan must set it")
    json_columns = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as wrapper, wrapper.cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for name in names:
                value = row[name] if name in row else defaults[name]
                if name in json_columns and value is not None:
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)


@dataclass
class Step:
    """One change in a ticket's history, in the order the services would record it."""

    at: datetime
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    actor_id: int | None = None
    # For message_added: the message row, written first so the event can name its id.
    message: dict[str, Any] | None = None


@dataclass
class Plan:
    ticket: dict[str, Any]
    steps: list[Step]


class Builder:
    """Replays planned changes the way tickets/services.py applies them, so the stored
    ticket (status, priority, assignee, version, updated_at) agrees with its events."""

    def __init__(self, *, at: datetime, priority: str, channel: str, queue: Queue):
        self.status = "new"
        self.priority = priority
        self.channel = channel
        self.assignee: User | None = None
        self.solved_at: datetime | None = None
        self.updated_at = at
        self.version = 1
        self.steps = [
            Step(
                at,
                EventType.CREATED,
                {"priority": priority, "status": "new", "channel": channel, "queue": queue.slug},
            )
        ]

    @property
    def created_at(self) -> datetime:
        return self.steps[0].at

    def _touch(self, at: datetime) -> None:
        self.version += 1
        self.updated_at = max(self.updated_at, at)

    def _status(self, status: str, at: datetime, actor: User | None) -> None:
        if status == self.status:
            return
        self.steps.append(
            Step(
                at,
                EventType.STATUS_CHANGED,
                {"status": status, "previous": self.status},
                actor.pk if actor else None,
            )
        )
        self.status = status
        self.solved_at = at if status in ("solved", "closed") else None

    def message(
        self,
        at: datetime,
        *,
        author_type: str,
        public: bool,
        actor: User | None,
        body: str,
        then_status: str | None = None,
    ) -> None:
        """ticket_add_message: a customer message reopens a pending, on-hold or solved
        ticket; an agent's public reply opens a new one unless it sets a status itself."""
        author_id = actor.pk if actor and author_type == AuthorType.AGENT else None
        message = {
            "body": body,
            "public": public,
            "author_type": author_type,
            "author_id": author_id,
            "created_at": at,
        }
        self.steps.append(
            Step(
                at,
                EventType.MESSAGE_ADDED,
                {"public": public, "author_type": author_type},
                actor.pk if actor else None,
                message,
            )
        )
        reopens = author_type == AuthorType.REQUESTER and self.status in REOPENED_BY_CUSTOMER
        answers_new = author_type == AuthorType.AGENT and public and self.status == "new"
        if reopens or (answers_new and then_status is None):
            self._status("open", at, actor)
        if then_status:
            self._status(then_status, at, actor)
        self._touch(at)

    def status_change(self, status: str, at: datetime, actor: User | None) -> None:
        if status != self.status:
            self._status(status, at, actor)
            self._touch(at)

    def priority_change(self, priority: str, at: datetime, actor: User | None) -> None:
        if priority == self.priority:
            return
        self.steps.append(
            Step(
                at,
                EventType.PRIORITY_CHANGED,
                {"priority": priority, "previous": self.priority},
                actor.pk if actor else None,
            )
        )
        self.priority = priority
        self._touch(at)

    def assign(self, assignee: User, at: datetime, actor: User | None) -> None:
        if self.assignee is not None and assignee.pk == self.assignee.pk:
            return
        self.steps.append(
            Step(
                at,
                EventType.ASSIGNEE_CHANGED,
                {
                    "assignee": assignee.username,
                    "previous": self.assignee.username if self.assignee else None,
                },
                actor.pk if actor else None,
            )
        )
        self.assignee = assignee
        self._touch(at)

    def tags(self, tags: list[str], at: datetime, actor: User | None) -> None:
        self.steps.append(
            Step(at, EventType.TAGS_CHANGED, {"tags": tags, "previous": []}, actor.pk)
        )
        self._touch(at)

    def record(self, at: datetime, type_: str, **data: Any) -> None:
        """An event another app appends (an SLA warning): no version bump, no stale mark."""
        self.steps.append(Step(at, type_, data))

    def plan(self, *, queue: Queue, requester_id: int, **fields: Any) -> Plan:
        ticket = {
            "status": self.status,
            "priority": self.priority,
            "channel": self.channel,
            "queue_id": queue.pk,
            "requester_id": requester_id,
            "assignee_id": self.assignee.pk if self.assignee else None,
            "organization_id": None,
            "tags": [],
            "external_id": "",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "solved_at": self.solved_at,
            "version": self.version,
            "sla_stale": False,
            "next_due_at": None,
            **fields,
        }
        return Plan(ticket=ticket, steps=self.steps)


def agents(mark: str, count: int, *, role: str = Role.AGENT) -> list[User]:
    return [
        User.objects.get_or_create(
            username=f"{mark}-{role}{i}",
            defaults={"role": role, "email": f"{mark}-{role}{i}@bench.test"},
        )[0]
        for i in range(count)
    ]


def requesters(mark: str, count: int) -> list[int]:
    """Ids of `count` new customers (one per ticket, as most desks see)."""
    ids = reserve_ids(Requester, count)
    now = timezone.now()
    copy_rows(
        Requester,
        [
            {"id": pk, "email": f"{mark}-{i}@customer.test", "name": f"Customer {i}",
             "organization_id": None, "created_at": now}
            for i, pk in enumerate(ids)
        ],
    )  # fmt: skip
    return ids


def write(plans: Iterable[Plan]) -> list[int]:
    """Store the planned tickets, their messages and their events; returns the ticket ids
    in plan order. Events keep their planned order within a ticket (the id orders events
    that share an instant, SLA_SPEC T3)."""
    plans = list(plans)
    ticket_ids = reserve_ids(Ticket, len(plans))
    messages = [s.message for p in plans for s in p.steps if s.message is not None]
    message_ids = iter(reserve_ids(Message, len(messages)))
    events = []
    for plan, ticket_id in zip(plans, ticket_ids, strict=True):
        plan.ticket["id"] = ticket_id
        for step in plan.steps:
            data = step.data
            if step.message is not None:
                step.message["id"] = next(message_ids)
                step.message["ticket_id"] = ticket_id
                data = {"message_id": step.message["id"], **data}
            events.append(
                {"ticket_id": ticket_id, "type": step.type, "at": step.at,
                 "actor_id": step.actor_id, "data": data}
            )  # fmt: skip
    event_ids = reserve_ids(TicketEvent, len(events))
    for event, pk in zip(events, event_ids, strict=True):
        event["id"] = pk
    copy_rows(Ticket, [p.ticket for p in plans])
    copy_rows(Message, messages)
    copy_rows(TicketEvent, events)
    return ticket_ids


def broker_purge() -> int:
    """Drop the tasks a benchmark left queued (the e-mail copies of its escalations, which
    it deletes): the next benchmark's worker would spend its first minutes on them. Tasks
    only trigger work whose state is in PostgreSQL (SLA_SPEC I3), so nothing is lost."""
    from support_desk.celery import app

    try:
        return app.control.purge()
    except Exception as error:  # the broker is down: nothing to drop
        print(f"   could not empty the broker: {error}", flush=True)
        return 0

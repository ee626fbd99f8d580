"""Every change to a ticket goes through here: the change, its TicketEvent and the SLA
stale mark are written in one transaction, then listeners hear about it after commit."""

import json
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Required, TypedDict, Unpack

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from support_desk.errors import Conflict, InvalidRequest, NotFound, PreconditionFailed

from .masking import mask_card_numbers
from .models import (
    UNSOLVED_STATUSES,
    AuthorType,
    Channel,
    ContactReason,
    EventType,
    IdempotencyRecord,
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
from .subscribers import announce_after_commit, announce_event

# A customer message on these statuses sets the ticket back to open (SLA_SPEC S2).
REOPENED_BY_CUSTOMER = (Status.PENDING, Status.ON_HOLD, Status.SOLVED)


def _event(ticket: Ticket, type_: str, at: datetime, actor: User | None, **data: Any) -> None:
    event = TicketEvent.objects.create(ticket=ticket, type=type_, at=at, actor=actor, data=data)
    announce_event(ticket, event)


def _check_past(when: datetime | None, *, param: str) -> datetime:
    now = timezone.now()
    if when is None:
        return now
    if timezone.is_naive(when):
        raise InvalidRequest("Timestamps need a UTC offset.", param=param)
    if when > now:
        raise InvalidRequest("Cannot be in the future.", param=param)
    return when


# The default queue is read on every creation that names none, so each process keeps it for
# a few seconds. Safe because ticket_create's INSERT only files a ticket into a queue that
# still has the id, slug and kind it was given (QueueChanged otherwise): a stale copy can
# delay a change of *which* queue is the default by DEFAULT_QUEUE_SECONDS, never file a
# ticket into a deleted queue or under a kind its creator's permission was not checked for.
DEFAULT_QUEUE_SECONDS = 10.0
_default_queue: tuple[float, Queue] | None = None


def queue_default() -> Queue:
    global _default_queue
    cached = _default_queue
    now = time.monotonic()
    if cached is not None and now - cached[0] < DEFAULT_QUEUE_SECONDS:
        return cached[1]
    queue = Queue.objects.filter(is_default=True).first() or Queue.objects.order_by("id").first()
    if queue is None:
        # An empty desk's first tickets may arrive together: get_or_create survives the race.
        queue, _ = Queue.objects.get_or_create(
            slug="support", defaults={"name": "Support", "is_default": True}
        )
    _default_queue = (now, queue)
    return queue


def queue_default_forget() -> None:
    """Drop this process's copy of the default queue (it changed, or a test starts)."""
    global _default_queue
    _default_queue = None


@transaction.atomic
def queue_create(*, slug: str, name: str, kind: str) -> Queue:
    queue = Queue.objects.create(slug=slug, name=name, kind=kind, is_default=False)
    # The first queue of an empty desk becomes the fallback default.
    transaction.on_commit(queue_default_forget)
    return queue


@transaction.atomic
def queue_update(*, queue: Queue, **changes: Any) -> Queue:
    for field in ("slug", "name", "kind"):
        if field in changes:
            setattr(queue, field, changes[field])
    queue.save()
    transaction.on_commit(queue_default_forget)
    return queue


_ORG = Organization._meta.db_table
_REQUESTER = Requester._meta.db_table
_TICKET = Ticket._meta.db_table
_EVENT = TicketEvent._meta.db_table
_IDEMPOTENCY = IdempotencyRecord._meta.db_table

# One statement whatever happens: insert the organisation, or take the existing one with
# that external_id and change the name or tier given (only when they differ, so repeated
# tickets for one organisation do not rewrite and lock its row).
_ORG_BY_EXTERNAL_ID = f"""
WITH ins AS (
    INSERT INTO {_ORG} (name, external_id, tier, created_at)
    VALUES (%(new_name)s, %(external_id)s, %(new_tier)s, %(now)s)
    ON CONFLICT (external_id) DO NOTHING
    RETURNING id, name, external_id, tier
), old AS (
    SELECT id, name, external_id, tier FROM {_ORG}
    WHERE external_id = %(external_id)s AND NOT EXISTS (SELECT 1 FROM ins)
), upd AS (
    UPDATE {_ORG} o
    SET name = CASE WHEN %(name)s <> '' THEN %(name)s ELSE o.name END,
        tier = CASE WHEN %(tier)s <> '' THEN %(tier)s ELSE o.tier END
    FROM old
    WHERE o.id = old.id
      AND ((%(name)s <> '' AND o.name <> %(name)s) OR (%(tier)s <> '' AND o.tier <> %(tier)s))
    RETURNING o.id, o.name, o.external_id, o.tier
)
SELECT * FROM ins
UNION ALL SELECT * FROM upd
UNION ALL SELECT * FROM old WHERE NOT EXISTS (SELECT 1 FROM upd)
"""

# Organisations without an external_id are matched by name (no unique key to conflict on).
_ORG_BY_NAME = f"""
WITH old AS (
    SELECT id, name, external_id, tier FROM {_ORG}
    WHERE name = %(name)s AND external_id IS NULL ORDER BY id LIMIT 1
), ins AS (
    INSERT INTO {_ORG} (name, external_id, tier, created_at)
    SELECT %(name)s, NULL, %(new_tier)s, %(now)s WHERE NOT EXISTS (SELECT 1 FROM old)
    RETURNING id, name, external_id, tier
)
SELECT * FROM old UNION ALL SELECT * FROM ins
"""

# One statement creates the ticket: the requester (created, or given the name and
# organisation it lacked), the ticket, its `created` event and, for an Idempotency-Key, the
# record with the response. Alone (autocommit) it is its own transaction: one round trip.
#
# - The ticket is filed only into a queue that still has the id, slug and kind the caller
#   checked (q); otherwise nothing is written.
# - The requester upsert is ON CONFLICT DO UPDATE, so it returns the row even when a
#   concurrent statement inserted it after this one's snapshot (DO NOTHING would return
#   nothing then). It locks that requester until the statement ends.
# - With a key: a record already committed is seen first (existing) and nothing is written;
#   the caller replays it. Otherwise the record is inserted ON CONFLICT DO NOTHING before the
#   ticket, which is inserted only FROM the claim: a concurrent request with the same key
#   waits on the uncommitted record and, once ours is committed, writes no record, ticket
#   or event (its requester upsert, the same as ours for the same body, stays) and replays.
#   The ticket id is taken first (tid) so that the stored response can carry it; only that
#   race spends an id for nothing.
_CREATE_HEAD = f"""
q AS (
    SELECT id FROM {Queue._meta.db_table}
    WHERE id = %(queue)s AND slug = %(queue_slug)s AND kind = %(queue_kind)s {{only_new}}
), req AS (
    INSERT INTO {_REQUESTER} AS r (email, name, organization_id, created_at)
    SELECT %(email)s, %(name)s, %(org)s, %(now)s FROM q
    ON CONFLICT (email) DO UPDATE
    SET name = CASE WHEN r.name = '' THEN EXCLUDED.name ELSE r.name END,
        organization_id = COALESCE(r.organization_id, EXCLUDED.organization_id)
    RETURNING r.id, r.name, r.organization_id
), who AS (
    SELECT req.id AS requester_id, req.name AS requester_name,
        req.organization_id AS requester_org_id, o.id AS org_id,
        o.name AS org_name, o.external_id AS org_external_id, o.tier AS org_tier
    FROM req LEFT JOIN {_ORG} o ON o.id = COALESCE(%(org)s, req.organization_id)
), tid AS (
    SELECT nextval(pg_get_serial_sequence('{_TICKET}', 'id')) AS id FROM who
)"""

_TICKET_ROW = f"""
    INSERT INTO {_TICKET} (
        id, subject, description, status, priority, channel, queue_id, assignee_id,
        requester_id, organization_id, tags, external_id, created_at, updated_at,
        solved_at, version, sla_stale, next_due_at, cc, contact_reason_id, opened_by_robot
    )
    SELECT tid.id, %(subject)s, %(description)s, %(status)s, %(priority)s, %(channel)s,
        %(queue)s, NULL, who.requester_id, who.org_id, %(tags)s::varchar(50)[],
        %(external_id)s, %(at)s, %(at)s, NULL, %(version)s, TRUE, NULL,
        %(cc)s::varchar(254)[], %(contact_reason)s, %(opened_by_robot)s
    FROM tid, who {{claimed}}
    RETURNING id
), e AS (
    INSERT INTO {_EVENT} (ticket_id, type, actor_id, at, recorded_at, data)
    SELECT t.id, %(event_type)s, %(actor)s, %(at)s, %(now)s, %(event_data)s::jsonb FROM t
)"""

_WHO = (
    "who.requester_id, who.requester_name, who.requester_org_id, who.org_id, who.org_name, "
    "who.org_external_id, who.org_tier"
)

_CREATE = f"""
WITH {_CREATE_HEAD.format(only_new="")}, t AS ({_TICKET_ROW.format(claimed="")}
SELECT t.id, {_WHO} FROM t, who
"""

# The response body's parts that only the statement knows: the id, and the requester and
# organisation as stored (an existing requester keeps its name and may bring its own).
_STORED_BODY = """%(body)s::jsonb || jsonb_build_object(
    'id', tid.id,
    'requester', jsonb_build_object('email', %(email)s, 'name', who.requester_name),
    'organization', CASE WHEN who.org_id IS NULL THEN NULL ELSE jsonb_build_object(
        'name', who.org_name, 'external_id', who.org_external_id, 'tier', who.org_tier) END)"""

_CREATE_ONCE = f"""
WITH existing AS (
    SELECT request_hash, response_status, response_body FROM {_IDEMPOTENCY}
    WHERE user_id = %(user)s AND key = %(key)s
), {_CREATE_HEAD.format(only_new="AND NOT EXISTS (SELECT 1 FROM existing)")}, claim AS (
    INSERT INTO {_IDEMPOTENCY} (
        user_id, key, request_hash, response_status, response_body, created_at
    )
    SELECT %(user)s, %(key)s, %(request_hash)s, %(response_status)s, {_STORED_BODY}, %(now)s
    FROM tid, who
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING id
), t AS ({_TICKET_ROW.format(claimed=", claim")}
SELECT (SELECT id FROM t), {_WHO}, EXISTS (SELECT 1 FROM q),
    existing.request_hash, existing.response_status, existing.response_body
FROM (SELECT 1) AS one
LEFT JOIN who ON TRUE
LEFT JOIN existing ON TRUE
"""


class QueueChanged(Conflict):
    """The queue a ticket was to be filed into was changed or deleted meanwhile."""

    code = "queue_changed"


@dataclass
class Once:
    """Create at most once per (user, key): the IdempotencyRecord, with the response
    `render` makes from the new ticket, is written by the ticket's own statement.

    After ticket_create_once: `body` is the response stored (a ticket was created), or
    `existing` is (request_hash, response_status, response_body) of the record a previous
    or concurrent request with that key stored (no ticket was created)."""

    user_id: int
    key: str
    request_hash: str
    render: Callable[[Ticket], dict]
    status: int = 201
    body: dict | None = None
    existing: tuple[str, int, dict] | None = None


def prepared_cursor():
    """A cursor whose statements PostgreSQL plans once per connection.

    Planning intake's CTEs costs PostgreSQL about twice what running them does, and Django's
    cursors bind parameters on the client, which rules out prepared statements. This one
    binds on the server, and its connection prepares every statement such a cursor runs
    (prepare_threshold 0; Django's own client-side cursors are not affected): psycopg keeps
    them per connection (the last 100) and PostgreSQL reuses their plans. It is still
    Django's cursor wrapper: errors are translated, queries logged and counted. (Behind a
    pooler in transaction mode, prepared statements need PgBouncer >= 1.21 with
    max_prepared_statements.)
    """
    connection.ensure_connection()
    connection.validate_thread_sharing()
    if connection.connection.prepare_threshold is None:  # Django's default: never
        connection.connection.prepare_threshold = 0
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _fetch_one(sql: str, params: dict) -> tuple | None:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _organization(row: tuple) -> Organization:
    org = Organization(id=row[0], name=row[1], external_id=row[2], tier=row[3])
    org._state.adding = False
    return org


def organization_resolve(
    *, name: str = "", external_id: str = "", tier: str = ""
) -> Organization | None:
    """Match an organisation by external_id (creating it if new); else create by name.
    One statement either way (see _ORG_BY_EXTERNAL_ID, _ORG_BY_NAME)."""
    if tier and tier not in Tier.values:
        raise InvalidRequest(f'"{tier}" is not a valid choice.', param="organization.tier")
    if not (external_id or name):
        return None
    params = {
        "name": name,
        "tier": tier,
        "external_id": external_id,
        "new_name": name or external_id,
        "new_tier": tier or Tier.STANDARD,
        "now": timezone.now(),
    }
    sql = _ORG_BY_EXTERNAL_ID if external_id else _ORG_BY_NAME
    # Empty only when a concurrent transaction inserted the same external_id after this
    # statement's snapshot; the next statement sees its row.
    for _ in range(3):
        row = _fetch_one(sql, params)
        if row is not None:
            return _organization(row)
    raise Conflict("The organisation is being changed concurrently; try again.")


class TicketFields(TypedDict, total=False):
    """What a new ticket is made of: ticket_create and ticket_create_once take the same."""

    subject: Required[str]
    description: Required[str]
    requester_email: Required[str]
    requester_name: str
    organization: dict | None  # {name, external_id, tier}: matched or created
    priority: str
    channel: str
    queue: Queue | None  # None: the default queue
    tags: Sequence[str]
    external_id: str
    created_at: datetime | None  # back-dating (imports); None: now
    cc: Sequence[str]
    contact_reason: ContactReason | None
    opened_by_robot: bool


def _new_ticket(fields: TicketFields, org: Organization | None) -> Ticket:
    """The ticket as it will be stored, before the statement gives its id and requester.
    Card numbers are masked here, before anything is written (tickets/masking.py)."""
    at = _check_past(fields.get("created_at"), param="created_at")
    requester_email = fields["requester_email"].lower()
    return Ticket(
        subject=mask_card_numbers(fields["subject"]),
        description=mask_card_numbers(fields["description"]),
        status=Status.NEW,
        priority=fields.get("priority", Priority.NORMAL),
        channel=fields.get("channel", Channel.API),
        cc=_clean_cc(fields.get("cc", ()), requester_email),
        contact_reason=fields.get("contact_reason"),
        opened_by_robot=fields.get("opened_by_robot", False),
        requester=Requester(
            email=requester_email, name=mask_card_numbers(fields.get("requester_name", ""))
        ),
        organization=org,
        tags=_clean_tags(fields.get("tags", ())),
        external_id=fields.get("external_id", ""),
        created_at=at,
        updated_at=at,
        version=1,
        sla_stale=True,
    )


def _params(ticket: Ticket, queue: Queue, actor: User | None) -> dict[str, Any]:
    ticket.queue = queue
    return {
        "queue": queue.pk,
        "queue_slug": queue.slug,
        "queue_kind": queue.kind,
        "email": ticket.requester.email,
        "name": ticket.requester.name,
        "org": ticket.organization_id,
        "now": timezone.now(),
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "tags": ticket.tags,
        "external_id": ticket.external_id,
        "cc": ticket.cc,
        "contact_reason": ticket.contact_reason_id,
        "opened_by_robot": ticket.opened_by_robot,
        "at": ticket.created_at,
        "version": ticket.version,
        "event_type": EventType.CREATED,
        "actor": actor.pk if actor else None,
        "event_data": json.dumps(
            {
                "priority": ticket.priority,
                "status": ticket.status,
                "channel": ticket.channel,
                "queue": queue.slug,
            }
        ),
    }


def _stored(ticket: Ticket, ticket_id: int, who: tuple) -> None:
    """Complete `ticket` with what its statement stored (`who`: the columns of _WHO)."""
    requester_id, requester_name, requester_org_id, org_id, org_name, org_ext, org_tier = who
    if org_id is None:
        org = None
    elif ticket.organization_id == org_id:
        org = ticket.organization
    else:  # the requester's own organisation
        org = _organization((org_id, org_name, org_ext, org_tier))
    requester = ticket.requester
    requester.pk, requester.name = requester_id, requester_name
    if requester_org_id == org_id:
        requester.organization = org
    else:
        requester.organization_id = requester_org_id
    requester._state.adding = False
    ticket.pk = ticket_id
    ticket.requester, ticket.organization = requester, org
    ticket._state.adding = False


def _run_create(
    sql: str, prepare: Callable[[Queue], dict], *, queue: Queue | None, once: bool
) -> tuple:
    """Run a create statement with the parameters `prepare` gives for the target queue:
    `queue`, or the default queue (looked up again when this process's copy was stale).
    Raises QueueChanged when a given queue no longer matches."""
    for _ in range(2):
        row = _fetch_one(sql, prepare(queue or queue_default()))
        # Without a key, no row means no queue; with one, see _CREATE_ONCE's columns.
        if row is not None and (not once or row[0] is not None or row[8] or row[9] is not None):
            return row
        if queue is not None:
            raise QueueChanged("The ticket's queue was changed meanwhile; try again.")
        queue_default_forget()
    raise QueueChanged("The default queue was changed meanwhile; try again.")


def ticket_create(*, actor: User | None, **fields: Unpack[TicketFields]) -> Ticket:
    """Create a ticket with its requester, organisation and `created` event in one
    transaction (a savepoint inside a caller's); the SLA recompute is announced after
    commit. Without `queue`, the default queue. With `queue`, raises QueueChanged when
    that queue no longer has its id, slug and kind (a caller that checked permissions on
    it must check again)."""
    with transaction.atomic():
        org = organization_resolve(**(fields.get("organization") or {}))
        ticket = _new_ticket(fields, org)
        row = _run_create(
            _CREATE,
            lambda target: _params(ticket, target, actor),
            queue=fields.get("queue"),
            once=False,
        )
        _stored(ticket, row[0], row[1:8])
        announce_after_commit(ticket.pk)
    return ticket


def ticket_create_once(
    *, once: Once, actor: User | None, **fields: Unpack[TicketFields]
) -> Ticket | None:
    """ticket_create at most once per `once` key (see Once): the new ticket, or None when
    a record for the key exists (`once.existing` is then set if it was already committed
    when this began; else the caller reads the one a concurrent request just committed).

    Without an organisation this is one statement and, outside a transaction, its own
    (one round trip); an organisation to resolve first makes it a transaction of two."""
    organization = fields.get("organization")
    with transaction.atomic() if organization else nullcontext():
        org = organization_resolve(**organization) if organization else None
        ticket = _new_ticket(fields, org)
        rendered: list[dict] = []

        def prepare(target: Queue) -> dict:
            params = _params(ticket, target, actor)
            rendered[:] = [once.render(ticket)]  # its id, requester, organisation: from SQL
            params.update(
                user=once.user_id,
                key=once.key,
                request_hash=once.request_hash,
                response_status=once.status,
                body=json.dumps(rendered[0]),
            )
            return params

        row = _run_create(_CREATE_ONCE, prepare, queue=fields.get("queue"), once=True)
        if row[0] is None:
            if row[9] is not None:  # jsonb arrives as text (Django's loader for JSONField)
                body = row[11] if not isinstance(row[11], str) else json.loads(row[11])
                once.existing = (row[9], row[10], body)
            if organization:  # the organisation resolved for nothing must not stay
                transaction.set_rollback(True)
            return None
        _stored(ticket, row[0], row[1:8])
        org = ticket.organization
        once.body = {
            **rendered[0],
            "id": ticket.pk,
            "requester": {"email": ticket.requester.email, "name": ticket.requester.name},
            "organization": None
            if org is None
            else {"name": org.name, "external_id": org.external_id, "tier": org.tier},
        }
        announce_after_commit(ticket.pk)
    return ticket


def _clean_cc(cc: Sequence[str], requester_email: str = "") -> list[str]:
    """Lower-cased, each once, without the requester or the desk's own addresses."""
    own = {settings.SUPPORT_EMAIL, *settings.SUPPORT_EMAIL_ALIASES, requester_email.lower()}
    seen: dict[str, None] = {}
    for address in cc:
        address = address.strip().lower()
        if address and address not in own:
            seen[address] = None
    return list(seen)


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
    channel: str = Channel.API,
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
        body=mask_card_numbers(body),
        public=public,
        channel=channel,
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
    subject = mask_card_numbers(subject) if subject is not None else None
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


@transaction.atomic
def ticket_add_cc(
    *, ticket_id: int, actor: User | None, addresses: Sequence[str], at: datetime | None = None
) -> Ticket:
    """Copy more people on the conversation (e-mail CCs, DESIGN §8): a `cc_changed` event
    when the list grows. Moves no timer, so the ticket is not marked stale."""
    ticket = _lock(ticket_id)
    at = at or timezone.now()
    clean = _clean_cc([*ticket.cc, *addresses], ticket.requester.email)
    if clean != ticket.cc:
        _event(ticket, EventType.CC_CHANGED, at, actor, cc=clean, previous=ticket.cc)
        ticket.cc = clean
        ticket.version += 1
        ticket.updated_at = max(ticket.updated_at, at)
        ticket.save(update_fields=["cc", "version", "updated_at"])
    return ticket


def ticket_record_event(
    *, ticket: Ticket, type_: str, at: datetime, actor: User | None = None, **data: Any
) -> None:
    """For other apps (SLA breaches, escalations) to append to a ticket's history."""
    _event(ticket, type_, at, actor, **data)


def ticket_record_events_bulk(*, events: Sequence[tuple[int, str, datetime, dict]]) -> int:
    """`ticket_record_event` for many tickets in one INSERT: (ticket_id, type, at, data)
    each, by the system (no actor). For events that move no timer and change no field
    (SLA breaches, warnings, escalations), so nothing is marked stale or announced; the
    caller holds the tickets' locks, as for one event. Returns how many were written."""
    rows = [
        TicketEvent(ticket_id=ticket_id, type=type_, at=at, actor=None, data=data)
        for ticket_id, type_, at, data in events
    ]
    TicketEvent.objects.bulk_create(rows)
    return len(rows)

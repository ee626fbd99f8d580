"""Recording a phone call (DESIGN §8 "Phone"): who called, which ticket it belongs to, and
the conversation entry it makes. Tickets change only through tickets.services.

What a call means for the SLA (SLA_SPEC S3: a reply is a public agent message):
- answered (either direction), or an outbound call where we left a voicemail: a public
  agent message, so it counts as the agent's reply;
- an inbound missed call, voicemail or callback request: a customer message (it reopens a
  pending or solved ticket and starts a reply timer);
- an outbound call nobody answered (or an outbound "callback requested"): an internal note
  by the agent, an attempt that answers nothing.
The message's body is a short neutral summary ("Inbound call from +1 415-555-0100,
answered by ann (4 min).") because a public message may be shown or sent to the customer;
the agent's notes stay on the call, which agents see beside the message.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from support_desk.errors import Conflict, InvalidRequest
from tickets import services as ticket_services
from tickets.masking import mask_card_numbers
from tickets.models import (
    UNSOLVED_STATUSES,
    AuthorType,
    Channel,
    EventType,
    Message,
    Priority,
    Requester,
    RequesterPhone,
    Ticket,
)
from tickets.visibility import Access, Forbidden, access_to, can_create_in, ticket_for
from tickets.visibility import visible_tickets as visible

from .models import Call, Direction, Outcome
from .numbers import display

# Requesters known only by their number get this address: RFC 2606 reserves .invalid, so
# it can never be delivered to, and the number makes it unique ("+14155550100@phone.invalid").
PLACEHOLDER_DOMAIN = "phone.invalid"
# A call may be logged a little after the fact, never before it happened (clock skew aside).
CLOCK_SKEW = timedelta(minutes=5)
THREAD_CANDIDATES = 20


class CallMismatch(Conflict):
    type = "idempotency_error"
    code = "call_id_reused"


def placeholder_email(number: str) -> str:
    return f"{number}@{PLACEHOLDER_DOMAIN}"


def is_placeholder(email: str) -> bool:
    return email.endswith(f"@{PLACEHOLDER_DOMAIN}")


def requester_find(*, number: str = "", email: str = "") -> Requester | None:
    """The requester with this phone number (any of theirs), else with this e-mail."""
    if number:
        phone = RequesterPhone.objects.select_related("requester").filter(number=number).first()
        if phone is not None:
            return phone.requester
    if email:
        return Requester.objects.filter(email=email.strip().lower()).first()
    return None


def requester_phone_add(*, requester_id: int, number: str) -> None:
    """Remember a number for a requester, unless it is already someone's (first wins)."""
    if number:
        RequesterPhone.objects.get_or_create(number=number, defaults={"requester_id": requester_id})


@dataclass(frozen=True)
class Entry:
    author_type: str
    public: bool


def call_entry(direction: str, outcome: str) -> Entry:
    """The kind of conversation entry a call makes (see the module docstring)."""
    if outcome == Outcome.ANSWERED:
        return Entry(AuthorType.AGENT, True)
    if direction == Direction.INBOUND:
        return Entry(AuthorType.REQUESTER, True)
    if outcome == Outcome.VOICEMAIL:
        return Entry(AuthorType.AGENT, True)
    return Entry(AuthorType.AGENT, False)


def call_summary(
    *, direction: str, outcome: str, number: str, agent: User | None, minutes: int | None
) -> str:
    who = display(number) or "an unknown number"
    length = ""
    if minutes is not None:
        length = " (under a minute)" if minutes < 1 else f" ({minutes} min)"
    by = f" by {agent.get_full_name() or agent.username}" if agent else ""
    if direction == Direction.INBOUND:
        return {
            Outcome.ANSWERED: f"Inbound call from {who}, answered{by}{length}.",
            Outcome.MISSED: f"Missed call from {who}.",
            Outcome.VOICEMAIL: f"Voicemail from {who}{length}.",
            Outcome.CALLBACK_REQUESTED: f"Callback requested by {who}.",
        }[outcome]
    return {
        Outcome.ANSWERED: f"Outbound call to {who}{by}, answered{length}.",
        Outcome.MISSED: f"Called {who}{by}: no answer.",
        Outcome.VOICEMAIL: f"Called {who}{by} and left a voicemail.",
        Outcome.CALLBACK_REQUESTED: f"Called {who}{by}: callback requested.",
    }[outcome]


def _thread(actor: User, requester: Requester) -> Ticket | None:
    """The requester's most recent unsolved ticket that the actor may write, if any."""
    candidates = visible(
        actor,
        Ticket.objects.select_related("queue").filter(
            requester=requester, status__in=UNSOLVED_STATUSES, merged_into__isnull=True
        ),
    ).order_by("-created_at", "-id")[:THREAD_CANDIDATES]
    return next((t for t in candidates if access_to(actor, t) >= Access.WRITE), None)


def _open_ticket(*, actor: User, email: str, name: str, subject: str, description: str) -> Ticket:
    for attempt in range(2):
        queue = ticket_services.queue_default()
        if not can_create_in(actor, queue.kind):
            raise Forbidden(
                f"Your role may not open tickets in the {queue.get_kind_display()} queue "
                f'"{queue.slug}"; name the ticket the call belongs to.'
            )
        try:
            return ticket_services.ticket_create(
                actor=actor,
                subject=subject,
                description=description,
                requester_email=email,
                requester_name=name,
                channel=Channel.PHONE,
                priority=Priority.NORMAL,
                queue=queue,
            )
        except ticket_services.QueueChanged:
            # This process's copy of the default queue was stale: check again on the
            # queue as it is now (as the tickets API does).
            if attempt:
                raise
            ticket_services.queue_default_forget()
    raise AssertionError("unreachable")


def _minutes(started_at: datetime, ended_at: datetime | None) -> int | None:
    return None if ended_at is None else int((ended_at - started_at).total_seconds() // 60)


def _check_times(started_at: datetime, ended_at: datetime | None) -> None:
    if started_at > timezone.now() + CLOCK_SKEW:
        raise InvalidRequest("A call cannot start in the future.", param="started_at")
    if ended_at is not None and ended_at < started_at:
        raise InvalidRequest("A call cannot end before it starts.", param="ended_at")


def _same(call: Call, request_hash: str) -> tuple[Call, bool]:
    if call.request_hash != request_hash:
        raise CallMismatch(
            f"Call {call.call_id!r} was recorded with a different body.", param="call_id"
        )
    return call, False


def call_record(
    *,
    actor: User,
    call_id: str,
    direction: str,
    from_number: str,
    to_number: str,
    started_at: datetime,
    outcome: str,
    ended_at: datetime | None = None,
    agent: User | None = None,
    notes: str = "",
    recording_url: str = "",
    ticket_id: int | None = None,
    requester_email: str = "",
    requester_name: str = "",
    request_hash: str = "",
) -> tuple[Call, bool]:
    """Record a call once per `call_id`: (the call, True) when new; (the call recorded
    before, False) for a repeat with the same `request_hash`; 409 for a different one.

    With `ticket_id` the call goes on that ticket (the actor must be able to write it).
    Without, the customer's number (from for inbound, to for outbound) finds the requester
    (else `requester_email`, else a requester is created with a placeholder address), and
    the call threads onto their most recent unsolved ticket the actor may write, or opens
    one (channel phone)."""
    existing = Call.objects.filter(call_id=call_id).first()
    if existing is not None:
        return _same(existing, request_hash)
    _check_times(started_at, ended_at)
    try:
        with transaction.atomic():
            call = _record_new(
                actor=actor,
                call_id=call_id,
                direction=direction,
                from_number=from_number,
                to_number=to_number,
                started_at=started_at,
                ended_at=ended_at,
                outcome=outcome,
                agent=agent,
                notes=notes,
                recording_url=recording_url,
                ticket_id=ticket_id,
                requester_email=requester_email,
                requester_name=requester_name,
                request_hash=request_hash,
            )
    except IntegrityError:
        # The same call recorded concurrently (the unique call_id): answer as a repeat.
        existing = Call.objects.filter(call_id=call_id).first()
        if existing is None:
            raise
        return _same(existing, request_hash)
    return call, True


def _record_new(
    *,
    actor: User,
    call_id: str,
    direction: str,
    from_number: str,
    to_number: str,
    started_at: datetime,
    ended_at: datetime | None,
    outcome: str,
    agent: User | None,
    notes: str,
    recording_url: str,
    ticket_id: int | None,
    requester_email: str,
    requester_name: str,
    request_hash: str,
) -> Call:
    number = from_number if direction == Direction.INBOUND else to_number
    minutes = _minutes(started_at, ended_at)
    summary = call_summary(
        direction=direction, outcome=outcome, number=number, agent=agent, minutes=minutes
    )
    if ticket_id is not None:
        ticket = ticket_for(actor, ticket_id, need=Access.WRITE)
        requester_phone_add(requester_id=ticket.requester_id, number=number)
    else:
        requester = requester_find(number=number, email=requester_email)
        ticket = _thread(actor, requester) if requester is not None else None
        if ticket is None:
            label = "Call" if direction == Direction.INBOUND else "Outbound call"
            ticket = _open_ticket(
                actor=actor,
                email=requester.email
                if requester
                else (requester_email or placeholder_email(number)),
                name=requester_name,
                subject=f"{label} {'from' if direction == Direction.INBOUND else 'to'} "
                f"{display(number)}",
                description=mask_card_numbers(notes) or summary,
            )
        requester_phone_add(requester_id=ticket.requester_id, number=number)
    entry = call_entry(direction, outcome)
    message = ticket_services.ticket_add_message(
        ticket_id=ticket.pk,
        actor=agent or actor,
        body=summary,
        public=entry.public,
        author_type=entry.author_type,
        channel=Channel.PHONE,
    )
    return Call.objects.create(
        call_id=call_id,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        started_at=started_at,
        ended_at=ended_at,
        outcome=outcome,
        agent=agent,
        notes=mask_card_numbers(notes),
        recording_url=recording_url,
        ticket=ticket,
        message=message,
        request_hash=request_hash,
    )


def calls_follow_merge(*, source_id: int, target_id: int) -> int:
    """A merged ticket's calls belong to the ticket its messages moved to."""
    return Call.objects.filter(ticket_id=source_id).update(ticket_id=target_id)


def message_call(message: Message) -> Call | None:
    try:
        return message.call
    except Call.DoesNotExist:
        return None


def on_ticket_event(ticket, event) -> None:
    """tickets' event listener: a merge moves the source's calls with its messages."""
    if event.type == EventType.MERGE_RECEIVED and event.data.get("from"):
        calls_follow_merge(source_id=event.data["from"], target_id=ticket.pk)

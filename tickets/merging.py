"""Merging a duplicate ticket into another (issue 11, item 8).

The source's messages (with their attachments) and CCs move to the target; the source is
closed with `merged_into` set and a `merged` event; the target gets a `merge_received`
event. Both are marked SLA-stale and announced, so the source's timers are cancelled by
its close and the target's are recomputed.

The target's timers must see the customer messages that moved (a question asked on the
duplicate still waits for an answer), so each moved message's `message_added` event is
also written on the target, at its original time and marked `merged_from`; the source's
description becomes a customer message on the target, at the source's creation. What is
older than the target itself is pre-history there (the target's own creation is the
contact) and is not replayed. The source keeps its history as it happened. Replayed
events are not announced to event listeners: nothing is e-mailed again.

Other apps move what they hang on tickets (phone calls, say) from the `merge_received`
event, through tickets.subscribers.subscribe_events, so this module imports none of them.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from support_desk.errors import Conflict, InvalidRequest, NotFound

from .models import Attachment, AuthorType, EventType, Message, Status, Ticket, TicketEvent
from .services import _event, _set_status, _touch
from .visibility import Access, Forbidden, ticket_for

# RFC 2606's reserved top-level domain: placeholder addresses (phone callers known only by
# number) can never receive mail, so they are not worth copying.
UNDELIVERABLE = ".invalid"


class MergeRefused(Conflict):
    code = "merge_refused"


@transaction.atomic
def ticket_merge(*, source_id: int, target_id: int, actor: User) -> Ticket:
    """Merge ticket `source_id` into `target_id`; returns the target. The actor must be
    able to write both (404 for one it cannot see, 403 for one it may only read)."""
    if source_id == target_id:
        raise InvalidRequest("A ticket cannot be merged into itself.", param="into")
    ticket_for(actor, source_id, need=Access.WRITE)
    try:
        ticket_for(actor, target_id, need=Access.WRITE)
    except NotFound:
        raise NotFound("No such ticket to merge into.", param="into") from None
    except Forbidden as error:
        raise Forbidden(error.message, param="into") from None
    # Lock both in id order, so two merges of the same pair cannot deadlock.
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=[source_id, target_id])
        .select_related("requester", "queue")
        .order_by("pk")
    }
    source, target = locked[source_id], locked[target_id]
    if source.merged_into_id:
        raise MergeRefused(f"#{source.pk} was already merged into #{source.merged_into_id}.")
    if target.merged_into_id:
        raise MergeRefused(
            f"#{target.pk} was merged into #{target.merged_into_id}; merge into that one.",
            param="into",
        )
    if not _same_customer(source, target):
        # The target's requester would read the other customer's messages (and the portal
        # would show them): threads never cross customers.
        raise MergeRefused(
            f"#{source.pk} and #{target.pk} are from different customers (neither the same "
            "requester nor the same organisation); only one customer's tickets merge.",
            param="into",
        )
    if source.status == Status.CLOSED:
        raise MergeRefused(f"#{source.pk} is closed.")
    if target.status == Status.CLOSED:
        raise MergeRefused(f"#{target.pk} is closed; merge into an open ticket.", param="into")

    now = timezone.now()
    ids = list(Message.objects.filter(ticket=source).values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    _replay_message_events(source, target, ids)
    _carry_description(source, target)

    cc_fields = _merge_cc(source, target, now, actor)
    _event(target, EventType.MERGE_RECEIVED, now, actor, messages=len(ids), **{"from": source.pk})
    _touch(target, now, cc_fields)

    _event(source, EventType.MERGED, now, actor, into=target.pk)
    _set_status(source, Status.CLOSED, now, actor)
    source.merged_into = target
    _touch(source, now, ["status", "solved_at", "merged_into"])
    return target


def _same_customer(source: Ticket, target: Ticket) -> bool:
    if source.requester_id == target.requester_id:
        return True
    org = source.requester.organization_id
    return org is not None and org == target.requester.organization_id


def _replay_message_events(source: Ticket, target: Ticket, message_ids: list[int]) -> None:
    events = TicketEvent.objects.filter(
        ticket=source,
        type=EventType.MESSAGE_ADDED,
        data__message_id__in=message_ids,
        at__gte=target.created_at,
    ).order_by("at", "id")
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=target,
            type=EventType.MESSAGE_ADDED,
            actor_id=e.actor_id,
            at=e.at,
            data={**e.data, "merged_from": source.pk},
        )
        for e in events
    )


def _carry_description(source: Ticket, target: Ticket) -> None:
    """The duplicate's own request becomes a customer message on the target, at the time
    it was asked, so the conversation reads in order and the question waits for an answer."""
    message = Message.objects.create(
        ticket=target,
        body=source.description,
        public=True,
        author_type=AuthorType.REQUESTER,
        created_at=source.created_at,
        channel=source.channel,
    )
    if source.created_at >= target.created_at:
        TicketEvent.objects.create(
            ticket=target,
            type=EventType.MESSAGE_ADDED,
            at=source.created_at,
            data={
                "message_id": message.pk,
                "public": True,
                "author_type": AuthorType.REQUESTER,
                "merged_from": source.pk,
            },
        )


def _merge_cc(source: Ticket, target: Ticket, now, actor: User | None) -> list[str]:
    """The target's CCs gain the source's, and the source's requester when it is someone
    else (they keep hearing about their request). Returns the fields changed."""
    own = target.requester.email.lower()
    cc = list(target.cc)
    for address in [*source.cc, source.requester.email]:
        address = address.strip().lower()
        if address not in ("", own, *cc) and not address.endswith(UNDELIVERABLE):
            cc.append(address)
    if cc == target.cc:
        return []
    _event(target, EventType.CC_CHANGED, now, actor, cc=cc, previous=target.cc)
    target.cc = cc
    return ["cc"]

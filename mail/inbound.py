"""Inbound e-mail: every door stores the raw message here, then a task processes it.

`inbound_store` is the one thing a door does before it says yes: mask card numbers, commit
the row, and after commit hand its id to a task. If the broker is down the publish fails;
the row stays `received` and the reconciliation (mail.reconcile, every 30 s) processes it.

`inbound_process` follows DESIGN §8's order: duplicates, masking (already done by the
door), threading, robots, bounces, content, attachments.
"""

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import nh3
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from tickets import services as ticket_services
from tickets.attachments import attachment_add
from tickets.masking import mask_card_numbers
from tickets.models import AuthorType, Channel, EventType, Message, Status, Ticket

from . import addresses, suppression
from .models import (
    DeliveryStatus,
    Direction,
    EmailMessage,
    InboundEmail,
    InboundStatus,
)
from .parsing import Parsed, header_message_id, mask_raw, parse, split_reply

logger = logging.getLogger(__name__)

_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
_TRANSIENT = (OperationalError, InterfaceError)
ATTACHMENT_URL = "/api/v1/attachments/"


@dataclass
class Stored:
    inbound: InboundEmail
    created: bool  # False: the same bytes were already stored (a repeated delivery)


def inbound_store(
    *,
    raw: bytes,
    door: str,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
) -> Stored:
    """Commit the raw message (or find the same bytes stored before) and, after commit,
    enqueue its processing. Raises DatabaseError when the database is unavailable: the
    door then answers "try again later"."""
    sha256 = hashlib.sha256(raw).hexdigest()
    masked = mask_raw(raw)
    try:
        message_id = header_message_id(masked)
    except Exception:
        message_id = ""
    with transaction.atomic():
        inbound, created = InboundEmail.objects.get_or_create(
            sha256=sha256,
            defaults={
                "raw": masked,
                "rfc_message_id": message_id,
                "door": door,
                "envelope_from": mask_card_numbers(envelope_from)[:998],
                "envelope_to": [a[:998] for a in envelope_to],
                "size": len(raw),
                "received_at": timezone.now(),
            },
        )
        if created:
            transaction.on_commit(lambda: enqueue_process(inbound.pk))
    return Stored(inbound=inbound, created=created)


def enqueue_process(inbound_id: int) -> None:
    from .tasks import inbound_process_task

    try:
        inbound_process_task.delay(inbound_id)
    except Exception:  # the broker is down: the reconciliation processes it later
        logger.warning("could not enqueue inbound e-mail %s; the reconciliation will", inbound_id)


def inbound_process(*, inbound_id: int) -> bool:
    """Process one received message; False when there was nothing to do (already done, or
    another worker holds it). A message that cannot be processed is marked failed with the
    error; a database outage leaves it `received` for the reconciliation."""
    with transaction.atomic():
        inbound = (
            InboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=inbound_id, status=InboundStatus.RECEIVED)
            .first()
        )
        if inbound is None:
            return False
        inbound.attempts += 1
        try:
            with transaction.atomic():
                _process(inbound)
        except _TRANSIENT:
            raise
        except Exception as exc:
            logger.warning("inbound e-mail %s failed: %s", inbound.pk, exc)
            inbound.status = InboundStatus.FAILED
            inbound.error = f"{exc.__class__.__name__}: {exc}"[:5000]
        inbound.processed_at = timezone.now()
        inbound.save()
    return True


def inbound_reprocess(*, inbound_id: int) -> bool:
    """Put a failed message back to be processed again (after a fix); True if it was."""
    with transaction.atomic():
        changed = InboundEmail.objects.filter(pk=inbound_id, status=InboundStatus.FAILED).update(
            status=InboundStatus.RECEIVED, error=""
        )
        if changed:
            transaction.on_commit(lambda: enqueue_process(inbound_id))
    return bool(changed)


def inbound_waiting(*, older_than_seconds: int = 20, limit: int = 100) -> list[int]:
    """Messages no task picked up (the broker was down when they arrived)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        InboundEmail.objects.filter(status=InboundStatus.RECEIVED, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- processing -------------------------------------------------------------------------


def _process(inbound: InboundEmail) -> None:
    parsed = parse(bytes(inbound.raw))  # Unparseable: marked failed by the caller
    # Mail from our own addresses (a forward, a misrouted copy) must never be answered.
    robot = parsed.robot or addresses.is_desk_address(parsed.from_address)
    # 1. Duplicates: our own outbound mail coming back (a loop through a CC or a forward).
    if (
        parsed.message_id
        and EmailMessage.objects.filter(
            rfc_message_id=parsed.message_id, direction=Direction.OUT
        ).exists()
    ):
        inbound.status = InboundStatus.DUPLICATE
        return
    # Bounces never open a ticket (DESIGN §8 step 5).
    if parsed.bounce is not None:
        inbound.ticket = _record_bounce(parsed)
        inbound.status = InboundStatus.IGNORED
        return
    recipients = [*inbound.envelope_to, *parsed.to, *parsed.cc, *parsed.delivered_to]
    ticket = _thread(parsed, recipients)
    body, quoted = _body(parsed)
    others = _other_participants(parsed)
    new_ticket = ticket is None
    if new_ticket:
        ticket = ticket_services.ticket_create(
            actor=None,
            subject=_subject(parsed.subject),
            description=body,
            requester_email=parsed.from_address,
            requester_name=parsed.from_name,
            channel=Channel.EMAIL,
            cc=others,
            opened_by_robot=robot,
        )
        # The first e-mail is the ticket's description, not a separate message.
        message = None
    else:
        requester_email = ticket.requester.email.lower()
        sender = parsed.from_address
        if sender != requester_email and not addresses.is_desk_address(sender):
            others = [sender, *others]  # a colleague joining in: copied from now on
        _copy_in(ticket, others)
        message = ticket_services.ticket_add_message(
            ticket_id=ticket.pk,
            actor=None,
            body=body,
            author_type=AuthorType.REQUESTER,
            channel=Channel.EMAIL,
        )
    cids = _attachments(parsed, ticket, message)
    EmailMessage.objects.create(
        ticket=ticket,
        message=message,
        direction=Direction.IN,
        rfc_message_id=parsed.message_id or f"inbound-{inbound.pk}@{_domain()}",
        from_address=parsed.from_address,
        to=parsed.to,
        cc=parsed.cc,
        subject=parsed.subject[:998],
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references)[:10000],
        html=sanitise_html(parsed.html, cids) if parsed.html else "",
        quoted=quoted,
        auto_submitted=robot,
        delivery_status=DeliveryStatus.RECEIVED,
        created_at=message.created_at if message else ticket.created_at,
    )
    if new_ticket and not robot:
        from .outbound import acknowledgement_queue

        acknowledgement_queue(ticket=ticket, inbound=parsed)
    inbound.message, inbound.ticket = message, ticket
    inbound.status = InboundStatus.PROCESSED


def _domain() -> str:
    return settings.SUPPORT_EMAIL.rpartition("@")[2] or "desk.localhost"


def _subject(subject: str) -> str:
    subject = subject.strip() or "(no subject)"
    return subject if len(subject) <= 200 else subject[:199] + "…"


def _usable(ticket: Ticket | None) -> Ticket | None:
    """Follow merges; a closed ticket takes no more messages (a new one opens instead)."""
    seen = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.select_related("requester").filter(pk=ticket.merged_into_id).first()
    if ticket is None or ticket.status == Status.CLOSED:
        return None
    return ticket


def _thread(parsed: Parsed, recipients: Sequence[str]) -> Ticket | None:
    """DESIGN §8 step 3, in order; never by subject text alone."""
    tickets = Ticket.objects.select_related("requester")
    # (a) a Message-ID we stored or sent for a ticket.
    named = [m for m in [parsed.in_reply_to, *reversed(parsed.references)] if m]
    if named:
        known = (
            EmailMessage.objects.filter(rfc_message_id__in=named)
            .order_by("-created_at", "-id")
            .values_list("ticket_id", flat=True)
            .first()
        )
        if known is not None:
            return _usable(tickets.filter(pk=known).first())
    # (b) the ticket's signed reply address.
    for address in recipients:
        ticket_id = addresses.ticket_from_reply_address(address)
        if ticket_id is not None:
            ticket = tickets.filter(pk=ticket_id).first()
            if ticket is not None:
                return _usable(ticket)
    # (c) the subject's [#123], only from that ticket's requester or one of its CCs.
    for match in _SUBJECT_TAG.finditer(parsed.subject):
        ticket = tickets.filter(pk=int(match.group(1))).first()
        if ticket is None:
            continue
        participants = {ticket.requester.email.lower(), *(c.lower() for c in ticket.cc)}
        if parsed.from_address in participants:
            return _usable(ticket)
    return None


def _other_participants(parsed: Parsed) -> list[str]:
    seen: dict[str, None] = {}
    for address in (*parsed.to, *parsed.cc):
        if address != parsed.from_address and not addresses.is_desk_address(address):
            seen[address] = None
    return list(seen)


def _copy_in(ticket: Ticket, emails: Sequence[str]) -> None:
    """New participants become CCs (a `cc_changed` event); known ones change nothing."""
    new = [a for a in emails if a.lower() not in {c.lower() for c in ticket.cc}]
    if new:
        ticket_services.ticket_add_cc(ticket_id=ticket.pk, actor=None, addresses=new)


def _body(parsed: Parsed) -> tuple[str, str]:
    text = parsed.text
    if not text and parsed.html:
        text = html_to_text(parsed.html)
    latest, quoted = split_reply(text)
    skipped = _oversized(parsed)
    if skipped:
        latest += "\n\n" + "\n".join(skipped)
    return (latest.strip() or "(no text)"), quoted


def _oversized(parsed: Parsed) -> list[str]:
    limit = settings.ATTACHMENT_MAX_BYTES
    return [
        f"[Attachment {p.filename} ({len(p.data)} bytes) was not kept: "
        f"over the {limit}-byte limit.]"
        for p in parsed.attachments
        if len(p.data) > limit
    ]


def _attachments(parsed: Parsed, ticket: Ticket, message: Message | None) -> dict[str, int]:
    """Store the parts within the size limit; returns content_id -> attachment id."""
    cids: dict[str, int] = {}
    for part in parsed.attachments:
        if len(part.data) > settings.ATTACHMENT_MAX_BYTES:
            continue  # noted in the message body instead (_oversized)
        attachment = attachment_add(
            ticket=ticket,
            message=message,
            filename=part.filename,
            content_type=part.content_type,
            data=part.data,
            content_id=part.content_id[:255],
        )
        if part.content_id:
            cids[part.content_id] = attachment.pk
    return cids


def html_to_text(html: str) -> str:
    import html as html_lib

    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", html)
    text = nh3.clean(text, tags=set())
    return re.sub(r"\n{3,}", "\n\n", html_lib.unescape(text)).strip()


def sanitise_html(html: str, cids: dict[str, int], *, keep_local_images: bool = False) -> str:
    """nh3 with remote images dropped (no tracking pixels, nothing loaded from elsewhere)
    and `cid:` images pointed at their stored attachment. `keep_local_images`: a body
    cleaned before, whose images already point at our attachments."""

    def attribute(element: str, name: str, value: str) -> str | None:
        if element == "img" and name == "src":
            if value.lower().startswith("cid:"):
                attachment_id = cids.get(value[4:].strip("<>"))
                return f"{ATTACHMENT_URL}{attachment_id}" if attachment_id else None
            if keep_local_images and re.fullmatch(rf"{ATTACHMENT_URL}\d+", value):
                return value
            return None  # http(s) and anything else: not loaded
        return value

    return nh3.clean(
        html,
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=attribute,
        link_rel="noopener noreferrer nofollow",
    )


def _record_bounce(parsed: Parsed) -> Ticket | None:
    """Mark our message bounced, record it on its ticket, suppress permanent failures.
    Only a report naming a message we sent counts: anyone can write "5.1.1"."""
    bounce = parsed.bounce
    assert bounce is not None
    if not bounce.original_message_ids:
        return None
    outbound = (
        EmailMessage.objects.select_for_update()
        .filter(direction=Direction.OUT, rfc_message_id__in=bounce.original_message_ids)
        .select_related("ticket")
        .first()
    )
    if outbound is None:
        return None
    reason = bounce.reason() or "delivery failed"
    outbound.delivery_status = DeliveryStatus.BOUNCED
    outbound.bounce_reason = reason
    outbound.save(update_fields=["delivery_status", "bounce_reason"])
    permanent = bounce.permanent
    for address in permanent:
        suppression.suppress(address, f"bounced: {reason}")
    ticket_services.ticket_record_event(
        ticket=outbound.ticket,
        type_=EventType.EMAIL_BOUNCED,
        at=timezone.now(),
        message_id=outbound.message_id,
        email_message_id=outbound.rfc_message_id,
        recipients=[address for address, _, _ in bounce.recipients],
        permanent=permanent,
        reason=reason,
    )
    return outbound.ticket

"""Outbound e-mail: public agent replies and acknowledgements (DESIGN §8).

The record (queued, with its Message-ID) is written in the transaction of the reply itself
(an event listener, tickets/subscribers.py), so a reply that rolls back sends nothing and
one that commits is never forgotten. After commit a task sends it; if the broker is down,
the reconciliation does. Sending claims the row first (a conditional UPDATE with a lease),
so two workers never send one reply; temporary failures are retried with backoff, a
permanent refusal marks it failed. A worker that dies after the server accepted the mail
but before marking it sent leaves a lease that expires: the rare resend carries the same
Message-ID, so the receiving side sees one message.
"""

import logging
import smtplib
from datetime import timedelta
from email.utils import formataddr

import markdown
import nh3
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import AuthorType, Channel, EventType, Message, Ticket

from . import addresses, suppression
from .models import DeliveryStatus, Direction, EmailMessage, Kind
from .parsing import Parsed

logger = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10
# Replies entered with an old `created_at` (an import of history) were answered long ago.
IMPORTED_AFTER = timedelta(minutes=10)
# Channels whose agent messages are not written to the customer (a logged call's notes).
_NOT_MAILED = {Channel.PHONE, Channel.CHAT}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def reply_subject(ticket: Ticket) -> str:
    return f"Re: {ticket.subject} [#{ticket.pk}]"


def portal_url(ticket_id: int) -> str:
    return f"{settings.DESK_BASE_URL}/help/tickets/{ticket_id}/"


def _thread_headers(ticket_id: int) -> tuple[str, str]:
    """(In-Reply-To, References) continuing the ticket's thread: its last inbound e-mail
    or, failing that, the last one we sent."""
    last = (
        EmailMessage.objects.filter(ticket_id=ticket_id)
        .order_by("direction", "-created_at", "-id")  # "in" sorts before "out"
        .only("rfc_message_id", "references")
        .first()
    )
    if last is None:
        return "", ""
    references = [*last.references.split(), last.rfc_message_id][-20:]
    return last.rfc_message_id, " ".join(references)


def on_ticket_event(ticket: Ticket, event) -> None:
    """Event listener (inside the reply's transaction): queue the e-mail of a public agent
    reply to a requester who has an address that is not suppressed."""
    if event.type != EventType.MESSAGE_ADDED:
        return
    data = event.data or {}
    if not data.get("public") or data.get("author_type") != AuthorType.AGENT:
        return
    if event.at < timezone.now() - IMPORTED_AFTER:
        return
    message = Message.objects.filter(pk=data.get("message_id")).only("channel").first()
    if message is None or message.channel in _NOT_MAILED:
        return
    requester = ticket.requester.email.lower() if ticket.requester.email else ""
    # ".invalid" (RFC 2606) never delivers: the phone channel's placeholder for a caller
    # whose e-mail address is unknown.
    if not requester or requester.endswith(".invalid"):
        return
    blocked = suppression.suppressed_among([requester, *ticket.cc])
    if requester in blocked:
        return
    in_reply_to, references = _thread_headers(ticket.pk)
    outbound = EmailMessage.objects.create(
        ticket=ticket,
        message=message,
        direction=Direction.OUT,
        kind=Kind.MESSAGE,
        rfc_message_id=addresses.new_message_id(ticket.pk),
        from_address=settings.SUPPORT_EMAIL,
        to=[requester],
        cc=[c for c in ticket.cc if c.lower() not in blocked],
        subject=reply_subject(ticket)[:998],
        in_reply_to=in_reply_to,
        references=references,
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: enqueue_send(outbound.pk))


def acknowledgement_queue(*, ticket: Ticket, inbound: Parsed) -> EmailMessage | None:
    """ "We have your request #123": once per new ticket, at most EMAIL_ACK_PER_HOUR per
    address per hour. The caller has checked that the message was not from a robot."""
    address = inbound.from_address
    if suppression.is_suppressed(address):
        return None
    with connection.cursor() as cursor:
        # Serialises acknowledgements to one address so the hourly count holds exactly.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"mail-ack:{address}"])
    since = timezone.now() - timedelta(hours=1)
    sent = EmailMessage.objects.filter(
        kind=Kind.ACK, to__contains=[address], created_at__gte=since
    ).count()
    if sent >= settings.EMAIL_ACK_PER_HOUR:
        logger.info("acknowledgement to %s skipped: hourly limit reached", address)
        return None
    references = " ".join([*inbound.references, inbound.message_id][-20:]).strip()
    ack = EmailMessage.objects.create(
        ticket=ticket,
        message=None,
        direction=Direction.OUT,
        kind=Kind.ACK,
        rfc_message_id=addresses.new_message_id(ticket.pk),
        from_address=settings.SUPPORT_EMAIL,
        to=[address],
        subject=reply_subject(ticket)[:998],
        in_reply_to=inbound.message_id,
        references=references,
        auto_submitted=True,
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: enqueue_send(ack.pk))
    return ack


def enqueue_send(email_id: int) -> None:
    from .tasks import outbound_send_task

    try:
        outbound_send_task.delay(email_id)
    except Exception:  # the broker is down: the reconciliation sends it later
        logger.warning("could not enqueue outbound e-mail %s; the reconciliation will", email_id)


def outbound_due(*, limit: int = 100) -> list[int]:
    now = timezone.now()
    return list(
        EmailMessage.objects.filter(direction=Direction.OUT, delivery_status=DeliveryStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _claim(email_id: int) -> bool:
    """The conditional UPDATE that makes one sender the only one (healthchecks' pattern)."""
    now = timezone.now()
    return bool(
        EmailMessage.objects.filter(
            pk=email_id, direction=Direction.OUT, delivery_status=DeliveryStatus.QUEUED
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + SEND_LEASE)
    )


def _permanent(exc: Exception) -> bool:
    """5xx answers are final; 4xx, timeouts and connection errors are worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def outbound_send(*, email_id: int) -> bool:
    """Send one queued message if this worker claims it; False when there was nothing to
    send (already sent, backing off, or claimed elsewhere)."""
    if not _claim(email_id):
        return False
    outbound = EmailMessage.objects.select_related("ticket", "message").get(pk=email_id)
    attempts = outbound.attempts + 1
    try:
        recipients = _recipients(outbound)
        if recipients:
            _build(outbound, recipients).send(fail_silently=False)
    except Exception as exc:
        now = timezone.now()
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        final = _permanent(exc) or attempts >= MAX_ATTEMPTS
        logger.warning("outbound e-mail %s failed (%s): %s", email_id, attempts, error)
        EmailMessage.objects.filter(pk=email_id).update(
            attempts=attempts,
            last_error=error,
            claimed_until=None,
            delivery_status=DeliveryStatus.FAILED if final else DeliveryStatus.QUEUED,
            next_attempt_at=None if final else now + backoff(attempts),
        )
        return True
    EmailMessage.objects.filter(pk=email_id).update(
        attempts=attempts,
        claimed_until=None,
        delivery_status=DeliveryStatus.SENT if recipients else DeliveryStatus.FAILED,
        last_error="" if recipients else "Every recipient is suppressed.",
        sent_at=timezone.now(),
        next_attempt_at=None,
    )
    return True


def _recipients(outbound: EmailMessage) -> tuple[list[str], list[str]]:
    """(to, cc) without addresses suppressed since the reply was queued; () if none left."""
    blocked = suppression.suppressed_among([*outbound.to, *outbound.cc])
    to = [a for a in outbound.to if a.lower() not in blocked]
    if not to:
        return ()
    return to, [a for a in outbound.cc if a.lower() not in blocked]


def render_html(markdown_text: str) -> str:
    return nh3.clean(markdown.markdown(markdown_text, extensions=["extra"]))


def _build(outbound: EmailMessage, recipients: tuple[list[str], list[str]]):
    to, cc = recipients
    ticket = outbound.ticket
    link = portal_url(ticket.pk)
    headers = {
        "Message-ID": f"<{outbound.rfc_message_id}>",
        "Reply-To": addresses.reply_address(ticket.pk),
    }
    if outbound.in_reply_to:
        headers["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        headers["References"] = " ".join(f"<{m}>" for m in outbound.references.split())
    if outbound.kind == Kind.ACK:
        text = (
            f"We have your request #{ticket.pk}: {ticket.subject}\n\n"
            "Our team will answer as soon as possible. To add anything, reply to this "
            f"e-mail.\n\nFollow your request: {link}\n"
        )
        html = None
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    else:
        body = outbound.message.body if outbound.message else ""
        text = f"{body}\n\n--\nView your request #{ticket.pk}: {link}\n"
        html = f'{render_html(body)}<hr><p>View your request <a href="{link}">#{ticket.pk}</a></p>'
    mail = EmailMultiAlternatives(
        subject=outbound.subject,
        body=text,
        from_email=formataddr(("Support", settings.SUPPORT_EMAIL)),
        to=to,
        cc=cc,
        headers=headers,
        connection=get_connection(),
    )
    if html:
        mail.attach_alternative(html, "text/html")
    if outbound.message is not None:
        for attachment in outbound.message.attachments.all():
            with attachment.file.open("rb") as handle:
                mail.attach(attachment.filename, handle.read(), attachment.content_type)
    return mail

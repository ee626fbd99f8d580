"""Satisfaction surveys: scheduled inside the solve's transaction, sent by a beat sweep,
answered through a public link (DESIGN §9).

Life of a survey: `pending` (created at the solve, due CSAT_DELAY_MINUTES later) -> `sent`
(claimed and e-mailed once) -> `answered` (rating recorded; changeable while the ticket is
not closed and for SURVEY_OPEN_DAYS after sending) or `expired` (closed, or too late).
A reopen before an answer makes it `void`, and so does a close before it was sent.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from support_desk.errors import Conflict, InvalidRequest
from tickets.masking import mask_card_numbers
from tickets.models import UNSOLVED_STATUSES, EventType, Status, Ticket, TicketEvent
from tickets.services import ticket_record_event

from .models import Survey, SurveyStatus

logger = logging.getLogger(__name__)

SURVEY_OPEN_DAYS = 28
SEND_BATCH = 100
# A survey whose e-mail failed is tried again later, at most this many times.
MAX_SEND_ATTEMPTS = 5
RETRY_MINUTES = 10


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _is_suppressed(address: str) -> bool:
    """Bounced addresses get no survey (the mail app owns the list)."""
    try:
        from mail.suppression import is_suppressed
    except ImportError:
        return False
    return bool(is_suppressed(address))


# --- scheduling: a ticket event listener (tickets.subscribers) ----------------------------


def survey_on_ticket_event(ticket: Ticket, event: TicketEvent) -> None:
    """Runs inside the transaction that writes the event (before the ticket row itself is
    saved, so the new status is read from the event, not the ticket)."""
    if event.type != EventType.STATUS_CHANGED:
        return
    status = event.data.get("status")
    if status == Status.SOLVED:
        _survey_schedule(ticket, event)
    elif event.data.get("previous") != Status.SOLVED:
        # Only a solved ticket can have an unanswered survey (a reopen voided the earlier
        # ones), so other status changes cost no query.
        return
    elif status in UNSOLVED_STATUSES:
        # Reopened: the customer is still waiting, so an unanswered survey is withdrawn.
        Survey.objects.filter(
            ticket_id=ticket.pk, status__in=(SurveyStatus.PENDING, SurveyStatus.SENT)
        ).update(status=SurveyStatus.VOID)
    elif status == Status.CLOSED:
        # Closed: nothing can be answered any more.
        Survey.objects.filter(ticket_id=ticket.pk, status=SurveyStatus.PENDING).update(
            status=SurveyStatus.VOID
        )
        Survey.objects.filter(ticket_id=ticket.pk, status=SurveyStatus.SENT).update(
            status=SurveyStatus.EXPIRED
        )


def _survey_schedule(ticket: Ticket, event: TicketEvent) -> None:
    if ticket.opened_by_robot or ticket.merged_into_id is not None:
        return
    email = ticket.requester.email if ticket.requester_id else ""
    if not email or _is_suppressed(email):
        return
    Survey.objects.get_or_create(
        solve_event=event,
        defaults={
            "ticket_id": ticket.pk,
            "solved_at": event.at,
            "agent_id": ticket.assignee_id or event.actor_id,
            "requester_email": email,
            "queue_id_at_solve": ticket.queue_id,
            "contact_reason_id_at_solve": ticket.contact_reason_id,
            "tier_at_solve": ticket.organization.tier if ticket.organization_id else None,
            "priority_at_solve": ticket.priority,
            "channel_at_solve": ticket.channel,
            "created_at": timezone.now(),
            "send_after": event.at + timedelta(minutes=settings.CSAT_DELAY_MINUTES),
        },
    )


# --- sending: the beat sweep ------------------------------------------------------------


def surveys_send_due(*, now: datetime | None = None, limit: int = SEND_BATCH) -> int:
    """Send the surveys that are due; each is claimed by a conditional UPDATE, so two
    workers never send the same one. Returns how many were sent."""
    now = now or timezone.now()
    due = list(
        Survey.objects.filter(status=SurveyStatus.PENDING, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for survey_id in due:
        if _send_one(survey_id, now=now):
            sent += 1
    return sent


def _send_one(survey_id: int, *, now: datetime) -> bool:
    raw = secrets.token_urlsafe(32)
    claimed = Survey.objects.filter(pk=survey_id, status=SurveyStatus.PENDING).update(
        status=SurveyStatus.SENT, sent_at=now, token_hash=hash_token(raw)
    )
    if not claimed:
        return False  # another worker got it, or it was voided meanwhile
    survey = Survey.objects.select_related("ticket").get(pk=survey_id)
    ticket = survey.ticket
    if ticket.merged_into_id is not None or _is_suppressed(survey.requester_email):
        Survey.objects.filter(pk=survey_id).update(status=SurveyStatus.VOID, sent_at=None)
        return False
    try:
        _survey_email(survey, raw).send()
    except Exception:
        logger.exception("survey %s could not be sent", survey_id)
        attempts = survey.send_attempts + 1
        Survey.objects.filter(pk=survey_id, status=SurveyStatus.SENT).update(
            status=SurveyStatus.PENDING if attempts < MAX_SEND_ATTEMPTS else SurveyStatus.VOID,
            sent_at=None,
            token_hash=None,
            send_attempts=attempts,
            send_after=now + timedelta(minutes=RETRY_MINUTES * attempts),
        )
        return False
    return True


def survey_link(raw_token: str) -> str:
    return f"{settings.DESK_BASE_URL}/help/survey/{raw_token}/"


def _survey_email(survey: Survey, raw_token: str) -> EmailMessage:
    ticket = survey.ticket
    body = (
        f"Your request #{ticket.pk} \u201c{ticket.subject}\u201d was solved.\n\n"
        "How did we do? Rate our help from 1 (poor) to 5 (great) here:\n\n"
        f"{survey_link(raw_token)}\n\n"
        f"The link works for {SURVEY_OPEN_DAYS} days. Thank you!\n"
    )
    return EmailMessage(
        subject=f"How did we do? [#{ticket.pk}]",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[survey.requester_email],
        headers={"Auto-Submitted": "auto-generated"},
    )


def surveys_expire(*, now: datetime | None = None) -> int:
    """Sent and unanswered after SURVEY_OPEN_DAYS: expired."""
    now = now or timezone.now()
    return Survey.objects.filter(
        status=SurveyStatus.SENT, sent_at__lt=now - timedelta(days=SURVEY_OPEN_DAYS)
    ).update(status=SurveyStatus.EXPIRED)


# --- answering: the public survey page ----------------------------------------------------


@dataclass(frozen=True)
class SurveyState:
    survey: Survey
    open: bool  # may be answered (or the answer changed) now
    reason: str  # why not, for the page


def survey_by_token(raw_token: str, *, now: datetime | None = None) -> SurveyState | None:
    if not raw_token or len(raw_token) > 100:
        return None
    survey = (
        Survey.objects.select_related("ticket")
        .filter(token_hash=hash_token(raw_token))
        .exclude(sent_at=None)
        .first()
    )
    if survey is None:
        return None
    return _state(survey, now or timezone.now())


def _state(survey: Survey, now: datetime) -> SurveyState:
    if survey.status == SurveyStatus.VOID:
        return SurveyState(
            survey, False, "This request was reopened, so this survey no longer applies."
        )
    if survey.ticket.status == Status.CLOSED:
        return SurveyState(
            survey, False, "This request is closed; its rating can no longer be changed."
        )
    if survey.sent_at < now - timedelta(days=SURVEY_OPEN_DAYS):
        return SurveyState(
            survey,
            False,
            f"This survey was open for {SURVEY_OPEN_DAYS} days and has now closed.",
        )
    return SurveyState(survey, True, "")


@transaction.atomic
def survey_respond(*, raw_token: str, rating: int, comment: str) -> Survey:
    """Record (or change) the answer. Locks the ticket row first, as every ticket change
    does, so a concurrent close or reopen is ordered before or after the answer."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidRequest("Choose a rating from 1 to 5.", param="rating")
    survey_id = (
        Survey.objects.filter(token_hash=hash_token(raw_token))
        .exclude(sent_at=None)
        .values_list("pk", "ticket_id")
        .first()
    )
    if survey_id is None:
        raise InvalidRequest("This survey link is not valid.", param="token")
    ticket = Ticket.objects.select_for_update().get(pk=survey_id[1])
    survey = Survey.objects.select_for_update().get(pk=survey_id[0])
    survey.ticket = ticket
    state = _state(survey, timezone.now())
    if not state.open:
        raise Conflict(state.reason, code="survey_closed")
    now = timezone.now()
    changed = survey.status == SurveyStatus.ANSWERED
    survey.rating, survey.comment = rating, mask_card_numbers(comment.strip()[:5000])
    survey.status, survey.responded_at = SurveyStatus.ANSWERED, now
    survey.save(update_fields=["rating", "comment", "status", "responded_at"])
    ticket_record_event(
        ticket=ticket,
        type_=EventType.CSAT_RATED,
        at=now,
        survey=survey.pk,
        rating=rating,
        changed=changed,
    )
    return survey


def surveys_sweep() -> int:
    """The beat task's work: expire the stale, send the due (in batches)."""
    surveys_expire()
    total = 0
    for _ in range(20):
        batch = surveys_send_due()
        total += batch
        if batch < SEND_BATCH:
            break
    return total

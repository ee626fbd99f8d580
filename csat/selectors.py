"""Reads of surveys: the API list and a ticket's surveys for the workspace."""

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from tickets.visibility import visible_tickets

from .models import Survey, SurveyStatus

# Pending surveys have not gone out: they are nobody's business but the sender's yet.
LISTED_STATUSES = (
    SurveyStatus.SENT,
    SurveyStatus.ANSWERED,
    SurveyStatus.EXPIRED,
    SurveyStatus.VOID,
)


def survey_list(
    *,
    user: User,
    ticket_id: int | None = None,
    sent_from: datetime | None = None,
    sent_to: datetime | None = None,
) -> QuerySet[Survey]:
    qs = Survey.objects.filter(
        status__in=LISTED_STATUSES, ticket__in=visible_tickets(user).values("pk")
    ).select_related("agent")
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if sent_from is not None:
        qs = qs.filter(sent_at__gte=sent_from)
    if sent_to is not None:
        qs = qs.filter(sent_at__lt=sent_to)
    return qs


def surveys_of_ticket(*, ticket_id: int) -> list[Survey]:
    """For the ticket page (the caller has already checked the ticket is visible)."""
    return list(
        Survey.objects.filter(ticket_id=ticket_id)
        .exclude(status=SurveyStatus.PENDING)
        .select_related("agent")
        .order_by("-solved_at", "-id")[:10]
    )

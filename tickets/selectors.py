"""Reads of tickets with what every view of them needs, in a constant number of queries."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Message, Ticket


def ticket_queryset() -> QuerySet[Ticket]:
    from .api.extensions import ticket_prefetches

    return Ticket.objects.select_related(
        "queue", "assignee", "requester", "organization"
    ).prefetch_related(*ticket_prefetches())


def ticket_search(qs: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Full text over subject, description and message bodies (case-insensitive)."""
    text = text.strip()
    if not text:
        return qs
    in_messages = Message.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
    return qs.filter(
        Q(subject__icontains=text) | Q(description__icontains=text) | Exists(in_messages)
    )

"""Reads of tickets with what every view of them needs, in a constant number of queries."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Attachment, Message, Ticket


def ticket_queryset() -> QuerySet[Ticket]:
    from .api.extensions import ticket_prefetches

    # The ticket's own files: those that came with its description (the first e-mail, the
    # contact form); a message's files are listed on the message.
    own_files = Prefetch(
        "attachments", queryset=Attachment.objects.filter(message=None), to_attr="own_files"
    )
    return Ticket.objects.select_related(
        "queue", "assignee", "requester", "organization", "contact_reason"
    ).prefetch_related(own_files, *ticket_prefetches())


def ticket_search(qs: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Full text over subject, description and message bodies (case-insensitive)."""
    text = text.strip()
    if not text:
        return qs
    in_messages = Message.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
    return qs.filter(
        Q(subject__icontains=text) | Q(description__icontains=text) | Exists(in_messages)
    )

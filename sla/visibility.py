"""sla's part of the ticket visibility rule (tickets/visibility.py holds the table).

Agents also read the tickets they escalated; engineers read tickets with an escalation sent
to an Engineering queue (notify-only rule firings do not count: they were never sent to
Engineering).
"""

from django.db.models import Exists, OuterRef, Q

from accounts.models import Role, User
from tickets.models import QueueKind

from .models import Escalation


def escalation_reach(user: User) -> Q | None:
    if user.role == Role.ENGINEER:
        sent = Escalation.objects.filter(
            ticket_id=OuterRef("pk"), to_queue__kind=QueueKind.ENGINEERING
        )
    else:
        sent = Escalation.objects.filter(ticket_id=OuterRef("pk"), created_by_id=user.pk)
    return Q(Exists(sent))


def acknowledgeable(escalation: Escalation) -> bool:
    """Only what was sent to Engineering waits for an acknowledgement; a notify-only firing
    is a notification, with nothing to acknowledge."""
    return escalation.to_queue_id is not None and escalation.to_queue.kind == QueueKind.ENGINEERING

"""Who hears about ticket changes, in one explicit list (not Django signals).

`sla` subscribes at start-up (SlaConfig.ready). Announcements run after commit; a failing
subscriber (say Redis is down) is logged and skipped: the ticket stays marked `sla_stale`
and the reconciliation sweep picks it up, so nothing is lost.
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

TicketListener = Callable[[int], None]
_listeners: list[TicketListener] = []


def subscribe(listener: TicketListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def listeners() -> tuple[TicketListener, ...]:
    return tuple(_listeners)


def _announce_now(ticket_id: int) -> None:
    for listener in _listeners:
        try:
            listener(ticket_id)
        except Exception:
            logger.exception("ticket listener %r failed for ticket %s", listener, ticket_id)


def announce_after_commit(ticket_id: int) -> None:
    transaction.on_commit(lambda: _announce_now(ticket_id))

"""Who hears about ticket changes, in two explicit lists (not Django signals).

Ticket listeners hear a ticket id after commit: `sla` subscribes at start-up
(SlaConfig.ready). A failing one (say Redis is down) is logged and skipped: the ticket
stays marked `sla_stale` and the reconciliation sweep picks it up, so nothing is lost.

Event listeners hear each event as it is written, inside the transaction that writes it,
so that what they record (an e-mail to send for a public reply, a survey to send after a
solve) commits or rolls back with the change itself. They must not do slow work there:
they write rows, and hand the work to a task after commit. An error in one rolls the
change back. (The `created` event of the one-statement intake is written in SQL and not
announced: whoever creates a ticket knows it did.)
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

TicketListener = Callable[[int], None]
_listeners: list[TicketListener] = []
EventListener = Callable[[Any, Any], None]  # (ticket, event): Ticket and TicketEvent
_event_listeners: list[EventListener] = []


def subscribe(listener: TicketListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def subscribe_events(listener: EventListener) -> None:
    if listener not in _event_listeners:
        _event_listeners.append(listener)


def announce_event(ticket, event) -> None:
    for listener in _event_listeners:
        listener(ticket, event)


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

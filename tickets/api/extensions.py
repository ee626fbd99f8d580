"""Fields other apps add to the ticket's and the message's API representation, in one
explicit list each.

`sla` registers `sla` and `escalations` at start-up (SlaConfig.ready), so tickets never
imports sla (DESIGN §2: dependencies run one way); `mail` registers a message's `email`
and `phone` its `call` the same way. Each extension names what to prefetch,
so a list of tickets costs the same number of queries whatever its length.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch


@dataclass(frozen=True)
class TicketField:
    name: str
    prefetch: tuple[str | Prefetch, ...]
    represent: Callable[[Any], list]


_fields: dict[str, TicketField] = {}


def register_ticket_field(field: TicketField) -> None:
    _fields[field.name] = field


def ticket_field(name: str) -> TicketField | None:
    return _fields.get(name)


def ticket_prefetches() -> list[str | Prefetch]:
    return [p for field in _fields.values() for p in field.prefetch]


@dataclass(frozen=True)
class MessageField:
    name: str
    prefetch: tuple[str | Prefetch, ...]
    represent: Callable[[Any], Any]


_message_fields: dict[str, MessageField] = {}


def register_message_field(field: MessageField) -> None:
    _message_fields[field.name] = field


def message_field(name: str) -> MessageField | None:
    return _message_fields.get(name)


def message_prefetches() -> list[str | Prefetch]:
    return ["attachments", *(p for f in _message_fields.values() for p in f.prefetch)]

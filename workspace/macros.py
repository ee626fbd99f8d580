"""Canned replies with placeholders, filled by plain substitution: user text is never
rendered as a template (STYLE.md: what to avoid)."""

import re

from accounts.models import User
from tickets.models import Ticket

PLACEHOLDERS = (
    "requester.name",
    "requester.first_name",
    "requester.email",
    "organization.name",
    "ticket.id",
    "ticket.subject",
    "agent.name",
)
_PATTERN = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def _values(ticket: Ticket, agent: User) -> dict[str, str]:
    requester = ticket.requester
    name = requester.name or requester.email.split("@")[0]
    return {
        "requester.name": name,
        "requester.first_name": name.split()[0] if name.split() else name,
        "requester.email": requester.email,
        "organization.name": ticket.organization.name if ticket.organization_id else "",
        "ticket.id": str(ticket.pk),
        "ticket.subject": ticket.subject,
        "agent.name": agent.get_full_name() or agent.username,
    }


def macro_render(body: str, *, ticket: Ticket, agent: User) -> str:
    """Replace known placeholders; unknown ones are left as written so agents notice."""
    values = _values(ticket, agent)
    return _PATTERN.sub(lambda m: values.get(m.group(1), m.group(0)), body)

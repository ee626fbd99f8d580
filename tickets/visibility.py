"""Who may see and change a ticket: the one home of the visibility table.

- agent: reads support-queue tickets, plus tickets assigned to them or that they escalated,
  wherever they are; writes what they read, except Engineering-queue tickets not assigned
  to them (read only).
- engineer: reads Engineering-queue tickets, plus tickets with an escalation sent to an
  Engineering queue; writes anything on Engineering-queue tickets, on the others only
  internal notes (and acknowledging their escalations).
- lead, admin: read and write everything.

Every path that shows or changes a ticket (API, workspace, search, escalations, exports,
counts) starts from `visible_tickets` or `ticket_for`. A ticket outside the rule is a 404,
never a 403, so its existence is not disclosed.

Escalations live in `sla`, which builds on `tickets`; it adds its part of the rule ("that
they escalated", "escalated to Engineering") through `register_reach` at start-up, so this
module never imports it (dependencies run one way).
"""

from collections.abc import Callable
from enum import IntEnum

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from support_desk.errors import ApplicationError, NotFound

from .models import QueueKind, Ticket

# A function of the user giving the extra tickets that user may read (None: nothing extra).
Reach = Callable[[User], Q | None]
_reach: list[Reach] = []


def register_reach(reach: Reach) -> None:
    if reach not in _reach:
        _reach.append(reach)


class Access(IntEnum):
    """What a user may do with a ticket, each level including the ones below it."""

    NONE = 0
    READ = 1
    NOTE = 2  # read, post internal notes, acknowledge escalations sent to them
    WRITE = 3  # everything: replies, field changes, moves, escalations


class Forbidden(ApplicationError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


def sees_everything(user: User) -> bool:
    return user.is_superuser or user.role in (Role.LEAD, Role.ADMIN)


def _home_kind(user: User) -> str:
    return QueueKind.ENGINEERING if user.role == Role.ENGINEER else QueueKind.SUPPORT


def visible_filter(user: User) -> Q | None:
    """The rule as a filter on tickets; None means every ticket."""
    if sees_everything(user):
        return None
    condition = Q(queue__kind=_home_kind(user))
    if user.role != Role.ENGINEER:
        condition |= Q(assignee_id=user.pk)
    for reach in _reach:
        extra = reach(user)
        if extra is not None:
            condition |= extra
    return condition


def visible_tickets(user: User, base: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if base is None else base
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    condition = visible_filter(user)
    return qs if condition is None else qs.filter(condition)


def access_to(user: User, ticket: Ticket) -> Access:
    """The write level on a ticket the user can read (call after a visibility check)."""
    if sees_everything(user):
        return Access.WRITE
    in_engineering = ticket.queue.kind == QueueKind.ENGINEERING
    if user.role == Role.ENGINEER:
        return Access.WRITE if in_engineering else Access.NOTE
    if in_engineering and ticket.assignee_id != user.pk:
        return Access.READ
    return Access.WRITE


def can_create_in(user: User, queue_kind: str) -> bool:
    """A new ticket must be one its creator may write: engineers open Engineering tickets,
    agents support ones."""
    return sees_everything(user) or queue_kind == _home_kind(user)


def require(user: User, ticket: Ticket, need: Access) -> Access:
    """Raise unless the user (who can read the ticket) has at least `need` on it."""
    access = access_to(user, ticket)
    if access >= need:
        return access
    if access == Access.NOTE:
        raise Forbidden("On this ticket your role may only add internal notes.")
    raise Forbidden("You may read this ticket but not change it.")


def ticket_for(
    user: User,
    ticket_id: int,
    *,
    need: Access = Access.READ,
    queryset: QuerySet[Ticket] | None = None,
) -> Ticket:
    """The ticket if the user may read it (404 otherwise) and has `need` on it (403)."""
    base = queryset if queryset is not None else Ticket.objects.select_related("queue")
    ticket = visible_tickets(user, base).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    if need > Access.READ:
        require(user, ticket, need)
    return ticket

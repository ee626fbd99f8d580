"""Escalation actions within one recompute (issue 9, item 6c): each action starts from the
ticket as the previous one left it, and recorded firings are read once."""

from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import Escalation
from sla.services import ticket_sla_recompute
from tests.factories import QueueFactory
from tests.sla.factories import EscalationRuleFactory, SlaPolicyFactory, ny
from tickets import services as tickets
from tickets.models import EventType, QueueKind, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def new_ticket(at: datetime, **kwargs) -> Ticket:
    with time_machine.travel(at, tick=False):
        return tickets.ticket_create(
            actor=None,
            subject="Disputes not syncing",
            description="Since the deploy.",
            requester_email="risk@merchant.test",
            **kwargs,
        )


def recompute_at(ticket: Ticket, at: datetime):
    with time_machine.travel(at, tick=False):
        return ticket_sla_recompute(ticket_id=ticket.pk)


@pytest.fixture
def support():
    return QueueFactory(slug="support", is_default=True)


def test_two_raise_priority_rules_in_one_recompute_raise_it_twice(support):
    SlaPolicyFactory(targets=[(p, "first_reply", 60) for p in ("normal", "high", "urgent")])
    EscalationRuleFactory(name="Up once", after_minutes=0, action="raise_priority")
    EscalationRuleFactory(name="Up again", after_minutes=30, action="raise_priority")
    ticket = new_ticket(ny(2026, 3, 3, 9, 0))

    outcome = recompute_at(ticket, ny(2026, 3, 3, 10, 45))  # both came due while away

    assert len(outcome.escalations) == 2
    assert Ticket.objects.get(pk=ticket.pk).priority == "urgent"
    changes = TicketEvent.objects.filter(ticket=ticket, type=EventType.PRIORITY_CHANGED)
    assert [(e.data["previous"], e.data["priority"]) for e in changes.order_by("id")] == [
        ("normal", "high"),
        ("high", "urgent"),
    ]


def test_second_move_records_the_queue_the_first_move_left(support):
    tier2 = QueueFactory(slug="tier-2")
    engineering = QueueFactory(slug="eng", kind=QueueKind.ENGINEERING)
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    EscalationRuleFactory(
        name="To tier 2", after_minutes=0, action="move_to_queue", target_queue=tier2
    )
    EscalationRuleFactory(
        name="To engineering", after_minutes=30, action="move_to_queue", target_queue=engineering
    )
    ticket = new_ticket(ny(2026, 3, 3, 9, 0))

    recompute_at(ticket, ny(2026, 3, 3, 10, 45))

    moves = {e.rule.name: e for e in Escalation.objects.filter(ticket=ticket)}
    assert (moves["To tier 2"].from_queue, moves["To tier 2"].to_queue) == (support, tier2)
    assert (moves["To engineering"].from_queue, moves["To engineering"].to_queue) == (
        tier2,
        engineering,
    )
    assert [e.level for e in sorted(moves.values(), key=lambda e: e.fire_at)] == [1, 2]
    assert Ticket.objects.get(pk=ticket.pk).queue == engineering


def _queries_of_a_quiet_recompute(firings: int) -> int:
    """Recompute a ticket whose `firings` rules all fired earlier: nothing new happens."""
    ticket = new_ticket(ny(2026, 3, 3, 9, 0))
    recompute_at(ticket, ny(2026, 3, 3, 12, 0))
    assert Escalation.objects.filter(ticket=ticket).count() == firings
    with CaptureQueriesContext(connection) as queries:
        recompute_at(ticket, ny(2026, 3, 3, 12, 5))
    return len(queries)


def test_recorded_firings_are_loaded_once(support, django_assert_max_num_queries):
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    for minutes in range(2):
        EscalationRuleFactory(after_minutes=minutes * 10)
    few = _queries_of_a_quiet_recompute(2)
    for minutes in range(2, 10):
        EscalationRuleFactory(after_minutes=minutes * 10)
    assert _queries_of_a_quiet_recompute(10) == few  # not one query per historical firing

    ticket = new_ticket(ny(2026, 3, 3, 9, 0))
    recompute_at(ticket, ny(2026, 3, 3, 12, 0))
    with django_assert_max_num_queries(11):
        recompute_at(ticket, ny(2026, 3, 3, 12, 5))

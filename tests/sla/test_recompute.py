"""Stored timers follow the engine as tickets change; breaches and firings happen once."""

from datetime import datetime

import pytest
import time_machine

from accounts.models import Role
from sla.models import Escalation, Notification, SlaTimer
from sla.services import ticket_sla_recompute
from tests.factories import QueueFactory, UserFactory
from tests.sla.factories import EscalationRuleFactory, SlaPolicyFactory, ny
from tickets import services as tickets
from tickets.models import EventType, QueueKind, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def new_ticket(at: datetime, **kwargs) -> Ticket:
    with time_machine.travel(at, tick=False):
        return tickets.ticket_create(
            actor=None,
            subject="Payout po_123 missing",
            description="Our payout has not arrived.",
            requester_email="ops@merchant.test",
            **kwargs,
        )


def timer(ticket: Ticket, metric: str = "first_reply", cycle: int = 1) -> SlaTimer:
    return SlaTimer.objects.get(ticket=ticket, metric=metric, cycle=cycle)


def recompute_at(ticket: Ticket, at: datetime):
    with time_machine.travel(at, tick=False):
        return ticket_sla_recompute(ticket_id=ticket.pk)


def test_new_ticket_gets_a_running_timer_and_an_urgency():
    SlaPolicyFactory(targets=[("normal", "first_reply", 240)])
    ticket = new_ticket(ny(2026, 3, 3, 10, 0))
    recompute_at(ticket, ny(2026, 3, 3, 11, 0))

    row = timer(ticket)
    assert row.status == "active"
    assert row.due_at == ny(2026, 3, 3, 14, 0)
    assert row.warning_at == ny(2026, 3, 3, 13, 0)  # 75 % of 240 business minutes
    assert row.next_check_at == row.warning_at
    ticket.refresh_from_db()
    assert ticket.next_due_at == ny(2026, 3, 3, 14, 0)
    assert ticket.sla_stale is False


def test_reply_meets_the_timer_and_clears_the_urgency():
    SlaPolicyFactory(targets=[("normal", "first_reply", 240)])
    agent = UserFactory()
    ticket = new_ticket(ny(2026, 3, 3, 10, 0))
    with time_machine.travel(ny(2026, 3, 3, 13, 30), tick=False):
        tickets.ticket_add_message(ticket_id=ticket.pk, actor=agent, body="On it.")
    recompute_at(ticket, ny(2026, 3, 3, 13, 31))

    row = timer(ticket)
    assert (row.status, row.fulfilled_at, row.elapsed_seconds) == (
        "met",
        ny(2026, 3, 3, 13, 30),
        210 * 60,
    )
    assert row.next_check_at is None
    ticket.refresh_from_db()
    assert ticket.next_due_at is None


def test_change_marks_stale_and_enqueues_a_recompute_after_commit(
    django_capture_on_commit_callbacks,
):
    SlaPolicyFactory(targets=[("normal", "first_reply", 240)])
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = new_ticket(ny(2026, 3, 3, 10, 0))
    assert Ticket.objects.get(pk=ticket.pk).sla_stale is True
    assert len(callbacks) == 1


def test_imported_overdue_ticket_is_breached_and_escalated_once():
    """Case 2 of SLA_SPEC §9 imported late, with case 19's rule ladder."""
    engineering = QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    lead = UserFactory(role=Role.LEAD)
    SlaPolicyFactory(targets=[("normal", "first_reply", 120)])
    EscalationRuleFactory(name="R1", after_minutes=0, action="notify")
    EscalationRuleFactory(
        name="R2", after_minutes=30, action="move_to_queue", target_queue=engineering
    )
    ticket = new_ticket(ny(2026, 1, 9, 16, 30))

    recompute_at(ticket, ny(2026, 1, 12, 12, 0))
    recompute_at(ticket, ny(2026, 1, 12, 12, 5))  # again: nothing happens twice

    row = timer(ticket)
    assert (row.status, row.breached_at) == ("breached", ny(2026, 1, 12, 10, 30))
    breaches = TicketEvent.objects.filter(ticket=ticket, type=EventType.SLA_BREACHED)
    assert [e.at for e in breaches] == [ny(2026, 1, 12, 10, 30)]
    fired = {e.rule.name: e for e in Escalation.objects.filter(ticket=ticket)}
    assert set(fired) == {"R1", "R2"}
    assert fired["R1"].fire_at == ny(2026, 1, 12, 10, 30)
    assert fired["R2"].fire_at == ny(2026, 1, 12, 11, 0)
    assert fired["R2"].late is True  # processed an hour after its theoretical time (E4)
    ticket.refresh_from_db()
    assert ticket.queue == engineering
    assert Notification.objects.filter(user=lead, escalation=fired["R1"]).count() == 1


def test_recorded_breach_survives_a_lower_priority():
    """D4, X5: lowering the priority after a breach neither clears nor moves it."""
    SlaPolicyFactory(targets=[("urgent", "first_reply", 60), ("normal", "first_reply", 240)])
    ticket = new_ticket(ny(2026, 7, 9, 9, 0), priority="urgent")
    recompute_at(ticket, ny(2026, 7, 9, 10, 10))
    assert timer(ticket).status == "breached"

    with time_machine.travel(ny(2026, 7, 9, 10, 15), tick=False):
        tickets.ticket_update(ticket_id=ticket.pk, actor=None, priority="normal")
    recompute_at(ticket, ny(2026, 7, 9, 10, 16))

    row = timer(ticket)
    assert (row.status, row.breached_at) == ("breached", ny(2026, 7, 9, 10, 0))
    assert (row.due_at, row.target_minutes) == (ny(2026, 7, 9, 10, 0), 60)


def test_pending_pauses_resolution_and_customer_reply_resumes_it():
    SlaPolicyFactory(targets=[("normal", "resolution", 960)])
    agent = UserFactory()
    ticket = new_ticket(ny(2026, 2, 5, 10, 0))
    with time_machine.travel(ny(2026, 2, 5, 14, 0), tick=False):
        tickets.ticket_add_message(
            ticket_id=ticket.pk, actor=agent, body="Can you send the id?", then_status="pending"
        )
    recompute_at(ticket, ny(2026, 2, 6, 9, 0))
    row = timer(ticket, "resolution")
    assert (row.status, row.due_at, row.elapsed_seconds) == ("paused", None, 240 * 60)
    assert row.next_check_at is None

    with time_machine.travel(ny(2026, 2, 9, 11, 0), tick=False):
        tickets.ticket_add_message(
            ticket_id=ticket.pk, actor=None, body="Here: po_1", author_type="requester"
        )
    recompute_at(ticket, ny(2026, 2, 9, 11, 0))
    row = timer(ticket, "resolution")
    assert row.status == "active"
    assert row.due_at == ny(2026, 2, 10, 15, 0)


def test_ticket_without_matching_policy_has_no_timers():
    SlaPolicyFactory(match_tiers=["enterprise"], targets=[("normal", "first_reply", 60)])
    ticket = new_ticket(ny(2026, 3, 3, 10, 0))
    recompute_at(ticket, ny(2026, 3, 3, 10, 5))
    assert not SlaTimer.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).sla_stale is False


def test_escalation_emails_are_sent_once_after_the_firing(mailoutbox):
    from sla.notifications import notifications_send

    lead = UserFactory(role=Role.LEAD, email="lena@desk.test")
    SlaPolicyFactory(targets=[("normal", "first_reply", 120)])
    EscalationRuleFactory(name="Tell the leads", after_minutes=0, action="notify")
    ticket = new_ticket(ny(2026, 1, 9, 16, 30))
    recompute_at(ticket, ny(2026, 1, 12, 12, 0))

    assert notifications_send() == 1
    assert notifications_send() == 0  # claimed: never sent twice
    (mail,) = mailoutbox
    assert mail.to == [lead.email]
    assert f"#{ticket.pk}" in mail.subject
    assert f"/tickets/{ticket.pk}/" in mail.body

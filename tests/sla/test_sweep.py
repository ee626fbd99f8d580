"""The sweep claims what has come due, acts once, and leaves everything else alone."""

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection

from sla.models import Escalation, Notification, SlaTimer
from sla.services import sla_reconcile, sla_sweep, ticket_sla_recompute, timers_claim_due
from tests.factories import UserFactory
from tests.sla.factories import (
    EscalationRuleFactory,
    SlaPolicyFactory,
    ny,
    ticket_recomputed_at,
)
from tickets import services as tickets
from tickets.models import EventType, TicketEvent


def sweep_at(at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return sla_sweep()


@pytest.mark.django_db
def test_warning_then_breach_each_acted_on_once():
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    agent = UserFactory()
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    with time_machine.travel(ny(2026, 3, 3, 10, 1), tick=False):
        tickets.ticket_update(ticket_id=ticket.pk, actor=None, assignee=agent)
        ticket_sla_recompute(ticket_id=ticket.pk)

    assert sweep_at(ny(2026, 3, 3, 10, 30)) == 0  # nothing due yet
    assert sweep_at(ny(2026, 3, 3, 10, 45, 1)) == 1  # the 75 % warning
    assert sweep_at(ny(2026, 3, 3, 10, 50)) == 0
    assert sweep_at(ny(2026, 3, 3, 11, 0, 1)) == 1  # the breach
    assert sweep_at(ny(2026, 3, 3, 12, 0)) == 0

    row = SlaTimer.objects.get(ticket=ticket)
    assert (row.status, row.breached_at, row.warned_at) == (
        "breached",
        ny(2026, 3, 3, 11, 0),
        ny(2026, 3, 3, 10, 45, 1),
    )
    types = list(
        TicketEvent.objects.filter(
            ticket=ticket, type__in=[EventType.SLA_WARNING, EventType.SLA_BREACHED]
        ).values_list("type", flat=True)
    )
    assert types == [EventType.SLA_WARNING, EventType.SLA_BREACHED]
    assert Notification.objects.filter(user=agent, escalation__isnull=True).count() == 1


@pytest.mark.django_db
def test_claim_takes_only_due_rows_and_leases_them():
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    due = ticket_recomputed_at(ny(2026, 3, 3, 9, 0))
    later = ticket_recomputed_at(ny(2026, 3, 3, 11, 0))
    with time_machine.travel(ny(2026, 3, 3, 10, 30), tick=False):
        assert timers_claim_due() == [due.pk]
        assert timers_claim_due() == []  # leased: a second sweeper finds nothing
    assert SlaTimer.objects.get(ticket=later).next_check_at > ny(2026, 3, 3, 11, 30)
    # If the claiming worker died, the lease expires and the row comes due again.
    with time_machine.travel(ny(2026, 3, 3, 10, 31, 1), tick=False):
        assert timers_claim_due() == [due.pk]


@pytest.mark.django_db
def test_reconciliation_recomputes_stale_tickets():
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    with time_machine.travel(ny(2026, 3, 3, 9, 0), tick=False):
        ticket = tickets.ticket_create(
            actor=None, subject="x", description="y", requester_email="a@b.test"
        )
    assert not SlaTimer.objects.filter(ticket=ticket).exists()
    with time_machine.travel(ny(2026, 3, 3, 9, 5), tick=False):
        assert sla_reconcile() == 1
        assert sla_reconcile() == 0
    assert SlaTimer.objects.get(ticket=ticket).due_at == ny(2026, 3, 3, 10, 0)


@pytest.mark.django_db(transaction=True)
def test_racing_sweepers_record_one_breach_and_one_escalation_each():
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    EscalationRuleFactory(name="R1", after_minutes=0)
    created = [ticket_recomputed_at(ny(2026, 3, 3, 9, 0) + timedelta(seconds=i)) for i in range(12)]
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def sweeper():
        try:
            barrier.wait()
            sla_sweep(limit=5)  # small batches so the sweepers interleave
            sla_sweep(limit=5)
            # A recompute task for the same tickets racing the sweepers.
            for ticket in created:
                ticket_sla_recompute(ticket_id=ticket.pk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(ny(2026, 3, 3, 12, 0), tick=False):
        threads = [threading.Thread(target=sweeper) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    for ticket in created:
        assert SlaTimer.objects.get(ticket=ticket).status == "breached"
        assert TicketEvent.objects.filter(ticket=ticket, type=EventType.SLA_BREACHED).count() == 1
        assert Escalation.objects.filter(ticket=ticket).count() == 1

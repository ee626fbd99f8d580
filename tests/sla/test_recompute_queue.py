"""The recompute queue (sla/recompute_queue.py): a committed change is recomputed by a
drain task, one task per burst, with nothing lost when a ticket changes mid-drain or a
drain dies. Real Redis (the test broker) and the real database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sla import recompute_queue
from sla.models import SlaTimer
from sla.services import ticket_sla_recompute_isolated
from support_desk.celery import app
from tests.sla.factories import CalendarFactory, SlaPolicyFactory
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    calendar = CalendarFactory(timezone="UTC", always_open=True, hours=[], holiday_country=None)
    return SlaPolicyFactory(calendar=calendar, targets=[("normal", "first_reply", 60)])


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def new_ticket(n: int = 0) -> Ticket:
    return tickets.ticket_create(
        actor=None,
        subject=f"Payout {n} missing",
        description="The payout of Friday never arrived.",
        requester_email=f"ops{n}@merchant.test",
        created_at=timezone.now() - timedelta(minutes=5),
    )


def pending() -> list[int]:
    key = recompute_queue._keys()[0]
    client = recompute_queue.cache._cache.get_client()
    return sorted(int(member) for member in client.zrange(key, 0, -1))


def draining() -> bool:
    return bool(recompute_queue.cache._cache.get_client().exists(recompute_queue._keys()[2]))


def recompute(ticket_id: int) -> None:
    assert ticket_sla_recompute_isolated(ticket_id=ticket_id)


def test_a_committed_creation_gets_its_timers_from_the_drain(
    policy, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket()
    timer = SlaTimer.objects.get(ticket=ticket)
    assert timer.due_at == ticket.created_at + timedelta(minutes=60)
    assert Ticket.objects.get(pk=ticket.pk).sla_stale is False
    assert (pending(), draining()) == ([], False)


def test_a_burst_of_changes_queues_one_drain_which_recomputes_them_all(policy):
    made = [new_ticket(n) for n in range(30)]
    drains = []
    for ticket in made:
        recompute_queue.announce(ticket.pk, queue_drain=lambda: drains.append(1))
    assert len(drains) == 1  # the first announcement took the flag; the others only queued
    assert pending() == sorted(t.pk for t in made)

    ran = recompute_queue.drain(recompute=recompute, hand_on=lambda: pytest.fail("no hand-on"))
    assert ran == 30
    assert SlaTimer.objects.filter(ticket__in=made).count() == 30
    assert not Ticket.objects.filter(pk__in=[t.pk for t in made], sla_stale=True).exists()
    assert (pending(), draining()) == ([], False)
    # The flag is free again: the next change queues a new drain.
    recompute_queue.announce(made[0].pk, queue_drain=lambda: drains.append(1))
    assert len(drains) == 2


def test_a_ticket_changed_while_it_is_recomputed_is_recomputed_again(policy):
    ticket = new_ticket()
    recompute_queue.announce(ticket.pk, queue_drain=lambda: None)
    seen = []

    def recompute_and_change(ticket_id: int) -> None:
        seen.append(ticket_id)
        recompute(ticket_id)
        if len(seen) == 1:  # a change commits after this recompute read the ticket
            recompute_queue.announce(ticket_id, queue_drain=lambda: pytest.fail("flag held"))

    recompute_queue.drain(recompute=recompute_and_change, hand_on=lambda: None)
    assert seen == [ticket.pk, ticket.pk]
    assert (pending(), draining()) == ([], False)


def test_a_drain_that_dies_leaves_its_tickets_for_the_next_one(policy):
    made = [new_ticket(n) for n in range(5)]
    for ticket in made:
        recompute_queue.announce(ticket.pk, queue_drain=lambda: None)

    def dies_on_the_third(ticket_id: int) -> None:
        if ticket_id == made[2].pk:
            raise SystemExit("worker killed")
        recompute(ticket_id)

    with pytest.raises(SystemExit):
        recompute_queue.drain(recompute=dies_on_the_third, hand_on=lambda: None)
    assert pending() == sorted(t.pk for t in made)  # nothing was taken off yet
    assert draining()  # until Celery redelivers the task, or the lease runs out

    assert recompute_queue.drain(recompute=recompute, hand_on=lambda: None) == 5
    assert SlaTimer.objects.filter(ticket__in=made).count() == 5
    assert (pending(), draining()) == ([], False)


def test_a_long_backlog_is_handed_on_with_the_flag_kept(policy, monkeypatch):
    monkeypatch.setattr(recompute_queue, "BATCH", 2)
    made = [new_ticket(n) for n in range(5)]
    for ticket in made:
        recompute_queue.announce(ticket.pk, queue_drain=lambda: None)
    handed = []
    ran = recompute_queue.drain(recompute=recompute, hand_on=lambda: handed.append(1), seconds=0)
    assert (ran, handed) == (2, [1])
    assert (len(pending()), draining()) == (3, True)
    assert recompute_queue.drain(recompute=recompute, hand_on=lambda: None) == 3
    assert (pending(), draining()) == ([], False)


def test_a_drain_that_cannot_be_queued_frees_the_flag(policy):
    ticket = new_ticket()

    def broker_refuses() -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        recompute_queue.announce(ticket.pk, queue_drain=broker_refuses)
    assert not draining()  # the next announcement tries to queue a drain again
    assert Ticket.objects.get(pk=ticket.pk).sla_stale is True  # and the reconciliation has it
    queued = []
    recompute_queue.announce(ticket.pk, queue_drain=lambda: queued.append(1))
    assert queued == [1]


def test_backlog_counts_what_is_waiting(policy):
    made = [new_ticket(n) for n in range(3)]
    for ticket in made:
        recompute_queue.announce(ticket.pk, queue_drain=lambda: None)
    assert recompute_queue.backlog() == 3

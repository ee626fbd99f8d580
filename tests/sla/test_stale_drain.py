"""The stale drain (sla/stale_drain.py): committed changes wake a drain that recomputes
every ticket marked stale, one wake-up per process per interval, nothing left behind when
a wake-up is skipped, a drain dies or a recompute keeps failing."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sla import stale_drain
from sla.models import RecomputeClaim, SlaTimer
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


@pytest.fixture(autouse=True)
def _fresh_wake_interval(monkeypatch):
    monkeypatch.setattr(stale_drain, "_last_wake", -stale_drain.WAKE_INTERVAL)


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


def recompute(ticket_id: int) -> None:
    assert ticket_sla_recompute_isolated(ticket_id=ticket_id)


def stale_ids() -> list[int]:
    return sorted(Ticket.objects.filter(sla_stale=True).values_list("pk", flat=True))


def test_a_committed_creation_wakes_a_drain_that_stores_its_timers(
    policy, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket()
    timer = SlaTimer.objects.get(ticket=ticket)
    assert timer.due_at == ticket.created_at + timedelta(minutes=60)
    assert stale_ids() == []


def test_one_process_wakes_the_drain_once_per_interval(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(stale_drain.time, "monotonic", lambda: clock[0])
    woken = []
    for _ in range(50):  # a burst of changes within the interval
        stale_drain.wake(lambda: woken.append(clock[0]))
    assert woken == [1000.0]
    clock[0] += stale_drain.WAKE_INTERVAL
    stale_drain.wake(lambda: woken.append(clock[0]))
    assert woken == [1000.0, 1000.0 + stale_drain.WAKE_INTERVAL]


def test_a_wake_up_the_broker_refused_is_tried_again_by_the_next_change():
    def broker_down() -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        stale_drain.wake(broker_down)
    assert stale_drain.wake(lambda: None) is True


def test_one_drain_recomputes_every_stale_ticket_of_a_burst(policy, monkeypatch):
    monkeypatch.setattr(stale_drain, "BATCH", 7)  # several batches
    made = [new_ticket(n) for n in range(30)]
    assert stale_ids() == sorted(t.pk for t in made)
    seen = []

    def recompute_seen(ticket_id: int) -> None:
        seen.append(ticket_id)
        recompute(ticket_id)

    ran = stale_drain.drain(recompute=recompute_seen, hand_on=lambda: pytest.fail("no hand-on"))
    assert ran == 30
    assert seen == sorted(t.pk for t in made)  # oldest first, each once
    assert SlaTimer.objects.filter(ticket__in=made).count() == 30
    assert stale_ids() == []


def test_a_long_backlog_is_handed_on_to_the_next_drain(policy, monkeypatch):
    monkeypatch.setattr(stale_drain, "BATCH", 2)
    made = [new_ticket(n) for n in range(5)]
    handed = []
    ran = stale_drain.drain(recompute=recompute, hand_on=lambda: handed.append(1), seconds=0)
    assert (ran, handed) == (2, [1])
    assert len(stale_ids()) == 3
    assert stale_drain.drain(recompute=recompute, hand_on=lambda: None) == 3
    assert stale_ids() == []
    assert SlaTimer.objects.filter(ticket__in=made).count() == 5


def test_a_drain_that_dies_leaves_its_batch_stale_for_the_next(policy):
    made = [new_ticket(n) for n in range(5)]

    def dies_on_the_third(ticket_id: int) -> None:
        if ticket_id == made[2].pk:
            raise SystemExit("worker killed")
        recompute(ticket_id)

    with pytest.raises(SystemExit):
        stale_drain.drain(recompute=dies_on_the_third, hand_on=lambda: None)
    # Its transaction rolled back: the batch is stale and unlocked again.
    assert stale_ids() == sorted(t.pk for t in made)
    assert stale_drain.drain(recompute=recompute, hand_on=lambda: None) == 5
    assert stale_ids() == []


def test_a_failing_ticket_waits_out_its_backoff_and_the_others_go_on(policy):
    broken, fine = new_ticket(1), new_ticket(2)
    RecomputeClaim.objects.create(
        ticket=broken, retry_at=timezone.now() + timedelta(minutes=1), failures=1
    )
    seen = []
    stale_drain.drain(recompute=lambda ticket_id: seen.append(ticket_id), hand_on=lambda: None)
    assert seen == [fine.pk]


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_never_take_the_same_ticket(policy, monkeypatch):
    monkeypatch.setattr(stale_drain, "BATCH", 3)
    made = [new_ticket(n) for n in range(6)]
    first_batch_held, release = threading.Event(), threading.Event()
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def slow(ticket_id: int) -> None:
        taken["a"].append(ticket_id)
        first_batch_held.set()
        release.wait(10)

    def other_drain() -> None:
        try:
            stale_drain.drain(recompute=slow, hand_on=lambda: None)
        finally:
            connection.close()

    thread = threading.Thread(target=other_drain)
    thread.start()
    assert first_batch_held.wait(10)  # drain a holds every ticket of its batch

    def recompute_b(ticket_id: int) -> None:
        taken["b"].append(ticket_id)
        recompute(ticket_id)

    stale_drain.drain(recompute=recompute_b, hand_on=lambda: None)
    release.set()
    thread.join(10)
    assert len(taken["a"]) == len(taken["b"]) == 3  # b skipped a's batch without waiting
    assert not set(taken["a"]) & set(taken["b"])
    assert sorted(taken["a"] + taken["b"]) == sorted(t.pk for t in made)


def test_a_ticket_stale_again_once_recomputed_is_left_to_the_next_drain(policy):
    ticket = new_ticket()
    seen = []

    def recompute_then_changed(ticket_id: int) -> None:
        seen.append(ticket_id)
        recompute(ticket_id)
        Ticket.objects.filter(pk=ticket_id).update(sla_stale=True)  # a change committed

    assert stale_drain.drain(recompute=recompute_then_changed, hand_on=lambda: None) == 1
    assert seen == [ticket.pk]  # one pass: no loop on it
    assert stale_ids() == [ticket.pk]
    assert stale_drain.drain(recompute=recompute, hand_on=lambda: None) == 1
    assert stale_ids() == []

"""The SLA pipeline end to end with real Celery workers and the real Redis broker:
change -> commit -> recompute task -> breach -> escalation, exactly once, nothing lost."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sla.models import Escalation, SlaTimer
from sla.tasks import sla_recompute_ticket_task, sla_reconcile_task, sla_sweep_task
from support_desk.celery import app
from tests.factories import QueueFactory
from tests.sla.factories import CalendarFactory, EscalationRuleFactory, SlaPolicyFactory
from tickets import services as tickets
from tickets.models import EventType, QueueKind, Ticket, TicketEvent

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def desk():
    """A 24x7 desk: first reply within 60 minutes; a breach moves the ticket to Engineering."""
    engineering = QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    calendar = CalendarFactory(timezone="UTC", always_open=True, hours=[], holiday_country=None)
    SlaPolicyFactory(calendar=calendar, targets=[("normal", "first_reply", 60)])
    EscalationRuleFactory(
        name="Breach to Engineering", action="move_to_queue", target_queue=engineering
    )
    return engineering


@pytest.fixture
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def import_ticket(minutes_ago: float) -> Ticket:
    return tickets.ticket_create(
        actor=None,
        subject="Payouts to BE accounts returned",
        description="All payouts to Belgian accounts came back with R03.",
        requester_email="finance@merchant.test",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def escalations(ticket: Ticket) -> int:
    return Escalation.objects.filter(ticket=ticket).count()


def test_back_dated_ticket_is_breached_and_escalated_exactly_once(desk, worker):
    ticket = import_ticket(minutes_ago=90)  # on commit: the recompute task goes to Redis
    wait_for(lambda: escalations(ticket), what="the escalation")
    for _ in range(3):  # sweeps and duplicate recomputes change nothing more
        sla_sweep_task.delay()
        sla_recompute_ticket_task.delay(ticket.pk)
    time.sleep(2)
    timer = SlaTimer.objects.get(ticket=ticket)
    assert timer.status == "breached"
    assert timer.breached_at == ticket.created_at + timedelta(minutes=60)
    assert escalations(ticket) == 1
    assert TicketEvent.objects.filter(ticket=ticket, type=EventType.SLA_BREACHED).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).queue == desk


def test_sweep_detects_a_breach_as_it_comes_due(desk, worker):
    ticket = import_ticket(minutes_ago=60 - 3 / 60)  # due in three seconds
    wait_for(lambda: SlaTimer.objects.filter(ticket=ticket).exists(), what="the timer")
    assert SlaTimer.objects.get(ticket=ticket).status == "active"

    def breached():
        sla_sweep_task.delay()  # what beat does every SLA_SWEEP_SECONDS
        return SlaTimer.objects.filter(ticket=ticket, status="breached").first()

    timer = wait_for(breached, what="the breach")
    assert timer.breached_at == timer.due_at
    wait_for(lambda: escalations(ticket), what="the escalation")
    assert escalations(ticket) == 1


def _subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a process that must use this test's database (the configured
    URL with the test database's name) and, unless overridden, the same broker."""
    from urllib.parse import urlsplit, urlunsplit

    from support_desk.env import env_str

    base = urlsplit(env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    url = urlunsplit(base._replace(path="/" + settings.DATABASES["default"]["NAME"]))
    return {**os.environ, "DATABASE_URL": url, "DB_CONN_MAX_AGE": "0", **extra}


def test_change_while_redis_is_down_is_recomputed_after_recovery(desk, worker):
    """A web process whose broker is unreachable still saves the ticket (marked stale);
    the periodic reconciliation computes its timers once the broker is back."""
    script = (
        "import django; django.setup();"
        "from datetime import timedelta; from django.utils import timezone;"
        "from tickets.services import ticket_create;"
        "t = ticket_create(actor=None, subject='Redis outage', description='d',"
        " requester_email='x@merchant.test', created_at=timezone.now() - timedelta(minutes=5));"
        "print(t.pk)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_subprocess_env(REDIS_URL="redis://127.0.0.1:9/0"),  # nothing listens on port 9
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    ticket = Ticket.objects.get(pk=int(done.stdout.strip().splitlines()[-1]))
    assert ticket.sla_stale is True
    assert not SlaTimer.objects.filter(ticket=ticket).exists()

    sla_reconcile_task.delay()  # beat runs this every SLA_RECONCILE_SECONDS
    timer = wait_for(lambda: SlaTimer.objects.filter(ticket=ticket).first(), what="timers")
    assert timer.due_at == ticket.created_at + timedelta(minutes=60)
    assert Ticket.objects.get(pk=ticket.pk).sla_stale is False


def test_worker_killed_mid_task_still_escalates_exactly_once(desk):
    """acks_late + reject_on_worker_lost: the task of a killed worker process is redelivered
    and runs again; the unique firing keeps the escalation single."""
    locked = threading.Event()
    release = threading.Event()

    def hold_queue_lock(queue_id: int):
        # Holds the Engineering queue's row lock: the worker's recompute breaches the
        # ticket, records the escalation and moves the ticket there, then blocks at commit
        # on the queue's foreign-key check -- mid-task, with everything written.
        from django.db import transaction

        from tickets.models import Queue

        try:
            with transaction.atomic():
                Queue.objects.select_for_update().get(pk=queue_id)
                locked.set()
                release.wait(60)
        finally:
            connection.close()

    # The drain task waits in Redis until the worker starts; by then we hold the lock.
    ticket = import_ticket(minutes_ago=90)
    holder = threading.Thread(target=hold_queue_lock, args=(desk.pk,))
    holder.start()
    assert locked.wait(10)
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "support_desk", "worker"),
            *("-P", "prefork", "-c", "1", "-l", "warning"),
            *("--without-heartbeat", "--without-mingle", "--without-gossip"),
        ],
        cwd=ROOT,
        env=_subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def blocked_child():
            children = psutil.Process(worker.pid).children()
            waiting = _waiting_on_lock()
            return children if children and waiting else None

        children = wait_for(blocked_child, timeout=40, what="the worker to block on the lock")
        for child in children:
            child.send_signal(signal.SIGKILL)  # the pool process dies mid-task
        time.sleep(1)
        release.set()
        holder.join()
        wait_for(lambda: escalations(ticket), timeout=40, what="the escalation")
        time.sleep(3)  # let any redelivered duplicate run too
        assert escalations(ticket) == 1
        assert TicketEvent.objects.filter(ticket=ticket, type=EventType.SLA_BREACHED).count() == 1
    finally:
        release.set()
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()


def _waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0

"""The sweep's set-based path (issue 10, items 2 and 3): a breach or a warning that the
stored row already knows is recorded without recomputing the ticket, with the events,
escalations and notifications exactly once and at their theoretical instants; tickets
whose state changed since their rows were stored still take the full recompute; and a
recompute with nothing new writes nothing."""

import threading
from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from sla import config_services, services
from sla.models import Escalation, Notification, SlaPolicy, SlaTimer
from sla.services import sla_sweep, ticket_sla_recompute
from tests.factories import QueueFactory, UserFactory
from tests.sla.factories import (
    EscalationRuleFactory,
    SlaPolicyFactory,
    ny,
    ticket_recomputed_at,
)
from tickets import services as tickets
from tickets.models import EventType, QueueKind, Ticket, TicketEvent


def sweep_at(at: datetime, **kwargs) -> int:
    with time_machine.travel(at, tick=False):
        return sla_sweep(**kwargs)


def events(ticket: Ticket, type_: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, type=type_).order_by("at", "id"))


@pytest.fixture
def forbid_recompute(monkeypatch):
    """Call it once the tickets are set up: from then on a recompute of any ticket fails
    the test -- the stored rows must be enough for the sweep."""

    def refuse(ticket, **kwargs):
        raise AssertionError(f"ticket {ticket.pk} was recomputed")

    return lambda: monkeypatch.setattr(services, "_compute", refuse)


def configure(**policy):
    """The configuration is older than the tickets (it is, on a running desk): the sweep
    trusts a stored row only if its policy and calendar were not edited since."""
    with time_machine.travel(ny(2026, 1, 1, 9, 0), tick=False):
        QueueFactory(slug="support", is_default=True)
        return SlaPolicyFactory(**policy)


@pytest.fixture
def desk(db):
    configure(name="Support", targets=[("normal", "first_reply", 60)])
    return {"lead": UserFactory(role=Role.LEAD), "agent": UserFactory(role=Role.AGENT)}


def test_known_breach_is_recorded_without_a_recompute(desk, forbid_recompute):
    EscalationRuleFactory(name="R1", after_minutes=0, action="notify")
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    with time_machine.travel(ny(2026, 3, 3, 10, 1), tick=False):
        tickets.ticket_update(ticket_id=ticket.pk, actor=None, assignee=desk["agent"])
        ticket_sla_recompute(ticket_id=ticket.pk)
    # The warning was acted on at 10:45 (as a sweep then would have).
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 3, 3, 10, 45))
    forbid_recompute()

    assert sweep_at(ny(2026, 3, 3, 11, 0, 1)) == 1

    row = SlaTimer.objects.get(ticket=ticket, metric="first_reply")
    assert (row.status, row.breached_at, row.due_at, row.next_check_at) == (
        "breached",
        ny(2026, 3, 3, 11, 0),
        ny(2026, 3, 3, 11, 0),
        None,
    )
    (breach,) = events(ticket, EventType.SLA_BREACHED)
    assert breach.at == ny(2026, 3, 3, 11, 0)
    assert breach.data["metric"] == "first_reply"
    assert datetime.fromisoformat(breach.data["detected_at"]) == ny(2026, 3, 3, 11, 0, 1)
    (escalation,) = Escalation.objects.filter(ticket=ticket)
    assert (escalation.fire_at, escalation.level, escalation.late) == (
        ny(2026, 3, 3, 11, 0),
        1,
        False,
    )
    assert escalation.from_queue.slug == "support"
    (escalated,) = events(ticket, EventType.ESCALATED)
    assert (escalated.at, escalated.data["escalation_id"]) == (
        ny(2026, 3, 3, 11, 0),
        escalation.pk,
    )
    notified = set(
        Notification.objects.filter(escalation=escalation).values_list("user", flat=True)
    )
    assert notified == {desk["lead"].pk, desk["agent"].pk}

    assert sweep_at(ny(2026, 3, 3, 11, 5)) == 0  # nothing left to check


def test_repeated_sweeps_and_a_recompute_record_everything_once(desk):
    EscalationRuleFactory(name="R1", after_minutes=0, action="notify")
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    sweep_at(ny(2026, 3, 3, 10, 45, 1))  # the warning
    sweep_at(ny(2026, 3, 3, 11, 0, 1))  # the breach
    # A lost lease brings the row back: nothing is recorded twice.
    SlaTimer.objects.filter(ticket=ticket).update(next_check_at=ny(2026, 3, 3, 11, 0))
    sweep_at(ny(2026, 3, 3, 11, 1))
    with time_machine.travel(ny(2026, 3, 3, 11, 2), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)
    assert len(events(ticket, EventType.SLA_WARNING)) == 1
    assert len(events(ticket, EventType.SLA_BREACHED)) == 1
    assert Escalation.objects.filter(ticket=ticket).count() == 1
    assert len(events(ticket, EventType.ESCALATED)) == 1
    row = SlaTimer.objects.get(ticket=ticket)
    assert (row.status, row.breached_at) == ("breached", ny(2026, 3, 3, 11, 0))


def test_known_warning_is_recorded_and_its_rule_fires_at_the_warning(desk, forbid_recompute):
    EscalationRuleFactory(name="W", trigger="warning", after_minutes=0, action="notify")
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    with time_machine.travel(ny(2026, 3, 3, 10, 1), tick=False):
        tickets.ticket_update(ticket_id=ticket.pk, actor=None, assignee=desk["agent"])
        ticket_sla_recompute(ticket_id=ticket.pk)
    forbid_recompute()

    assert sweep_at(ny(2026, 3, 3, 10, 45, 1)) == 1
    row = SlaTimer.objects.get(ticket=ticket)
    assert (row.status, row.warned_at, row.next_check_at) == (
        "active",
        ny(2026, 3, 3, 10, 45, 1),
        ny(2026, 3, 3, 11, 0),
    )
    (warning,) = events(ticket, EventType.SLA_WARNING)
    assert warning.at == ny(2026, 3, 3, 10, 45, 1)
    assert Notification.objects.filter(user=desk["agent"], escalation__isnull=True).count() == 1
    (escalation,) = Escalation.objects.filter(ticket=ticket)
    assert escalation.fire_at == ny(2026, 3, 3, 10, 45)  # the theoretical instant (E3)


def test_a_ticket_changed_since_its_rows_takes_the_full_path(desk):
    """The reply at 10:50 left the ticket stale (its recompute task never ran): the row
    still says due 11:00, but the sweep must not call it breached."""
    EscalationRuleFactory(name="R1", after_minutes=0)
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 3, 3, 10, 45))
    with time_machine.travel(ny(2026, 3, 3, 10, 50), tick=False):
        tickets.ticket_add_message(ticket_id=ticket.pk, actor=desk["agent"], body="Looking.")
    assert Ticket.objects.get(pk=ticket.pk).sla_stale

    sweep_at(ny(2026, 3, 3, 11, 0, 1))
    row = SlaTimer.objects.get(ticket=ticket)
    assert (row.status, row.fulfilled_at) == ("met", ny(2026, 3, 3, 10, 50))
    assert events(ticket, EventType.SLA_BREACHED) == []
    assert not Escalation.objects.exists()


def test_a_policy_edited_since_the_rows_were_stored_takes_the_full_path(desk):
    """The target went from 60 to 120 minutes; the open tickets' stale mark comes from a
    background task that has not run yet. The row's due instant is no longer true."""
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 3, 3, 10, 45))
    with time_machine.travel(ny(2026, 3, 3, 10, 30), tick=False):
        config_services.policy_save(
            policy=SlaPolicy.objects.get(name="Support"),
            targets=[{"priority": "normal", "metric": "first_reply", "minutes": 120}],
        )
    assert not Ticket.objects.get(pk=ticket.pk).sla_stale

    sweep_at(ny(2026, 3, 3, 11, 0, 1))
    row = SlaTimer.objects.get(ticket=ticket)
    assert (row.status, row.due_at, row.target_minutes) == ("active", ny(2026, 3, 3, 12, 0), 120)
    assert events(ticket, EventType.SLA_BREACHED) == []


def test_offset_rule_is_checked_at_its_business_instant(desk, forbid_recompute):
    """SLA_SPEC case 22's ladder: breach at Friday 16:45; R1 (+0) fires in the sweep, R2
    (+30 business minutes) is due Monday 09:15 -- the sweep checks the ticket then, and
    the full recompute fires it at its theoretical instant."""
    EscalationRuleFactory(name="R1", after_minutes=0, position=1)
    EscalationRuleFactory(name="R2", after_minutes=30, position=2)
    ticket = ticket_recomputed_at(ny(2026, 8, 14, 15, 45))
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 8, 14, 16, 30))
    forbid_recompute()

    sweep_at(ny(2026, 8, 14, 16, 45, 1))
    row = SlaTimer.objects.get(ticket=ticket)
    assert (row.status, row.next_check_at) == ("breached", ny(2026, 8, 17, 9, 15))
    assert list(Escalation.objects.values_list("rule__name", "fire_at")) == [
        ("R1", ny(2026, 8, 14, 16, 45))
    ]
    assert sweep_at(ny(2026, 8, 17, 9, 0)) == 0  # nothing to check before Monday 09:15


def test_offset_rule_at_its_instant_goes_through_the_full_recompute(desk):
    EscalationRuleFactory(name="R1", after_minutes=0, position=1)
    EscalationRuleFactory(name="R2", after_minutes=30, position=2)
    ticket = ticket_recomputed_at(ny(2026, 8, 14, 15, 45))
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 8, 14, 16, 30))
    sweep_at(ny(2026, 8, 14, 16, 45, 1))
    sweep_at(ny(2026, 8, 17, 9, 15, 1))
    fired = dict(Escalation.objects.filter(ticket=ticket).values_list("rule__name", "fire_at"))
    assert fired == {"R1": ny(2026, 8, 14, 16, 45), "R2": ny(2026, 8, 17, 9, 15)}
    assert SlaTimer.objects.get(ticket=ticket).next_check_at is None


def test_after_an_outage_the_missed_ladder_runs_late_at_its_true_times(desk):
    """E4: the workers were down from 10:30 to 12:00. The breach (11:00) is recorded by the
    sweep, R2 (11:30) is overdue and fired by the full recompute at once -- both late."""
    EscalationRuleFactory(name="R1", after_minutes=0, position=1)
    EscalationRuleFactory(name="R2", after_minutes=30, position=2)
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 3, 3, 10, 45))
    sweep_at(ny(2026, 3, 3, 12, 0))
    fired = {e.rule.name: e for e in Escalation.objects.filter(ticket=ticket)}
    assert {name: (e.fire_at, e.late) for name, e in fired.items()} == {
        "R1": (ny(2026, 3, 3, 11, 0), True),
        "R2": (ny(2026, 3, 3, 11, 30), True),
    }
    assert [e.at for e in events(ticket, EventType.SLA_BREACHED)] == [ny(2026, 3, 3, 11, 0)]


def test_move_to_engineering_runs_through_the_ticket_services(desk, forbid_recompute):
    engineering = QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    engineer = UserFactory(role=Role.ENGINEER)
    EscalationRuleFactory(
        name="Move", after_minutes=0, action="move_to_queue", target_queue=engineering
    )
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    SlaTimer.objects.filter(ticket=ticket).update(warned_at=ny(2026, 3, 3, 10, 45))
    forbid_recompute()
    sweep_at(ny(2026, 3, 3, 11, 0, 1))

    moved = Ticket.objects.get(pk=ticket.pk)
    assert moved.queue == engineering
    assert moved.sla_stale  # the move changes the policy: the next recompute applies it
    (escalation,) = Escalation.objects.filter(ticket=ticket)
    assert (escalation.from_queue.slug, escalation.to_queue) == ("support", engineering)
    assert Notification.objects.filter(escalation=escalation, user=engineer).exists()
    (queue_change,) = events(ticket, EventType.QUEUE_CHANGED)
    assert queue_change.data["queue"] == "eng-payments"


@pytest.mark.django_db
def test_quiet_recompute_writes_nothing():
    """Item 3: the store step writes only what changed -- here, nothing."""
    configure(targets=[("normal", "first_reply", 60), ("normal", "resolution", 480)])
    ticket = ticket_recomputed_at(ny(2026, 3, 3, 10, 0))
    # Twenty minutes on: only the elapsed time of the running timers moved.
    at_1020 = time_machine.travel(ny(2026, 3, 3, 10, 20), tick=False)
    with at_1020, CaptureQueriesContext(connection) as queries:
        ticket_sla_recompute(ticket_id=ticket.pk)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []
    with time_machine.travel(ny(2026, 3, 3, 10, 50), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)  # past the warning: warned_at changes
    row = SlaTimer.objects.get(ticket=ticket, metric="first_reply")
    assert row.warned_at == ny(2026, 3, 3, 10, 50)
    assert row.computed_at == ny(2026, 3, 3, 10, 50)
    untouched = SlaTimer.objects.get(ticket=ticket, metric="resolution")
    assert untouched.computed_at == ny(2026, 3, 3, 10, 0)


@pytest.mark.django_db(transaction=True)
def test_a_storm_swept_by_racing_workers_records_everything_exactly_once():
    """Many tickets due at one instant, three sweepers in small batches and recomputes of
    the same tickets racing them: one breach event, one escalation, one escalation event
    and one notification per recipient for every ticket."""
    configure(targets=[("normal", "first_reply", 60)])
    lead = UserFactory(role=Role.LEAD)
    EscalationRuleFactory(name="R1", after_minutes=0)
    created = [ticket_recomputed_at(ny(2026, 3, 3, 9, 0)) for _ in range(24)]
    SlaTimer.objects.update(warned_at=ny(2026, 3, 3, 9, 45))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweeper():
        try:
            barrier.wait()
            while sla_sweep(limit=5):
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def recomputer():
        try:
            barrier.wait()
            for ticket in created[::2]:
                ticket_sla_recompute(ticket_id=ticket.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(ny(2026, 3, 3, 10, 0, 1), tick=False):
        threads = [threading.Thread(target=sweeper) for _ in range(3)]
        threads.append(threading.Thread(target=recomputer))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    for ticket in created:
        assert SlaTimer.objects.get(ticket=ticket).breached_at == ny(2026, 3, 3, 10, 0)
        assert len(events(ticket, EventType.SLA_BREACHED)) == 1
        assert len(events(ticket, EventType.ESCALATED)) == 1
        (escalation,) = Escalation.objects.filter(ticket=ticket)
        assert escalation.fire_at == ny(2026, 3, 3, 10, 0)
        assert Notification.objects.filter(escalation=escalation, user=lead).count() == 1


CLOSED = {"running": "false", "next_check_at": "NULL"}


def test_recording_reads_claimed_timers_by_key_when_statistics_say_none_are_active(desk):
    """Statistics taken before a bulk of new tickets (autovacuum behind) say no timer is
    active; the recording statement must still read the claimed rows by primary key, not
    the whole partial index of active timers once per claimed row (a sweep batch took
    tens of seconds on a desk with 17,000 active timers)."""
    created = [ticket_recomputed_at(ny(2026, 3, 3, 10, 0)) for _ in range(3)]
    active = list(SlaTimer.objects.filter(status="active").values_list("pk", flat=True))
    # A desk's history: thousands of closed timers (copies of one row, later cycles).
    columns = [f.column for f in SlaTimer._meta.concrete_fields if not f.primary_key]
    copied = ", ".join(
        {"cycle": "g", "metric": "'next_reply'", "status": "'met'", **CLOSED}.get(c, c)
        for c in columns
    )
    SlaTimer.objects.filter(pk__in=active).update(status="met")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO sla_slatimer ({', '.join(columns)}) SELECT {copied}"
            " FROM sla_slatimer CROSS JOIN generate_series(2, 5000) g WHERE id = %s",
            [active[0]],
        )
        cursor.execute("ANALYZE sla_slatimer")
    SlaTimer.objects.filter(pk__in=active).update(status="active")

    with CaptureQueriesContext(connection) as queries:
        assert sweep_at(ny(2026, 3, 3, 11, 0, 1)) == 3

    recording = [q["sql"] for q in queries.captured_queries if "known AS" in q["sql"]]
    assert len(recording) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + recording[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "timer_active_warning" not in plan, plan
    assert "sla_slatimer_pkey" in plan, plan
    for ticket in created:
        assert SlaTimer.objects.get(ticket=ticket, metric="first_reply").status == "breached"

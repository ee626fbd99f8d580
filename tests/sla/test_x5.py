"""SLA_SPEC X5 and D1 at a pause: a breach freezes the timer's target, due_at and
breached_at, whatever changes later, and a breached timer's due_at is never after its
breached_at (issue 9, item 6a and 6b)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from sla.calendar import BusinessCalendar
from sla.engine import Event, Policy, Recorded, Target, compute
from sla.models import Escalation, SlaTimer
from sla.services import ticket_sla_recompute
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import EscalationRuleFactory, SlaPolicyFactory
from tests.sla.reference import Reference
from tickets import services as tickets
from tickets.models import QueueKind, Ticket

NY_TZ = ZoneInfo("America/New_York")
NY = BusinessCalendar(
    timezone="America/New_York",
    hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    holiday_country="US",
)
NY_SPLIT = BusinessCalendar(
    timezone="America/New_York",
    hours=[
        {"weekday": d, "start": s, "end": e}
        for d in range(5)
        for s, e in (("09:00", "12:00"), ("13:00", "17:00"))
    ],
)
ALWAYS = BusinessCalendar(timezone="Europe/London", always_open=True)
MINUTE = timedelta(minutes=1)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY_TZ)


# --- through the stored timers: a breach, then an escalation moves the ticket --------------


@pytest.mark.django_db
def test_breached_timer_keeps_due_and_target_after_a_move_to_another_policy(api_client):
    """The found case: moving to an Engineering queue changed the policy, and the breached
    first-reply timer then showed a due_at 30 minutes after its breached_at."""
    QueueFactory(slug="support", is_default=True)
    engineering = QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    SlaPolicyFactory(
        name="Engineering",
        position=1,
        match_queues=["eng-payments"],
        targets=[("normal", "first_reply", 90)],
    )
    SlaPolicyFactory(name="Support", position=2, targets=[("normal", "first_reply", 60)])
    EscalationRuleFactory(
        name="To engineering", after_minutes=0, action="move_to_queue", target_queue=engineering
    )
    with time_machine.travel(ny(2026, 3, 3, 9, 0), tick=False):
        ticket = tickets.ticket_create(
            actor=None,
            subject="Payouts fail",
            description="All of them.",
            requester_email="cfo@merchant.test",
        )
    with time_machine.travel(ny(2026, 3, 3, 10, 5), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)  # breach at 10:00, moved to Engineering
    assert Ticket.objects.get(pk=ticket.pk).queue == engineering
    with time_machine.travel(ny(2026, 3, 3, 10, 6), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)  # now under the Engineering policy

    row = SlaTimer.objects.get(ticket=ticket, metric="first_reply")
    assert row.status == "breached"
    assert row.breached_at == ny(2026, 3, 3, 10, 0)
    assert (row.due_at, row.target_minutes) == (ny(2026, 3, 3, 10, 0), 60)  # not 10:30 / 90
    assert Escalation.objects.filter(ticket=ticket).count() == 1

    token = make_token(UserFactory(role=Role.LEAD))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    (shown,) = api_client.get(f"/api/v1/tickets/{ticket.pk}/sla").json()
    assert shown["due_at"] == shown["breached_at"] == "2026-03-03T15:00:00Z"
    assert shown["target_minutes"] == 60


@pytest.mark.django_db
def test_ladder_continues_from_the_recorded_breach_under_a_new_policy():
    """X5: "its escalation ladder continues from breached_at", even where the new policy
    alone would not call the timer breached yet."""
    QueueFactory(slug="support", is_default=True)
    engineering = QueueFactory(slug="eng", kind=QueueKind.ENGINEERING)
    SlaPolicyFactory(
        name="Engineering",
        position=1,
        match_queues=["eng"],
        targets=[("normal", "first_reply", 480)],
    )
    SlaPolicyFactory(name="Support", position=2, targets=[("normal", "first_reply", 60)])
    EscalationRuleFactory(
        name="Move", after_minutes=0, action="move_to_queue", target_queue=engineering, position=1
    )
    EscalationRuleFactory(name="Later", after_minutes=60, action="notify", position=2)
    UserFactory(role=Role.LEAD)
    with time_machine.travel(ny(2026, 3, 3, 9, 0), tick=False):
        ticket = tickets.ticket_create(
            actor=None, subject="x", description="y", requester_email="a@merchant.test"
        )
    with time_machine.travel(ny(2026, 3, 3, 10, 1), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)
    with time_machine.travel(ny(2026, 3, 3, 11, 5), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)
    later = Escalation.objects.get(ticket=ticket, rule__name="Later")
    assert later.fire_at == ny(2026, 3, 3, 11, 0)  # breached_at 10:00 + 60 business minutes


# --- in the pure engine ------------------------------------------------------------------


def _policy(calendar, *targets, pause_on=("pending", "on_hold")) -> Policy:
    return Policy(targets=tuple(Target(*t) for t in targets), calendar=calendar, pause_on=pause_on)


def reference_due(ref: Reference, runs: list[tuple[datetime, datetime | None]], minutes: int):
    """D1 walked minute by minute: the end of the minute in which the counting time of the
    runs reaches `minutes` (independent of sla.calendar's arithmetic)."""
    counted = 0
    for start, end in runs:
        t = start
        while end is None or t < end:
            if ref.counts(t):
                counted += 1
                if counted == minutes:
                    return t + MINUTE
            t += MINUTE
    return None


def test_x2_breach_at_a_pause_shows_the_instant_the_target_was_reached():
    """Resolution reached its 240 minutes exactly when the ticket was set pending (Q1: not
    breached then); a priority change while paused breaches it (X2) and the customer's
    reply resumes it. due_at is when elapsed reached the target, not the resume time."""
    events = [
        Event("created", ny(2026, 3, 3, 9, 0), priority="normal"),
        Event("status_changed", ny(2026, 3, 3, 13, 0), status="pending"),
        Event("priority_changed", ny(2026, 3, 3, 14, 0), priority="high"),
        Event("customer_reply", ny(2026, 3, 3, 15, 0)),
    ]
    policy = _policy(NY, ("normal", "resolution", 240), ("high", "resolution", 240))
    result = compute(events=events, policy=policy, now=ny(2026, 3, 3, 16, 0))
    (timer,) = [t for t in result.timers if t.metric == "resolution"]
    assert timer.status == "breached"
    assert timer.breached_at == ny(2026, 3, 3, 14, 0)  # X2: at the change
    runs = [(ny(2026, 3, 3, 9, 0), ny(2026, 3, 3, 13, 0)), (ny(2026, 3, 3, 15, 0), None)]
    assert timer.due_at == reference_due(Reference(NY), runs, 240) == ny(2026, 3, 3, 13, 0)


def test_pause_exactly_at_due_then_resume_breaches_at_the_resume():
    """Q2 still holds: with no priority change, the breach is at the resume, and due_at
    (D1) is when the target was reached, before it."""
    events = [
        Event("created", ny(2026, 3, 3, 9, 0)),
        Event("status_changed", ny(2026, 3, 3, 13, 0), status="pending"),
        Event("customer_reply", ny(2026, 3, 4, 10, 0)),
    ]
    result = compute(
        events=events,
        policy=_policy(NY, ("normal", "resolution", 240)),
        now=ny(2026, 3, 4, 11, 0),
    )
    (timer,) = result.timers
    assert (timer.status, timer.breached_at, timer.due_at) == (
        "breached",
        ny(2026, 3, 4, 10, 0),
        ny(2026, 3, 3, 13, 0),
    )


def test_paused_breached_timer_keeps_showing_its_due():
    events = [
        Event("created", ny(2026, 3, 3, 9, 0)),
        Event("status_changed", ny(2026, 3, 3, 11, 0), status="on_hold"),
    ]
    result = compute(
        events=events,
        policy=_policy(NY, ("normal", "resolution", 60)),
        now=ny(2026, 3, 3, 12, 0),
    )
    (timer,) = result.timers
    assert (timer.status, timer.due_at, timer.breached_at) == (
        "breached",
        ny(2026, 3, 3, 10, 0),
        ny(2026, 3, 3, 10, 0),
    )


def test_recorded_breach_stands_under_a_new_policy():
    events = [Event("created", ny(2026, 3, 3, 9, 0))]
    recorded = {
        ("first_reply", 1): Recorded(
            breached_at=ny(2026, 3, 3, 10, 0),
            due_at=ny(2026, 3, 3, 10, 0),
            target_minutes=60,
            business_hours=True,
        )
    }
    result = compute(
        events=events,
        policy=_policy(NY, ("normal", "first_reply", 480)),
        now=ny(2026, 3, 3, 11, 0),
        recorded=recorded,
    )
    (timer,) = result.timers
    assert (timer.status, timer.due_at, timer.breached_at, timer.target_minutes) == (
        "breached",
        ny(2026, 3, 3, 10, 0),
        ny(2026, 3, 3, 10, 0),
        60,
    )


def test_recorded_due_after_the_breach_is_mended():
    """Rows stored before X5 can show due_at after breached_at; they heal on recompute."""
    events = [Event("created", ny(2026, 3, 3, 9, 0))]
    recorded = {
        ("first_reply", 1): Recorded(
            breached_at=ny(2026, 3, 3, 10, 0),
            due_at=ny(2026, 3, 3, 10, 30),
            target_minutes=60,
            business_hours=True,
        )
    }
    result = compute(
        events=events,
        policy=_policy(NY, ("normal", "first_reply", 90)),
        now=ny(2026, 3, 3, 11, 0),
        recorded=recorded,
    )
    assert result.timers[0].due_at == ny(2026, 3, 3, 10, 0)


# --- properties --------------------------------------------------------------------------

PRIORITIES = ("low", "normal", "high", "urgent")
METRICS = ("first_reply", "next_reply", "resolution")
STEP = st.one_of(
    st.tuples(st.just("agent_reply"), st.none()),
    st.tuples(st.just("customer_reply"), st.none()),
    st.tuples(st.just("internal_note"), st.none()),
    st.tuples(st.just("status_changed"), st.sampled_from(["open", "pending", "on_hold", "solved"])),
    st.tuples(st.just("priority_changed"), st.sampled_from(PRIORITIES)),
)
CALENDARS = {"NY": NY, "NY-SPLIT": NY_SPLIT, "24x7": ALWAYS}


@st.composite
def scenarios(draw):
    calendar = CALENDARS[draw(st.sampled_from(sorted(CALENDARS)))]
    targets = []
    for priority in PRIORITIES:
        for metric in METRICS:
            minutes = draw(st.one_of(st.none(), st.integers(0, 600)))
            if minutes is not None:
                business = draw(st.booleans())
                targets.append((priority, metric, minutes, business))
    start = ny(2026, 3, 2, 8, 0) + draw(st.integers(0, 7 * 24 * 60)) * MINUTE
    # Whole-hour or exact-minute gaps, with zero gaps: events at the same instant and on
    # interval boundaries are where the edge rules (Q1, Q2, X2) live.
    gaps = st.one_of(st.integers(0, 600), st.sampled_from([0, 60, 120, 240, 480]))
    events = [Event("created", start, priority=draw(st.sampled_from(PRIORITIES)))]
    at = start
    for kind, value in draw(st.lists(STEP, max_size=12)):
        at += draw(gaps) * MINUTE
        if kind == "status_changed":
            events.append(Event(kind, at, status=value))
        elif kind == "priority_changed":
            events.append(Event(kind, at, priority=value))
        else:
            events.append(Event(kind, at))
    now = at + draw(gaps) * MINUTE
    pause_on = tuple(draw(st.lists(st.sampled_from(["pending", "on_hold"]), unique=True)))
    return (
        events,
        Policy(targets=tuple(Target(*t) for t in targets), calendar=calendar, pause_on=pause_on),
        now,
    )


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(scenario=scenarios())
def test_a_breached_timers_due_is_never_after_its_breach(scenario):
    events, policy, now = scenario
    for timer in compute(events=events, policy=policy, now=now).timers:
        if timer.status == "breached":
            assert timer.due_at is not None, timer
            assert timer.due_at <= timer.breached_at, timer


@PROPERTY
@given(scenario=scenarios(), other=scenarios(), later=st.integers(0, 3000))
def test_a_breach_freezes_whatever_policy_comes_next(scenario, other, later):
    """Recompute a breached ticket later under another policy (a queue move): the recorded
    breach keeps its due_at, breached_at and target (X5)."""
    events, policy, now = scenario
    first = compute(events=events, policy=policy, now=now)
    recorded = {
        (t.metric, t.cycle): Recorded(t.breached_at, t.due_at, t.target_minutes, t.business_hours)
        for t in first.timers
        if t.breached_at is not None
    }
    _, new_policy, _ = other
    second = compute(events=events, policy=new_policy, now=now + later * MINUTE, recorded=recorded)
    for timer in second.timers:
        frozen = recorded.get((timer.metric, timer.cycle))
        if frozen is not None:
            assert timer.status == "breached"
            assert (timer.breached_at, timer.due_at, timer.target_minutes) == (
                frozen.breached_at,
                frozen.due_at,
                frozen.target_minutes,
            )
        if timer.status == "breached":
            assert timer.due_at <= timer.breached_at

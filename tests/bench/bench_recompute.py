"""Benchmark 8 (DESIGN §7): ticket SLA recomputes per second by one worker process, over
realistic histories, beside the pure engine's own rate on the same histories.

1,000 tickets (x scale, at least 100) are written with 10-30 events each, as the ticket
services would have recorded them over their lives: created (any channel and priority),
assignments, agent replies (answering a new ticket opens it), replies that leave the
ticket pending, customer replies (reopening pending, on-hold and solved tickets), internal
notes, on-hold, solves, priority changes and tags. Their policy counts business hours
(New York, Monday-Friday 09:00-18:00, US holidays) with targets per priority and pauses
while pending or on hold; one escalation rule notifies on first-reply breaches.

- A first pass recomputes every ticket once (it stores the timers, records the breaches,
  fires the rule): printed, not the figure.
- `recompute_per_s`: a second pass, `ticket_sla_recompute(ticket_id=...)` in a loop in this
  one process -- what a worker does when the sweep or the reconciliation hands it tickets
  whose stored timers are already there. `reference` = the pure engine (`engine.compute`)
  on the same histories, loaded once beforehand, so only the engine is timed; `ratio` =
  ours / engine, the share of a recompute that is the engine (the rest is loading, locking
  and storing).
- `recompute_queries`: the SQL queries of one recompute of the second pass.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from . import history

MARK = "bench-recompute"
TICKETS = 1_000
# Business minutes per priority and metric (a typical payments-support policy).
TARGETS = {
    "urgent": {"first_reply": 30, "next_reply": 60, "resolution": 480},
    "high": {"first_reply": 60, "next_reply": 120, "resolution": 960},
    "normal": {"first_reply": 240, "next_reply": 480, "resolution": 2400},
    "low": {"first_reply": 480, "next_reply": 960, "resolution": 4800},
}
HOURS = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]
ENGINE_MIN_SECONDS = 2.0

CUSTOMER = [
    "The payout for last Friday still has not arrived.",
    "Here is the request id you asked for: req_5Ts9Q.",
    "Any news? Our finance team is asking.",
    "It happened again this morning with another card payment.",
]
AGENT = [
    "Thanks, I can see the payout; it was held by the bank. Could you confirm the account?",
    "We have escalated this to the payouts team and will update you today.",
    "The dispute evidence was submitted; the bank answers within 10 days.",
]
NOTE = [
    "Checked the ledger: the transfer is in the failed batch.",
    "Engineering says a fix ships tomorrow.",
]


def _say(text: str) -> None:
    print(text, flush=True)  # progress shows at once, even through a pipe


def _desk():
    from accounts.models import Role
    from sla.models import Calendar, EscalationRule, SlaPolicy, SlaTarget
    from tickets.models import Queue

    queue, _ = Queue.objects.get_or_create(slug=MARK, defaults={"name": "Recompute bench"})
    calendar, _ = Calendar.objects.get_or_create(
        name=MARK,
        defaults={"timezone": "America/New_York", "hours": HOURS, "holiday_country": "US"},
    )
    policy, created = SlaPolicy.objects.get_or_create(
        name=MARK,
        defaults={
            "calendar": calendar,
            "position": -4000,
            "match_queues": [MARK],
            "warn_at_percent": 75,
            "pause_on": ["pending", "on_hold"],
        },
    )
    if created:
        SlaTarget.objects.bulk_create(
            SlaTarget(policy=policy, priority=priority, metric=metric, minutes=minutes)
            for priority, metrics in TARGETS.items()
            for metric, minutes in metrics.items()
        )
    rule, _ = EscalationRule.objects.get_or_create(
        name=f"{MARK} first reply breached",
        defaults={"metric": "first_reply", "trigger": "breach", "action": "notify"},
    )
    history.agents(MARK, 1, role=Role.LEAD)
    return queue, rule, history.agents(MARK, 12)


def _plan(i: int, *, rng: random.Random, queue, requester_id: int, agents, now: datetime):
    """One ticket's life with 10-30 events (a life cut short by `now` is drawn again)."""
    while True:
        plan = _life(i, rng=rng, queue=queue, requester_id=requester_id, agents=agents, now=now)
        if 10 <= len(plan.steps) <= 30:
            return plan


def _life(i: int, *, rng: random.Random, queue, requester_id: int, agents, now: datetime):
    """Each step is what an agent or the customer would do next given the ticket's
    status, at gaps spread over its life (hours to days)."""
    from tickets.models import AuthorType

    wanted = rng.randint(10, 27)  # a step writes up to 3 more
    created = now - timedelta(days=rng.uniform(1, 40))
    life = min(now - timedelta(minutes=5) - created, timedelta(days=rng.uniform(0.2, 12)))
    mean_gap = life.total_seconds() / wanted
    priority = rng.choices(["low", "normal", "high", "urgent"], [15, 55, 22, 8])[0]
    channel = rng.choice(["email", "web", "api", "phone", "chat"])
    b = history.Builder(at=created, priority=priority, channel=channel, queue=queue)
    at = created
    agent = rng.choice(agents)

    def customer(t):
        b.message(t, author_type=AuthorType.REQUESTER, public=True, actor=None,
                  body=rng.choice(CUSTOMER))  # fmt: skip

    def reply(t, then=None):
        if b.assignee is None:
            b.assign(agent, t, agent)
        b.message(t, author_type=AuthorType.AGENT, public=True, actor=agent,
                  body=rng.choice(AGENT), then_status=then)  # fmt: skip

    def note(t):
        b.message(t, author_type=AuthorType.AGENT, public=False, actor=agent,
                  body=rng.choice(NOTE))  # fmt: skip

    def reprioritise(t):
        ladder = ["low", "normal", "high", "urgent"]
        index = ladder.index(b.priority) + rng.choice([-1, 1])
        b.priority_change(ladder[min(max(index, 0), 3)], t, agent)

    while len(b.steps) < wanted:
        at += timedelta(seconds=max(30.0, rng.expovariate(1 / mean_gap)))
        if at > now - timedelta(minutes=1):
            break
        roll = rng.random()
        if b.status == "new":
            if roll < 0.35:
                b.assign(agent, at, agent)
            elif roll < 0.7:
                reply(at, then="pending" if rng.random() < 0.3 else None)
            elif roll < 0.85:
                customer(at)
            elif roll < 0.93:
                note(at)
            else:
                reprioritise(at)
        elif b.status == "open":
            if roll < 0.2:
                reply(at)
            elif roll < 0.4:
                reply(at, then="pending")
            elif roll < 0.55:
                customer(at)
            elif roll < 0.65:
                note(at)
            elif roll < 0.72:
                reprioritise(at)
            elif roll < 0.77:
                b.status_change("on_hold", at, agent)
            elif roll < 0.92:
                reply(at, then="solved")
            elif roll < 0.96:
                b.tags(rng.sample(["payouts", "disputes", "api", "cards"], 2), at, agent)
            else:
                agent = rng.choice(agents)
                b.assign(agent, at, agent)
        elif b.status in ("pending", "on_hold"):
            if roll < 0.65:
                customer(at)  # reopens it
            elif roll < 0.85:
                b.status_change("open", at, agent)
            else:
                b.status_change("solved", at, agent)
        else:  # solved: the customer writes back (reopens), or it stays solved for a while
            if roll < 0.7:
                customer(at)
            else:
                at += timedelta(seconds=mean_gap)
    return b.plan(
        queue=queue,
        requester_id=requester_id,
        subject=f"Ticket {i}: payout delayed",
        description="Our payout has not arrived.",
        external_id=MARK,
        sla_stale=True,  # imported: not computed yet
    )


def _engine_inputs(ticket_ids: list[int]):
    """Everything the engine needs per ticket, loaded once (not timed)."""
    from sla import engine
    from sla.loading import TIMER_EVENT_TYPES, engine_events, sla_config
    from sla.models import SlaTimer
    from tickets.models import Ticket, TicketEvent

    config = sla_config(refresh=True)
    rows = defaultdict(list)
    for event in (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, type__in=TIMER_EVENT_TYPES)
        .only("ticket_id", "type", "at", "data")
        .order_by("ticket_id", "at", "id")
    ):
        rows[event.ticket_id].append(event)
    recorded = defaultdict(dict)
    for timer in SlaTimer.objects.filter(ticket_id__in=ticket_ids, breached_at__isnull=False):
        recorded[timer.ticket_id][(timer.metric, timer.cycle)] = engine.Recorded(
            breached_at=timer.breached_at,
            due_at=timer.due_at,
            target_minutes=timer.target_minutes,
            business_hours=timer.business_hours,
        )
    tickets = Ticket.objects.select_related("queue", "organization").filter(pk__in=ticket_ids)
    inputs = [
        (engine_events(rows[t.pk]), config.policy_for(t), recorded.get(t.pk, {})) for t in tickets
    ]
    return inputs, config.rules


def _engine_rate(ticket_ids: list[int]) -> tuple[float, float]:
    """Computes per second of the pure engine, and the mean number of timer events."""
    from sla import engine

    inputs, rules = _engine_inputs(ticket_ids)
    now = timezone.now()
    computed = 0
    started = time.perf_counter()
    while True:
        for events, policy, recorded in inputs:
            engine.compute(events=events, policy=policy, now=now, rules=rules, recorded=recorded)
        computed += len(inputs)
        elapsed = time.perf_counter() - started
        if elapsed >= ENGINE_MIN_SECONDS:
            break
    return computed / elapsed, sum(len(e) for e, _, _ in inputs) / len(inputs)


def _recompute_all(ticket_ids: list[int]) -> float:
    from sla.services import ticket_sla_recompute

    started = time.perf_counter()
    for ticket_id in ticket_ids:
        ticket_sla_recompute(ticket_id=ticket_id)
    return time.perf_counter() - started


def _queries(ticket_id: int) -> int:
    from sla.services import ticket_sla_recompute

    with CaptureQueriesContext(connection) as captured:
        ticket_sla_recompute(ticket_id=ticket_id)
    return len(captured.captured_queries)


def _cleanup(queue, rule) -> None:
    """Other benchmarks share this database: the rule would fire on their tickets."""
    from sla.models import Calendar, Escalation, SlaPolicy
    from tickets.models import Ticket

    Escalation.objects.filter(rule=rule).delete()
    rule.delete()
    Ticket.objects.filter(queue=queue).delete()
    SlaPolicy.objects.filter(name=MARK).delete()
    Calendar.objects.filter(name=MARK).delete()
    queue.delete()


def run(scale: float) -> dict:
    from tickets.models import TicketEvent

    n = max(100, int(TICKETS * scale))
    queue, rule, agents = _desk()
    try:
        started = time.monotonic()
        rng = random.Random(8)
        now = timezone.now()
        customers = history.requesters(MARK, n)
        ids = history.write(
            _plan(i, rng=rng, queue=queue, requester_id=customers[i], agents=agents, now=now)
            for i in range(n)
        )
        counts = list(
            TicketEvent.objects.filter(ticket_id__in=ids)
            .values("ticket_id")
            .annotate(n=Count("id"))
            .values_list("n", flat=True)
        )
        _say(
            f"   {n:,} tickets, {sum(counts) / n:.1f} events each ({min(counts)}-{max(counts)}),"
            f" written in {time.monotonic() - started:.1f} s"
        )
        first_queries = _queries(ids[0])
        first_s = _recompute_all(ids[1:])
        _say(f"   first pass (stores the timers): {(n - 1) / first_s:.1f}/s,"
              f" {first_queries} queries for the first ticket")  # fmt: skip
        seconds = _recompute_all(ids)
        rate = n / seconds
        queries = _queries(ids[n // 2])
        engine_rate, timer_events = _engine_rate(ids)
        _say(f"   second pass: {rate:.1f}/s ({1000 / rate:.1f} ms each, {queries} queries);"
              f" engine alone {engine_rate:.0f}/s ({1000 / engine_rate:.2f} ms each,"
              f" {timer_events:.1f} timer events per ticket)")  # fmt: skip
    finally:
        _cleanup(queue, rule)
        history.broker_purge()
    return {
        "recompute_per_s": {
            "value": round(rate, 1),
            "unit": "1/s",
            "reference": round(engine_rate, 1),
            "ratio": round(rate / engine_rate, 4),
        },
        "recompute_queries": {
            "value": queries,
            "unit": "queries",
            "reference": None,
            "ratio": None,
        },
    }

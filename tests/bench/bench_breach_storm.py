"""Benchmark 7 (DESIGN §7): a breach storm. 10,000 first-reply timers on 10,000 tickets
(x scale) come due in the same second, as at 09:00 on a Monday; `breach_storm_s` is the
seconds from that instant until every breach is visible through the API, with the Celery
worker and beat that `make run` starts. `reference` = the same for 1,000 timers (x scale),
`ratio` = big / small (a sweep whose cost follows the tickets due gives about 10; the goal
is the absolute figure, < 10 s).

The storm is built the way business hours make one: each storm has its own calendar that
opens at O (a whole minute), and its tickets arrived while it was closed (overnight, over
up to 14 hours), so every first-reply timer starts counting at O and, with a 60-minute
target, is due at T = O + 60 min. Each ticket has a realistic history (created, customer
follow-ups, internal notes, triage: assignee, status and priority changes, tags, the SLA
warning recorded at 45 min) and the timer rows a recompute would have stored for it; a
sample is checked against the pure engine before the storm. One escalation rule (notify the
lead and the assignee on a first-reply breach) fires for every ticket, as on a real desk.

Visible through the API means: the count of `GET /api/v1/tickets?sla=breached&queue=...`
as a lead sees it -- polled every 0.2 s through the API's own filter and visibility code
(TicketFilter over visible_tickets), because the list is cursor-paginated and a poll through
HTTP would cost 50 requests at 10,000; after the storm the full list is read once through
the API (django.test.Client) and must hold every ticket. Also checked afterwards: exactly
one breach event and one escalation per ticket, all at the theoretical instant T.
`breach_storm_escalated_s` is the time until the last escalation was recorded.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from . import history

ROOT = Path(__file__).resolve().parents[2]
MARK = "bench-storm"
TIMERS = 10_000
REFERENCE = 1_000
FIRST_REPLY_MINUTES = 60
WARN_PERCENT = 75
# Targets of the storm policy: first reply is the same for both priorities, so a priority
# raised overnight does not move the instant the storm is due.
TARGETS = {
    "normal": {"first_reply": FIRST_REPLY_MINUTES, "next_reply": 240, "resolution": 960},
    "high": {"first_reply": FIRST_REPLY_MINUTES, "next_reply": 120, "resolution": 480},
}
POLL_S = 0.2
# The worker and beat exactly as scripts/run.py starts them (keep in step with it); only
# the node name, schedule and pid files differ so a `make run` beside this cannot clash.
RUN_DIR = ROOT / "var" / "run"
WORKER = ["worker", "-l", "warning", "-c", "2", "-n", f"{MARK}@%h"]
BEAT = [
    "beat", "-l", "warning",
    "-s", str(RUN_DIR / f"{MARK}-celerybeat-schedule"),
    "--pidfile", str(RUN_DIR / f"{MARK}-celerybeat.pid"),
]  # fmt: skip


def _say(text: str) -> None:
    print(text, flush=True)  # progress shows at once, even through a pipe


def _exec(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else []


# --- the worker processes ---------------------------------------------------------------


class Workers:
    """Celery worker + beat in their own process group, always stopped (by their ids)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        (RUN_DIR / f"{MARK}-celerybeat.pid").unlink(missing_ok=True)
        # E-mail copies of the notifications are sent (part of the storm's cost) into
        # memory, not as thousands of .eml files under var/mail/outbox.
        env = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        for name, args in (("worker", WORKER), ("beat", BEAT)):
            log = RUN_DIR / f"{MARK}-{name}.log"
            with log.open("w") as out:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "celery", "-A", "support_desk", *args],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own group: its pool children go with it
                    )
                )
            self.logs.append(log)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for proc in reversed(self.procs):  # beat first: no new sweeps
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 20
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            # The group leader's id is the group's id; kill whatever of it is left.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def tail(self, lines: int = 15) -> str:
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)


def _queued() -> int:
    """Messages waiting in the broker's queues (both: recomputes and sweeps)."""
    from support_desk.celery import app

    total = 0
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        for queue in settings.CELERY_TASK_QUEUES:
            try:
                total += channel.queue_declare(queue=queue.name, passive=True).message_count
            except Exception:  # not declared yet: nothing in it
                continue
    return total


def _wait_ready(workers: Workers, seconds: float = 60) -> None:
    from support_desk.celery import app

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not workers.alive():
            raise RuntimeError("the Celery worker or beat exited\n" + workers.tail())
        replies = app.control.ping(timeout=1.0)
        if any(name.startswith(f"{MARK}@") for reply in replies for name in reply):
            return
    raise RuntimeError("the Celery worker did not answer within 60 s\n" + workers.tail())


def _wait_quiet(*, until: float) -> None:
    """Work left by other benchmarks (recompute tasks queued by api_create, stale tickets)
    or by the storm before is done before a storm comes due, so that the storm measures
    itself; bounded (`until`, a time.time()), then it goes on and says so."""
    queued = stale = 0
    while time.time() < until:
        queued = _queued()
        # Tickets whose recompute keeps failing wait out their backoff: not waited for.
        stale = _exec(
            "SELECT count(*) FROM tickets_ticket t WHERE t.sla_stale AND NOT EXISTS ("
            " SELECT 1 FROM sla_recomputeclaim c WHERE c.ticket_id = t.id AND c.failures > 0)"
        )[0][0]
        if queued == 0 and stale == 0:
            return
        time.sleep(0.5)
    if queued or stale:
        _say(f"   note: {queued} tasks queued and {stale} stale tickets left at the storm")


# --- the desk -----------------------------------------------------------------------------


@dataclass
class Desk:
    lead: object
    agents: list
    rule: object


def _desk() -> Desk:
    from accounts.models import Role
    from sla.models import EscalationRule

    lead = history.agents(MARK, 1, role=Role.LEAD)[0]
    agents = history.agents(MARK, 20)
    rule, _ = EscalationRule.objects.get_or_create(
        name=f"{MARK} first reply breached",
        defaults={"metric": "first_reply", "trigger": "breach", "action": "notify"},
    )
    return Desk(lead=lead, agents=agents, rule=rule)


def _storm_config(n: int, opening: datetime):
    """A queue with its own business-hours policy: closed until `opening`, then open for
    five days, so tickets that arrived overnight all start counting at `opening`."""
    from sla.models import Calendar, SlaPolicy, SlaTarget
    from tickets.models import Queue

    weekday = opening.weekday()
    hours = [{"weekday": weekday, "start": opening.strftime("%H:%M"), "end": "24:00"}] + [
        {"weekday": (weekday + k) % 7, "start": "00:00", "end": "24:00"} for k in range(1, 6)
    ]  # the day before the opening stays closed
    slug = f"{MARK}-{n}-{opening:%H%M}"
    queue = Queue.objects.create(slug=slug, name=f"Storm {n}")
    calendar = Calendar.objects.create(name=slug, timezone="UTC", hours=hours)
    policy = SlaPolicy.objects.create(
        name=slug,
        position=-3000,
        calendar=calendar,
        match_queues=[slug],
        warn_at_percent=WARN_PERCENT,
        pause_on=["pending", "on_hold"],
    )
    SlaTarget.objects.bulk_create(
        SlaTarget(policy=policy, priority=priority, metric=metric, minutes=minutes)
        for priority, metrics in TARGETS.items()
        for metric, minutes in metrics.items()
    )
    return queue, policy


BODIES_CUSTOMER = [
    "Any update on this? Our payouts are still on hold.",
    "Adding the request id: req_8Hk2. This is blocking our launch.",
    "Following up -- the dashboard still shows the payment as pending.",
]
BODIES_NOTE = [
    "Looks like the payout batch failed at the bank; checking with the payouts team.",
    "Same merchant opened a similar ticket last week.",
]


def _plan(i: int, *, rng, queue, requester_id: int, desk: Desk, opening: datetime, due):
    """One ticket that arrived before the opening, triaged overnight, not yet answered."""
    from tickets.models import AuthorType, EventType

    created = opening - timedelta(seconds=rng.uniform(5 * 60, 14 * 3600))
    priority = "high" if rng.random() < 0.3 else "normal"
    b = history.Builder(at=created, priority=priority, channel="email", queue=queue)
    # Everything an agent or the customer did happened before the warning at 45 min.
    window = (opening + timedelta(minutes=40) - created).total_seconds()

    def at() -> datetime:
        return created + timedelta(seconds=rng.uniform(1, window))

    changes = []
    agent = rng.choice(desk.agents)
    if rng.random() < 0.6:
        t = at()
        changes.append((t, 0, lambda t=t: b.assign(agent, t, agent)))
        if rng.random() < 0.5:
            changes.append((t, 1, lambda t=t: b.status_change("open", t, agent)))
    if priority == "normal" and rng.random() < 0.2:
        t = at()
        changes.append((t, 0, lambda t=t: b.priority_change("high", t, agent)))
    for _ in range(rng.randint(0, 3)):
        t = at()
        body = rng.choice(BODIES_CUSTOMER)
        changes.append(
            (t, 0, lambda t=t, body=body: b.message(
                t, author_type=AuthorType.REQUESTER, public=True, actor=None, body=body))
        )  # fmt: skip
    for _ in range(rng.randint(0, 2)):
        t = at()
        body = rng.choice(BODIES_NOTE)
        changes.append(
            (t, 0, lambda t=t, body=body: b.message(
                t, author_type=AuthorType.AGENT, public=False, actor=agent, body=body))
        )  # fmt: skip
    if rng.random() < 0.3:
        t = at()
        changes.append((t, 0, lambda t=t: b.tags(["payouts"], t, agent)))
    for _, _, apply in sorted(changes, key=lambda c: (c[0], c[1])):
        apply()
    warning_at = opening + timedelta(minutes=FIRST_REPLY_MINUTES * WARN_PERCENT / 100)
    b.record(
        warning_at + timedelta(seconds=1), EventType.SLA_WARNING, metric="first_reply", cycle=1
    )
    return b.plan(
        queue=queue,
        requester_id=requester_id,
        subject=f"Payout {i} not received",
        description="Our payout scheduled for yesterday has not arrived.",
        external_id=MARK,
        next_due_at=due,
    )


def _timer_rows(ticket: dict, *, policy, opening: datetime, computed_at: datetime) -> list[dict]:
    """The rows a recompute at `computed_at` stores (checked against the engine below),
    not yet armed for the sweep (next_check_at NULL)."""
    elapsed = int((computed_at - opening).total_seconds())
    rows = []
    for metric in ("first_reply", "resolution"):
        minutes = TARGETS[ticket["priority"]][metric]
        due = opening + timedelta(minutes=minutes)
        warning = opening + timedelta(seconds=minutes * 60 * WARN_PERCENT // 100)
        rows.append(
            {
                "ticket_id": ticket["id"],
                "metric": metric,
                "cycle": 1,
                "policy_id": policy.pk,
                "status": "active",
                "running": True,
                "target_minutes": minutes,
                "business_hours": True,
                "started_at": ticket["created_at"],
                "due_at": due,
                "warning_at": warning,
                "fulfilled_at": None,
                "breached_at": None,
                "cancelled_at": None,
                "warned_at": warning + timedelta(seconds=1) if warning < computed_at else None,
                "elapsed_seconds": elapsed,
                "computed_at": computed_at,
                "next_check_at": None,
            }
        )
    return rows


def _check_against_engine(ticket_ids: list[int], *, computed_at: datetime, sample=40) -> None:
    """The stored rows must be what the engine derives from the stored events (else the
    storm would measure recomputes that change things, not breaches coming due)."""
    from sla import engine
    from sla.loading import sla_config, ticket_history
    from sla.models import SlaTimer
    from tickets.models import Ticket

    config = sla_config(refresh=True)
    fields = ("status", "running", "target_minutes", "business_hours", "started_at", "due_at",
              "warning_at", "breached_at", "elapsed_seconds")  # fmt: skip
    for pk in ticket_ids[:: max(1, len(ticket_ids) // sample)]:
        ticket = Ticket.objects.select_related("queue", "organization").get(pk=pk)
        result = engine.compute(
            events=ticket_history(ticket.pk),
            policy=config.policy_for(ticket),
            now=computed_at,
            rules=config.rules,
        )
        derived = {(x.metric, x.cycle): x for x in result.timers}
        stored = {(r.metric, r.cycle): r for r in SlaTimer.objects.filter(ticket=ticket)}
        if set(derived) != set(stored):
            raise AssertionError(f"ticket {ticket.pk}: timers {set(derived)} vs {set(stored)}")
        for key, row in stored.items():
            for name in fields:
                if getattr(row, name) != getattr(derived[key], name):
                    raise AssertionError(
                        f"ticket {ticket.pk} {key} {name}: stored {getattr(row, name)!r},"
                        f" engine {getattr(derived[key], name)!r}"
                    )


def _build(n: int, *, desk: Desk, due: datetime, seed: int):
    from sla.models import SlaTimer

    opening = due - timedelta(minutes=FIRST_REPLY_MINUTES)
    queue, policy = _storm_config(n, opening)
    rng = random.Random(seed)
    customers = history.requesters(queue.slug, n)
    plans = [
        _plan(i, rng=rng, queue=queue, requester_id=customers[i], desk=desk, opening=opening,
              due=due)
        for i in range(n)
    ]  # fmt: skip
    ticket_ids = history.write(plans)
    # Not truncated to the second: a storm built within the second its policy was created
    # would have timers "computed before the policy changed", which the sweep rightly
    # recomputes ticket by ticket -- the reference storm measured that slow path.
    computed_at = timezone.now()
    history.copy_rows(
        SlaTimer,
        [
            row
            for plan in plans
            for row in _timer_rows(
                plan.ticket, policy=policy, opening=opening, computed_at=computed_at
            )
        ],
    )
    _check_against_engine(ticket_ids, computed_at=computed_at)
    return queue, ticket_ids


def _arm(queue) -> None:
    """Hand the timers to the sweep: next check at the first instant each changes."""
    _exec(
        """
        UPDATE sla_slatimer s SET next_check_at = CASE
            WHEN s.metric = 'first_reply' THEN s.due_at ELSE s.warning_at END
        FROM tickets_ticket t WHERE t.id = s.ticket_id AND t.queue_id = %s
        """,
        [queue.pk],
    )


def _visible_breached(queue, lead) -> int:
    """What `GET /api/v1/tickets?sla=breached&queue=<slug>` lists for a lead, counted."""
    from tickets.api.filters import TicketFilter
    from tickets.models import Ticket
    from tickets.visibility import visible_tickets

    filters = TicketFilter(
        {"sla": "breached", "queue": queue.slug},
        queryset=visible_tickets(lead, Ticket.objects.all()),
    )
    return filters.qs.count()


def _escalated(queue, rule) -> int:
    from sla.models import Escalation

    return Escalation.objects.filter(rule=rule, ticket__queue=queue).count()


def _api_list_count(queue, token: str) -> int:
    client = Client()
    url = f"/api/v1/tickets?sla=breached&queue={queue.slug}&limit=200"
    seen = 0
    while url:
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code} {response.content[:300]!r}")
        body = response.json()
        seen += len(body["results"])
        url = body["next"]
    return seen


def _check_once(queue, rule, due: datetime) -> list[str]:
    """Exactly one breach event and one escalation per ticket, at the theoretical instant."""
    problems = []
    (events_off, escalations_off, timers_off) = _exec(
        """
        SELECT
          (SELECT count(*) FROM tickets_ticket t WHERE t.queue_id = %(q)s AND (
              SELECT count(*) FROM tickets_ticketevent e WHERE e.ticket_id = t.id
                AND e.type = 'sla_breached' AND e.data->>'metric' = 'first_reply') <> 1),
          (SELECT count(*) FROM tickets_ticket t WHERE t.queue_id = %(q)s AND (
              SELECT count(*) FROM sla_escalation x WHERE x.ticket_id = t.id
                AND x.rule_id = %(rule)s AND x.fire_at = %(due)s) <> 1),
          (SELECT count(*) FROM sla_slatimer s JOIN tickets_ticket t ON t.id = s.ticket_id
            WHERE t.queue_id = %(q)s AND s.metric = 'first_reply'
              AND (s.status <> 'breached' OR s.breached_at IS DISTINCT FROM %(due)s))
        """,
        {"q": queue.pk, "rule": rule.pk, "due": due},
    )[0]
    if events_off:
        problems.append(f"{events_off} tickets without exactly one first-reply breach event")
    if escalations_off:
        problems.append(f"{escalations_off} tickets without exactly one escalation at T")
    if timers_off:
        problems.append(f"{timers_off} first-reply timers not breached at T")
    return problems


@dataclass
class Storm:
    n: int
    due: datetime
    queue: object
    built_s: float


def _next_minute(after: datetime) -> datetime:
    return after.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _prepare(n: int, *, desk: Desk, due: datetime, queues: list) -> Storm:
    started = time.monotonic()
    queue, tickets = _build(n, desk=desk, due=due, seed=n + len(queues))
    queues.append(queue)
    built_s = time.monotonic() - started
    _say(
        f"   {len(tickets):,} tickets with histories and timers built in {built_s:.1f} s,"
        f" due at {due:%H:%M:%S}"
    )
    return Storm(n=n, due=due, queue=queue, built_s=built_s)


def _in_time(storm: Storm) -> bool:
    return timezone.now() < storm.due - timedelta(seconds=1)


def _measure(storm: Storm, *, desk: Desk, token: str, workers: Workers) -> dict:
    """Arm the storm's timers, wait for its instant, then poll until every breach is
    visible and every escalation recorded; then check them."""
    n, queue, due = storm.n, storm.queue, storm.due
    _arm(queue)
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()))
    t0 = due.timestamp()
    deadline = t0 + 60 + n * 0.06
    breached_at = escalated_at = None
    report_at = t0 + 30
    while time.time() < deadline:
        if not workers.alive():
            raise RuntimeError("the Celery worker or beat exited\n" + workers.tail())
        now = time.time()
        visible = _visible_breached(queue, desk.lead) if breached_at is None else n
        if breached_at is None and visible >= n:
            breached_at = now
        if escalated_at is None and _escalated(queue, desk.rule) >= n:
            escalated_at = now
        if breached_at and escalated_at:
            break
        if now >= report_at:  # a slow storm shows it is moving
            _say(f"   ... {visible:,} of {n:,} visible after {now - t0:.0f} s")
            report_at += 30
        time.sleep(POLL_S)
    if breached_at is None:
        seen = _visible_breached(queue, desk.lead)
        _say(f"   TIMEOUT: {seen:,} of {n:,} breaches visible after {time.time() - t0:.0f} s")
        breached_at = time.time()
    if escalated_at is None:
        _say(f"   TIMEOUT: {_escalated(queue, desk.rule):,} of {n:,} escalations recorded")
        escalated_at = time.time()
    listed = _api_list_count(queue, token)
    problems = _check_once(queue, desk.rule, due)
    if listed != n:
        problems.append(f"the API lists {listed:,} breached tickets, not {n:,}")
    seconds, escalated_s = breached_at - t0, escalated_at - t0
    verdict = "; ".join(problems) or "each exactly once"
    _say(
        f"   {n:,} breaches visible {seconds:.2f} s after T, escalated {escalated_s:.2f} s;"
        f" {listed:,} listed by the API; {verdict}"
    )
    return {"seconds": seconds, "escalated_s": escalated_s, "problems": problems}


def _storms(sizes: tuple[int, int], *, desk: Desk, token: str, workers: Workers, queues: list):
    """Both storms are built before the first one's instant, the second due a minute after
    it (instants are whole minutes: business hours open on a minute); a storm whose instant
    passed before it could be armed (the set-up or the storm before ran long) is dropped --
    it was never armed, so nothing touched it -- and built again for a later minute."""
    from tickets.models import Ticket

    per_ticket = 0.006  # seconds to build one ticket, here; corrected from what is measured
    first = _next_minute(timezone.now() + timedelta(seconds=5 + 1.3 * sum(sizes) * per_ticket))
    storms = [
        _prepare(n, desk=desk, due=first + timedelta(minutes=i), queues=queues)
        for i, n in enumerate(sizes)
    ]
    results = {}
    for storm in storms:
        # The previous storm's notifications are sent before this one comes due.
        _wait_quiet(until=storm.due.timestamp() - 2)
        for attempt in range(3):
            if _in_time(storm):
                break
            _say(f"   {storm.due:%H:%M:%S} passed before the storm could be armed; again")
            Ticket.objects.filter(queue=storm.queue).delete()
            per_ticket = max(per_ticket, storm.built_s / storm.n)
            lead = timedelta(seconds=5 + 1.5 * (attempt + 1) * storm.n * per_ticket)
            storm = _prepare(
                storm.n, desk=desk, due=_next_minute(timezone.now() + lead), queues=queues
            )
        else:
            raise RuntimeError("could not set the storm up ahead of its instant")
        results[storm.n] = _measure(storm, desk=desk, token=token, workers=workers)
    return results


def _cleanup(desk: Desk | None, queues: list) -> None:
    """Other benchmarks share this database: take out the rule (it would fire on their
    tickets) with its escalations, and the storm tickets."""
    from sla.models import Calendar, Escalation, SlaPolicy
    from tickets.models import Ticket

    if desk is not None:
        Escalation.objects.filter(rule=desk.rule).delete()
        desk.rule.delete()
    for queue in queues:
        Ticket.objects.filter(queue=queue).delete()
        SlaPolicy.objects.filter(name=queue.slug).delete()
        Calendar.objects.filter(name=queue.slug).delete()
        queue.delete()


def _figure(value: float, unit: str, reference=None) -> dict:
    ratio = None if not reference else round(value / reference, 3)
    return {"value": round(value, 3), "unit": unit, "reference": reference, "ratio": ratio}


def run(scale: float) -> dict:
    from accounts.services import api_token_create

    big = max(100, int(TIMERS * scale))
    small = max(10, int(REFERENCE * scale))
    workers = Workers()
    desk = None
    queues: list = []
    try:
        desk = _desk()
        _, token = api_token_create(user=desk.lead, scopes=["tickets:read"])
        workers.start()
        _wait_ready(workers)
        _wait_quiet(until=time.time() + 90)
        results = _storms((small, big), desk=desk, token=token, workers=workers, queues=queues)
        _say(f"   worker: celery {' '.join(WORKER)}; sweep every {settings.SLA_SWEEP_SECONDS} s")
    finally:
        workers.stop()
        started = time.monotonic()
        try:
            _cleanup(desk, queues)
        except Exception as error:  # the figures stand; say what was left behind
            _say(f"   clean-up failed: {error}")
        dropped = history.broker_purge()
        _say(f"   clean-up took {time.monotonic() - started:.1f} s ({dropped} tasks dropped)")
    problems = [p for r in results.values() for p in r["problems"]]
    figures = {
        "breach_storm_s": _figure(
            results[big]["seconds"], "s", reference=round(results[small]["seconds"], 3)
        ),
        "breach_storm_escalated_s": _figure(
            results[big]["escalated_s"], "s", reference=round(results[small]["escalated_s"], 3)
        ),
    }
    if problems:
        raise AssertionError(f"breach storm not exactly once: {problems}; figures {figures}")
    return figures

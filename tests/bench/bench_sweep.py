"""Benchmark 2 (DESIGN §7): the breach sweep's claim of 10,000 due timers among 1,000,000
active ones, against the same among 100,000 (x scale); the ratio should be about 1 because
the claim walks the partial index on next_check_at, not the backlog.

Also measured, beside it: how many due tickets per second the sweep fully processes
(recompute from events, breach event, rule firing, notifications) on real tickets.
"""

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.utils import timezone

MARK = "bench-sweep"
ACTIVE_BIG = 1_000_000
ACTIVE_SMALL = 100_000
DUE = 10_000
REPEATS = 3


def _exec(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _insert_active(first: int, last: int, due_every: int | None) -> None:
    """Tickets [first, last) each with one active first-reply timer; every `due_every`-th
    timer is due (its next check a few minutes past), the rest due days ahead."""
    from tickets.models import Queue, Requester

    queue, _ = Queue.objects.get_or_create(slug=MARK, defaults={"name": "Sweep bench"})
    requester, _ = Requester.objects.get_or_create(email=f"{MARK}@bench.test")
    due_test = f"g %% {due_every} = 0" if due_every else "false"
    _exec(
        f"""
        WITH t AS (
            INSERT INTO tickets_ticket (subject, description, status, priority, channel, tags,
                external_id, created_at, updated_at, version, sla_stale, queue_id, requester_id)
            SELECT 'Sweep ' || g, 'bench', 'open', 'normal', 'api', '{{}}', %(mark)s,
                   now() - interval '1 hour', now() - interval '1 hour', 1, false,
                   %(queue)s, %(requester)s
            FROM generate_series(%(first)s, %(last)s - 1) g
            RETURNING id
        )
        INSERT INTO sla_slatimer (metric, cycle, status, running, target_minutes,
            business_hours, started_at, due_at, warning_at, elapsed_seconds, computed_at,
            next_check_at, ticket_id)
        SELECT 'first_reply', 1, 'active', true, 240, true, now() - interval '1 hour',
               x.check_at, x.check_at - interval '1 hour', 3600, now(), x.check_at, t.id
        FROM (SELECT id, row_number() OVER (ORDER BY id) + %(first)s - 1 AS g FROM t) t
        CROSS JOIN LATERAL (
            SELECT CASE WHEN {due_test}
                        THEN now() - (1 + random() * 10 + 0 * t.id) * interval '1 minute'
                        ELSE now() + (1 + random() * 30 + 0 * t.id) * interval '1 day'
                   END AS check_at
        ) x
        """,
        {"mark": MARK, "queue": queue.pk, "requester": requester.pk, "first": first, "last": last},
    )


def _reset_due() -> None:
    """Put the claimed (leased) rows back in the past, as if they had just come due."""
    _exec(
        """
        UPDATE sla_slatimer s SET next_check_at = now() - interval '5 minutes'
        FROM tickets_ticket t
        WHERE t.id = s.ticket_id AND t.external_id = %s AND s.next_check_at < now() + interval
            '10 minutes'
        """,
        [MARK],
    )


def _claim_all() -> tuple[float, int]:
    from sla.services import timers_claim_due

    started = time.perf_counter()
    claimed = 0
    while batch := timers_claim_due(limit=1000):
        claimed += len(batch)
    return time.perf_counter() - started, claimed


def _median_claim(expected: int) -> float:
    samples = []
    for _ in range(REPEATS):
        _reset_due()
        _exec("ANALYZE sla_slatimer")
        seconds, claimed = _claim_all()
        assert claimed == expected, (claimed, expected)
        samples.append(seconds)
    return statistics.median(samples)


def _process_rate(n: int) -> float:
    """Real tickets with real events, due now: seconds for the sweep to process them all."""
    from accounts.models import Role, User
    from sla.models import Calendar, EscalationRule, SlaPolicy, SlaTarget
    from sla.services import sla_sweep, ticket_sla_recompute
    from tickets.services import ticket_create

    User.objects.get_or_create(username=f"{MARK}-lead", defaults={"role": Role.LEAD})
    calendar, _ = Calendar.objects.get_or_create(
        name=f"{MARK} 24x7", defaults={"timezone": "UTC", "always_open": True}
    )
    policy, _ = SlaPolicy.objects.get_or_create(
        name=f"{MARK} policy",
        defaults={"calendar": calendar, "position": -1000, "match_priorities": ["normal"]},
    )
    SlaTarget.objects.get_or_create(
        policy=policy, priority="normal", metric="first_reply", defaults={"minutes": 60}
    )
    EscalationRule.objects.get_or_create(
        name=f"{MARK} notify", defaults={"metric": "first_reply", "trigger": "breach"}
    )
    now = timezone.now()
    ids = []
    for i in range(n):
        created = now - timedelta(minutes=90, seconds=i)
        ticket = ticket_create(
            actor=None,
            subject=f"Refund {i} stuck",
            description="A refund has been pending for a week.",
            requester_email=f"sweep{i}@bench.test",
            created_at=created,
        )
        ticket_sla_recompute(ticket_id=ticket.pk, now=created + timedelta(minutes=1))
        ids.append(ticket.pk)
    started = time.perf_counter()
    handled = 0
    while batch := sla_sweep(limit=200):
        handled += batch
    seconds = time.perf_counter() - started
    assert handled >= n, (handled, n)
    return n / seconds


def _figure(value: float, unit: str, reference=None) -> dict:
    ratio = None if not reference else round(value / reference, 3)
    return {"value": round(value, 4), "unit": unit, "reference": reference, "ratio": ratio}


def run(scale: float) -> dict:
    small = max(10_000, int(ACTIVE_SMALL * scale))
    big = max(small * 10, int(ACTIVE_BIG * scale))
    due = max(1_000, int(DUE * scale))
    # Other benchmarks share this database: their timers must not be claimed here.
    _exec("UPDATE sla_slatimer SET next_check_at = NULL WHERE next_check_at IS NOT NULL")
    started = time.monotonic()
    _insert_active(0, small, small // due)
    _exec("VACUUM ANALYZE sla_slatimer")
    print(f"   {small:,} active timers ({due:,} due) in {time.monotonic() - started:.0f} s")
    small_s = _median_claim(due)
    started = time.monotonic()
    _insert_active(small, big, None)
    _exec("VACUUM ANALYZE sla_slatimer")
    print(f"   now {big:,} active timers in {time.monotonic() - started:.0f} s")
    big_s = _median_claim(due)
    print(f"   claim {due:,} due: {small_s:.3f} s among {small:,}, {big_s:.3f} s among {big:,}")
    rate = _process_rate(max(50, int(500 * scale)))
    return {
        "sweep": _figure(big_s, "s", reference=round(small_s, 4)),
        "sweep_process_tickets_per_s": _figure(rate, "1/s"),
    }

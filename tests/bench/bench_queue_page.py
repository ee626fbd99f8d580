"""Benchmark 4 (DESIGN §7): the agent queue page with 100,000 open tickets (x scale) in one
queue, sorted by SLA urgency: server time p50/p95 over 30 requests (after 3 warm-ups) with
django.test.Client, and the page's query count (constant in the number of rows shown).

`reference` = the same for a queue of 1,000 open tickets (x scale) in the same database, so
`ratio` = 100,000 / 1,000 shows whether the page's cost follows the rows shown (about 1) or
the size of the queue."""

import math
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

TICKETS = 100_000
REFERENCE = 1_000
REQUESTS = 30
MARK = "bench-queue"


def _exec(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _setup(n: int, slug: str) -> str:
    from accounts.models import Role, User
    from tickets.models import Organization, Queue, Requester

    queue, _ = Queue.objects.get_or_create(slug=slug, defaults={"name": f"Queue {slug}"})
    org, _ = Organization.objects.get_or_create(
        external_id=f"{MARK}-org", defaults={"name": "Bench Merchant", "tier": "premium"}
    )
    requester, _ = Requester.objects.get_or_create(
        email=f"{MARK}@bench.test", defaults={"name": "Bench Customer", "organization": org}
    )
    agents = [
        User.objects.get_or_create(username=f"{MARK}-agent{i}", defaults={"role": Role.AGENT})[0].pk
        for i in range(20)
    ]
    _exec("SELECT setseed(0.7)")
    # Open tickets whose earliest deadline lies between two days ago and three days ahead;
    # one running first-reply timer each, breached when its deadline has passed.
    _exec(
        """
        WITH t AS (
            INSERT INTO tickets_ticket (subject, description, status, priority, channel, tags,
                external_id, created_at, updated_at, version, sla_stale, next_due_at,
                assignee_id, organization_id, queue_id, requester_id)
            SELECT 'Payout ' || g || ' delayed', 'bench',
                   (ARRAY['new','open','open','pending'])[1 + g %% 4],
                   (ARRAY['low','normal','normal','high','urgent'])[1 + g %% 5], 'email',
                   ARRAY['payouts'], %(mark)s, x.due - interval '4 hours',
                   x.due - interval '4 hours', 1, false, x.due,
                   (%(agents)s::bigint[])[1 + g %% 20], %(org)s, %(queue)s, %(requester)s
            FROM generate_series(1, %(n)s) g
            CROSS JOIN LATERAL (
                SELECT now() + (random() * 5 - 2 + 0 * g) * interval '1 day' AS due
            ) x
            RETURNING id, next_due_at
        )
        INSERT INTO sla_slatimer (metric, cycle, status, running, target_minutes,
            business_hours, started_at, due_at, warning_at, breached_at, elapsed_seconds,
            computed_at, next_check_at, ticket_id)
        SELECT 'first_reply', 1, CASE WHEN t.next_due_at < now() THEN 'breached' ELSE 'active'
               END, true, 240, true, t.next_due_at - interval '4 hours', t.next_due_at,
               t.next_due_at - interval '1 hour',
               CASE WHEN t.next_due_at < now() THEN t.next_due_at END, 3600, now(),
               CASE WHEN t.next_due_at >= now() THEN t.next_due_at END, t.id
        FROM t
        """,
        {
            "mark": MARK,
            "agents": agents,
            "org": org.pk,
            "queue": queue.pk,
            "requester": requester.pk,
            "n": n,
        },
    )
    for table in ("tickets_ticket", "sla_slatimer"):
        _exec(f"VACUUM ANALYZE {table}")
    return queue.slug


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _figure(value: float, unit: str, reference: float) -> dict:
    return {
        "value": round(value, 2),
        "unit": unit,
        "reference": round(reference, 2),
        "ratio": round(value / reference, 3) if reference else None,
    }


def _measure(client: Client, slug: str) -> tuple[float, float, int]:
    """(p50, p95, queries) of the queue page over REQUESTS requests after warm-ups."""
    urls = [f"/queues/{slug}/", f"/queues/{slug}/?priority=urgent", f"/queues/{slug}/?page=3"]
    for url in urls:
        assert client.get(url).status_code == 200
    samples = []
    for i in range(REQUESTS):
        began = time.perf_counter()
        response = client.get(urls[i % len(urls)])
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(urls[0])
    return _percentile(samples, 0.5), _percentile(samples, 0.95), len(queries)


def run(scale: float) -> dict:
    from accounts.models import Role, User

    n = max(1000, int(TICKETS * scale))
    small = max(100, int(REFERENCE * scale))
    started = time.monotonic()
    slug = _setup(n, MARK)
    small_slug = _setup(small, f"{MARK}-small")
    print(f"   inserted {n:,} + {small:,} open tickets in {time.monotonic() - started:.0f} s")
    agent, _ = User.objects.get_or_create(username=f"{MARK}-viewer", defaults={"role": Role.AGENT})
    client = Client()
    client.force_login(agent)
    p50, p95, queries = _measure(client, slug)
    ref_p50, ref_p95, ref_queries = _measure(client, small_slug)
    return {
        "queue_page_p95_ms": _figure(p95, "ms", ref_p95),
        "queue_page_p50_ms": _figure(p50, "ms", ref_p50),
        "queue_page_queries": _figure(queries, "queries", ref_queries),
    }

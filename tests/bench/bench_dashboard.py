"""Benchmark 3 (DESIGN §7): the lead dashboard and GET /api/v1/metrics/sla over 1,000,000
tickets x scale, server time measured in-process with django.test.Client.

The desk is bulk-inserted with generate_series: a year of tickets (about 10 % still open),
first-reply and resolution timers for every ticket plus next-reply timers for a third, one
public agent reply per ticket, escalations to Engineering for 2 %; then the daily roll-ups
are built the way the Celery task builds them and the tables are vacuumed and analysed.
Each figure is 30 requests after 3 warm-up requests; queries are counted on one request.

`reference` = the same requests read entirely live from sla_slatimer (the roll-up markers
removed inside a transaction that is rolled back), so `ratio` = with roll-ups / live shows
what the roll-ups buy, measured in the same run.
"""

import math
import time

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

TICKETS = 1_000_000
REQUESTS = 30
WARM_UP = 3
MARK = "bench-dash"


def _exec(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _setup_desk(n_tickets: int) -> None:
    from accounts.models import Role, User
    from sla.models import Calendar, SlaPolicy
    from tickets.models import Queue

    n_orgs = max(100, n_tickets // 100)
    queues = [
        Queue.objects.get_or_create(slug=f"{MARK}-{slug}", defaults={"name": name, "kind": kind})[0]
        for slug, name, kind in [
            ("payments", "Payments", "support"),
            ("payouts", "Payouts", "support"),
            ("disputes", "Disputes", "support"),
            ("api", "API & Integrations", "support"),
            ("eng-payments", "Engineering - Payments", "engineering"),
            ("eng-platform", "Engineering - Platform", "engineering"),
        ]
    ]
    support, engineering = [q.pk for q in queues[:4]], [q.pk for q in queues[4:]]
    calendar, _ = Calendar.objects.get_or_create(
        name=f"{MARK} 24x7", defaults={"timezone": "UTC", "always_open": True}
    )
    policies = {
        tier: SlaPolicy.objects.get_or_create(
            name=f"{MARK} {tier}", defaults={"calendar": calendar}
        )[0].pk
        for tier in ("standard", "premium", "enterprise")
    }
    agents = [
        User.objects.get_or_create(username=f"{MARK}-agent{i}", defaults={"role": Role.AGENT})[0].pk
        for i in range(40)
    ]
    _exec("SELECT setseed(0.42)")
    _exec(
        "INSERT INTO tickets_organization (name, external_id, tier, created_at)"
        " SELECT 'Merchant ' || g, %s || g,"
        " (ARRAY['standard','standard','standard','premium','enterprise'])[1 + g %% 5], now()"
        " FROM generate_series(1, %s) g",
        [f"{MARK}-org-", n_orgs],
    )
    _exec(
        "INSERT INTO tickets_requester (email, name, organization_id, created_at)"
        " SELECT 'contact' || o.id || '@bench.test', o.name, o.id, now()"
        " FROM tickets_organization o WHERE o.external_id LIKE %s",
        [f"{MARK}-org-%"],
    )
    # A year of tickets, evenly spread; requester ids are contiguous.
    _exec(
        """
        INSERT INTO tickets_ticket (subject, description, status, priority, channel, tags,
            external_id, created_at, updated_at, solved_at, version, sla_stale, next_due_at,
            assignee_id, organization_id, queue_id, requester_id)
        SELECT 'Payout ' || g || ' delayed', 'Our payout has not arrived.',
               CASE WHEN s.open THEN (ARRAY['new','open','open','pending','on_hold'])[1 + g %% 5]
                    ELSE 'solved' END,
               (ARRAY['low','normal','normal','normal','high','urgent'])[1 + g %% 6],
               (ARRAY['email','web','api','chat','phone'])[1 + (g / 7) %% 5],
               '{}', %(mark)s, s.created, s.created,
               CASE WHEN s.open THEN NULL
                    ELSE LEAST(s.created + s.solve_after, now()) END,
               1, false, NULL,
               (%(agents)s::bigint[])[1 + (g / 3) %% 40],
               r.organization_id,
               (%(queues)s::bigint[])[1 + (g / 11) %% 4],
               r.id
        FROM generate_series(1, %(n)s) g
        CROSS JOIN LATERAL (
            SELECT now() - (random() + 0 * g) * interval '365 days' AS created,
                   random() < 0.1 AS open,
                   (random() * 72 + 0.2) * interval '1 hour' AS solve_after
        ) s
        JOIN tickets_requester r
          ON r.id = (SELECT min(id) FROM tickets_requester WHERE email LIKE 'contact%%')
                    + (g %% %(orgs)s)
        """.replace("%(n)s", str(int(n_tickets))).replace("%(orgs)s", str(n_orgs)),
        {"mark": MARK, "agents": agents, "queues": support},
    )
    _insert_timers(policies)
    _exec(
        "INSERT INTO tickets_message (body, public, author_type, created_at, author_id, ticket_id)"
        " SELECT 'On it', true, 'agent', t.created_at + interval '37 minutes', t.assignee_id, t.id"
        " FROM tickets_ticket t WHERE t.external_id = %s",
        [MARK],
    )
    _exec(
        """
        INSERT INTO sla_escalation (level, metric, cycle, reason, details, fire_at, created_at,
            late, acknowledged_at, from_queue_id, to_queue_id, ticket_id)
        SELECT 1, 'first_reply', 1, 'First reply breached', '{}', t.created_at + interval '4 h',
               t.created_at + interval '4 hours',
               false,
               CASE WHEN (t.id / 50) %% 5 <> 0
                    THEN t.created_at + interval '4 hours' + (t.id %% 240) * interval '1 min' END,
               t.queue_id, (%s::bigint[])[1 + t.id %% 2], t.id
        FROM tickets_ticket t WHERE t.external_id = %s AND t.id %% 50 = 0
        """,
        [engineering, MARK],
    )


def _insert_timers(policies: dict[str, int]) -> None:
    """Timers consistent with each ticket: answered ones met or breached at their target,
    unanswered ones active (breached once due), a few cancelled."""
    for metric, target_minutes, shift, share in (
        ("first_reply", 240, "0", 1.0),
        ("next_reply", 480, "1 day", 0.3),
        ("resolution", 1440, "0", 1.0),
    ):
        answered = (
            "NOT (t.status <> 'solved' AND x.r < 0.5)"
            if metric != "resolution"
            else "t.status = 'solved'"
        )
        elapsed = (
            "LEAST(EXTRACT(EPOCH FROM (t.solved_at - t.created_at)), 2000000000)::int"
            if metric == "resolution"
            else f"(x.r2 * x.r3 * {target_minutes * 120})::int"
        )
        _exec(
            f"""
            INSERT INTO sla_slatimer (metric, cycle, status, running, target_minutes,
                business_hours, started_at, due_at, warning_at, fulfilled_at, breached_at,
                cancelled_at, elapsed_seconds, computed_at, next_check_at, policy_id, ticket_id)
            SELECT %(metric)s, 1, v.status, v.status = 'active' OR (v.status = 'breached'
                   AND NOT v.answered), {target_minutes}, true, v.started,
                   v.started + interval '{target_minutes} minutes',
                   v.started + interval '{target_minutes * 3 // 4} minutes',
                   CASE WHEN v.answered AND v.status IN ('met', 'breached')
                        THEN v.started + v.elapsed * interval '1 second' END,
                   CASE WHEN v.status = 'breached'
                        THEN v.started + interval '{target_minutes} minutes' END,
                   CASE WHEN v.status = 'cancelled'
                        THEN v.started + COALESCE(v.elapsed, 3600) * interval '1 second' END,
                   CASE WHEN v.answered OR v.status = 'cancelled' THEN COALESCE(v.elapsed, 3600)
                        ELSE LEAST(EXTRACT(EPOCH FROM now() - v.started), 2e9)::int END,
                   now(), NULL, (%(policies)s::bigint[])[
                       array_position(ARRAY['standard','premium','enterprise'], v.tier)],
                   v.id
            FROM (
                SELECT t.id, o.tier, t.created_at + interval '{shift}' AS started,
                       {answered} AS answered, {elapsed} AS elapsed,
                       CASE WHEN x.r4 < 0.03 THEN 'cancelled'
                            WHEN {answered} AND {elapsed} <= {target_minutes * 60} THEN 'met'
                            WHEN {answered} THEN 'breached'
                            WHEN t.created_at + interval '{shift}'
                                 + interval '{target_minutes} minutes' < now() THEN 'breached'
                            ELSE 'active' END AS status
                FROM tickets_ticket t
                JOIN tickets_organization o ON o.id = t.organization_id
                CROSS JOIN LATERAL (SELECT random() + 0 * t.id AS r, random() + 0 * t.id AS r2,
                    random() + 0 * t.id AS r3, random() + 0 * t.id AS r4,
                    random() + 0 * t.id AS r5) x
                WHERE t.external_id = %(mark)s AND x.r5 < {share}
                  AND t.created_at + interval '{shift}' < now()
            ) v
            """,
            {
                "metric": metric,
                "policies": [policies["standard"], policies["premium"], policies["enterprise"]],
                "mark": MARK,
            },
        )


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _measure(client: Client, urls: list[str], requests=REQUESTS) -> tuple[float, float, int]:
    for i in range(WARM_UP):
        assert client.get(urls[i % len(urls)]).status_code == 200
    samples = []
    for i in range(requests):
        started = time.perf_counter()
        response = client.get(urls[i % len(urls)])
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        client.get(urls[0])
    return _percentile(samples, 0.5), _percentile(samples, 0.95), len(queries)


def _figure(value: float, unit: str, reference: float | None = None) -> dict:
    return {
        "value": round(value, 2),
        "unit": unit,
        "reference": None if reference is None else round(reference, 2),
        "ratio": round(value / reference, 3) if reference else None,
    }


def _measure_live(client: Client, urls: list[str]) -> tuple[float, float, int]:
    """The same requests with no day marked rolled up: every figure read live."""
    from dashboard.models import RolledUpDay

    with transaction.atomic():
        RolledUpDay.objects.all().delete()
        figures = _measure(client, urls, requests=REQUESTS // 3)
        transaction.set_rollback(True)
    return figures


def run(scale: float) -> dict:
    from accounts.models import Role, User
    from dashboard.rollups import rollups_refresh

    n_tickets = max(1000, int(TICKETS * scale))
    started = time.monotonic()
    _setup_desk(n_tickets)
    print(f"   inserted {n_tickets:,} tickets with timers in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    rollups_refresh(now=timezone.now())
    rollup_s = time.monotonic() - started
    print(f"   daily roll-ups built in {rollup_s:.1f} s")
    for table in (
        "tickets_ticket",
        "sla_slatimer",
        "tickets_message",
        "sla_escalation",
        "dashboard_dailyslarollup",
        "tickets_organization",
    ):
        _exec(f"VACUUM ANALYZE {table}")

    lead, _ = User.objects.get_or_create(username=f"{MARK}-lead", defaults={"role": Role.LEAD})
    client = Client()
    client.force_login(lead)
    dash_urls = ["/dashboard/", "/dashboard/?priority=urgent", f"/dashboard/?queue={MARK}-payouts"]
    api_urls = [
        f"/api/v1/metrics/sla?group_by={g}"
        for g in ("day", "queue", "priority", "tier", "policy", "metric")
    ]
    dash_p50, dash_p95, dash_queries = _measure(client, dash_urls)
    api_p50, api_p95, api_queries = _measure(client, api_urls)
    live_dash = _measure_live(client, dash_urls)
    live_api = _measure_live(client, api_urls)
    return {
        "dashboard_p95_ms": _figure(dash_p95, "ms", live_dash[1]),
        "dashboard_p50_ms": _figure(dash_p50, "ms", live_dash[0]),
        "dashboard_queries": _figure(dash_queries, "queries", live_dash[2]),
        "metrics_api_p95_ms": _figure(api_p95, "ms", live_api[1]),
        "metrics_api_p50_ms": _figure(api_p50, "ms", live_api[0]),
        "metrics_api_queries": _figure(api_queries, "queries", live_api[2]),
        "dashboard_rollup_build_s": _figure(rollup_s, "s"),
    }

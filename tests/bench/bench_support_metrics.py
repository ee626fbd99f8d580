"""Support metrics (DESIGN §9) over 1,000,000 tickets and 200,000 survey responses x scale:
GET /api/v1/metrics/support (every group_by, the default 7 days and a 30-day period) and the
dashboard's support figures, server time measured in-process with django.test.Client.

The desk is bulk-inserted with generate_series: a year of tickets with contact reasons,
tiers, assignees, 2 % opened by robots and 1 % merged; a solve event and a sent survey for
a third of them (about 60 % answered, ratings skewed high); 400 days of denominators. Each
figure is 30 requests after 3 warm-up requests; queries are counted on one request.
"""

import math
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

TICKETS = 1_000_000
RESPONSES = 200_000
REQUESTS = 30
WARM_UP = 3
MARK = "bench-csat"


def _exec(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _setup(n_tickets: int, n_responses: int) -> None:
    from accounts.models import Role, User
    from tickets.models import ContactReason, Queue

    queues = [
        Queue.objects.get_or_create(slug=f"{MARK}-{s}", defaults={"name": s.title()})[0].pk
        for s in ("payments", "payouts", "disputes", "api")
    ]
    agents = [
        User.objects.get_or_create(username=f"{MARK}-agent{i}", defaults={"role": Role.AGENT})[0].pk
        for i in range(40)
    ]
    reasons = list(ContactReason.objects.values_list("pk", flat=True)) or [None]
    n_orgs = max(100, n_tickets // 100)
    _exec("SELECT setseed(0.17)")
    _exec(
        "INSERT INTO tickets_organization (name, external_id, tier, created_at)"
        " SELECT 'Merchant ' || g, %s || g,"
        " (ARRAY['standard','standard','standard','premium','enterprise'])[1 + g %% 5], now()"
        " FROM generate_series(1, %s) g",
        [f"{MARK}-org-", n_orgs],
    )
    _exec(
        "INSERT INTO tickets_requester (email, name, organization_id, created_at)"
        " SELECT 'csat' || o.id || '@bench.test', o.name, o.id, now()"
        " FROM tickets_organization o WHERE o.external_id LIKE %s",
        [f"{MARK}-org-%"],
    )
    _exec(
        f"""
        INSERT INTO tickets_ticket (subject, description, status, priority, channel, tags,
            external_id, created_at, updated_at, solved_at, version, sla_stale, next_due_at,
            assignee_id, organization_id, queue_id, requester_id, cc, contact_reason_id,
            opened_by_robot, merged_into_id)
        SELECT 'Payout ' || g || ' delayed', 'Our payout has not arrived.', 'solved',
               (ARRAY['low','normal','normal','normal','high','urgent'])[1 + g %% 6],
               (ARRAY['email','web','api','chat','phone'])[1 + (g / 7) %% 5],
               '{{}}', %(mark)s, s.created, s.created, s.created + interval '5 hours', 1, false,
               NULL, (%(agents)s::bigint[])[1 + (g / 3) %% 40], r.organization_id,
               (%(queues)s::bigint[])[1 + (g / 11) %% 4], r.id, '{{}}',
               (%(reasons)s::bigint[])[1 + (g / 5) %% {len(reasons)}],
               g %% 50 = 0, NULL
        FROM generate_series(1, {int(n_tickets)}) g
        CROSS JOIN LATERAL (SELECT now() - (random() + 0 * g) * interval '365 days' AS created) s
        JOIN tickets_requester r
          ON r.id = (SELECT min(id) FROM tickets_requester WHERE email LIKE 'csat%%')
                    + (g %% {n_orgs})
        """,
        {"mark": MARK, "agents": agents, "queues": queues, "reasons": reasons},
    )
    # 1 % merged into the ticket before them.
    _exec(
        "UPDATE tickets_ticket SET merged_into_id = id - 1"
        " WHERE external_id = %s AND id %% 100 = 7",
        [MARK],
    )
    # Surveys: enough sent that about n_responses are answered (60 %).
    n_surveys = int(n_responses / 0.6)
    every = max(1, n_tickets // n_surveys)
    _exec(
        f"""
        INSERT INTO tickets_ticketevent (type, at, recorded_at, data, actor_id, ticket_id)
        SELECT 'status_changed', t.solved_at, now(), '{{"status": "solved"}}', t.assignee_id, t.id
        FROM tickets_ticket t
        WHERE t.external_id = %s AND t.id %% {every} = 0 AND NOT t.opened_by_robot
          AND t.merged_into_id IS NULL
        """,
        [MARK],
    )
    _exec(
        """
        INSERT INTO csat_survey (ticket_id, solve_event_id, solved_at, agent_id, requester_email,
            token_hash, status, created_at, send_after, sent_at, responded_at, rating, comment,
            send_attempts, queue_id_at_solve, contact_reason_id_at_solve, tier_at_solve,
            priority_at_solve, channel_at_solve)
        SELECT e.ticket_id, e.id, e.at, e.actor_id, 'x@bench.test', md5(e.id::text) || md5('s'),
               v.status, e.at, e.at + interval '1 hour', e.at + interval '1 hour',
               CASE WHEN v.status = 'answered' THEN e.at + interval '5 hours' END,
               CASE WHEN v.status = 'answered' THEN
                    (ARRAY[1,2,3,4,4,5,5,5,5,5])[1 + floor(random() * 10)::int] END,
               '', 0, t.queue_id, t.contact_reason_id, o.tier, t.priority, t.channel
        FROM tickets_ticketevent e
        JOIN tickets_ticket t ON t.id = e.ticket_id AND t.external_id = %s
        LEFT JOIN tickets_organization o ON o.id = t.organization_id
        CROSS JOIN LATERAL (
            SELECT CASE WHEN x < 0.6 THEN 'answered' WHEN x < 0.9 THEN 'sent'
                        WHEN x < 0.97 THEN 'expired' ELSE 'void' END AS status
            FROM (SELECT random() + 0 * e.id AS x) r
        ) v
        WHERE e.type = 'status_changed'
        """,
        [MARK],
    )
    _exec(
        """
        INSERT INTO csat_denominator (date, metric, segment, value, updated_at)
        SELECT d::date, m.metric, s.segment,
               CASE m.metric
                 WHEN 'active_accounts' THEN (2200 * s.share)::bigint
                 ELSE ((150000 + 100000 * random()) * s.share)::bigint END,
               now()
        FROM generate_series(current_date - 400, current_date, interval '1 day') d
        CROSS JOIN (VALUES ('active_accounts'), ('payments')) m(metric)
        CROSS JOIN (VALUES ('all', 1.0), ('standard', 0.6), ('premium', 0.3),
                           ('enterprise', 0.1)) s(segment, share)
        ON CONFLICT DO NOTHING
        """
    )


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _measure(client: Client, urls: list[str], **headers) -> tuple[float, float, int]:
    for i in range(WARM_UP):
        assert client.get(urls[i % len(urls)], **headers).status_code == 200
    samples = []
    for i in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(urls[i % len(urls)], **headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        client.get(urls[0], **headers)
    return _percentile(samples, 0.5), _percentile(samples, 0.95), len(queries)


def _figure(value: float, unit: str) -> dict:
    return {"value": round(value, 2), "unit": unit, "reference": None, "ratio": None}


def run(scale: float) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Role, User

    n_tickets = max(1000, int(TICKETS * scale))
    n_responses = max(200, int(RESPONSES * scale))
    started = time.monotonic()
    _setup(n_tickets, n_responses)
    print(
        f"   inserted {n_tickets:,} tickets and ~{n_responses:,} survey responses"
        f" in {time.monotonic() - started:.0f} s"
    )
    for table in (
        "tickets_ticket",
        "tickets_organization",
        "tickets_ticketevent",
        "csat_survey",
        "csat_denominator",
    ):
        _exec(f"VACUUM ANALYZE {table}")
    lead, _ = User.objects.get_or_create(username=f"{MARK}-lead", defaults={"role": Role.LEAD})
    client = Client()
    client.force_login(lead)
    month = (timezone.now() - timedelta(days=30)).date().isoformat()
    groups = ("", "day", "reason", "tier", "queue", "agent")
    api7 = _measure(client, [f"/api/v1/metrics/support?group_by={g}" for g in groups])
    api30 = _measure(client, [f"/api/v1/metrics/support?from={month}&group_by={g}" for g in groups])
    dash = _measure(
        client,
        ["/dashboard/?part=support", f"/dashboard/?part=support&from={month}"],
        HTTP_HX_REQUEST="true",
    )
    return {
        "support_api_p95_ms": _figure(api7[1], "ms"),
        "support_api_p50_ms": _figure(api7[0], "ms"),
        "support_api_queries": _figure(api7[2], "queries"),
        "support_api_30d_p95_ms": _figure(api30[1], "ms"),
        "support_api_30d_p50_ms": _figure(api30[0], "ms"),
        "support_dashboard_p95_ms": _figure(dash[1], "ms"),
        "support_dashboard_p50_ms": _figure(dash[0], "ms"),
        "support_dashboard_queries": _figure(dash[2], "queries"),
    }

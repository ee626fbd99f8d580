"""SQL analytics (DESIGN §10): the saved "Breaches by queue and weekday (90 days)" query over
1,000,000 tickets x scale. The figure is its p95 through the console, meaning the API
endpoint in-process: permission, rate limit, lock, parser check, a fresh connection as the
analytics role, the read-only transaction and the audit row. The reference is the same SQL
run directly on the owner's connection; ratio = console / direct.

Its own desk (marked "bench-an", so it can run beside the dashboard bench in one database):
a year of tickets over four queues, first-reply and resolution timers for each, about a
fifth of them breached, written with generate_series and then analysed.
"""

import math
import time

from django.db import connection, transaction
from django.test import Client

TICKETS = 1_000_000
REQUESTS = 30
WARM_UP = 3
MARK = "bench-an"


def _exec(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _setup_desk(n_tickets: int) -> None:
    from tickets.models import Queue

    queues = [
        Queue.objects.get_or_create(slug=f"{MARK}-{slug}", defaults={"name": f"{name} (bench)"})[
            0
        ].pk
        for slug, name in [
            ("payments", "Payments"),
            ("payouts", "Payouts"),
            ("disputes", "Disputes"),
            ("api", "API"),
        ]
    ]
    n_orgs = max(100, n_tickets // 100)
    _exec("SELECT setseed(0.17)")
    _exec(
        "INSERT INTO tickets_organization (name, external_id, tier, created_at)"
        " SELECT 'Merchant ' || g, %s || g, 'standard', now() FROM generate_series(1, %s) g"
        " ON CONFLICT DO NOTHING",
        [f"{MARK}-org-", n_orgs],
    )
    _exec(
        "INSERT INTO tickets_requester (email, name, organization_id, created_at)"
        " SELECT o.external_id || '@bench.test', o.name, o.id, now()"
        " FROM tickets_organization o WHERE o.external_id LIKE %s ON CONFLICT DO NOTHING",
        [f"{MARK}-org-%"],
    )
    _exec(
        """
        INSERT INTO tickets_ticket (subject, description, status, priority, channel, tags,
            external_id, created_at, updated_at, solved_at, version, sla_stale, cc,
            opened_by_robot, organization_id, queue_id, requester_id)
        SELECT 'Payout ' || g || ' delayed', 'Our payout has not arrived.', 'solved',
               'normal', 'email', '{}', %(mark)s, s.created, s.created,
               s.created + interval '5 hours', 1, false, '{}', false,
               r.organization_id, (%(queues)s::bigint[])[1 + g %% 4], r.id
        FROM generate_series(1, %(n)s) g
        CROSS JOIN LATERAL (SELECT now() - (random() + 0 * g) * interval '365 days' AS created) s
        JOIN tickets_requester r ON r.id = (SELECT min(id) FROM tickets_requester
                                            WHERE email LIKE %(like)s) + (g %% %(orgs)s)
        """,
        {"mark": MARK, "queues": queues, "n": n_tickets, "orgs": n_orgs, "like": f"{MARK}-%"},
    )
    for metric, minutes in (("first_reply", 240), ("resolution", 1440)):
        _exec(
            f"""
            INSERT INTO sla_slatimer (metric, cycle, status, running, target_minutes,
                business_hours, started_at, due_at, warning_at, fulfilled_at, breached_at,
                elapsed_seconds, computed_at, ticket_id)
            SELECT %(metric)s, 1, CASE WHEN x.breached THEN 'breached' ELSE 'met' END, false,
                   {minutes}, false, t.created_at, t.created_at + interval '{minutes} min',
                   t.created_at + interval '{minutes * 3 // 4} min',
                   t.created_at + interval '1 hour',
                   CASE WHEN x.breached THEN t.created_at + interval '{minutes} min' END,
                   3600, now(), t.id
            FROM tickets_ticket t
            CROSS JOIN LATERAL (SELECT random() + 0 * t.id < 0.2 AS breached) x
            WHERE t.external_id = %(mark)s
            """,
            {"metric": metric, "mark": MARK},
        )
    for table in ("tickets_ticket", "sla_slatimer", "tickets_queue"):
        _exec(f"VACUUM ANALYZE {table}")


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _timed_pairs(*calls) -> list[list[float]]:
    """Milliseconds of each call, the calls taking turns: right after 1,000,000 inserts the
    cache and the visibility map are still settling, and whichever ran all its requests
    first paid for that alone (once 1.58 x, once 0.99 x, for the same code)."""
    for _ in range(WARM_UP):
        for call in calls:
            call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(REQUESTS):
        for call, times in zip(calls, samples, strict=True):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
    return samples


def _figure(value: float, unit: str, reference=None) -> dict:
    ratio = round(value / reference, 3) if reference else None
    return {
        "value": round(value, 2),
        "unit": unit,
        "reference": None if reference is None else round(reference, 2),
        "ratio": ratio,
    }


def run(scale: float) -> dict:
    from accounts.models import Role, User
    from analytics import services
    from analytics.demo import SAVED_QUERIES, seed_saved_queries
    from analytics.models import SavedQuery
    from analytics.sqlcheck import bind_parameters

    n_tickets = max(1000, int(TICKETS * scale))
    started = time.monotonic()
    _setup_desk(n_tickets)
    print(
        f"   inserted {n_tickets:,} tickets, 2 timers each, in {time.monotonic() - started:.0f} s"
    )
    seed_saved_queries()
    spec = SAVED_QUERIES[0]
    saved = SavedQuery.objects.get(name=spec["name"])
    services.RUNS_PER_MINUTE = 10**9  # the bench measures speed, not the per-person limit
    lead, _ = User.objects.get_or_create(username=f"{MARK}-lead", defaults={"role": Role.LEAD})
    client = Client()
    client.force_login(lead)
    url = f"/api/v1/analytics/saved-queries/{saved.pk}/run"

    rows = []

    def console():
        response = client.post(url, {"params": {"days": 90}}, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        rows.append(response.json()["row_count"])

    bound = bind_parameters(saved.sql)
    direct_sql = bound.text.replace("$1", "%s")

    def direct():  # the owner reads the same views, in a transaction of its own
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL search_path = analytics")
            cursor.execute(direct_sql, [90])
            cursor.fetchall()

    console_samples, direct_samples = _timed_pairs(console, direct)
    console_p95, direct_p95 = _percentile(console_samples, 0.95), _percentile(direct_samples, 0.95)
    print(
        f"   {rows[-1]} result rows; console p95 {console_p95:.1f} ms, direct p95 "
        f"{direct_p95:.1f} ms, ratio {console_p95 / direct_p95:.2f}"
    )
    return {
        "analytics_console_p95_ms": _figure(console_p95, "ms", direct_p95),
        "analytics_console_p50_ms": _figure(
            _percentile(console_samples, 0.5), "ms", _percentile(direct_samples, 0.5)
        ),
    }

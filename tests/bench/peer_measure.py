"""The peer's side of `bench_peer`, run as its own process with tests.bench.peer_site:

    DATABASE_URL=... DJANGO_SETTINGS_MODULE=tests.bench.peer_site \\
        python -m tests.bench.peer_measure 100000

Migrates django-helpdesk into an empty database, bulk-inserts the tickets with
generate_series (a year of them, about 10 % open, four queues, 40 staff owners, one public
follow-up each), then measures as a staff member who owns some of them:
- the staff dashboard (/helpdesk/dashboard/) over those tickets;
- the ticket list's rows (the JSON its table loads: the default open/reopened query,
  oldest first, 50 rows) once every ticket is open, as our queue page is measured.
Server time per request with django.test.Client, as for our pages. The last line printed is
a JSON object of figures.
"""

import json
import math
import sys
import time

import django


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _measure(client, url: str, requests: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return _percentile(samples, 0.5), _percentile(samples, 0.95), len(queries)


def _load(n_tickets: int) -> int:
    from django.contrib.auth.models import User
    from django.db import connection
    from helpdesk.models import Queue

    queues = [
        Queue.objects.create(title=title, slug=slug).pk
        for title, slug in [
            ("Payments", "payments"),
            ("Payouts", "payouts"),
            ("Disputes", "disputes"),
            ("API & Integrations", "api"),
        ]
    ]
    staff = [
        User.objects.create(username=f"agent{i}", email=f"agent{i}@desk.test", is_staff=True).pk
        for i in range(40)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO helpdesk_ticket (title, queue_id, created, modified, submitter_email,
                assigned_to_id, status, on_hold, description, priority, secret_key)
            SELECT 'Payout ' || g || ' delayed', (%(queues)s::int[])[1 + (g / 11) %% 4],
                   s.created, s.created, 'ops' || (g %% 10000) || '@merchant.example',
                   (%(staff)s::int[])[1 + (g / 3) %% 40],
                   CASE WHEN s.open THEN 1 + g %% 2 ELSE 3 + g %% 2 END, false,
                   'Our payout has not arrived.', 1 + g %% 5, md5(g::text)
            FROM generate_series(1, %(n)s) g
            CROSS JOIN LATERAL (
                SELECT now() - (random() + 0 * g) * interval '365 days' AS created,
                       random() < 0.1 AS open
            ) s
            """,
            {"queues": queues, "staff": staff, "n": n_tickets},
        )
        cursor.execute(
            "INSERT INTO helpdesk_followup (ticket_id, date, title, comment, public, user_id)"
            " SELECT t.id, t.created + interval '37 minutes', 'Comment', 'On it', true,"
            " t.assigned_to_id FROM helpdesk_ticket t"
        )
        for table in ("helpdesk_ticket", "helpdesk_followup"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return staff[0]


def main(n_tickets: int, requests: int) -> dict:
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from helpdesk.query import query_to_base64

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    me = _load(n_tickets)
    print(f"   peer: inserted {n_tickets:,} tickets in {time.monotonic() - started:.0f} s")
    client = Client()
    client.force_login(User.objects.get(pk=me))
    dash = _measure(client, "/helpdesk/dashboard/", requests)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE helpdesk_ticket SET status = 1 + id % 2")
        cursor.execute("VACUUM ANALYZE helpdesk_ticket")
    # What /helpdesk/tickets/ loads for its table by default (views.staff.ticket_list).
    default_query = {
        "filtering": {"status__in": [1, 2]},
        "sorting": "created",
        "search_string": "",
        "sortreverse": False,
    }
    rows_url = (
        f"/helpdesk/datatables_ticket_list/{query_to_base64(default_query)}"
        "?draw=1&start=0&length=50"
    )
    rows = _measure(client, rows_url, requests)
    return {
        "dashboard": {"p50": dash[0], "p95": dash[1], "queries": dash[2]},
        "ticket_list": {"p50": rows[0], "p95": rows[1], "queries": rows[2]},
    }


if __name__ == "__main__":
    figures = main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10)
    print(json.dumps(figures))

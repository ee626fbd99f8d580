"""Benchmark 1 (DESIGN §7): API ticket creation, requests/s at concurrency 8 through
gunicorn (4 sync workers, one thread each, for ours and the reference alike) on loopback,
against a minimal DRF insert endpoint served the same way in the same run. A second of
warm-up each, then five alternating rounds each (ROUNDS); medians are reported. Benchmark 6 beside
it: the SQL statements of one creation (`api_create_queries`, BEGIN and COMMIT included),
counted in-process."""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from accounts.services import api_token_create
from tickets.services import queue_default

from .load import idempotency_headers, run_load
from .minimal_site import CREATE_TABLE

ROOT = Path(__file__).resolve().parents[2]
# Five, not three: on 2 cores one round can lose a fifth to a checkpoint or autovacuum.
ROUNDS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(app: str, settings_module: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", "4",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except urllib.error.HTTPError:
            return proc  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.2)
            continue
        return proc
    proc.kill()
    raise RuntimeError(f"{app} did not start on port {port}")


def _ticket(n: int) -> dict:
    return {
        "subject": f"Payout {n} delayed",
        "description": "Payout has not arrived; request id req_123.",
        "requester": {"email": f"ops{n % 500}@merchant.example", "name": "Ops"},
        "priority": "high",
        "tags": ["payouts"],
    }


def _queries_per_creation(token: str) -> int:
    """Statements of one creation as the load sends it (an Idempotency-Key, a requester
    seen before), after a first request has warmed this process as a server's would be."""
    client = Client()
    headers = idempotency_headers(token)

    def create(n: int) -> None:
        response = client.post(
            "/api/v1/tickets", json.dumps(_ticket(n)), content_type="application/json",
            headers=headers(),
        )  # fmt: skip
        assert response.status_code == 201, response.content

    create(0)
    with CaptureQueriesContext(connection) as queries:
        create(500)  # the same requester as ticket 0
    return len(queries.captured_queries)


def run(scale: float) -> dict:
    seconds = max(3.0, 10.0 * scale)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    queue_default()
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": Role.AGENT})
    _, token = api_token_create(user=user, scopes=["tickets:read", "tickets:write"])

    ours_port, ref_port = _free_port(), _free_port()
    ours = _serve("support_desk.wsgi", "support_desk.settings", ours_port)
    ref = _serve("tests.bench.minimal_wsgi:application", "tests.bench.minimal_site", ref_port)
    ours_rps, ref_rps = [], []
    try:
        # An uncounted second each: a worker's first requests import code and connect.
        run_load(port=ours_port, path="/api/v1/tickets", body=_ticket,
                 headers=idempotency_headers(token), seconds=1.0)  # fmt: skip
        run_load(port=ref_port, path="/items", body=_ticket, headers=lambda: {}, seconds=1.0)
        for _ in range(ROUNDS):
            result = run_load(
                port=ours_port, path="/api/v1/tickets", body=_ticket,
                headers=idempotency_headers(token), seconds=seconds,
            )  # fmt: skip
            ours_rps.append(result["rps"])
            print(f"   ours: {result['rps']:.1f} req/s statuses={result['statuses']}")
            result = run_load(
                port=ref_port, path="/items", body=_ticket, headers=lambda: {}, seconds=seconds
            )
            ref_rps.append(result["rps"])
            print(f"   reference: {result['rps']:.1f} req/s statuses={result['statuses']}")
    finally:
        for proc in (ours, ref):
            proc.terminate()
            proc.wait(10)
    value, reference = statistics.median(ours_rps), statistics.median(ref_rps)
    queries = _queries_per_creation(token)
    print(f"   queries per creation: {queries}")
    return {
        "api_create": {
            "value": round(value, 1),
            "unit": "req/s",
            "reference": round(reference, 1),
            "ratio": round(value / reference, 3) if reference else None,
        },
        # DESIGN §7 item 6; the goal (6) stands as its reference.
        "api_create_queries": {
            "value": queries,
            "unit": "queries",
            "reference": 6,
            "ratio": round(queries / 6, 3),
        },
    }

"""Benchmark 1 (DESIGN §7): API ticket creation, requests/s at concurrency 8 through
gunicorn (4 sync workers) on loopback, against a minimal DRF insert endpoint served the
same way in the same run. Three alternating rounds each; medians are reported."""

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection

from accounts.models import Role, User
from accounts.services import api_token_create
from tickets.services import queue_default

from .load import idempotency_headers, run_load
from .minimal_site import CREATE_TABLE

ROOT = Path(__file__).resolve().parents[2]


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

        def ticket(n: int) -> dict:
            return {
                "subject": f"Payout {n} delayed",
                "description": "Payout has not arrived; request id req_123.",
                "requester": {"email": f"ops{n % 500}@merchant.example", "name": "Ops"},
                "priority": "high",
                "tags": ["payouts"],
            }

        for _ in range(3):
            result = run_load(
                port=ours_port, path="/api/v1/tickets", body=ticket,
                headers=idempotency_headers(token), seconds=seconds,
            )  # fmt: skip
            ours_rps.append(result["rps"])
            print(f"   ours: {result['rps']:.1f} req/s statuses={result['statuses']}")
            result = run_load(
                port=ref_port, path="/items", body=ticket, headers=lambda: {}, seconds=seconds
            )
            ref_rps.append(result["rps"])
            print(f"   reference: {result['rps']:.1f} req/s statuses={result['statuses']}")
    finally:
        for proc in (ours, ref):
            proc.terminate()
            proc.wait(10)
    value, reference = statistics.median(ours_rps), statistics.median(ref_rps)
    return {
        "api_create": {
            "value": round(value, 1),
            "unit": "req/s",
            "reference": round(reference, 1),
            "ratio": round(value / reference, 3) if reference else None,
        }
    }

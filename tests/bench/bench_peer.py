"""The peer, measured in the same sitting (issue 10, item 4): django-helpdesk's staff
dashboard over 100,000 tickets x scale and its ticket list's rows over as many open ones,
server time over 10 requests after a warm-up, on a database of its own beside the bench's.

tests/bench/run.py sets our dashboard and queue page against these figures
(`dashboard_vs_peer`, `queue_page_vs_peer`: ours / the peer's, p50). The peer is the `peer`
extra, which `make bench` installs; without it this benchmark says so and reports nothing.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

TICKETS = 100_000
REQUESTS = 10
ROOT = Path(__file__).resolve().parents[2]


def _figure(value: float, unit: str) -> dict:
    return {"value": round(value, 2), "unit": unit, "reference": None, "ratio": None}


def run(scale: float) -> dict:
    from tests.bench.run import BENCH_DB, _admin, _drop

    if importlib.util.find_spec("helpdesk") is None:
        print("   django-helpdesk is not installed: pip install -e '.[peer]' to measure it")
        return {}
    name = f"{BENCH_DB}_peer"
    _drop(name)
    _admin(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.bench.peer_site",
        "PYTHONPATH": str(ROOT),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.peer_measure", str(max(1000, int(TICKETS * scale))),
             str(REQUESTS)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True,
        )  # fmt: skip
    finally:
        _drop(name)
    *progress, last = done.stdout.strip().splitlines()
    for line in progress:
        print(line)
    figures = json.loads(last)
    dash, rows = figures["dashboard"], figures["ticket_list"]
    return {
        "peer_dashboard_p50_ms": _figure(dash["p50"], "ms"),
        "peer_dashboard_p95_ms": _figure(dash["p95"], "ms"),
        "peer_dashboard_queries": _figure(dash["queries"], "queries"),
        "peer_ticket_list_p50_ms": _figure(rows["p50"], "ms"),
        "peer_ticket_list_p95_ms": _figure(rows["p95"], "ms"),
        "peer_ticket_list_queries": _figure(rows["queries"], "queries"),
    }

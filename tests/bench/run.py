"""`make bench`: every benchmark of DESIGN §7, each on a fresh database, figures and ratios.

    BENCH_SCALE=0.1 make bench        # smaller data sizes for a quick run
    BENCH_ONLY=api_create make bench  # one module (tests/bench/bench_<name>.py)

Each module tests/bench/bench_*.py exposes run(scale) -> {name: {value, unit, reference,
ratio}}. Results are printed as a table and written to var/bench.json.

Every module starts on its own copy of the freshly migrated database: a million tickets left
by one benchmark would otherwise slow the next one's inserts and plans, and a figure would
depend on which benchmarks ran before it.
"""

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
# BENCH_DB: so that two benches on one PostgreSQL (a CI matrix, a team) do not clash.
BENCH_DB = os.environ.get("BENCH_DB", "support_desk_bench")


# Ours against the peer measured in the same run (bench_peer): (our figure, the peer's).
VERSUS_PEER = {
    "dashboard_vs_peer": ("dashboard_p50_ms", "peer_dashboard_p50_ms"),
    "queue_page_vs_peer": ("queue_page_p50_ms", "peer_ticket_list_p50_ms"),
}


def _versus_peer(results: dict) -> None:
    for name, (ours, peer) in VERSUS_PEER.items():
        if ours in results and peer in results:
            value, reference = results[ours]["value"], results[peer]["value"]
            results[name] = {
                "value": value,
                "unit": "ms",
                "reference": reference,
                "ratio": round(value / reference, 4) if reference else None,
            }


def _admin(sql: str, *params) -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(sql, list(params))


def _admin_url() -> str:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from support_desk.env import env_str

    return urlunsplit(urlsplit(env_str("DATABASE_URL"))._replace(path="/postgres"))


def _drop(name: str) -> None:
    _admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)
    _admin(f'DROP DATABASE IF EXISTS "{name}"')


def _bench_database_url() -> str:
    """Recreate the (empty) bench database beside the configured one and return its URL."""
    _drop(BENCH_DB)
    _admin(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(urlsplit(_admin_url())._replace(path=f"/{BENCH_DB}"))


def _restore_fresh(template: str) -> None:
    """Replace the bench database with a copy of the migrated one, kept as `template`."""
    from django.db import connections

    from tests.bench.history import broker_purge
    from tickets.services import queue_default_forget

    broker_purge()  # tasks naming rows of the database about to be dropped
    connections.close_all()
    queue_default_forget()  # the id of a queue in the database just dropped
    _drop(BENCH_DB)
    _admin(f'CREATE DATABASE "{BENCH_DB}" TEMPLATE "{template}"')
    _checkpoint()


def _checkpoint() -> None:
    """Write out what the previous benchmark left in shared buffers and the WAL now, not
    during the next one's measurements (a million-row load was still being flushed well
    into the following benchmark)."""
    import psycopg

    try:
        _admin("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        print("   (no CHECKPOINT: the bench's database user may not run it)", flush=True)


def main() -> int:
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    only = os.environ.get("BENCH_ONLY")
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ["API_RATE_LIMIT"] = "100000000/min"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support_desk.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    connections.close_all()
    template = f"{BENCH_DB}_migrated"
    _drop(template)
    _admin(f'CREATE DATABASE "{template}" TEMPLATE "{BENCH_DB}"')
    _checkpoint()

    names = sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only.split(",")]
    results: dict[str, dict] = {}
    failed = []
    for position, name in enumerate(names):
        started = time.monotonic()
        print(f"== {name} (scale {scale}) ...", flush=True)
        try:
            if position:
                _restore_fresh(template)
            module = importlib.import_module(f"tests.bench.{name}")
            results.update(module.run(scale))
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"   {name} took {time.monotonic() - started:.1f} s", flush=True)
    _drop(template)
    _versus_peer(results)

    print(f"\n{'benchmark':<28}{'value':>14} {'unit':<8}{'reference':>14}{'ratio':>10}")
    for key, row in results.items():
        ref = "-" if row.get("reference") is None else f"{row['reference']:.4g}"
        ratio = "-" if row.get("ratio") is None else f"{row['ratio']:.3g}"
        print(f"{key:<28}{row['value']:>14.4g} {row['unit']:<8}{ref:>14}{ratio:>10}")
    out = ROOT / "var" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

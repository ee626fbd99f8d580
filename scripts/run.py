"""`make run`: embedded services, migrations, demo data once, then web + worker + beat + mail.

Ctrl-C stops every process started here, and the embedded services, leaving no orphans.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import services  # noqa: E402

PY = sys.executable


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_healthy(url: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def support_email() -> str:
    return os.environ.get("SUPPORT_EMAIL", "support@desk.localhost")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything cleanly, like Ctrl-C
    # Ctrl-C works even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--web-workers", type=int, default=3)
    args = parser.parse_args()
    if not port_free(args.port):
        print(f"Port {args.port} is already in use; try `make run PORT=8001`.", file=sys.stderr)
        return 1
    smtp_port = int(os.environ.get("SMTP_PORT", 2525))
    if not port_free(smtp_port):
        print(f"Port {smtp_port} is already in use; try SMTP_PORT=2526.", file=sys.stderr)
        return 1

    started = services.up()  # only these are stopped at the end, not ones already running
    try:
        return serve(args.port, smtp_port, args.web_workers)
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as error:
        print(f"`{' '.join(error.cmd[1:])}` failed (exit {error.returncode}); stopping.",
              file=sys.stderr)  # fmt: skip
        return 1
    finally:
        # Also when a step before the servers failed: nothing embedded is left running.
        if os.environ.get("KEEP_SERVICES") != "1":
            services.down(only=started)


def serve(port: int, smtp_port: int, web_workers: int) -> int:
    """Migrate, seed once, then run the processes until one exits or Ctrl-C."""
    for line in services.ENV_FILE.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            os.environ.setdefault(name, value)
    os.environ.setdefault("PYTHONWARNINGS", "ignore::RuntimeWarning")
    os.environ.setdefault("DESK_BASE_URL", f"http://127.0.0.1:{port}")
    manage("migrate", "--noinput")
    # The read-only SQL role and views (DESIGN §10); where the database user may not create
    # roles it says why, and the desk still starts (the console then says so too).
    subprocess.run([PY, "manage.py", "analytics_setup"], cwd=ROOT, check=False)
    manage("collectstatic", "--noinput", "-v", "0")
    manage("seed_demo", "--if-empty")

    run_dir = ROOT / "var" / "run"
    commands = {
        "web": [
            PY, "-m", "gunicorn", "support_desk.wsgi", "-c", "support_desk/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(web_workers),
            "--access-logfile", "-",
        ],
        # Warnings only: the sweep runs every second and would flood the terminal at INFO.
        "worker": [PY, "-m", "celery", "-A", "support_desk", "worker", "-l", "warning", "-c", "2"],
        "beat": [
            PY, "-m", "celery", "-A", "support_desk", "beat", "-l", "warning",
            "-s", str(run_dir / "celerybeat-schedule"),
            "--pidfile", str(run_dir / "celerybeat.pid"),
        ],
        # The SMTP door (DESIGN §8): stores each message, then the worker processes it.
        "mail": [PY, "manage.py", "smtp_receiver", "--port", str(smtp_port)],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen] = {}
    (run_dir / "celerybeat.pid").unlink(missing_ok=True)
    try:
        for name, command in commands.items():
            procs[name] = subprocess.Popen(command, cwd=ROOT)
        url = f"http://127.0.0.1:{port}/"
        if wait_healthy(url + "healthz"):
            print(
                f"\n  Support Desk is running at {url}\n"
                "  Demo logins (password 'demo'): agent, lead, engineer, admin\n"
                f"  API docs: {url}api/v1/docs/   Health: {url}healthz\n"
                f"  Mail: SMTP on 127.0.0.1:{smtp_port} for {support_email()}\n"
                "  Press Ctrl-C to stop.\n",
                flush=True,
            )
        else:
            print("The web server did not become healthy within 60 s; see the log above.")
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        print(f"{', '.join(dead)} exited; stopping the rest.", file=sys.stderr)
        return 1
    finally:
        stop(procs)


def stop(procs: dict[str, subprocess.Popen]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the clean-up
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())

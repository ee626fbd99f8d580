"""scripts/services.py: services.env tells other terminals what `make run` uses, and
`exec` (make test, make bench) stops only the embedded services it started.

Runs a copy of the script in a temporary project folder, so its PostgreSQL and Redis are
throw-away ones, never the developer's var/pg."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support_desk import env

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "services.py"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "services.py")
    yield tmp_path
    services(tmp_path, "down", env={})  # whatever a failed test left running


def services(root: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "services.py"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def running(root: Path) -> dict[str, bool]:
    def alive(pidfile: Path) -> bool:
        try:
            os.kill(int(pidfile.read_text().split()[0]), 0)
            return True
        except (OSError, ValueError):
            return False

    return {
        "postgres": alive(root / "var" / "pg" / "postmaster.pid"),
        "redis": alive(root / "var" / "run" / "redis.pid"),
    }


def test_up_writes_the_urls_in_effect_even_when_they_are_yours(project):
    mine = {
        "DATABASE_URL": "postgresql://desk@db.example:5432/desk",
        "REDIS_URL": "redis://cache.example:6379/3",
        "SECRET_KEY": "s3cret",
    }
    services(project, "up", env=mine)
    written = (project / "var" / "run" / "services.env").read_text().splitlines()
    assert "DATABASE_URL=postgresql://desk@db.example:5432/desk" in written
    assert "REDIS_URL=redis://cache.example:6379/3" in written
    assert "SECRET_KEY=s3cret" in written
    assert running(project) == {"postgres": False, "redis": False}


def test_settings_read_services_env_for_what_the_environment_does_not_set(tmp_path, monkeypatch):
    file = tmp_path / "services.env"
    file.write_text("# comment\nDATABASE_URL=postgresql://x@elsewhere/desk\n")
    monkeypatch.setattr(env, "SERVICES_ENV", file)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert env.env_str("DATABASE_URL") == "postgresql://x@elsewhere/desk"
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@mine/desk")
    assert env.env_str("DATABASE_URL") == "postgresql://x@mine/desk"


def test_exec_stops_what_it_started_and_only_that(project):
    show = "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"
    out = services(project, "exec", "--", sys.executable, "-c", show, env={}).stdout
    database_url, redis_url = out.split()
    assert database_url.startswith("postgresql://")
    assert redis_url.startswith("unix://")
    assert running(project) == {"postgres": False, "redis": False}  # nothing left behind
    assert not (project / "var" / "run" / "services.env").exists()

    services(project, "up", env={})  # as `make run` does
    assert running(project) == {"postgres": True, "redis": True}
    before = (project / "var" / "run" / "services.env").read_text()
    services(project, "exec", "--", sys.executable, "-c", "pass", env={})
    assert running(project) == {"postgres": True, "redis": True}  # not ours to stop
    assert (project / "var" / "run" / "services.env").read_text() == before
    services(project, "down", env={})
    assert running(project) == {"postgres": False, "redis": False}


def test_exec_returns_the_commands_exit_status(project):
    mine = {"DATABASE_URL": "postgresql://x@y/z", "REDIS_URL": "redis://y:1/0"}
    with pytest.raises(subprocess.CalledProcessError) as failed:
        services(project, "exec", "--", sys.executable, "-c", "raise SystemExit(3)", env=mine)
    assert failed.value.returncode == 3

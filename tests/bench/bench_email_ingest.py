"""Benchmark 9 (DESIGN §7): inbound e-mail per second, from SMTP to a threaded, visible
message, half new tickets and half replies, at concurrency 4.

The SMTP receiver (mail.smtp, as `manage.py smtp_receiver` runs it) listens on a free port
in this process; a Celery worker, started as `make run` starts it, processes what it
commits. First, 1,000 x scale e-mails (at least 20) open the tickets that the replies
answer (untimed). Then 2,000 x scale (at least 40) are sent by 4 SMTP clients, each on its
own connection, one message after another: odd ones new, even ones replies (In-Reply-To a
seeded message). The clock stops when every one is processed: its ticket or message is in
the database, threaded.

- `email_ingest_per_s`: messages / seconds from the first MAIL FROM to the last processed.
- `email_smtp_accept_per_s`: beside it, messages / seconds until the last 250 (the door
  alone: committed, not yet processed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage as Mime
from email.policy import SMTP
from pathlib import Path

from django.conf import settings

from . import history

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / "var" / "run"
MARK = "bench-email"
SEEDS = 1_000
MESSAGES = 2_000
CONCURRENCY = 4
WORKER = ["worker", "-l", "warning", "-c", "2", "-n", f"{MARK}@%h"]
TIMEOUT_S = 600


def _say(text: str) -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _letters(n: int) -> str:
    return "".join("abcdefghij"[int(d)] for d in str(n))  # ids without digit runs


def _msgid(n: int) -> str:
    return f"<{MARK}.{_letters(n)}@bench.test>"


def _mail(n: int, *, reply_to: str | None = None) -> bytes:
    letters = _letters(n)
    message = Mime()
    message["From"] = f"Merchant {letters} <merchant.{letters}@bench.test>"
    message["To"] = settings.SUPPORT_EMAIL
    message["Message-ID"] = _msgid(n)
    if reply_to:
        message["Subject"] = "Re: Payout missing"
        message["In-Reply-To"] = reply_to
        message["References"] = reply_to
        message.set_content(
            "Any news? Our finance team is asking.\n\n"
            "On Mon, 1 Dec 2026 at 10:00, Support wrote:\n> We are looking into it.\n"
        )
    else:
        message["Subject"] = f"Payout {letters} missing"
        message.set_content("Our payout of last Friday has not arrived. Request id req_5Ts9Q.")
    return message.as_bytes(policy=SMTP)


class Worker:
    """A Celery worker in its own process group, always stopped (by its id)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.log = RUN_DIR / f"{MARK}-worker.log"

    def start(self) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            # Acknowledgements are sent too (part of the cost), into memory.
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "support_desk", *WORKER],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(20)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])


def _wait_ready(worker: Worker) -> None:
    from support_desk.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError("the Celery worker exited\n" + worker.tail())
        with contextlib.suppress(Exception):
            if app.control.ping(timeout=1.0, destination=None):
                return
    raise RuntimeError("the Celery worker did not answer within 60 s\n" + worker.tail())


def _send_all(port: int, batches: list[list[bytes]]) -> None:
    def client(batch: list[bytes]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for raw in batch:
                smtp.sendmail("merchant@bench.test", [settings.SUPPORT_EMAIL], raw)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for future in [pool.submit(client, batch) for batch in batches]:
            future.result()


def _waiting(since_id: int) -> int:
    from mail.models import InboundEmail, InboundStatus

    return InboundEmail.objects.filter(pk__gt=since_id, status=InboundStatus.RECEIVED).count()


def _wait_processed(since_id: int, expected: int, worker: Worker) -> None:
    from mail.models import InboundEmail

    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        stored = InboundEmail.objects.filter(pk__gt=since_id).count()
        if stored >= expected and _waiting(since_id) == 0:
            return
        if not worker.alive():
            raise RuntimeError("the Celery worker exited\n" + worker.tail())
        time.sleep(0.05)
    raise RuntimeError(f"inbound mail not processed within {TIMEOUT_S} s")


def _cleanup() -> None:
    from mail.models import EmailMessage, InboundEmail
    from tickets.models import Requester, Ticket

    tickets = Ticket.objects.filter(requester__email__endswith="@bench.test")
    EmailMessage.objects.filter(ticket__in=tickets).delete()
    InboundEmail.objects.filter(rfc_message_id__startswith=f"{MARK}.").delete()
    tickets.delete()
    Requester.objects.filter(email__endswith="@bench.test").delete()


def run(scale: float) -> dict:
    from mail.inbound import inbound_process, inbound_store
    from mail.models import Door, InboundEmail, InboundStatus
    from mail.smtp import controller
    from tickets.services import queue_default

    seeds = max(20, int(SEEDS * scale))
    total = max(40, int(MESSAGES * scale))
    queue_default()
    _cleanup()
    # The tickets the replies answer, processed here (untimed).
    seed_ids = []
    for n in range(seeds):
        raw = _mail(1_000_000 + n)
        stored = inbound_store(raw=raw, door=Door.PIPE)
        inbound_process(inbound_id=stored.inbound.pk)
        seed_ids.append(_msgid(1_000_000 + n))
    messages = [
        _mail(n) if n % 2 else _mail(2_000_000 + n, reply_to=seed_ids[n % seeds])
        for n in range(total)
    ]
    batches = [messages[i::CONCURRENCY] for i in range(CONCURRENCY)]
    since_id = InboundEmail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    history.broker_purge()  # the seeds' own processing tasks: already done here
    port = _free_port()
    receiver = controller(host="127.0.0.1", port=port)
    worker = Worker()
    try:
        receiver.start()
        worker.start()
        _wait_ready(worker)
        started = time.monotonic()
        _send_all(port, batches)
        accepted_s = time.monotonic() - started
        _wait_processed(since_id, total, worker)
        elapsed = time.monotonic() - started
        done = InboundEmail.objects.filter(pk__gt=since_id)
        processed = done.filter(status=InboundStatus.PROCESSED).count()
        replies = done.filter(message__isnull=False).count()
        _say(
            f"   {total} messages ({replies} threaded replies, {processed} processed) "
            f"in {elapsed:.2f} s; all accepted after {accepted_s:.2f} s"
        )
        failed = done.exclude(status=InboundStatus.PROCESSED).values_list("error", flat=True)[:3]
        if failed:
            _say(f"   not processed: {list(failed)}")
    finally:
        receiver.stop()
        receiver.handler.close()
        worker.stop()
        history.broker_purge()
        _cleanup()
    return {
        "email_ingest_per_s": {
            "value": round(total / elapsed, 2),
            "unit": "msg/s",
            "reference": None,
            "ratio": None,
        },
        "email_smtp_accept_per_s": {
            "value": round(total / accepted_s, 2),
            "unit": "msg/s",
            "reference": None,
            "ratio": None,
        },
    }

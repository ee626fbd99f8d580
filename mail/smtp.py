"""The SMTP door (aiosmtpd): 250 only once the message is committed (DESIGN §8).

aiosmtpd runs the conversation on an asyncio loop; the database work of each message runs
in a small thread pool (Django's ORM is synchronous), and each thread closes connections
that went bad, so a PostgreSQL restart costs a few 451s and nothing else.
"""

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections

from .addresses import is_desk_address
from .inbound import inbound_store
from .models import Door

logger = logging.getLogger(__name__)


def store_sync(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> int:
    """inbound_store in a worker thread, with its connection cleaned up around it."""
    close_old_connections()
    try:
        stored = inbound_store(
            raw=raw, door=Door.SMTP, envelope_from=mail_from, envelope_to=rcpt_tos
        )
        return stored.inbound.pk
    except DatabaseError:
        connection.close()  # a broken connection must not serve the next message
        raise
    finally:
        close_old_connections()


class DeskHandler:
    def __init__(self, *, max_bytes: int, threads: int = 4):
        self.max_bytes = max_bytes
        self.threads = threads
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smtp-db")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not is_desk_address(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        if len(raw) > self.max_bytes:
            return f"552 5.3.4 Message larger than {self.max_bytes} bytes"
        loop = asyncio.get_running_loop()
        try:
            inbound_id = await loop.run_in_executor(
                self.pool, store_sync, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except DatabaseError:
            logger.warning("SMTP: database unavailable, answered 451")
            return "451 4.3.0 Temporarily unable to accept the message; try again later"
        except Exception:
            logger.exception("SMTP: could not store a message")
            return "451 4.3.0 Temporarily unable to accept the message; try again later"
        return f"250 2.0.0 Accepted as {inbound_id}"

    def close(self) -> None:
        """Close every worker thread's database connection, then the pool: one task per
        thread, held at a barrier so that each thread takes exactly one."""
        threads = self.threads
        barrier = threading.Barrier(threads)

        def close_connections() -> None:
            connections.close_all()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)

        for _ in range(threads):
            self.pool.submit(close_connections)
        self.pool.shutdown(wait=True)


def controller(*, host: str | None = None, port: int | None = None) -> Controller:
    """A started-on-demand receiver (call .start() / .stop()); port 0 is not supported by
    aiosmtpd, so tests pick a free port."""
    max_bytes = settings.EMAIL_MAX_BYTES
    return Controller(
        DeskHandler(max_bytes=max_bytes),
        hostname=host or settings.SMTP_HOST,
        port=port or settings.SMTP_PORT,
        data_size_limit=max_bytes,
        enable_SMTPUTF8=True,
        ident="Support Desk",
    )

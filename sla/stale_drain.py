"""Recomputing changed tickets promptly: the stale mark is the queue, a Celery task the
wake-up.

Every ticket change marks the ticket `sla_stale` in its own transaction, so the database
already knows, durably, which tickets wait for a recompute. The drain task claims them
from the partial index on that mark, oldest first, a batch at a time with FOR UPDATE SKIP
LOCKED (two drains never take the same ticket, and a drain that dies releases its batch
with its connection), and recomputes them until none is left.

After commit a change wakes a drain (sla.apps.enqueue_recompute). Publishing a Celery
message costs the web process half a millisecond of CPU and a Redis round trip, a tenth
of an API creation, so a process wakes the drain at most once per WAKE_INTERVAL: a burst
of changes costs a few messages, and the drains they wake take every stale ticket. A
ticket committed just after the drain its process woke finished waits for the next wake-up
from any process or for beat's drain every SLA_DRAIN_SECONDS, whichever comes first.
Tickets whose recompute keeps failing wait out their backoff (RecomputeClaim); the
reconciliation retries them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from tickets.models import Ticket

from .models import RecomputeClaim

WAKE_INTERVAL = 0.25  # seconds between two wake-ups from one process
BATCH = 20  # tickets locked at once: a change to one of them waits for the batch at most
DRAIN_SECONDS = 20.0  # then the drain hands on to a fresh task, so other tasks interleave

_last_wake = -WAKE_INTERVAL
_wake_lock = threading.Lock()


def wake(queue_drain: Callable[[], None]) -> bool:
    """Call `queue_drain` unless this process did less than WAKE_INTERVAL ago. True if
    it did; an exception from it (the broker is down) propagates, and the next change
    tries again."""
    global _last_wake
    now = time.monotonic()
    with _wake_lock:
        if now - _last_wake < WAKE_INTERVAL:
            return False
        previous, _last_wake = _last_wake, now
    try:
        queue_drain()
    except Exception:
        _last_wake = previous
        raise
    return True


def _claim_batch(limit: int, after: int) -> list[int]:
    """Lock up to `limit` stale tickets past id `after` that no other drain holds and no
    failure backoff holds back, oldest first (the caller's transaction keeps the locks)."""
    tickets, claims = Ticket._meta.db_table, RecomputeClaim._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT t.id FROM {tickets} t
            WHERE t.sla_stale AND t.id > %s AND NOT EXISTS (
                SELECT 1 FROM {claims} c WHERE c.ticket_id = t.id AND c.retry_at > %s
            )
            ORDER BY t.id
            LIMIT %s
            FOR UPDATE OF t SKIP LOCKED
            """,
            [after, timezone.now(), limit],
        )
        return [row[0] for row in cursor.fetchall()]


def drain(
    *,
    recompute: Callable[[int], object],
    hand_on: Callable[[], None],
    seconds: float = DRAIN_SECONDS,
) -> int:
    """Recompute stale tickets until none is left or `seconds` have passed (then
    `hand_on` queues the next drain). Returns how many were recomputed.

    One pass in id order: a ticket that is stale again once recomputed (changed meanwhile,
    or moved by an escalation action) is left to the next drain, which its change wakes."""
    stop_at = time.monotonic() + seconds
    ran = after = 0
    while True:
        with transaction.atomic():
            batch = _claim_batch(BATCH, after)
            for ticket_id in batch:
                recompute(ticket_id)  # each in its own savepoint (ticket_sla_recompute)
        ran += len(batch)
        after = batch[-1] if batch else after
        if len(batch) < BATCH:
            return ran
        if time.monotonic() >= stop_at:
            hand_on()
            return ran


def backlog() -> int:
    """Tickets changed and not yet recomputed (for /healthz)."""
    return Ticket.objects.filter(sla_stale=True).count()

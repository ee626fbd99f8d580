"""Tickets waiting for their SLA recompute, in Redis, drained by one Celery task at a time.

Every committed ticket change announces the ticket here (sla.apps.enqueue_recompute). A
Celery message per change cost the web process about half a millisecond of CPU (kombu
builds a Redis client and a message envelope each time), a third of an API creation. An
announcement is now one Lua script: it puts the ticket in a sorted set and, when no drain
is queued or running, takes the drain flag; only then is a Celery task published. So a
burst of a thousand changes costs one task, and the drain recomputes them in order.

Nothing is lost on the way:
- the set is keyed by a sequence number that every announcement raises, and the drain
  removes a ticket only if its number did not change while it was being recomputed (a
  change committed meanwhile gets its own recompute);
- a drain that dies mid-batch leaves its tickets in the set: Celery redelivers the task
  (acks_late), or the flag's lease runs out and the next announcement queues a new one;
- if Redis is unreachable the announcement raises, the caller logs it, and the ticket
  stays marked `sla_stale` for the reconciliation sweep, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection

from support_desk.redis_scripts import cache_script

BATCH = 100
# A drain hands on to a fresh task after this long, so other tasks interleave with a backlog.
DRAIN_SECONDS = 20.0
# The drain flag expires this long after the drain last made progress: a drain that died
# without Celery redelivering it is replaced by the next announcement after at most this.
LEASE_SECONDS = 60

# KEYS: pending set, sequence, flag; ARGV: ticket id, lease. 1 = the caller must queue a drain.
_ANNOUNCE = """
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], n, ARGV[1])
if redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""

# KEYS: pending set, flag; ARGV: lease, then id, number pairs. Removes the ids whose number
# is unchanged; releases the flag if nothing is left (1), else extends its lease (0).
_DONE = """
for i = 2, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return 1
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 0
"""


def _keys() -> tuple[str, str, str]:
    # Per database: two desks (or the benchmarks and a dev server) may share one Redis.
    base = f"sla:recompute:{connection.settings_dict['NAME']}"
    return f"{base}:pending", f"{base}:seq", f"{base}:draining"


def announce(ticket_id: int, *, queue_drain: Callable[[], None]) -> None:
    """Put `ticket_id` in the queue; call `queue_drain` when no drain is queued or
    running. Without a Redis cache, `queue_drain` is never called (see sla.apps)."""
    script = cache_script(cache, _ANNOUNCE)
    pending, seq, flag = _keys()
    if script(keys=[pending, seq, flag], args=[ticket_id, LEASE_SECONDS]) == 1:
        try:
            queue_drain()
        except Exception:
            cache_script(cache, _DONE)(keys=[pending, flag], args=[0])  # not draining after all
            raise


def available() -> bool:
    return cache_script(cache, _ANNOUNCE) is not None


def drain(
    *,
    recompute: Callable[[int], object],
    hand_on: Callable[[], None],
    seconds: float = DRAIN_SECONDS,
) -> int:
    """Recompute queued tickets, oldest announcement first, until none are left (the flag
    is then released) or `seconds` have passed (then `hand_on` queues the next drain,
    which keeps the flag). Returns how many recomputes ran."""
    pending, _, flag = _keys()
    client = cache._cache.get_client(write=True)
    done_script = cache_script(cache, _DONE)
    stop_at = time.monotonic() + seconds
    ran = 0
    while True:
        batch = client.zrange(pending, 0, BATCH - 1, withscores=True)
        for member, _ in batch:
            recompute(int(member))
        ran += len(batch)
        pairs = [str(part) for member, score in batch for part in (int(member), int(score))]
        if done_script(keys=[pending, flag], args=[LEASE_SECONDS, *pairs]) == 1:
            return ran
        if time.monotonic() >= stop_at:
            hand_on()
            return ran


def backlog() -> int:
    """Tickets announced and not yet recomputed (for /healthz)."""
    return cache._cache.get_client().zcard(_keys()[0])

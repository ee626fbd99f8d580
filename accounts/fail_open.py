"""Cache calls that must never turn a Redis outage into a 500.

Rate limits and sign-in lock-out are protections, not features: when the cache cannot be
reached they step aside (fail open) and say so in the log, while `/healthz` reports the
broker down. After a failure the cache is not tried again for a few seconds, so a Redis
that hangs rather than refuses costs one socket timeout, not one per request.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from redis.exceptions import RedisError

logger = logging.getLogger("accounts.fail_open")
T = TypeVar("T")

RETRY_AFTER_SECONDS = 5.0  # how long a failed cache is left alone before the next try
LOG_EVERY_SECONDS = 60.0  # one log line per protection per minute, not one per request

_lock = threading.Lock()
_down_until = 0.0
_last_logged: dict[str, float] = {}


def guarded(*, what: str, operation: Callable[[], T]) -> tuple[bool, T | None]:
    """Run `operation`; (True, result) when the cache answered, (False, None) when it did not."""
    global _down_until
    if time.monotonic() < _down_until:
        return False, None
    try:
        return True, operation()
    except (RedisError, OSError) as exc:
        now = time.monotonic()
        with _lock:
            _down_until = now + RETRY_AFTER_SECONDS
            quiet = now - _last_logged.get(what, -LOG_EVERY_SECONDS) < LOG_EVERY_SECONDS
            if not quiet:
                _last_logged[what] = now
        if not quiet:
            logger.warning(
                "%s is off: the cache is unreachable (%s: %s)", what, type(exc).__name__, exc
            )
        return False, None


def reset() -> None:
    """Forget a past outage (tests, and a process that knows the cache is back)."""
    global _down_until
    with _lock:
        _down_until = 0.0
        _last_logged.clear()


def incr_in_window(*, cache, key: str, timeout: int) -> int:
    """Atomically count one more in `key` (created with `timeout` if absent); the new count.

    INCR is atomic in Redis, so parallel requests never read the same value; `add` (SET NX)
    creates the counter with its expiry exactly once.
    """
    for _ in range(3):  # the key can expire between two calls; then start it again
        try:
            return cache.incr(key)
        except ValueError:  # not there yet (or just expired)
            if cache.add(key, 1, timeout):
                return 1
    raise RedisError(f"counter {key} kept vanishing")

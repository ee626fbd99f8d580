import time
import weakref

from redis.exceptions import NoScriptError
from rest_framework.throttling import SimpleRateThrottle

from .fail_open import guarded, incr_in_window

# INCR, and give the counter its expiry when this INCR created it: atomic inside Redis.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""

# One redis-py client and script per Django Redis cache: building a client (as Django's
# cache does for every call) costs more than the round trip itself.
_scripts: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()


def _count_script(cache):
    backend = getattr(cache, "_cache", None)  # django.core.cache.backends.redis only
    if backend is None or not hasattr(backend, "get_client"):
        return None
    script = _scripts.get(backend)
    if script is None:
        script = _scripts[backend] = backend.get_client(write=True).register_script(_COUNT)
    return script


def count_in_window(*, cache, key: str, timeout: int) -> int:
    """One more request in the counter `key` (created with `timeout` if absent): the new count.

    One round trip: a Lua script (EVALSHA) that INCRs and, when that created the counter,
    sets its expiry. Nothing runs between the two inside Redis, so the counter never lives
    without an expiry, and parallel requests never read the same count. (Django's
    cache.incr costs two round trips, EXISTS then INCR.) The key and its integer value are
    the ones the Django cache itself would use.
    """
    script = _count_script(cache)
    if script is None:  # another cache backend: its own incr
        return incr_in_window(cache=cache, key=key, timeout=timeout)
    key = cache.make_and_validate_key(key)
    try:
        # EVALSHA itself: redis-py's Script wrapper costs more Python than the call it makes.
        reply = script.registered_client.execute_command("EVALSHA", script.sha, 1, key, timeout)
    except NoScriptError:  # Redis restarted or its scripts were flushed: load it again
        reply = script(keys=[key], args=[timeout])
    return int(reply)


class TokenRateThrottle(SimpleRateThrottle):
    """Per-token (or per-user for browser sessions) request budget, counted in Redis.

    DRF's SimpleRateThrottle reads a list of timestamps, appends and writes it back, so
    parallel requests each see the same list and all pass (700 of 700 against 600/min).
    Here every request is one atomic INCR on a counter for the current fixed window
    (`<key>:<window number>`, expiring after the window), so exactly `num_requests` pass
    per window whatever the concurrency, in one Redis round trip (count_in_window). When Redis
    is unreachable the limit is not enforced (logged), rather than failing the request.
    """

    scope = "token"

    def get_cache_key(self, request, view):
        if getattr(request, "auth", None) is not None and hasattr(request.auth, "pk"):
            ident = f"t{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"u{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        duration = int(self.duration)
        window = int(time.time() // duration)
        self.window_ends_at = (window + 1) * duration
        answered, count = guarded(
            what="API rate limit",
            operation=lambda: count_in_window(
                cache=self.cache, key=f"{key}:{window}", timeout=duration + 5
            ),
        )
        if not answered:
            return True
        return count <= self.num_requests

    def wait(self):
        return max(0.0, self.window_ends_at - time.time())

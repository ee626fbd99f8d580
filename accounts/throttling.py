import time

from rest_framework.throttling import SimpleRateThrottle

from .fail_open import guarded, incr_in_window


class TokenRateThrottle(SimpleRateThrottle):
    """Per-token (or per-user for browser sessions) request budget, counted in Redis.

    DRF's SimpleRateThrottle reads a list of timestamps, appends and writes it back, so
    parallel requests each see the same list and all pass (700 of 700 against 600/min).
    Here every request is one atomic INCR on a counter for the current fixed window
    (`<key>:<window number>`, expiring after the window), so exactly `num_requests` pass
    per window whatever the concurrency. When Redis is unreachable the limit is not
    enforced (logged), rather than failing the request.
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
            operation=lambda: incr_in_window(
                cache=self.cache, key=f"{key}:{window}", timeout=duration + 5
            ),
        )
        if not answered:
            return True
        return count <= self.num_requests

    def wait(self):
        return max(0.0, self.window_ends_at - time.time())

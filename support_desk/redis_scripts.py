"""Lua scripts run on the Redis behind a Django cache: one round trip each, and atomic
inside Redis (nothing runs between their commands)."""

import weakref

# One redis-py client and registered script per Django Redis cache: building a client (as
# Django's cache does for every call) costs more than the round trip itself.
_scripts: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def cache_script(cache, source: str):
    """`source` registered on `cache`'s Redis (EVALSHA, loaded again if Redis restarted),
    or None when the cache is not django.core.cache.backends.redis."""
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        return None
    scripts = _scripts.setdefault(backend, {})
    script = scripts.get(source)
    if script is None:
        script = scripts[source] = backend.get_client(write=True).register_script(source)
    return script

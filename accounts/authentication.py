"""Bearer tokens. Each process keeps the tokens it has seen for TOKEN_CACHE_SECONDS, so a busy
integration costs one token query per process every few seconds, not one per request.

What that means for revocation and role changes (documented in docs/api.md): a token that
is revoked or deleted, or whose user is deactivated or changes role, stops working, or loses
scopes, at once in the process that made the change (the model saves below drop the cache)
and within TOKEN_CACHE_SECONDS (10 s) in every other process. Changes made without a model
save (QuerySet.update, SQL) rely on that expiry alone.
"""

import threading
import time

from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, User, hash_token

TOKEN_CACHE_SECONDS = 10.0
MAX_CACHED_TOKENS = 10_000  # a bound, not a working set: past it the cache starts again

# key_hash -> (time.time() when read from the database, the token with its user)
_tokens: dict[str, tuple[float, ApiToken]] = {}
_tokens_lock = threading.Lock()


def tokens_forget(**_signal) -> None:
    """Forget every cached token in this process (a token or a user changed)."""
    with _tokens_lock:
        _tokens.clear()


def _user_changed(sender, update_fields=None, **_signal) -> None:
    # Signing in rewrites last_login only: that changes nothing a token may do.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    tokens_forget()


post_save.connect(tokens_forget, sender=ApiToken, dispatch_uid="api-token-saved")
post_delete.connect(tokens_forget, sender=ApiToken, dispatch_uid="api-token-deleted")
post_save.connect(_user_changed, sender=User, dispatch_uid="api-token-user-saved")
post_delete.connect(tokens_forget, sender=User, dispatch_uid="api-token-user-deleted")


def _cached(key_hash: str, now: float) -> ApiToken | None:
    entry = _tokens.get(key_hash)
    # Measured on the wall clock so time_machine can age it; a clock set back expires it.
    if entry is None or not 0 <= now - entry[0] < TOKEN_CACHE_SECONDS:
        return None
    return entry[1]


def _load(key_hash: str, now: float) -> ApiToken | None:
    token = ApiToken.objects.active().select_related("user").filter(key_hash=key_hash).first()
    if token is None or not token.user.is_active:
        return None
    with _tokens_lock:
        if len(_tokens) >= MAX_CACHED_TOKENS:
            _tokens.clear()
        _tokens[key_hash] = (now, token)
    return token


def _copy(instance):
    """copy.copy of a model instance without its detour through pickling (copy.copy goes
    through __reduce_ex__ and looks the model up in the app registry). Django's own
    __getstate__ copies the instance's state and its cache of related objects."""
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__getstate__())
    return clone


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; request.auth is the ApiToken (scopes live there)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        key_hash = hash_token(raw)
        now = time.time()
        token = _cached(key_hash, now) or _load(key_hash, now)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        moment = timezone.now()
        # Touch last_used_at at most once a minute: a write per request would dominate.
        if token.last_used_at is None or (moment - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
            token.last_used_at = moment
        # Each request gets its own copies: whatever a request sets on request.user or
        # request.auth must not leak into the next one.
        user = _copy(token.user)
        token = _copy(token)
        token.user = user
        return user, token

    def authenticate_header(self, request) -> str:
        return self.keyword

"""Sign-in lock-out per account and per client address (DESIGN §4: sign-in resists guessing).

Each sign-in attempt takes one slot in two counters for the current window of
LOGIN_LOCKOUT_SECONDS: one for the username, one for the client address. The slot is taken
*before* the password is checked (an atomic INCR), so parallel guesses cannot all slip in
under the limit; a successful sign-in gives its slots back (and clears the account's
failures). Once a counter is past its limit, attempts are refused without checking the
password until the window ends. Windows are aligned to the clock, so the end of a lock is
known without asking Redis for a TTL.

If the cache is unreachable the lock-out steps aside (logged): sign-in keeps working.
"""

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .fail_open import guarded, incr_in_window

WHAT = "Sign-in lock-out"


@dataclass(frozen=True)
class Attempt:
    account_key: str
    address_key: str
    counted: bool  # False when the cache did not answer: nothing to give back
    locked_by: str | None  # "account", "address" or None
    retry_after: int  # seconds until the lock ends (0 when not locked)

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        if self.locked_by == "address":
            return (
                "Too many failed sign-in attempts from your network address. "
                f"Sign-in from here is paused; try again in {wait}."
            )
        return (
            "Too many failed sign-in attempts for this account. "
            f"It is locked for now; try again in {wait}, or ask an admin to check it."
        )


def client_address(request) -> str:
    """REMOTE_ADDR, or the address NUM_PROXIES trusted proxies put in X-Forwarded-For."""
    return BaseThrottle().get_ident(request) or "unknown"


def _keys(*, username: str, address: str, window: int) -> tuple[str, str]:
    # Hashed: usernames are arbitrary user input and must not shape cache keys.
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    where = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"lockout:acct:{account}:{window}", f"lockout:addr:{where}:{window}"


def attempt_begin(*, username: str, address: str) -> Attempt:
    """Take a slot for one sign-in attempt; the result says whether it may go ahead."""
    seconds = settings.LOGIN_LOCKOUT_SECONDS
    now = time.time()
    window = int(now // seconds)
    account_key, address_key = _keys(username=username, address=address, window=window)

    def count_both() -> tuple[int, int]:
        return (
            incr_in_window(cache=cache, key=account_key, timeout=seconds + 5),
            incr_in_window(cache=cache, key=address_key, timeout=seconds + 5),
        )

    answered, counts = guarded(what=WHAT, operation=count_both)
    if not answered:
        return Attempt(account_key, address_key, counted=False, locked_by=None, retry_after=0)
    on_account, on_address = counts
    locked_by = None
    if on_account > settings.LOGIN_LOCKOUT_ACCOUNT_ATTEMPTS:
        locked_by = "account"
    elif on_address > settings.LOGIN_LOCKOUT_ADDRESS_ATTEMPTS:
        locked_by = "address"
    retry_after = math.ceil((window + 1) * seconds - now) if locked_by else 0
    return Attempt(
        account_key, address_key, counted=True, locked_by=locked_by, retry_after=retry_after
    )


def attempt_succeeded(*, attempt: Attempt) -> None:
    """The password was right: clear the account's failures, give the address its slot back."""
    if not attempt.counted:
        return

    def give_back() -> None:
        cache.delete(attempt.account_key)
        with contextlib.suppress(ValueError):  # the window ended meanwhile
            cache.decr(attempt.address_key)

    guarded(what=WHAT, operation=give_back)


def unlock(*, username: str | None = None, address: str | None = None) -> None:
    """Lift a lock-out now (an admin vouches for the person): clears the current window."""
    window = int(time.time() // settings.LOGIN_LOCKOUT_SECONDS)
    account_key, address_key = _keys(username=username or "", address=address or "", window=window)
    cache.delete_many(
        [key for key, given in ((account_key, username), (address_key, address)) if given]
    )

"""Requester portal sign-in: single-use links by e-mail, kept hashed, valid 15 minutes.

Requesters are not users of the agent app. A followed link stores the requester's id in
the session under its own key (SESSION_KEY); Django's auth never sees it, so a requester
session can never reach an agent page, and an agent's sign-in is untouched by it.

The request answers the same whatever the address: the link is created and mailed by a
Celery task after commit, so a known address costs the request no more than an unknown one.
"""

import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounts.fail_open import guarded
from accounts.throttling import count_in_window
from tickets.models import Requester

from ..models import PortalSignInLink
from ..services import hash_token

logger = logging.getLogger(__name__)

SESSION_KEY = "portal_requester_id"
LINK_MINUTES = 15
# Per address and per client IP, in a sliding hour: enough for a customer who mistyped,
# too few to flood an inbox or walk a list of addresses.
PER_ADDRESS_PER_HOUR = 5
PER_IP_PER_HOUR = 30
# Replies per requester in a clock hour: far above a customer's conversation, low enough
# that a script or a stuck browser cannot bury a ticket (and its agent) in messages.
REPLIES_PER_HOUR = 30
WINDOW_SECONDS = 3600  # the limits count per clock hour


def _over_limit(key: str, limit: int, *, what: str = "portal sign-in rate limit") -> bool:
    window = int(timezone.now().timestamp() // WINDOW_SECONDS)
    answered, count = guarded(
        what=what,
        operation=lambda: count_in_window(
            cache=cache, key=f"{key}:{window}", timeout=WINDOW_SECONDS + 100
        ),
    )
    return answered and count > limit


def sign_in_rate_limited(*, email: str, ip: str) -> bool:
    """Counts this request against both limits; True when either is exceeded."""
    by_address = _over_limit(f"portal-signin:a:{hash_token(email.lower())}", PER_ADDRESS_PER_HOUR)
    by_ip = _over_limit(f"portal-signin:ip:{ip}", PER_IP_PER_HOUR)
    return by_address or by_ip


def reply_rate_limited(*, requester_id: int) -> bool:
    """Counts one reply from the portal; True when the requester is over REPLIES_PER_HOUR
    (the reply must then not be stored). Unenforced, and logged, while Redis is down."""
    return _over_limit(
        f"portal-reply:r:{requester_id}", REPLIES_PER_HOUR, what="portal reply rate limit"
    )


def seconds_to_next_window() -> int:
    """Until the clock hour that these limits count in ends (for Retry-After)."""
    return WINDOW_SECONDS - int(timezone.now().timestamp()) % WINDOW_SECONDS


def sign_in_request(*, email: str) -> None:
    """Queue a sign-in link for the address if it belongs to a requester; nothing otherwise.
    The caller says the same to the visitor either way."""
    requester_id = (
        Requester.objects.filter(email__iexact=email.strip()).values_list("pk", flat=True).first()
    )
    if requester_id is None:
        return
    from ..tasks import portal_send_sign_in_link_task

    transaction.on_commit(lambda: portal_send_sign_in_link_task.delay(requester_id))


def sign_in_link_send(*, requester_id: int, now: datetime | None = None) -> bool:
    """Create a link and e-mail it (the raw token exists only in the e-mail)."""
    requester = Requester.objects.filter(pk=requester_id).first()
    if requester is None:
        return False
    now = now or timezone.now()
    raw = secrets.token_urlsafe(32)
    PortalSignInLink.objects.create(
        requester=requester,
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + timedelta(minutes=LINK_MINUTES),
    )
    link = f"{settings.DESK_BASE_URL}/help/tickets/sign-in/{raw}/"
    EmailMessage(
        subject="Your sign-in link",
        body=(
            "Use this link to see your support requests and reply to them:\n\n"
            f"{link}\n\n"
            f"It works once, for {LINK_MINUTES} minutes. If you did not ask for it, ignore "
            "this e-mail: nobody can sign in without the link.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[requester.email],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()
    return True


def sign_in_link_use(*, raw_token: str, now: datetime | None = None) -> int | None:
    """The requester id if the link is valid, spending it (single use); None otherwise.
    The conditional UPDATE spends it exactly once even if followed twice at the same time."""
    if not raw_token or len(raw_token) > 100:
        return None
    now = now or timezone.now()
    token_hash = hash_token(raw_token)
    spent = PortalSignInLink.objects.filter(
        token_hash=token_hash, used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if not spent:
        return None
    return PortalSignInLink.objects.filter(token_hash=token_hash).values_list(
        "requester_id", flat=True
    )[0]


def links_purge(*, now: datetime | None = None) -> int:
    """Links a day past their expiry are of no use to anyone."""
    now = now or timezone.now()
    deleted, _ = PortalSignInLink.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return deleted

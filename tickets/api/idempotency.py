"""Idempotency-Key on ticket creation, kept in PostgreSQL (DESIGN §5).

The record is inserted first in its own short transaction (INSERT ... ON CONFLICT DO
NOTHING), then locked: the first request to lock it runs the creation and stores its
response in the same transaction as the ticket; every concurrent request with the same key
waits on that row lock and then replays the stored response. So 30 simultaneous requests
create one ticket, and all 30 get the first response.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from support_desk.errors import Conflict, InvalidRequest
from tickets.models import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyMismatch(Conflict):
    type = "idempotency_error"
    code = "idempotency_key_reused"


def request_fingerprint(body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
            param="Idempotency-Key",
        )
    return key


def run_once(
    *, user, key: str, body: object, create: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    """Run `create` at most once per (user, key). Returns (status, body, replayed).

    One transaction: INSERT ... ON CONFLICT DO NOTHING, then lock the row. A concurrent
    request with the same key blocks in its INSERT until ours commits (then replays our
    stored response) or rolls back (then it creates the ticket itself): a rejected request
    leaves no record behind, so a corrected request may reuse the key."""
    fingerprint = request_fingerprint(body)
    with transaction.atomic():
        IdempotencyRecord.objects.bulk_create(
            [IdempotencyRecord(user=user, key=key, request_hash=fingerprint)],
            ignore_conflicts=True,
        )
        record = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
        if record.request_hash != fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was used with a different request body."
            )
        if record.response_status is not None:
            return record.response_status, record.response_body, True
        status, response = create()
        record.response_status, record.response_body = status, response
        record.save(update_fields=["response_status", "response_body"])
        return status, response, False


def idempotency_purge(*, now=None) -> int:
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted

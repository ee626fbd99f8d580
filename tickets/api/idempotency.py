"""Idempotency-Key on ticket creation, kept in PostgreSQL (DESIGN §5).

The record is written by the statement that creates the ticket (tickets.services.
ticket_create_once): that statement first looks for a committed record with the key
(then it writes nothing and the request replays the record), else inserts the record with
its response ON CONFLICT DO NOTHING, and the ticket only if the record went in. A
concurrent request with the same key waits on our uncommitted record, then finds it
committed and replays it (or, had we failed, creates the ticket itself). So 30 simultaneous
requests create one ticket and all 30 get the first response; a rejected request writes no
record, so a corrected request may reuse the key.
"""

import hashlib
import json
from datetime import timedelta

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


def replay(*, user, key: str, request_hash: str, existing: tuple | None) -> tuple[int, dict]:
    """The stored (status, body) for a key whose ticket was created before: `existing` as
    the creating statement saw it, or None when a concurrent request committed it since."""
    if existing is None:
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:  # purged meanwhile (a day old): nothing to replay
            raise Conflict("This Idempotency-Key is being reused; send the request again.")
        existing = (record.request_hash, record.response_status, record.response_body)
    stored_hash, status, body = existing
    if stored_hash != request_hash:
        raise IdempotencyMismatch("This Idempotency-Key was used with a different request body.")
    return status, body


def idempotency_purge(*, now=None) -> int:
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted

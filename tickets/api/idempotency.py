"""Idempotency-Key on ticket creation, kept in PostgreSQL (DESIGN §5).

One transaction per request. It starts by claiming the key: INSERT ... ON CONFLICT DO
NOTHING RETURNING id. The request that inserts the row owns the key: it creates the ticket
and stores its response in the record with the ticket's own INSERT (one round trip, see
tickets.services.StoredResponse), then commits. A concurrent request with the same key
blocks in its INSERT on the uncommitted row until ours commits (then its INSERT does
nothing, and it locks and replays our stored response) or rolls back (then its INSERT goes
through and it creates the ticket itself). So 30 simultaneous requests create one ticket,
all 30 get the first response, and a rejected request leaves no record behind.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from support_desk.errors import Conflict, InvalidRequest
from tickets.models import IdempotencyRecord
from tickets.services import prepared_cursor

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


_CLAIM = f"""
INSERT INTO {IdempotencyRecord._meta.db_table} (user_id, key, request_hash, created_at)
VALUES (%s, %s, %s, %s)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING id
"""


def run_once(
    *, user, key: str, body: object, create: Callable[[int], tuple[int, dict, bool]]
) -> tuple[int, dict, bool]:
    """Run `create` at most once per (user, key). Returns (status, body, replayed).

    `create(record_id)` returns (status, body, stored): stored says it already wrote the
    response into that record in this transaction; otherwise it is written here."""
    fingerprint = request_fingerprint(body)
    with transaction.atomic():
        with prepared_cursor() as cursor:
            cursor.execute(_CLAIM, [user.pk, key, fingerprint, timezone.now()])
            claimed = cursor.fetchone()
        if claimed is not None:
            record_id = claimed[0]
        else:
            record = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
            if record.request_hash != fingerprint:
                raise IdempotencyMismatch(
                    "This Idempotency-Key was used with a different request body."
                )
            if record.response_status is not None:
                return record.response_status, record.response_body, True
            record_id = record.pk
        status, response, stored = create(record_id)
        if not stored:
            IdempotencyRecord.objects.filter(pk=record_id).update(
                response_status=status, response_body=response
            )
        return status, response, False


def idempotency_purge(*, now=None) -> int:
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted

"""Notifications of escalations: in-app rows written with the escalation, e-mail copies sent
after commit (SLA_SPEC E3: at least once, de-duplicated by the notification's id).

Delivery follows the sweep's pattern: a batch of unsent rows is claimed in one conditional
UPDATE with a lease (SKIP LOCKED keeps two mailers apart), each message is sent, and only
once the server has accepted it is the row marked `emailed_at`. A failed send keeps the row
unsent and pushes it later (backoff); a worker that dies mid-batch leaves leases that
expire, so the rest is sent by the next run. Every message carries `Auto-Submitted:
auto-generated` (RFC 3834: auto-responders must not answer it) and a Message-ID made from
the row's id, so the rare resend after a crash is recognisable as the same message.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User

from .models import Escalation, Notification

logger = logging.getLogger(__name__)

# Long enough for a batch at EMAIL_TIMEOUT per message; a dead worker's rows return after it.
EMAIL_LEASE = timedelta(minutes=10)
EMAIL_BATCH = 50
# After this many failed attempts (some 13 hours with the backoff below) it is left unsent.
EMAIL_MAX_ATTEMPTS = 12
AUTO_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def notify(*, escalation: Escalation, users: Iterable[User], text: str) -> int:
    """In-app notifications in one INSERT (the caller holds the ticket's lock: no query per
    recipient), at most one per (user, escalation); e-mail copies after commit."""
    seen: set[int] = set()
    rows = []
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                escalation=escalation,
                ticket_id=escalation.ticket_id,
                text=f"#{escalation.ticket_id} {text}"[:300],
            )
        )
    if rows:
        # The partial unique constraint makes a retried firing a no-op, not a duplicate.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    escalation_id = escalation.pk
    transaction.on_commit(lambda: _enqueue_emails(escalation_id))
    return len(rows)


def notify_bulk(*, items: Iterable[tuple[Escalation, Iterable[User], str]]) -> int:
    """`notify` for many escalations (a breach storm): one INSERT for every in-app row, and
    after commit one mailer task per batch of e-mail copies instead of one per escalation."""
    rows = []
    for escalation, users, text in items:
        seen: set[int] = set()
        for user in users:
            if user.pk in seen:
                continue
            seen.add(user.pk)
            rows.append(
                Notification(
                    user_id=user.pk,
                    escalation_id=escalation.pk,
                    ticket_id=escalation.ticket_id,
                    text=f"#{escalation.ticket_id} {text}"[:300],
                )
            )
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        batches = -(-len(rows) // EMAIL_BATCH)
        transaction.on_commit(lambda: _enqueue_batches(batches))
    return len(rows)


def _enqueue_batches(batches: int) -> None:
    from .tasks import sla_send_notifications_task

    try:
        for _ in range(batches):
            sla_send_notifications_task.delay()
    except Exception:  # the broker is down: the periodic mailer sends them later
        logger.warning("could not enqueue %s e-mail batches", batches)


def _enqueue_emails(escalation_id: int) -> None:
    from .tasks import sla_send_notifications_task

    try:
        sla_send_notifications_task.delay(escalation_id)
    except Exception:  # the broker is down: the periodic mailer sends it later
        logger.warning("could not enqueue e-mails for escalation %s", escalation_id)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3 * 3600))


def notifications_claim(
    *, now: datetime, escalation_id: int | None = None, limit: int = EMAIL_BATCH
) -> list[int]:
    """Claim unsent e-mail copies: rows not yet accepted by the server, not leased by
    another mailer nor backing off, whose user has an address."""
    table, users = Notification._meta.db_table, User._meta.db_table
    only_escalation = "AND n.escalation_id = %(escalation)s" if escalation_id else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET email_retry_at = %(lease)s, email_attempts = email_attempts + 1
            WHERE id IN (
                SELECT n.id FROM {table} n JOIN {users} u ON u.id = n.user_id
                WHERE n.emailed_at IS NULL AND n.escalation_id IS NOT NULL
                  AND (n.email_retry_at IS NULL OR n.email_retry_at <= %(now)s)
                  AND n.email_attempts < %(max)s AND u.email <> '' {only_escalation}
                ORDER BY n.id
                LIMIT %(limit)s
                FOR UPDATE OF n SKIP LOCKED
            )
            RETURNING id
            """,
            {
                "lease": now + EMAIL_LEASE,
                "now": now,
                "max": EMAIL_MAX_ATTEMPTS,
                "escalation": escalation_id,
                "limit": limit,
            },
        )
        return sorted(row[0] for row in cursor.fetchall())


def _message(note: Notification, connection) -> EmailMessage:
    host = urlsplit(settings.DESK_BASE_URL).hostname or "support-desk"
    return EmailMessage(
        subject=f"[Support Desk] {note.text[:120]}",
        body=f"{note.text}\n\n{settings.DESK_BASE_URL}/tickets/{note.ticket_id}/\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[note.user.email],
        connection=connection,
        headers={**AUTO_HEADERS, "Message-ID": f"<notification-{note.pk}@{host}>"},
    )


def _failed(note_ids: list[int], error: BaseException, *, now: datetime) -> None:
    """Keep them unsent and push them later; give up (leave unsent) after the last try."""
    text = f"{error.__class__.__name__}: {error}"[:300]
    for note in Notification.objects.filter(pk__in=note_ids).only("pk", "email_attempts"):
        Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(
            email_retry_at=now + _backoff(note.email_attempts), email_error=text
        )
    logger.warning("e-mail for notifications %s failed: %s", note_ids, text)


def notifications_send(*, escalation_id: int | None = None, limit: int = EMAIL_BATCH) -> int:
    """Send claimed e-mail copies on one connection; returns how many the server accepted."""
    now = timezone.now()
    claimed = notifications_claim(now=now, escalation_id=escalation_id, limit=limit)
    if not claimed:
        return 0
    notes = list(Notification.objects.select_related("user").filter(pk__in=claimed).order_by("pk"))
    mail = get_connection()
    try:
        mail.open()
    except Exception as error:  # server down or refusing: every claimed row waits
        _failed(claimed, error, now=now)
        return 0
    sent = 0
    try:
        for index, note in enumerate(notes):
            try:
                accepted = _message(note, mail).send()
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
                _failed([note.pk], error, now=now)  # this message only; go on
                continue
            except Exception as error:
                # The connection broke or timed out: this and the rest wait for the next run.
                _failed([n.pk for n in notes[index:]], error, now=now)
                break
            if not accepted:
                _failed([note.pk], RuntimeError("not accepted"), now=now)
                continue
            Notification.objects.filter(pk=note.pk).update(
                emailed_at=timezone.now(), email_retry_at=None, email_error=""
            )
            sent += 1
    finally:
        try:
            mail.close()
        except Exception:  # closing a broken connection is not news
            logger.debug("closing the mail connection failed", exc_info=True)
    return sent

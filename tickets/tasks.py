"""Housekeeping for the tickets app. Its beat entry (hourly at :17) is in settings
(CELERY_BEAT_SCHEDULE), with every other schedule."""

from celery import shared_task

from .api.idempotency import idempotency_purge


@shared_task(name="tickets.idempotency_purge")
def idempotency_purge_task() -> int:
    """Idempotency records are kept for at least 24 h (DESIGN §5), then removed."""
    return idempotency_purge()

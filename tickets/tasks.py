"""Housekeeping for the tickets app."""

from celery import shared_task
from celery.schedules import crontab

from support_desk.celery import app

from .api.idempotency import idempotency_purge


@shared_task(name="tickets.idempotency_purge")
def idempotency_purge_task() -> int:
    """Idempotency records are kept for at least 24 h (DESIGN §5), then removed."""
    return idempotency_purge()


app.conf.beat_schedule.update(
    {
        "tickets-idempotency-purge": {
            "task": "tickets.idempotency_purge",
            "schedule": crontab(minute=17),
        }
    }
)

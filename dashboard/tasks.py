"""Celery: keep the daily SLA roll-ups current. The work lives in dashboard.rollups; the
beat entry (hourly at :07, so a worker that was down at midnight catches up within the
hour) is in settings (CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .rollups import rollups_refresh


@shared_task(name="dashboard.rollups_refresh")
def rollups_refresh_task() -> int:
    return rollups_refresh()

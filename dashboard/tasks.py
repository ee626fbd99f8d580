"""Celery: keep the daily SLA roll-ups current. The work lives in dashboard.rollups."""

from celery import shared_task
from celery.schedules import crontab

from support_desk.celery import app

from .rollups import rollups_refresh


@shared_task(name="dashboard.rollups_refresh")
def rollups_refresh_task() -> int:
    return rollups_refresh()


# Hourly, so a worker that was down at midnight catches up within the hour; a refresh of an
# up-to-date desk rebuilds only the last few days.
app.conf.beat_schedule.update(
    {
        "dashboard-rollups-refresh": {
            "task": "dashboard.rollups_refresh",
            "schedule": crontab(minute=7),
        }
    }
)

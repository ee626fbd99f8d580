"""Thin Celery tasks over csat's services. The survey sweep is in settings'
CELERY_BEAT_SCHEDULE; due times live in the database, so a missed tick loses nothing."""

from celery import shared_task

from . import services
from .portal import services as portal


@shared_task(name="csat.send_surveys")
def csat_send_surveys_task() -> int:
    return services.surveys_sweep()


@shared_task(name="csat.portal_send_sign_in_link")
def portal_send_sign_in_link_task(requester_id: int) -> bool:
    return portal.sign_in_link_send(requester_id=requester_id)

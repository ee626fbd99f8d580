"""Surveys and portal sign-in links through a real Celery worker and the Redis broker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client

from csat.models import PortalSignInLink, Survey, SurveyStatus
from csat.tasks import csat_send_surveys_task
from support_desk.celery import app
from tests.factories import QueueFactory
from tickets import services

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def test_a_solve_becomes_one_sent_survey_and_a_sign_in_link_is_mailed(worker, settings):
    settings.CSAT_DELAY_MINUTES = 0
    QueueFactory(slug="support", is_default=True)
    ticket = services.ticket_create(
        actor=None, subject="Refund", description="d", requester_email="kim@merchant.test"
    )
    services.ticket_update(ticket_id=ticket.pk, actor=None, status="solved")
    # What beat does every minute; twice, as two beats (or workers) racing would.
    csat_send_surveys_task.delay()
    csat_send_surveys_task.delay()
    wait_for(lambda: Survey.objects.filter(status=SurveyStatus.SENT).exists(), "the survey")
    wait_for(lambda: mail.outbox, "the survey e-mail")
    time.sleep(0.5)  # the second task has run too (prefetch 1, solo pool: in order)
    assert [m.subject for m in mail.outbox] == [f"How did we do? [#{ticket.pk}]"]

    Client().post("/help/tickets/", {"email": "kim@merchant.test"})
    wait_for(lambda: len(mail.outbox) == 2, "the sign-in e-mail")
    assert PortalSignInLink.objects.count() == 1
    assert mail.outbox[-1].subject == "Your sign-in link"

"""End to end through a real Celery worker and the Redis broker: SMTP in, a ticket with its
acknowledgement, an agent's reply out."""

import smtplib
import time
from email.policy import SMTP

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from mail import smtp as mail_smtp
from mail.models import DeliveryStatus, EmailMessage, InboundEmail, InboundStatus, Kind
from support_desk.celery import app
from tests.factories import UserFactory
from tests.mail.conftest import DESK, free_port, mime
from tickets.models import Ticket
from tickets.services import ticket_add_message

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def worker():
    app.control.purge()  # tasks other tests published and nobody consumed
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def test_smtp_to_ticket_acknowledgement_and_reply(worker, desk_queue, media):
    port = free_port()
    receiver = mail_smtp.controller(host="127.0.0.1", port=port)
    receiver.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ann@merchant.test", [DESK], mime().as_bytes(policy=SMTP))
    finally:
        receiver.stop()
        receiver.handler.close()
    inbound = InboundEmail.objects.get()
    wait_for(
        lambda: InboundEmail.objects.filter(status=InboundStatus.PROCESSED).exists(), "processing"
    )
    ticket = Ticket.objects.get()
    wait_for(lambda: mail.outbox, "the acknowledgement")
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-replied"
    ticket_add_message(ticket_id=ticket.pk, actor=UserFactory(), body="We found it.")
    wait_for(lambda: len(mail.outbox) == 2, "the reply")
    assert mail.outbox[1].subject == f"Re: Payout missing [#{ticket.pk}]"
    reply = EmailMessage.objects.get(kind=Kind.MESSAGE, direction="out")
    assert reply.delivery_status == DeliveryStatus.SENT
    assert inbound.door == "smtp"

"""Outbound mail over real SMTP (an aiosmtpd sink): what a reply looks like, claims,
retries with backoff, permanent failures, suppression, and the message's `email` field."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.utils import timezone

from mail import addresses, suppression
from mail.models import DeliveryStatus, Direction, EmailMessage, Kind
from mail.outbound import outbound_send
from mail.tasks import mail_reconcile_task
from tests.factories import UserFactory, make_token
from tests.mail.conftest import free_port, mime
from tests.mail.helpers import deliver
from tickets.attachments import attachment_add
from tickets.models import Channel, Message
from tickets.services import ticket_add_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _desk(desk_queue, media):
    pass


def _conversation():
    first = mime(cc="carol@merchant.test")
    ticket = deliver(first).ticket
    return ticket, first


def _reply(ticket, body="**Good news**: the payout was sent.", **kwargs) -> EmailMessage:
    message = ticket_add_message(ticket_id=ticket.pk, actor=UserFactory(), body=body, **kwargs)
    return EmailMessage.objects.get(message=message)


def _received(sink, index=-1):
    return message_from_bytes(sink.envelopes[index].original_content, policy=policy.default)


def test_a_public_reply_is_sent_once_with_thread_headers(
    smtp_sink, django_capture_on_commit_callbacks
):
    ticket, first = _conversation()
    with django_capture_on_commit_callbacks() as callbacks:
        outbound = _reply(ticket)
    assert outbound.delivery_status == DeliveryStatus.QUEUED
    assert outbound.rfc_message_id  # generated and stored before sending
    assert len(callbacks) == 2  # the send task and the SLA recompute, after commit
    assert outbound_send(email_id=outbound.pk)
    assert not outbound_send(email_id=outbound.pk)  # claimed and sent: never twice
    assert len(smtp_sink.envelopes) == 1
    envelope = smtp_sink.envelopes[0]
    assert sorted(envelope.rcpt_tos) == ["ann@merchant.test", "carol@merchant.test"]
    sent = _received(smtp_sink)
    assert sent["Subject"] == f"Re: Payout missing [#{ticket.pk}]"
    assert sent["Message-ID"] == f"<{outbound.rfc_message_id}>"
    assert sent["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in sent["References"]
    assert sent["Reply-To"] == addresses.reply_address(ticket.pk)
    assert sent["Auto-Submitted"] is None  # written by a person
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert "**Good news**" in text
    assert "<strong>Good news</strong>" in html
    assert f"/help/tickets/{ticket.pk}/" in text
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.SENT
    assert outbound.sent_at is not None


def test_the_acknowledgement_is_auto_replied(smtp_sink):
    ticket, first = _conversation()
    ack = EmailMessage.objects.get(ticket=ticket, kind=Kind.ACK)
    assert outbound_send(email_id=ack.pk)
    sent = _received(smtp_sink)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == first["Message-ID"]
    assert f"We have your request #{ticket.pk}" in sent.get_body(("plain",)).get_content()


def test_attachments_of_the_reply_are_included(smtp_sink):
    ticket, _ = _conversation()
    outbound = _reply(ticket, body="See the statement")
    attachment_add(
        ticket=ticket, message=outbound.message, filename="statement.pdf",
        content_type="application/pdf", data=b"%PDF-1.4 x",
    )  # fmt: skip
    outbound_send(email_id=outbound.pk)
    files = [(p.get_filename(), p.get_content()) for p in _received(smtp_sink).iter_attachments()]
    assert files == [("statement.pdf", b"%PDF-1.4 x")]


def test_notes_customer_messages_and_calls_are_not_mailed():
    ticket, _ = _conversation()
    before = EmailMessage.objects.filter(direction=Direction.OUT).count()
    user = UserFactory()
    ticket_add_message(ticket_id=ticket.pk, actor=user, body="internal", public=False)
    ticket_add_message(ticket_id=ticket.pk, actor=user, body="call notes", channel=Channel.PHONE)
    assert EmailMessage.objects.filter(direction=Direction.OUT).count() == before


def test_a_suppressed_requester_gets_no_mail_and_suppressed_ccs_are_left_out():
    ticket, _ = _conversation()
    suppression.suppress("carol@merchant.test", "bounced")
    assert _reply(ticket).cc == []
    suppression.suppress("ann@merchant.test", "bounced")
    message = ticket_add_message(ticket_id=ticket.pk, actor=None, body="x")
    assert not EmailMessage.objects.filter(message=message).exists()


def test_a_temporary_refusal_is_retried_with_backoff_then_sent(smtp_sink):
    ticket, _ = _conversation()
    outbound = _reply(ticket)
    smtp_sink.answer = "451 4.3.0 try later"
    assert outbound_send(email_id=outbound.pk)
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.QUEUED
    assert outbound.attempts == 1
    assert outbound.next_attempt_at > timezone.now()
    assert "451" in outbound.last_error
    assert not outbound_send(email_id=outbound.pk)  # backing off
    smtp_sink.answer = None
    with time_machine.travel(outbound.next_attempt_at + timedelta(seconds=1)):
        mail_reconcile_task()
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.SENT
    assert (
        len(
            [
                e
                for e in smtp_sink.envelopes
                if outbound.rfc_message_id.encode() in e.original_content
            ]
        )
        == 1
    )


def test_a_permanent_refusal_fails(smtp_sink):
    ticket, _ = _conversation()
    outbound = _reply(ticket)
    smtp_sink.answer = "550 5.7.1 rejected"
    outbound_send(email_id=outbound.pk)
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.FAILED


def test_a_connection_error_is_temporary(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    ticket, _ = _conversation()
    outbound = _reply(ticket)
    outbound_send(email_id=outbound.pk)
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.QUEUED
    assert outbound.next_attempt_at is not None


def test_the_api_shows_each_messages_email(api_client, settings):
    ticket, first = _conversation()
    reply = deliver(mime(body="more", headers={"In-Reply-To": first["Message-ID"]})).message
    outbound = _reply(ticket)
    token = make_token(UserFactory(role="lead"), scopes=("tickets:read",))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get(f"/api/v1/tickets/{ticket.pk}/messages")
    assert response.status_code == 200
    by_id = {m["id"]: m for m in response.json()["results"]}
    assert by_id[reply.pk]["email"] == {
        "message_id": reply.email_meta.rfc_message_id,
        "from": "ann@merchant.test",
        "to": ["support@desk.localhost"],
        "cc": [],
        "delivery_status": "received",
        "bounce_reason": None,
    }
    assert by_id[outbound.message_id]["email"]["delivery_status"] == "queued"
    assert by_id[outbound.message_id]["email"]["to"] == ["ann@merchant.test"]
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_a_caller_without_an_email_address_gets_no_mail():
    """The phone channel files callers it cannot match under a ".invalid" placeholder."""
    from tickets.services import ticket_create

    ticket = ticket_create(
        actor=None,
        subject="Call about a payout",
        description="Called in",
        requester_email="+14155550100@phone.invalid",
        channel=Channel.PHONE,
    )
    message = ticket_add_message(ticket_id=ticket.pk, actor=UserFactory(), body="Sent today.")
    assert not EmailMessage.objects.filter(message=message).exists()

"""RFC 3464 delivery status reports: never a ticket; our message bounced, an event, and a
permanent failure suppresses the address until someone clears it."""

import pytest

from mail import suppression
from mail.models import DeliveryStatus, Direction, EmailMessage, InboundStatus, Kind
from tests.factories import UserFactory
from tests.mail.conftest import mime
from tests.mail.helpers import deliver
from tickets.models import EventType, Ticket
from tickets.services import ticket_add_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _desk(desk_queue, media):
    pass


def report(original_id: str, *, status: str = "5.1.1", headers_only: bool = False) -> bytes:
    """A delivery status report as Postfix writes one (RFC 3464)."""
    original = (
        "From: support@desk.localhost\r\nTo: ann@merchant.test\r\n"
        f"Message-ID: <{original_id}>\r\nSubject: Re: x\r\n"
    )
    if headers_only:
        third = f"Content-Type: text/rfc822-headers\r\n\r\n{original}"
    else:
        third = f"Content-Type: message/rfc822\r\n\r\n{original}\r\nbody\r\n"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.merchant.test>\r\n"
        "To: support@desk.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-abc@mx.merchant.test>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.merchant.test\r\n\r\n"
        "Final-Recipient: rfc822; ann@merchant.test\r\n"
        "Action: failed\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} user unknown\r\n"
        f"\r\n--B\r\n{third}--B--\r\n"
    ).encode()


def _replied_ticket():
    ticket = deliver(mime()).ticket
    ticket_add_message(ticket_id=ticket.pk, actor=None, body="Here is the answer.")
    ours = EmailMessage.objects.get(ticket=ticket, direction=Direction.OUT, kind=Kind.MESSAGE)
    return ticket, ours


@pytest.mark.parametrize("headers_only", [False, True])
def test_a_permanent_bounce_marks_bounced_records_an_event_and_suppresses(headers_only):
    ticket, ours = _replied_ticket()
    tickets = Ticket.objects.count()
    inbound = deliver(report(ours.rfc_message_id, headers_only=headers_only))
    assert inbound.status == InboundStatus.IGNORED
    assert Ticket.objects.count() == tickets
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.BOUNCED
    assert "5.1.1" in ours.bounce_reason
    event = ticket.events.get(type=EventType.EMAIL_BOUNCED)
    assert event.data["permanent"] == ["ann@merchant.test"]
    assert suppression.is_suppressed("Ann@Merchant.test")
    # No more mail to that address, until an agent clears it.
    ticket_add_message(ticket_id=ticket.pk, actor=None, body="Another answer")
    assert (
        EmailMessage.objects.filter(ticket=ticket, direction="out", kind=Kind.MESSAGE).count() == 1
    )
    assert suppression.clear("ann@merchant.test", UserFactory())
    assert not suppression.is_suppressed("ann@merchant.test")
    ticket_add_message(ticket_id=ticket.pk, actor=None, body="Third answer")
    assert (
        EmailMessage.objects.filter(ticket=ticket, direction="out", kind=Kind.MESSAGE).count() == 2
    )


def test_a_temporary_failure_report_does_not_suppress():
    _ticket, ours = _replied_ticket()
    deliver(report(ours.rfc_message_id, status="4.2.2"))
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.BOUNCED
    assert not suppression.is_suppressed("ann@merchant.test")


def test_a_report_about_mail_we_never_sent_changes_nothing():
    tickets = Ticket.objects.count()
    inbound = deliver(report("not-ours@elsewhere.test"))
    assert inbound.status == InboundStatus.IGNORED
    assert Ticket.objects.count() == tickets
    assert not suppression.is_suppressed("ann@merchant.test")

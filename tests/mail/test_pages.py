"""What agents and admins see of e-mail: delivery status and folded history in the
workspace conversation, failed mail in the admin, counts in /healthz."""

import pytest

from mail.models import DeliveryStatus, Direction, EmailMessage, InboundEmail, InboundStatus
from tests.factories import UserFactory
from tests.mail.conftest import mime
from tests.mail.helpers import deliver
from tickets.services import ticket_add_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _desk(desk_queue, media):
    pass


def test_the_conversation_shows_delivery_status_and_folds_quoted_history(client):
    first = mime()
    first.add_alternative('<p>Hello <img src="https://t.example/p.gif"></p>', subtype="html")
    ticket = deliver(first).ticket
    quoted = "Thanks!\n\nOn Mon, 1 Dec 2026 at 10:00, Support wrote:\n> old text here"
    deliver(mime(body=quoted, headers={"In-Reply-To": first["Message-ID"]}))
    reply = ticket_add_message(ticket_id=ticket.pk, actor=UserFactory(), body="Answer")
    EmailMessage.objects.filter(message=reply).update(
        delivery_status=DeliveryStatus.BOUNCED, bounce_reason="ann@merchant.test: 5.1.1 unknown"
    )
    client.force_login(UserFactory(role="lead"))
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-delivery-status="received"' in page
    assert 'data-delivery-status="bounced"' in page
    assert "5.1.1 unknown" in page
    assert "<summary>Quoted history</summary>" in page
    assert "&gt; old text here" in page
    assert "<summary>Formatted version</summary>" in page
    assert "t.example" not in page


def test_admins_list_failed_mail_and_process_it_again(client):
    failed = deliver(b"Subject: no sender\r\n\r\nhello\r\n")
    assert failed.status == InboundStatus.FAILED
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    listing = client.get("/admin/mail/inboundemail/?status__exact=failed")
    assert listing.status_code == 200
    assert str(failed.pk) in listing.content.decode()
    assert client.get(f"/admin/mail/inboundemail/{failed.pk}/change/").status_code == 200
    response = client.post(
        "/admin/mail/inboundemail/",
        {"action": "reprocess", "_selected_action": [failed.pk]},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == InboundStatus.RECEIVED


def test_health_reports_failing_mail_without_failing(client):
    deliver(b"Subject: no sender\r\n\r\nhello\r\n")
    ticket = deliver(mime()).ticket
    EmailMessage.objects.filter(ticket=ticket, direction=Direction.OUT).update(
        delivery_status=DeliveryStatus.FAILED
    )
    body = client.get("/healthz").json()
    assert body["mail"]["failed_inbound"] == 1
    assert body["mail"]["failed_outbound"] == 1
    assert InboundEmail.objects.count() == 2

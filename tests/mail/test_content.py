"""Card-number masking, HTML, inline images and attachments of inbound mail."""

import pytest

from mail.models import EmailMessage, InboundStatus
from tests.mail.conftest import mime
from tests.mail.helpers import deliver
from tickets.models import Attachment, Message, TicketEvent

pytestmark = pytest.mark.django_db

CARD = "4242 4242 4242 4242"
MASKED = "424242******4242"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _desk(desk_queue, media):
    pass


def _card_mail():
    message = mime(subject=f"Charge on {CARD}", body=f"My card is {CARD.replace(' ', '-')}.")
    message.add_alternative(
        f"<p>My card is <b>{CARD}</b></p>"
        '<img src="https://tracker.example/pixel.gif"><img src="cid:logo@merchant">',
        subtype="html",
    )
    html_part = message.get_payload()[1]
    html_part.add_related(PNG, "image", "png", cid="<logo@merchant>", filename="logo.png")
    message.add_attachment(
        b"%PDF-1.4 statement", maintype="application", subtype="pdf",
        filename="statement 4242424242424242.pdf",
    )  # fmt: skip
    return message


def test_card_numbers_are_masked_everywhere_including_the_stored_raw_message():
    inbound = deliver(_card_mail())
    assert inbound.status == InboundStatus.PROCESSED, inbound.error
    ticket = inbound.ticket
    raw = bytes(inbound.raw)
    for text in (CARD, CARD.replace(" ", "-"), CARD.replace(" ", "")):
        assert text.encode() not in raw
        assert text not in ticket.subject + ticket.description
        assert not TicketEvent.objects.filter(data__icontains=text).exists()
    assert MASKED in ticket.subject
    assert MASKED in ticket.description
    assert MASKED.encode() in raw
    email = EmailMessage.objects.get(ticket=ticket, direction="in")
    assert MASKED in email.html
    assert CARD not in email.html
    names = set(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True))
    assert names == {"logo.png", f"statement {MASKED}.pdf"}


def test_a_base64_encoded_card_number_is_masked_in_the_raw_message():
    message = mime()
    message.set_content(f"card {CARD}\n" + "é" * 10, cte="base64")
    assert CARD.encode() not in message.as_bytes()  # hidden by the encoding
    inbound = deliver(message)
    assert inbound.status == InboundStatus.PROCESSED, inbound.error
    assert MASKED in inbound.ticket.description
    from email import message_from_bytes, policy

    stored = message_from_bytes(bytes(inbound.raw), policy=policy.default)
    assert CARD not in stored.get_content()
    assert MASKED in stored.get_content()


def test_html_is_sanitised_remote_images_dropped_and_cid_images_served_from_attachments():
    inbound = deliver(_card_mail())
    email = EmailMessage.objects.get(ticket=inbound.ticket, direction="in")
    logo = Attachment.objects.get(ticket=inbound.ticket, filename="logo.png")
    assert logo.content_id == "logo@merchant"
    assert "tracker.example" not in email.html
    assert f'src="/api/v1/attachments/{logo.pk}"' in email.html


def test_script_in_html_is_removed():
    message = mime(body="plain")
    message.add_alternative('<p onclick="x()">hi</p><script>alert(1)</script>', subtype="html")
    inbound = deliver(message)
    email = EmailMessage.objects.get(ticket=inbound.ticket, direction="in")
    assert "script" not in email.html
    assert "onclick" not in email.html


def test_attachments_become_rows_on_the_reply_and_oversized_ones_are_noted(settings):
    first = mime()
    ticket = deliver(first).ticket
    settings.ATTACHMENT_MAX_BYTES = 1024
    reply = mime(body="See attached", headers={"In-Reply-To": first["Message-ID"]})
    reply.add_attachment(b"small file", maintype="text", subtype="csv", filename="rows.csv")
    reply.add_attachment(b"x" * 2000, maintype="application", subtype="zip", filename="big.zip")
    inbound = deliver(reply)
    assert inbound.ticket_id == ticket.pk
    rows = list(Attachment.objects.filter(message=inbound.message))
    assert [(a.filename, a.size) for a in rows] == [("rows.csv", 10)]
    assert rows[0].file.read() == b"small file"
    assert "big.zip" in inbound.message.body
    assert "not kept" in inbound.message.body
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_an_html_only_message_gets_a_text_body():
    message = mime(body="")
    message.set_content("<p>Hello <b>there</b></p><p>Second line</p>", subtype="html")
    inbound = deliver(message)
    assert inbound.ticket.description == "Hello there\nSecond line"


def test_a_nul_character_does_not_make_the_message_fail():
    message = mime(subject="Hello\x00there", body="a\x00b")
    inbound = deliver(message)
    assert inbound.status == InboundStatus.PROCESSED, inbound.error
    assert inbound.ticket.description == "ab"


def test_the_first_emails_files_are_listed_on_the_ticket_and_downloadable(client):
    from accounts.models import Role
    from tests.factories import UserFactory

    ticket = deliver(_card_mail()).ticket
    client.force_login(UserFactory(role=Role.AGENT))
    files = client.get(f"/api/v1/tickets/{ticket.pk}").json()["attachments"]
    names = sorted(f["filename"] for f in files)
    assert names == ["logo.png", "statement 424242******4242.pdf"]
    pdf = next(f for f in files if f["filename"].endswith(".pdf"))
    download = client.get(pdf["url"])
    assert download.status_code == 200
    body = b"".join(download.streaming_content) if download.streaming else download.content
    assert body == b"%PDF-1.4 statement"

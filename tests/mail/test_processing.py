"""DESIGN §8 processing: duplicates, masking, threading, robots, acknowledgements."""

import pytest

from mail import addresses
from mail.models import DeliveryStatus, Direction, EmailMessage, InboundEmail, InboundStatus, Kind
from tests.mail.conftest import DESK, mime
from tests.mail.helpers import deliver
from tickets.models import AuthorType, Channel, EventType, Message, Status, Ticket
from tickets.services import ticket_add_message, ticket_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _desk(desk_queue, media):
    pass


def _ticket(**kwargs) -> Ticket:
    inbound = deliver(mime(**kwargs))
    assert inbound.status == InboundStatus.PROCESSED, inbound.error
    return inbound.ticket


def test_a_new_message_opens_an_email_ticket_with_its_ccs():
    ticket = _ticket(
        to=f"{DESK}, Bob <bob@merchant.test>",
        cc="carol@merchant.test, support+billing@desk.localhost",
    )
    assert ticket.channel == Channel.EMAIL
    assert ticket.requester.email == "ann@merchant.test"
    assert ticket.requester.name == "Ann Customer"
    assert ticket.subject == "Payout missing"
    assert ticket.description == "Our payout of Friday has not arrived."
    assert ticket.cc == ["bob@merchant.test", "carol@merchant.test"]
    assert not ticket.opened_by_robot
    first = EmailMessage.objects.get(ticket=ticket, direction=Direction.IN)
    assert first.delivery_status == DeliveryStatus.RECEIVED
    assert first.message is None


def test_a_reply_by_in_reply_to_threads_even_with_a_changed_subject():
    first = mime()
    ticket = deliver(first).ticket
    reply = mime(
        subject="something else entirely",
        body="Still nothing.",
        headers={"In-Reply-To": first["Message-ID"], "References": first["Message-ID"]},
    )
    inbound = deliver(reply)
    assert inbound.ticket_id == ticket.pk
    message = inbound.message
    assert message.author_type == AuthorType.REQUESTER
    assert message.channel == Channel.EMAIL
    assert message.body == "Still nothing."
    assert message.email_meta.direction == Direction.IN


def test_a_reply_naming_our_outbound_message_id_threads(settings):
    ticket = _ticket()
    ticket_add_message(ticket_id=ticket.pk, actor=None, body="Looking into it.")
    ours = EmailMessage.objects.get(ticket=ticket, direction=Direction.OUT, kind=Kind.MESSAGE)
    reply = mime(
        subject="Re: hi", body="Thanks", headers={"References": f"<{ours.rfc_message_id}>"}
    )
    assert deliver(reply).ticket_id == ticket.pk


def test_a_reply_through_the_signed_reply_address_alone_threads():
    ticket = _ticket()
    address = addresses.reply_address(ticket.pk)
    inbound = deliver(mime(to=address, subject="unrelated words", body="More details."))
    assert inbound.ticket_id == ticket.pk
    assert Message.objects.filter(ticket=ticket, body="More details.").exists()


def test_a_tampered_reply_address_is_ignored():
    ticket = _ticket()
    base, _, domain = addresses.reply_address(ticket.pk).partition("@")
    forged = base[:-2] + ("AA" if not base.endswith("AA") else "BB") + "@" + domain
    other = _ticket(to=forged, subject="Hello", body="Something new")
    assert other.pk != ticket.pk
    wrong_ticket = addresses.reply_address(ticket.pk).replace(
        f"+{ticket.pk}.", f"+{ticket.pk + 1}."
    )
    assert addresses.ticket_from_reply_address(wrong_ticket) is None


def test_the_subject_tag_threads_only_from_the_requester_or_a_cc():
    ticket = _ticket(cc="carol@merchant.test")
    tagged = f"Re: Payout missing [#{ticket.pk}]"
    assert deliver(mime(subject=tagged, body="From Ann")).ticket_id == ticket.pk
    from_cc = deliver(mime(sender="carol@merchant.test", subject=tagged, body="From Carol"))
    assert from_cc.ticket_id == ticket.pk
    assert from_cc.message.author_type == AuthorType.REQUESTER
    # A stranger who copies the tag into a subject gets a ticket of their own.
    stranger = deliver(mime(sender="mallory@evil.test", subject=tagged, body="Give me data"))
    assert stranger.ticket_id != ticket.pk
    assert stranger.ticket.requester.email == "mallory@evil.test"


def test_a_customer_reply_reopens_a_solved_ticket_and_adds_new_ccs():
    first = mime()
    ticket = deliver(first).ticket
    ticket_update(ticket_id=ticket.pk, actor=None, status=Status.SOLVED)
    reply = mime(
        cc="dave@merchant.test",
        body="It happened again",
        headers={"In-Reply-To": first["Message-ID"]},
    )
    deliver(reply)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.cc == ["dave@merchant.test"]
    assert ticket.events.filter(type=EventType.CC_CHANGED).exists()


def test_the_same_bytes_twice_make_one_message():
    message = mime()
    first = deliver(message)
    second = deliver(message, door="smtp")
    assert second.pk == first.pk
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_other_bytes_with_the_same_message_id_are_both_kept():
    first = deliver(mime(message_id="<same@merchant.test>", body="one"))
    second = deliver(mime(message_id="<same@merchant.test>", body="two"))
    assert first.pk != second.pk
    assert second.status == InboundStatus.PROCESSED
    # Threading follows In-Reply-To/References, not a shared Message-ID: two tickets.
    assert {first.ticket.description, second.ticket.description} == {"one", "two"}


def test_our_own_message_coming_back_is_a_duplicate():
    ticket = _ticket()
    ticket_add_message(ticket_id=ticket.pk, actor=None, body="Answer")
    ours = EmailMessage.objects.get(ticket=ticket, direction=Direction.OUT, kind=Kind.MESSAGE)
    looped = deliver(mime(sender=DESK, message_id=f"<{ours.rfc_message_id}>"))
    assert looped.status == InboundStatus.DUPLICATE
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_quoted_history_is_folded_away_but_kept():
    first = mime()
    ticket = deliver(first).ticket
    body = (
        "Yes, that fixed it.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <support@desk.localhost>"
        " wrote:\n> Please try again\n> Regards"
    )
    inbound = deliver(mime(body=body, headers={"In-Reply-To": first["Message-ID"]}))
    assert inbound.ticket_id == ticket.pk
    assert inbound.message.body == "Yes, that fixed it."
    assert "> Please try again" in inbound.message.email_meta.quoted


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"List-Id": "<news.merchant.test>"},
        {"X-Auto-Response-Suppress": "All"},
    ],
)
def test_robots_are_stored_and_threaded_without_acknowledgement(headers):
    ticket = _ticket(subject="Out of office", body="I am away until Monday.", headers=headers)
    assert ticket.opened_by_robot
    assert not EmailMessage.objects.filter(kind=Kind.ACK).exists()


def test_mail_from_noreply_addresses_is_a_robot():
    ticket = _ticket(sender="noreply@merchant.test")
    assert ticket.opened_by_robot
    assert not EmailMessage.objects.filter(kind=Kind.ACK).exists()


def test_an_out_of_office_reply_to_our_reply_gets_no_acknowledgement():
    ticket = _ticket()
    ticket_add_message(ticket_id=ticket.pk, actor=None, body="Answer")
    ours = EmailMessage.objects.get(ticket=ticket, kind=Kind.MESSAGE, direction=Direction.OUT)
    acks = EmailMessage.objects.filter(kind=Kind.ACK).count()
    ooo = mime(
        subject="Automatic reply: Payout missing",
        body="I am out of the office.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": f"<{ours.rfc_message_id}>"},
    )
    assert deliver(ooo).ticket_id == ticket.pk
    assert EmailMessage.objects.filter(kind=Kind.ACK).count() == acks


def test_a_new_ticket_is_acknowledged_once(settings):
    ticket = _ticket()
    ack = EmailMessage.objects.get(kind=Kind.ACK)
    assert ack.ticket_id == ticket.pk
    assert ack.to == ["ann@merchant.test"]
    assert ack.delivery_status == DeliveryStatus.QUEUED
    deliver(mime(subject=f"Re: [#{ticket.pk}]", body="more"))  # a reply: no second ack
    assert EmailMessage.objects.filter(kind=Kind.ACK).count() == 1


def test_acknowledgements_are_capped_per_address_per_hour(settings):
    settings.EMAIL_ACK_PER_HOUR = 2
    for n in range(4):
        _ticket(subject=f"Problem {n}", body=f"body {n}")
    assert EmailMessage.objects.filter(kind=Kind.ACK).count() == 2
    _ticket(sender="other@merchant.test", subject="Mine", body="x")
    assert EmailMessage.objects.filter(kind=Kind.ACK, to=["other@merchant.test"]).count() == 1


def test_an_unparseable_message_is_kept_failed_and_can_be_processed_again():
    from mail.inbound import inbound_reprocess

    raw = b"Subject: no sender\r\n\r\nhello\r\n"
    inbound = deliver(raw)
    assert inbound.status == InboundStatus.FAILED
    assert "From" in inbound.error
    assert bytes(inbound.raw) == raw
    assert inbound_reprocess(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.RECEIVED


def test_a_reply_to_a_closed_ticket_opens_a_new_one():
    first = mime()
    ticket = deliver(first).ticket
    ticket_update(ticket_id=ticket.pk, actor=None, status=Status.CLOSED)
    inbound = deliver(mime(body="again", headers={"In-Reply-To": first["Message-ID"]}))
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.ticket_id != ticket.pk

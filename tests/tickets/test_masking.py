"""Card numbers are masked everywhere they could be written (DESIGN §8 step 2).

Properties of tickets.masking first (pure, fast), then the write paths: the API's ticket
creation (plain and with an Idempotency-Key), messages and subject changes, checked in the
rows, the events and the stored idempotent response."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import QueueFactory, UserFactory, make_token
from tickets.masking import contains_card_number, luhn_valid, mask_card_numbers
from tickets.models import IdempotencyRecord, Message, Requester, Ticket, TicketEvent

PROPERTIES = settings(max_examples=300, deadline=None)


def check_digit(partial: str) -> str:
    for d in "0123456789":
        if luhn_valid(partial + d):
            return d
    raise AssertionError("unreachable")


@st.composite
def card_digits(draw) -> str:
    length = draw(st.integers(13, 19))
    partial = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    return partial + check_digit(partial)


@st.composite
def formatted(draw, digits: str) -> str:
    """`digits` split into groups of any sizes, each joined by one space or one dash."""
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=len(digits) - 1)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    out = groups[0]
    for group in groups[1:]:
        out += draw(st.sampled_from(" -")) + group
    return out


@st.composite
def formatted_card(draw) -> tuple[str, str]:
    digits = draw(card_digits())
    style = draw(st.sampled_from(["plain", "fours", "mixed"]))
    if style == "plain":
        text = digits
    elif style == "fours":
        sep = draw(st.sampled_from([" ", "-"]))
        text = sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    else:
        text = draw(formatted(digits))
    return digits, text


WORDS = st.text("abcdefghijklmnopqrstuvwxyz ABCXYZ.,;:!?()'\"\n", max_size=30)
# What may touch a card on its left: an identifier character (letter, digit, "_") or "+"
# would make it an id or a phone number.
LEFT = st.sampled_from(["", " ", ": ", "#", "(", "\n", "card ", "Card no. "])
RIGHT = st.sampled_from(["", " ", ".", ",", ")", "!", "\n", " exp 12/26", " 12/26", " 1/27"])


def masked(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


@PROPERTIES
@given(card=formatted_card(), before=WORDS, left=LEFT, right=RIGHT, after=WORDS)
def test_a_card_in_any_formatting_is_masked_to_first_six_and_last_four(
    card, before, left, right, after
):
    digits, text = card
    # `before` ends in a letter only when `left` separates it from the card.
    prefix = (before + left) if left.strip(" \n") or not before[-1:].isalpha() else before + " "
    out = mask_card_numbers(prefix + text + right + after)
    assert out == prefix + masked(digits) + right + after
    assert digits not in out.replace(" ", "").replace("-", "")


@PROPERTIES
@given(first=formatted_card(), second=formatted_card(), middle=st.sampled_from([" and ", "; "]))
def test_two_cards_in_one_text_are_both_masked(first, second, middle):
    out = mask_card_numbers(f"Tried {first[1]}{middle}{second[1]}.")
    assert out == f"Tried {masked(first[0])}{middle}{masked(second[0])}."


def unchanged(text: str) -> None:
    assert mask_card_numbers(text) == text
    assert not contains_card_number(text)


@PROPERTIES
@given(number=st.integers(0, 10**12), cents=st.integers(0, 99), currency=st.sampled_from("$€£ "))
def test_amounts_are_not_cards(number, cents, currency):
    unchanged(f"Refund {currency}{number:,}.{cents:02d} please")


@PROPERTIES
@given(
    year=st.integers(1990, 2100),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    hour=st.integers(0, 23),
)
def test_dates_are_not_cards(year, month, day, hour):
    unchanged(f"on {year}-{month:02d}-{day:02d} {hour:02d}:15:00 and {month}/{day}/{year}")
    unchanged(f"expires {month:02d}/{year % 100:02d}")


@PROPERTIES
@given(
    prefix=st.sampled_from(["req_", "ch_", "acct_", "pi_", "ord_", "evt_1N"]),
    rest=st.text("abcdefABCDEF0123456789", min_size=10, max_size=30),
)
def test_request_and_object_ids_are_not_cards(prefix, rest):
    unchanged(f"see {prefix}{rest} in the logs")


@PROPERTIES
@given(digits=st.text("0123456789", min_size=1, max_size=12))
def test_short_order_numbers_are_not_cards(digits):
    unchanged(f"order #{digits}, order {digits}")


@PROPERTIES
@given(digits=st.text("0123456789", min_size=20, max_size=40))
def test_runs_of_twenty_digits_or_more_are_ids(digits):
    unchanged(f"transfer id {digits} failed")


@PROPERTIES
@given(
    digits=st.text("0123456789", min_size=16, max_size=16).filter(lambda d: not luhn_valid(d)),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_a_luhn_invalid_number_is_not_a_card(digits, sep):
    text = sep.join(digits[i : i + 4] for i in range(0, 16, 4))
    unchanged(f"number {text} declined")


REGIONS = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "ES", "IT", "NL", "MX", "SG", "CH"]


@st.composite
def phone_numbers(draw) -> phonenumbers.PhoneNumber:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, "fixed"]))
    if kind == "fixed":
        kind = phonenumbers.PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    example.national_number = int(national[:-4] + tail)
    return example


@PROPERTIES
@given(number=phone_numbers())
def test_phone_numbers_are_not_cards(number):
    for style in (
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    ):
        unchanged(f"call me on {phonenumbers.format_number(number, style)} today")


def test_known_examples():
    assert mask_card_numbers("4242 4242 4242 4242 12/26") == "424242******4242 12/26"
    assert mask_card_numbers("Amex 3782-822463-10005.") == "Amex 378282*****0005."
    assert mask_card_numbers("+1 415 555 0100") == "+1 415 555 0100"
    assert mask_card_numbers("req_4242424242424242") == "req_4242424242424242"
    text = "nothing here"
    assert mask_card_numbers(text) is text


# --- every write path stores the masked text ------------------------------------------

CARD = "4111 1111 1111 1111"
MASKED = "411111******1111"
RAW = "4111111111111111"


def no_raw_card(*values) -> None:
    for value in values:
        flat = str(value).replace(" ", "").replace("-", "")
        assert RAW not in flat, value


@pytest.fixture
def client(db, api_client):
    QueueFactory(slug="support", is_default=True)
    user = UserFactory(username="masker")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")
    return api_client


def body(**extra) -> dict:
    return {
        "subject": f"Card {CARD} declined",
        "description": f"My card {CARD} exp 12/26 was declined twice.",
        "requester": {"email": "pan@shop.test", "name": f"Jo {CARD}"},
        **extra,
    }


def assert_ticket_masked(ticket: Ticket) -> None:
    assert MASKED in ticket.subject
    assert MASKED in ticket.description
    no_raw_card(ticket.subject, ticket.description, ticket.requester.name)
    for event in TicketEvent.objects.filter(ticket=ticket):
        no_raw_card(event.data)


def test_ticket_create_stores_no_card(client):
    response = client.post("/api/v1/tickets", body(), format="json")
    assert response.status_code == 201
    no_raw_card(response.content.decode())
    assert_ticket_masked(Ticket.objects.select_related("requester").get())
    no_raw_card(Requester.objects.get().name)


def test_idempotent_ticket_create_stores_no_card(client):
    response = client.post("/api/v1/tickets", body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post("/api/v1/tickets", body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (response.status_code, again.status_code) == (201, 201)
    no_raw_card(response.content.decode(), again.content.decode())
    record = IdempotencyRecord.objects.get()
    no_raw_card(record.response_body)
    assert MASKED in record.response_body["subject"]
    assert_ticket_masked(Ticket.objects.select_related("requester").get())


def test_message_and_subject_change_store_no_card(client):
    ticket_id = client.post("/api/v1/tickets", body(), format="json").json()["id"]
    url = f"/api/v1/tickets/{ticket_id}"
    message = client.post(f"{url}/messages", {"body": f"Use {CARD}"}, format="json")
    assert message.status_code == 201
    assert message.json()["body"] == f"Use {MASKED}"
    note = client.post(f"{url}/messages", {"body": f"n {RAW}", "public": False}, format="json")
    assert note.status_code == 201
    patch = client.patch(url, {"subject": f"Now {RAW}"}, format="json")
    assert patch.status_code == 200
    assert patch.json()["subject"] == f"Now {MASKED}"
    no_raw_card(*Message.objects.values_list("body", flat=True))
    assert_ticket_masked(Ticket.objects.select_related("requester").get())
    events = TicketEvent.objects.filter(ticket_id=ticket_id, type="subject_changed")
    assert events.get().data["subject"] == f"Now {MASKED}"


def test_phone_notes_store_no_card(client):
    from phone.models import Call

    response = client.post(
        "/api/v1/calls",
        {
            "call_id": "CA-card",
            "direction": "inbound",
            "from": "+1 415 555 0100",
            "to": "+1 212 555 0199",
            "started_at": "2026-01-05T10:00:00Z",
            "outcome": "voicemail",
            "notes": f"Caller read {CARD} exp 12/26",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    no_raw_card(response.content.decode())
    call = Call.objects.get()
    assert call.notes == f"Caller read {MASKED} exp 12/26"
    ticket = Ticket.objects.get()
    assert ticket.description == f"Caller read {MASKED} exp 12/26"
    no_raw_card(ticket.subject, *Message.objects.values_list("body", flat=True))
    for event in TicketEvent.objects.all():
        no_raw_card(event.data)

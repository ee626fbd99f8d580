"""Pure helpers: the desk's addresses, reply tokens, masking of raw bytes, robots."""

import pytest

from mail import addresses
from mail.parsing import looks_like_mail, mask_raw, parse, split_reply
from tests.mail.conftest import mime


@pytest.fixture(autouse=True)
def _aliases(settings):
    settings.SUPPORT_EMAIL = "support@desk.localhost"
    settings.SUPPORT_EMAIL_ALIASES = ["help@merchant-desk.test"]


@pytest.mark.parametrize(
    ("address", "ours"),
    [
        ("support@desk.localhost", True),
        ("SUPPORT@Desk.Localhost", True),
        ("support+billing@desk.localhost", True),
        ("help@merchant-desk.test", True),
        ("help+x@merchant-desk.test", True),
        ("support@desk.localhost.evil.test", False),
        ("supportx@desk.localhost", False),
        ("ann@merchant.test", False),
        ("not an address", False),
    ],
)
def test_desk_addresses(address, ours):
    assert addresses.is_desk_address(address) is ours


def test_reply_tokens_survive_case_changes_and_refuse_tampering():
    address = addresses.reply_address(42)
    assert addresses.ticket_from_reply_address(address) == 42
    assert addresses.ticket_from_reply_address(address.upper()) == 42
    local, _, domain = address.partition("@")
    assert addresses.ticket_from_reply_address(local.replace("+42.", "+43.") + "@" + domain) is None
    assert addresses.ticket_from_reply_address("support+42@desk.localhost") is None
    assert addresses.ticket_from_reply_address(f"{local}@elsewhere.test") is None


def test_our_message_ids_never_look_like_card_numbers():
    for ticket_id in (1, 4242424242424242, 10**18):
        message_id = addresses.new_message_id(ticket_id)
        assert not any(ch.isdigit() for ch in message_id.partition("@")[0])


def test_a_message_without_card_numbers_is_stored_byte_for_byte():
    raw = mime(body="Order 12345, amount 99.95, call +1 415 555 0100").as_bytes()
    assert mask_raw(raw) is raw


def test_mbox_from_lines_are_accepted():
    raw = b"From ann@merchant.test Mon Dec  1 10:00:00 2026\n" + mime().as_bytes()
    assert looks_like_mail(raw)
    assert parse(raw).from_address == "ann@merchant.test"
    assert not looks_like_mail(b"hello world\n\nno headers")


def test_split_reply_keeps_the_history():
    latest, history = split_reply("New text\n\nOn Tue, Ann wrote:\n> old\n> older")
    assert latest == "New text"
    assert "> old" in history
    assert split_reply("Only new text") == ("Only new text", "")


def test_reply_addresses_have_no_digit_runs_to_mask():
    for ticket_id in range(1, 200):
        local = addresses.reply_address(ticket_id).partition("@")[0]
        assert sum(ch.isdigit() for ch in local) == len(str(ticket_id))

"""The desk's own addresses: SUPPORT_EMAIL, its +tag variants, the aliases, and each
ticket's signed reply address `support+<ticket>.<signature>@domain` (DESIGN §8)."""

import secrets
import string

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "mail.reply-address"
# Letters only: a Message-ID must never look like a card number, or masking the stored raw
# message would break threading on it.
_ID_ALPHABET = string.ascii_lowercase


# Hex digits spelled as letters: see _ID_ALPHABET.
_HEX_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def _signature(value: str) -> str:
    """The HMAC django.core.signing uses (salted with SECRET_KEY), spelled in lower-case
    letters rather than base64: mail systems may change the case of a local part, and a
    run of digits could be masked as a card number in the stored copy of a reply."""
    return salted_hmac(_SALT, value, algorithm="sha256").hexdigest()[:32].translate(_HEX_AS_LETTERS)


def _split(address: str) -> tuple[str, str, str]:
    """(base local part, tag, domain), lower-cased except the tag (signatures have case)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    base, _, tag = local.partition("+")
    return base.lower(), tag, domain.lower()


def _own_bases() -> set[tuple[str, str]]:
    bases = set()
    for address in (settings.SUPPORT_EMAIL, *settings.SUPPORT_EMAIL_ALIASES):
        base, _, domain = _split(address)
        bases.add((base, domain))
    return bases


def is_desk_address(address: str) -> bool:
    """Ours: the support address, any +tag variant of it, or an alias (case-insensitive)."""
    if "@" not in address:
        return False
    if address.strip().lower() in {a.lower() for a in settings.SUPPORT_EMAIL_ALIASES}:
        return True
    base, _, domain = _split(address)
    return (base, domain) in _own_bases()


def reply_address(ticket_id: int) -> str:
    base, _, domain = _split(settings.SUPPORT_EMAIL)
    # "." separates id and signature: a colon is not allowed unquoted in a local part.
    return f"{base}+{ticket_id}.{_signature(str(ticket_id))}@{domain}"


def ticket_from_reply_address(address: str) -> int | None:
    """The ticket a signed reply address names; None for other or tampered addresses."""
    if not is_desk_address(address):
        return None
    _, tag, _ = _split(address)
    if not tag:
        return None
    value, _, signature = tag.lower().partition(".")
    if not value.isdigit() or not constant_time_compare(signature, _signature(value)):
        return None
    return int(value)


def new_message_id(ticket_id: int) -> str:
    """A globally unique Message-ID (without angle brackets) for mail we send."""
    _, _, domain = _split(settings.SUPPORT_EMAIL)
    token = "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))
    return f"sd.{token}.t{_letters(ticket_id)}@{domain or 'desk.localhost'}"


def _letters(number: int) -> str:
    """The ticket id spelled in letters (no digit runs in our ids, see _ID_ALPHABET)."""
    out = ""
    while True:
        number, digit = divmod(number, 26)
        out = _ID_ALPHABET[digit] + out
        if not number:
            return out

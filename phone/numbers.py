"""Phone numbers in E.164 (`phonenumbers`, Google's libphonenumber): the one form stored and
matched. A number without a country code is read in settings.PHONE_DEFAULT_REGION."""

import phonenumbers
from django.conf import settings

from support_desk.errors import InvalidRequest

MAX_INPUT = 64  # longer than any formatted number; libphonenumber refuses over 250


def to_e164(raw: object, *, param: str, region: str | None = None) -> str:
    """`raw` as E.164 ("+14155550100"), or a 400 naming `param`."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidRequest("Give a phone number.", param=param, code="invalid_phone_number")
    if len(raw) > MAX_INPUT or not raw.isprintable():
        raise InvalidRequest("Not a phone number.", param=param, code="invalid_phone_number")
    try:
        number = phonenumbers.parse(raw, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidRequest(
            f"{raw.strip()!r} is not a valid phone number (use +<country code> for numbers "
            f"outside {region or settings.PHONE_DEFAULT_REGION}).",
            param=param,
            code="invalid_phone_number",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """International format for people ("+1 415-555-0100")."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

"""E.164 normalisation (phone.numbers)."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phone.numbers import display, to_e164
from support_desk.errors import InvalidRequest


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+1 415 555 0100", "+14155550100"),
        ("(415) 555-0100", "+14155550100"),
        ("415.555.0100", "+14155550100"),
        ("1-415-555-0100", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+49 30 123456", "+4930123456"),
        ("  +33 1 23 45 67 89 ", "+33123456789"),
        ("tel:+1-415-555-0100", "+14155550100"),
    ],
)
def test_numbers_are_normalised(raw, e164):
    assert to_e164(raw, param="from") == e164


@pytest.mark.parametrize(
    "raw", ["", "  ", "12", "abc", "+1 555", "+999 123 456", "1" * 80, 4155550100]
)
def test_invalid_numbers_name_the_field(raw):
    with pytest.raises(InvalidRequest) as error:
        to_e164(raw, param="to")
    assert error.value.param == "to"
    assert error.value.code == "invalid_phone_number"


def test_default_region_applies_to_national_numbers(settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    assert to_e164("020 7946 0958", param="from") == "+442079460958"
    assert to_e164("+1 415 555 0100", param="from") == "+14155550100"


def test_display():
    assert display("+14155550100") == "+1 415-555-0100"
    assert display("") == ""


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@settings(max_examples=150, deadline=None)
@given(
    region=st.sampled_from(REGIONS),
    style=st.sampled_from(
        [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
    ),
)
def test_any_valid_number_in_any_format_round_trips(region, style):
    example = phonenumbers.example_number(region)
    if example is None:
        return
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert to_e164(phonenumbers.format_number(example, style), param="from") == e164
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert to_e164(national, param="from", region=region) == e164


@settings(max_examples=200, deadline=None)
@given(raw=st.text(max_size=80))
def test_any_text_is_a_number_or_a_400(raw):
    try:
        e164 = to_e164(raw, param="from")
    except InvalidRequest as error:
        e164, param = None, error.param
    if e164 is None:
        assert param == "from"
    else:
        assert e164.startswith("+")
        assert e164[1:].isdigit()

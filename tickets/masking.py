"""Card numbers never reach the database (DESIGN §8, PCI DSS 3.4).

Every Luhn-valid run of 13-19 digits, optionally split by single spaces or dashes, is
masked to its first six and last four digits ("4242 4242 4242 4242" -> "424242******4242")
before anything is written: subjects, descriptions, messages, phone notes, file names and
the stored raw e-mail. Other digit runs (order ids, request ids, amounts, dates, phone
numbers) fail the Luhn check or the length and are left as they are; a run longer than 19
digits is an id, not a card.
"""

import re

# A run of digit groups, each after one space or dash. Cards are looked for inside it, on
# group boundaries. Not a card: a run glued to a letter or an underscore (an identifier:
# "req_4242...", "ch_3N..."); a run after "+" (an international phone number: "+55 11
# 96123-4567" has 13 digits); a group of one or two digits followed by "/" (the month of an
# expiry or a date: "4242 4242 4242 4242 12/26" is a card, then a month). ASCII digits only:
# other scripts' digits are not card numbers.
_RUN = re.compile(r"(?<![A-Za-z0-9_+])[0-9]+(?:[ -](?:[0-9]{3,}|[0-9]{1,2}(?!/))(?![0-9]))*")
_SEPARATOR = re.compile(r"[ -]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _masked(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _mask_run(match: re.Match) -> str:
    groups = _SEPARATOR.split(match.group(0))
    separators = _SEPARATOR.findall(match.group(0))
    out: list[str] = []
    i = 0
    while i < len(groups):
        # The longest Luhn-valid stretch of whole groups starting here, if any.
        for j in range(len(groups), i, -1):
            digits = "".join(groups[i:j])
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                out.append(_masked(digits))
                if j < len(groups):
                    out.append(separators[j - 1])
                i = j
                break
        else:
            out.append(groups[i])
            if i < len(separators):
                out.append(separators[i])
            i += 1
    return "".join(out)


def mask_card_numbers(text: str) -> str:
    """`text` with every card number masked; unchanged (the same object) when it has none."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _RUN.sub(_mask_run, text)


def contains_card_number(text: str) -> bool:
    return mask_card_numbers(text) != text

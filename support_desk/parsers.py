"""The API's only request parser: JSON, refusing what would otherwise become a 500 later.

Python's json module accepts things no field should ever see: 1e999999 becomes float("inf"),
a 1,000-deep array exhausts the interpreter's recursion limit (RecursionError), and a
"\\u0000" inside a string is valid JSON that PostgreSQL refuses to store in a text column.
Each is a client error, so each is a 400 here, before any serializer runs.
"""

import json
import math

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser, get_encoding

# Deeper than any body the API documents (a preview's calendar hours are four levels down).
DEFAULT_MAX_DEPTH = 64


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:40]}")
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON.")


def _path(link: tuple | None) -> str:
    """`holidays[0].name` from the linked (key, parent) path."""
    parts = []
    while link is not None:
        key, link = link
        parts.append(key)
    out = ""
    for part in reversed(parts):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_structure(data, *, max_depth: int) -> None:
    """Depth and NUL characters, walked iteratively (the data may be deep by construction).
    Paths are linked tuples, built into text only for the error."""

    def error(link: tuple | None, message: str, code: str) -> ValidationError:
        return ValidationError({_path(link) or "non_field_errors": [message]}, code=code)

    stack: list[tuple[object, tuple | None, int]] = [(data, None, 1)]
    while stack:
        value, link, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise error(link, f"Nested deeper than {max_depth} levels.", "too_deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise error(link, "Keys may not contain NUL (\\u0000).", "null_character")
                if isinstance(item, dict | list | str):
                    stack.append((item, (key, link), depth + 1))
        elif isinstance(value, str) and "\x00" in value:
            raise error(link, "Text may not contain NUL (\\u0000).", "null_character")


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        # DRF hands JSON parsers request.body, whose size Django has already checked against
        # DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig -> 413 in api_errors).
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"The body is not valid {encoding} text.") from None
        try:
            data = json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError("JSON nested too deeply.", code="too_deep") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        max_depth = getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_DEPTH)
        # The walk costs about a second per million values; skip it when the text shows that
        # nothing can be wrong: a NUL in a JSON string is always spelled \\u0000, and the
        # depth cannot exceed the number of opening brackets.
        if "\\u0000" in text or text.count("[") + text.count("{") > max_depth:
            check_structure(data, max_depth=max_depth)
        return data

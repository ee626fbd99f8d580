"""Serializer fields with the API's rules (SLA_SPEC T1: timestamps carry an offset)."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from rest_framework import serializers

MIN_YEAR, MAX_YEAR = 1970, 2999


def parse_aware(value: object) -> datetime:
    """ISO 8601 with a UTC offset; anything else is a clear error."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise serializers.ValidationError(
                "Not an ISO 8601 timestamp (e.g. 2026-03-03T10:00:00-05:00).", code="invalid"
            ) from None
    else:
        raise serializers.ValidationError("Expected an ISO 8601 timestamp.", code="invalid")
    if timezone.is_naive(parsed):
        raise serializers.ValidationError(
            "The timestamp needs a UTC offset (e.g. +00:00 or Z).", code="naive_datetime"
        )
    # Stored and compared in UTC; offsets beyond real time zones and far-off years are
    # rejected here rather than by the database.
    try:
        offset_ok = abs(parsed.utcoffset()) <= timedelta(hours=14)
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        offset_ok = False
    if not offset_ok or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise serializers.ValidationError(
            f"The timestamp must have an offset within ±14:00 and a year from {MIN_YEAR} to "
            f"{MAX_YEAR}.",
            code="out_of_range",
        )
    return parsed


class AwareDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        return parse_aware(value)


class StrictSerializerMixin:
    """Unknown fields are a 400, not silently ignored: a typo must not look like success."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field."] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)

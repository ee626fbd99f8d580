"""Serializer fields with the API's rules (SLA_SPEC T1: timestamps carry an offset)."""

from datetime import UTC, datetime, timedelta
from functools import cache

from django.core.validators import MaxLengthValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.validators import ProhibitSurrogateCharactersValidator

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
    # Unknown fields are a 400, not silently ignored: a typo must not look like success.
    # A ModelSerializer using it gets the strict field types below for its model fields.
    # (A comment, not a docstring: the schema would show a mixin's docstring as the
    # description of every serializer that has none.)

    serializer_field_mapping = property(lambda self: _strict_field_mapping())
    serializer_related_field = property(lambda self: StrictPrimaryKeyRelatedField)

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


# -- Strict JSON types ---------------------------------------------------------------------
# DRF coerces loosely: CharField stores 5 as "5", BooleanField takes "yes", IntegerField
# takes "7", a slug field looks 12 up as "12". The API documents JSON types, so a value of
# another type is a 400 (and the schema's negative examples are really rejected).


class _NoSurrogates(ProhibitSurrogateCharactersValidator):
    """DRF's check, message and code, at C speed: DRF looks at every character in Python
    (3.8 ms for a 100,000-character description, against 0.1 ms to encode it here);
    UTF-8 refuses exactly the surrogates."""

    def __call__(self, value):
        try:
            str(value).encode("utf-8")
        except UnicodeEncodeError as error:
            code_point = ord(error.object[error.start])
            message = self.message.format(code_point=code_point)
            raise ValidationError(message, code=self.code) from None


class _StrictString:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # DRF's length check after trimming is implied by ours before it (below).
        self.validators = [
            _NoSurrogates() if type(v) is ProhibitSurrogateCharactersValidator else v
            for v in self.validators
            if not (isinstance(v, MaxLengthValidator) and v.limit_value == self.max_length)
        ]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Expected a string.", code="invalid_type")
        # The documented maxLength holds for the string as sent: DRF would measure it only
        # after trimming surrounding whitespace.
        max_length = getattr(self, "max_length", None)
        if max_length is not None and len(data) > max_length:
            raise serializers.ValidationError(
                f"Ensure this field has no more than {max_length} characters.",
                code="max_length",
            )
        return super().to_internal_value(data)


class StrictCharField(_StrictString, serializers.CharField):
    pass


class StrictEmailField(_StrictString, serializers.EmailField):
    pass


class StrictSlugField(_StrictString, serializers.SlugField):
    pass


class StrictRegexField(_StrictString, serializers.RegexField):
    pass


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        raise serializers.ValidationError("Expected true or false.", code="invalid_type")


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        # 3.0 is an integer in JSON Schema's sense; "3", true and 3.5 are not.
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError("Expected a whole number.", code="invalid_type")
        return data


class _NoBlankRelation:
    """DRF turns "" into null for a nullable relation; the schema says null, so "" is a 400."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            raise serializers.ValidationError("Use null, not an empty string.", code="blank")
        return super().run_validation(data)


class StrictSlugRelatedField(_NoBlankRelation, serializers.SlugRelatedField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Expected a string.", code="invalid_type")
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(_NoBlankRelation, serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(
                "Expected an id (a whole number).", code="invalid_type"
            )
        if not 1 <= data <= 2**63 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@cache
def _strict_field_mapping() -> dict:
    from django.db import models

    mapping = dict(serializers.ModelSerializer.serializer_field_mapping)
    for model_field in (models.CharField, models.TextField):
        mapping[model_field] = StrictCharField
    mapping[models.SlugField] = StrictSlugField
    mapping[models.EmailField] = StrictEmailField
    mapping[models.BooleanField] = StrictBooleanField
    for model_field in (
        models.IntegerField,
        models.SmallIntegerField,
        models.BigIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
    ):
        mapping[model_field] = StrictIntegerField
    return mapping

"""Shapes of the analytics API (DESIGN §10)."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tickets.api.fields import StrictCharField, StrictSerializerMixin

from ..models import ParameterType, SavedQuery

MAX_SQL_CHARS = 20_000
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        "description": "Values for the query's `:name` parameters, bound as parameters.",
    }
)
class ParamsField(serializers.DictField):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected a JSON object.", code="invalid")
        for key, value in data.items():
            if isinstance(value, dict | list):
                raise serializers.ValidationError(
                    {key: ["Must be a string, number, boolean or null."]}, code="invalid"
                )
        return dict(data)


class QueryRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    sql = StrictCharField(max_length=MAX_SQL_CHARS, trim_whitespace=False)
    params = ParamsField(required=False, default=dict)


class RunRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    params = ParamsField(required=False, default=dict)


class QueryResultSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="At most ANALYTICS_MAX_ROWS rows, each a list in column order.",
    )
    row_count = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="More rows matched than were returned.")
    duration_ms = serializers.FloatField()


class ParameterSerializer(StrictSerializerMixin, serializers.Serializer):
    name = StrictCharField(max_length=63)
    type = serializers.ChoiceField(choices=ParameterType.choices)
    default = serializers.JSONField(required=False, allow_null=True)

    def validate_name(self, value):
        value = value.lower()
        if not _NAME.fullmatch(value):
            raise serializers.ValidationError("Letters, digits and _, not starting with a digit.")
        return value

    def validate_default(self, value):
        if isinstance(value, dict | list):
            raise serializers.ValidationError("Must be a single value.")
        return value


class SavedQuerySerializer(StrictSerializerMixin, serializers.ModelSerializer):
    name = StrictCharField(max_length=120)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    sql = StrictCharField(max_length=MAX_SQL_CHARS, trim_whitespace=False)
    parameters = ParameterSerializer(many=True, required=False, default=list)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = SavedQuery
        fields = (
            "id",
            "name",
            "description",
            "sql",
            "parameters",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_by", "created_at", "updated_at")

    def validate_parameters(self, value):
        # A PATCH makes nested items partial too: a parameter still needs both.
        for index, p in enumerate(value):
            missing = [f for f in ("name", "type") if f not in p]
            if missing:
                raise serializers.ValidationError(
                    {index: {f: ["This field is required."] for f in missing}}, code="required"
                )
        names = [p["name"] for p in value]
        if len(names) != len(set(names)):
            raise serializers.ValidationError("Each parameter name once.")
        return value

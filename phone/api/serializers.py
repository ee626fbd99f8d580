"""The call object (DESIGN §8 "Phone") and the body of POST /api/v1/calls."""

from django.core.validators import URLValidator
from rest_framework import serializers

from phone.models import Call, Direction, Outcome
from tickets.api.fields import (
    AwareDateTimeField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializerMixin,
)
from tickets.api.serializers import RequesterInSerializer

MAX_ID = 2**63 - 1


class CallSerializer(serializers.ModelSerializer):
    """A call as messages show it (`call`), plus the ticket and message it is on."""

    direction = serializers.ChoiceField(choices=Direction.values, read_only=True)
    outcome = serializers.ChoiceField(choices=Outcome.values, read_only=True)
    agent = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    recording_url = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "call_id",
            "direction",
            "started_at",
            "ended_at",
            "outcome",
            "agent",
            "notes",
            "recording_url",
            "ticket",
            "message",
        ]

    def get_fields(self):
        fields = super().get_fields()
        numbers = {
            "from": serializers.CharField(source="from_number", read_only=True),
            "to": serializers.CharField(source="to_number", read_only=True),
        }
        return {"call_id": fields.pop("call_id"), **numbers, **fields}

    def get_recording_url(self, call: Call) -> str | None:
        return call.recording_url or None


class MessageCallSerializer(CallSerializer):
    """`call` on a message: the call without its ticket and message (they are the
    message's own)."""

    class Meta(CallSerializer.Meta):
        fields = [f for f in CallSerializer.Meta.fields if f not in ("ticket", "message")]


class CallCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    call_id = StrictCharField(max_length=100, help_text="The telephony system's id; idempotent.")
    direction = serializers.ChoiceField(choices=Direction.values)
    to = StrictCharField(max_length=64, help_text="E.164, or national in PHONE_DEFAULT_REGION.")
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField(required=False, allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.values)
    agent = StrictCharField(
        required=False, allow_null=True, max_length=150, help_text="A username; default you."
    )
    notes = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")
    recording_url = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=1000,
        validators=[URLValidator(schemes=["http", "https"])],
    )
    ticket = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="A ticket id."
    )
    requester = RequesterInSerializer(
        required=False, help_text="For a caller we do not know yet (matched by e-mail)."
    )

    def get_fields(self):
        fields = super().get_fields()
        caller = StrictCharField(max_length=64, help_text="E.164, or national.")
        return {"call_id": fields.pop("call_id"), "from": caller, **fields}

    def validate_agent(self, value):
        from accounts.models import User

        if value is None:
            return None
        user = User.objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f'No active user "{value}".', code="does_not_exist")
        return user

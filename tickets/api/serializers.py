"""Request validation and response shapes of the tickets API (DESIGN §5 "Tickets").
They validate and represent; the changes themselves happen in tickets.services."""

import threading

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tickets.models import (
    Attachment,
    AuthorType,
    Channel,
    Message,
    Priority,
    Queue,
    QueueKind,
    Status,
    Ticket,
    TicketEvent,
    Tier,
)

from .extensions import message_field, ticket_field
from .fields import (
    AwareDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictSerializerMixin,
    StrictSlugRelatedField,
)


class RequesterInSerializer(StrictSerializerMixin, serializers.Serializer):
    email = StrictEmailField(max_length=254)
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class OrganizationInSerializer(StrictSerializerMixin, serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    external_id = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, default="")

    def validate(self, attrs):
        if not attrs.get("name") and not attrs.get("external_id"):
            raise serializers.ValidationError("Give the organisation a name or an external_id.")
        return attrs


class TicketCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    subject = StrictCharField(min_length=1, max_length=200)
    description = StrictCharField(max_length=100_000)
    requester = RequesterInSerializer()
    organization = OrganizationInSerializer(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    queue = StrictSlugRelatedField(slug_field="slug", queryset=Queue.objects.all(), required=False)
    tags = serializers.ListField(
        child=StrictCharField(max_length=50), max_length=50, required=False, default=list
    )
    external_id = StrictCharField(max_length=100, required=False, allow_blank=True)
    created_at = AwareDateTimeField(
        required=False, help_text="Back-dates the ticket; needs the `import` scope."
    )


_creation = threading.local()


def ticket_create_data(data: object) -> dict:
    """`data` validated by TicketCreateSerializer (a 400 with its errors otherwise).

    Intake is the API's hottest path, and building the serializer (deep copies of its
    fields and of its nested serializers' fields) costs about eight times validating with
    it. So each thread keeps one and resets it for every request: validation keeps its
    state on the serializer (initial_data, _validated_data, _errors), never on the fields."""
    serializer = getattr(_creation, "serializer", None)
    if serializer is None:
        serializer = _creation.serializer = TicketCreateSerializer(data=data)
    else:
        serializer.initial_data = data
        for attr in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(attr, None)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class TicketPatchSerializer(StrictSerializerMixin, serializers.Serializer):
    subject = StrictCharField(min_length=1, max_length=200, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    queue = StrictSlugRelatedField(slug_field="slug", queryset=Queue.objects.all(), required=False)
    assignee = StrictCharField(
        required=False, allow_null=True, help_text="A username, or null to unassign."
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=50), max_length=50, required=False
    )

    def validate_assignee(self, value):
        from accounts.models import User

        if value is None:
            return None
        user = User.objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f'No active user "{value}".', code="does_not_exist")
        return user


class MessageCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    body = StrictCharField(max_length=100_000)
    public = StrictBooleanField(default=True)
    author_type = serializers.ChoiceField(
        choices=[AuthorType.AGENT, AuthorType.REQUESTER], default=AuthorType.AGENT
    )
    created_at = AwareDateTimeField(required=False, help_text="Needs the `import` scope.")


class RequesterOutSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()


class OrganizationOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    tier = serializers.CharField()


class TicketSlaTimerSerializer(serializers.Serializer):
    """Documents the shape of the `sla` list (filled by the sla app)."""

    metric = serializers.CharField()
    cycle = serializers.IntegerField()
    policy = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    warning_at = serializers.DateTimeField(allow_null=True)
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    elapsed_seconds = serializers.IntegerField()


class TicketEscalationSerializer(serializers.Serializer):
    """Documents the shape of the `escalations` list (filled by the sla app)."""

    id = serializers.IntegerField()
    ticket = serializers.IntegerField()
    rule = serializers.CharField(allow_null=True)
    level = serializers.IntegerField()
    metric = serializers.CharField()
    reason = serializers.CharField()
    from_queue = serializers.CharField(allow_null=True)
    to_queue = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True)


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]

    def get_url(self, attachment: Attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}"


class TicketSerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    requester = RequesterOutSerializer(read_only=True)
    organization = OrganizationOutSerializer(read_only=True, allow_null=True)
    contact_reason = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    attachments = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    escalations = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "description",
            "status",
            "priority",
            "channel",
            "queue",
            "assignee",
            "requester",
            "organization",
            "tags",
            "cc",
            "contact_reason",
            "attachments",
            "external_id",
            "created_at",
            "updated_at",
            "version",
            "sla",
            "escalations",
        ]

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, ticket: Ticket) -> list:
        """Files that came with the description (the first e-mail, the contact form)."""
        files = getattr(ticket, "own_files", None)
        if files is None:
            files = ticket.attachments.filter(message=None)
        return AttachmentSerializer(files, many=True).data

    @extend_schema_field(TicketSlaTimerSerializer(many=True))
    def get_sla(self, ticket: Ticket) -> list:
        field = ticket_field("sla")
        return field.represent(ticket) if field else []

    @extend_schema_field(TicketEscalationSerializer(many=True))
    def get_escalations(self, ticket: Ticket) -> list:
        field = ticket_field("escalations")
        return field.represent(ticket) if field else []


class MessageEmailSerializer(serializers.Serializer):
    """Documents the shape of a message's `email` (filled by the mail app)."""

    message_id = serializers.CharField()
    # "from" is a Python keyword: declared below.
    to = serializers.ListField(child=serializers.CharField())
    cc = serializers.ListField(child=serializers.CharField())
    delivery_status = serializers.ChoiceField(
        choices=["queued", "sent", "failed", "bounced", "received"]
    )
    bounce_reason = serializers.CharField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"message_id": fields.pop("message_id"), "from": serializers.CharField(), **fields}


class MessageCallSerializer(serializers.Serializer):
    """Documents the shape of a message's `call` (filled by the phone app)."""

    call_id = serializers.CharField()
    direction = serializers.ChoiceField(choices=["inbound", "outbound"])
    to = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=["answered", "missed", "voicemail", "callback_requested"]
    )
    agent = serializers.CharField(allow_null=True)
    notes = serializers.CharField()
    recording_url = serializers.CharField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"call_id": fields.pop("call_id"), "from": serializers.CharField(), **fields}


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    email = serializers.SerializerMethodField()
    call = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket",
            "body",
            "public",
            "author_type",
            "author",
            "channel",
            "created_at",
            "email",
            "call",
            "attachments",
        ]

    @extend_schema_field(MessageEmailSerializer(allow_null=True))
    def get_email(self, message: Message) -> dict | None:
        field = message_field("email")
        return field.represent(message) if field else None

    @extend_schema_field(MessageCallSerializer(allow_null=True))
    def get_call(self, message: Message) -> dict | None:
        field = message_field("call")
        return field.represent(message) if field else None


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "ticket", "type", "at", "recorded_at", "actor", "data"]


class QueueSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=QueueKind.choices, default=QueueKind.SUPPORT)

    class Meta:
        model = Queue
        fields = ["slug", "name", "kind", "is_default"]
        read_only_fields = ["is_default"]


_timestamp = serializers.DateTimeField()  # DRF's own rendering of a timestamp


def created_ticket_body(ticket: Ticket) -> dict:
    """The body of a 201 for a ticket just created: what TicketSerializer gives for it
    (tests/tickets/test_created_body.py holds the two equal on generated tickets), built
    directly. Intake is the API's hottest path and TicketSerializer's field machinery cost
    about a tenth of an API creation's CPU here. A ticket just created has no assignee,
    files, timers or escalations yet (the sla app computes timers after commit); its id
    may still be None (ticket_create_once renders the body before its INSERT)."""
    org, reason = ticket.organization, ticket.contact_reason
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "queue": ticket.queue.slug,
        "assignee": None,
        "requester": {"email": ticket.requester.email, "name": ticket.requester.name},
        "organization": None
        if org is None
        else {"name": org.name, "external_id": org.external_id, "tier": org.tier},
        "tags": list(ticket.tags),
        "cc": list(ticket.cc),
        "contact_reason": None if reason is None else reason.slug,
        "attachments": [],
        "external_id": ticket.external_id,
        "created_at": _timestamp.to_representation(ticket.created_at),
        "updated_at": _timestamp.to_representation(ticket.updated_at),
        "version": ticket.version,
        "sla": [],
        "escalations": [],
    }

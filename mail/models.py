"""E-mail as received and sent (DESIGN §8).

InboundEmail is what a door committed before it said yes: the raw message (card numbers
already masked), processed afterwards by a task. EmailMessage is the e-mail side of a
conversation message (inbound or outbound) and, for outbound mail, its delivery state.
Suppression stops mail to an address that bounced permanently until an agent clears it.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class Door(models.TextChoices):
    SMTP = "smtp", "SMTP"
    API = "api", "HTTP API"
    PIPE = "pipe", "Pipe"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored (bounce)"


class InboundEmail(models.Model):
    # The message as received, except that card numbers in its decoded text parts were
    # masked and those parts re-encoded (DESIGN §8 step 2): the original never reaches disk.
    raw = models.BinaryField()
    # Of the original bytes: the same delivery through any door is recognised by it.
    sha256 = models.CharField(max_length=64, unique=True)
    rfc_message_id = models.CharField(
        "Message-ID", max_length=998, blank=True, default="", db_index=True
    )
    door = models.CharField(max_length=8, choices=Door.choices)
    envelope_from = models.CharField(max_length=998, blank=True, default="")
    envelope_to = ArrayField(models.CharField(max_length=998), default=list, blank=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The reconciliation's query: what a task never picked up.
            models.Index(
                fields=["received_at"],
                condition=Q(status="received"),
                name="inbound_waiting",
            ),
            models.Index(fields=["id"], condition=Q(status="failed"), name="inbound_failed"),
        ]

    def __str__(self) -> str:
        return f"inbound #{self.pk} {self.rfc_message_id or '(no Message-ID)'} [{self.status}]"


class Direction(models.TextChoices):
    IN = "in", "Inbound"
    OUT = "out", "Outbound"


class Kind(models.TextChoices):
    MESSAGE = "message", "Conversation message"
    ACK = "ack", "Acknowledgement"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    RECEIVED = "received", "Received"


class EmailMessage(models.Model):
    """The e-mail side of a ticket message: headers kept for threading and, for outbound
    mail, the delivery state. An acknowledgement has no conversation message."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_meta",
    )
    direction = models.CharField(max_length=4, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MESSAGE)
    rfc_message_id = models.CharField("Message-ID", max_length=998, db_index=True)
    from_address = models.CharField(max_length=998, blank=True, default="")
    to = ArrayField(models.CharField(max_length=998), default=list, blank=True)
    cc = ArrayField(models.CharField(max_length=998), default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True, default="")
    in_reply_to = models.CharField(max_length=998, blank=True, default="")
    references = models.TextField(blank=True, default="")
    # Inbound: sanitised HTML body, and the quoted history folded away from `body`.
    html = models.TextField(blank=True, default="")
    quoted = models.TextField(blank=True, default="")
    auto_submitted = models.BooleanField(default=False)
    delivery_status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    bounce_reason = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender's lease: another sender leaves the row alone until it expires.
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The outbound reconciliation's query.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(direction="out", delivery_status="queued"),
                name="email_outbound_due",
            ),
            models.Index(fields=["ticket", "created_at"], name="email_ticket_time"),
            # The hourly acknowledgement cap counts the last hour's acknowledgements.
            models.Index(fields=["created_at"], condition=Q(kind="ack"), name="email_ack_recent"),
            # /healthz counts outbound mail that failed.
            models.Index(
                fields=["id"],
                condition=Q(direction="out", delivery_status="failed"),
                name="email_outbound_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.rfc_message_id} [{self.delivery_status}]"


class Suppression(models.Model):
    """No more mail to this address (a permanent bounce) until an agent clears it."""

    address = models.CharField(max_length=254, unique=True)
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.address} ({'cleared' if self.cleared_at else 'suppressed'})"

    @property
    def active(self) -> bool:
        return self.cleared_at is None

"""A phone call, recorded against a ticket, with the conversation entry it made."""

from django.conf import settings
from django.db import models

from tickets.models import Message, Ticket


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class Outcome(models.TextChoices):
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    VOICEMAIL = "voicemail", "Voicemail"
    CALLBACK_REQUESTED = "callback_requested", "Callback requested"


class Call(models.Model):
    # The telephony system's id: recording the same call twice is one call (idempotent).
    call_id = models.CharField(max_length=100, unique=True)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    # E.164 ("+14155550100"); the desk's own side may be unknown ("") for calls logged by
    # hand in the workspace.
    from_number = models.CharField(max_length=20, blank=True)
    to_number = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    notes = models.TextField(blank=True)  # card numbers masked (tickets.masking)
    recording_url = models.URLField(max_length=1000, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="calls")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="call"
    )
    # Fingerprint of the request that recorded it: a repeat must carry the same body.
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["ticket", "started_at"], name="call_ticket_time")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} call {self.call_id} ({self.outcome})"

    @property
    def customer_number(self) -> str:
        return self.from_number if self.direction == Direction.INBOUND else self.to_number

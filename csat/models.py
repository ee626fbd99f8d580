"""Satisfaction surveys, requester-portal sign-in links and the imported contact-rate
denominators (DESIGN §9). docs/satisfaction.md explains the rules behind each field."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class SurveyStatus(models.TextChoices):
    PENDING = "pending", "Pending (not sent yet)"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    VOID = "void", "Void"


# Surveys that went out and were not withdrawn: the denominator of the response rate.
COUNTED_AS_SENT = (SurveyStatus.SENT, SurveyStatus.ANSWERED, SurveyStatus.EXPIRED)


class Survey(models.Model):
    """One survey per solve: the solve event is unique, so a replayed or retried event can
    never schedule a second one."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="surveys")
    solve_event = models.OneToOneField(
        "tickets.TicketEvent", on_delete=models.CASCADE, related_name="survey"
    )
    solved_at = models.DateTimeField()
    # Who solved it: the assignee at the solve, else the user who solved it.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    requester_email = models.EmailField()
    # The ticket as it was solved, for the metrics' groups and filters: a rating is about
    # that solve, and the figures then read surveys alone (no join to a million tickets).
    # Plain ids, not foreign keys: a deleted queue or reason must not be blocked by history.
    queue_id_at_solve = models.BigIntegerField(null=True, blank=True)
    contact_reason_id_at_solve = models.BigIntegerField(null=True, blank=True)
    tier_at_solve = models.CharField(max_length=16, null=True, blank=True)
    priority_at_solve = models.CharField(max_length=16, blank=True, default="")
    channel_at_solve = models.CharField(max_length=16, blank=True, default="")
    # sha256 hex of the link's token; set when the survey is sent (the raw token only ever
    # exists in the e-mail).
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(
        max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.PENDING
    )
    created_at = models.DateTimeField()
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    send_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="survey_rating_1_to_5",
            ),
        ]
        indexes = [
            # The sender's claim: pending surveys by due time, nothing else.
            models.Index(
                fields=["send_after"],
                condition=Q(status="pending"),
                name="survey_pending_due",
            ),
            # The metrics read surveys by sending time; the included columns make it an
            # index-only scan for the totals.
            models.Index(
                fields=["sent_at"],
                include=[
                    "status",
                    "rating",
                    "agent",
                    "queue_id_at_solve",
                    "contact_reason_id_at_solve",
                    "tier_at_solve",
                    "priority_at_solve",
                    "channel_at_solve",
                ],
                condition=Q(sent_at__isnull=False),
                name="survey_sent",
            ),
            models.Index(fields=["ticket", "status"], name="survey_ticket_status"),
        ]

    def __str__(self) -> str:
        return f"Survey for #{self.ticket_id} ({self.status})"


class PortalSignInLink(models.Model):
    """A single-use sign-in link for the requester portal; only the token's hash is kept."""

    requester = models.ForeignKey(
        "tickets.Requester", on_delete=models.CASCADE, related_name="portal_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="portal_link_created")]

    def __str__(self) -> str:
        return f"Sign-in link for requester {self.requester_id}"


class DenominatorMetric(models.TextChoices):
    ACTIVE_ACCOUNTS = "active_accounts", "Active accounts"
    PAYMENTS = "payments", "Payments"


class Denominator(models.Model):
    """A daily figure the desk does not own (imported): active accounts or payments, for all
    accounts (segment "all") or for one tier."""

    date = models.DateField()
    metric = models.CharField(max_length=32, choices=DenominatorMetric.choices)
    segment = models.CharField(max_length=32)
    value = models.PositiveBigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["date", "metric", "segment"], name="one_denominator_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.metric} {self.segment}: {self.value}"

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from tickets.models import Priority, Ticket


class Metric(models.TextChoices):
    FIRST_REPLY = "first_reply", "First reply"
    NEXT_REPLY = "next_reply", "Next reply"
    RESOLUTION = "resolution", "Resolution"


class TimerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class Calendar(models.Model):
    """Business hours in one IANA time zone. `hours` is a list of
    {weekday 0-6 (Mon=0), start "HH:MM", end "HH:MM"}; `holidays` a list of {date, name}."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64)
    always_open = models.BooleanField(default=False)
    hours = models.JSONField(default=list, blank=True)
    holiday_country = models.CharField(max_length=8, null=True, blank=True)
    holiday_subdivision = models.CharField(max_length=16, null=True, blank=True)
    holidays = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    position = models.IntegerField(default=0, help_text="Lower is tried first.")
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    match_priorities = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    match_tiers = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    match_channels = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    match_queues = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    warn_at_percent = models.PositiveSmallIntegerField(default=75)
    pause_on = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=16, choices=Priority.choices)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    minutes = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "priority", "metric"], name="one_target_per_priority_metric"
            )
        ]


class Trigger(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"


class Action(models.TextChoices):
    NOTIFY = "notify", "Notify lead and assignee"
    RAISE_PRIORITY = "raise_priority", "Raise priority"
    MOVE_TO_QUEUE = "move_to_queue", "Move to queue"


class EscalationRule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.BREACH)
    after_minutes = models.PositiveIntegerField(default=0)
    priorities = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.NOTIFY)
    target_queue = models.ForeignKey(
        "tickets.Queue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SlaTimer(models.Model):
    """A cache of the engine's output for one ticket (SLA_SPEC I1); recompute rewrites it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_timers")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    cycle = models.PositiveSmallIntegerField(default=1)
    # Also ON DELETE SET NULL in the database (migration 0003): a recompute that committed
    # timers of a policy being deleted at that moment must not fail the deletion.
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=TimerStatus.choices)
    running = models.BooleanField(default=True)
    target_minutes = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=True)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warning_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Set once, when the warning was acted on (W1: at most once per timer).
    warned_at = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()
    # Earliest future instant at which this timer changes (warning, due, next escalation):
    # the sweeper claims rows whose instant has passed (SLA_SPEC I2).
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["metric", "cycle"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle"], name="one_timer_per_cycle"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="timer_next_check",
            ),
            models.Index(
                fields=["warning_at"],
                condition=Q(status="active"),
                name="timer_active_warning",
            ),
            models.Index(fields=["fulfilled_at"], name="timer_fulfilled"),
            models.Index(fields=["breached_at"], name="timer_breached"),
            models.Index(fields=["cancelled_at"], name="timer_cancelled"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} #{self.cycle} on ticket {self.ticket_id}: {self.status}"


class Escalation(models.Model):
    """A rule firing (unique per ticket, metric, cycle and rule: exactly once, SLA_SPEC E2)
    or a manual escalation by an agent (no rule)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    rule = models.ForeignKey(EscalationRule, null=True, blank=True, on_delete=models.PROTECT)
    level = models.PositiveSmallIntegerField(default=1)
    metric = models.CharField(max_length=16, choices=Metric.choices, blank=True, default="")
    cycle = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    from_queue = models.ForeignKey(
        "tickets.Queue", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_queue = models.ForeignKey(
        "tickets.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fire_at = models.DateTimeField(help_text="The theoretical instant (due + offset).")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it was processed.")
    late = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle", "rule"],
                condition=Q(rule__isnull=False),
                name="escalation_once_per_rule_cycle",
            )
        ]
        indexes = [
            models.Index(
                fields=["to_queue", "created_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="escalation_open",
            )
        ]


class RecomputeClaim(models.Model):
    """A ticket whose SLA recompute is claimed or failing. The reconciliation claims a stale
    ticket by writing this row with a lease (`retry_at`); a recompute that succeeds deletes
    it; one that fails keeps it with the count, the error and a retry instant further off
    each time, so one bad ticket is retried with backoff instead of blocking the batch or
    re-chaining forever. /healthz and the admin list the failing ones."""

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    retry_at = models.DateTimeField(help_text="Not claimed again before this instant.")
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    first_failed_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["-failures"], condition=Q(failures__gt=0), name="recompute_failing"
            )
        ]

    def __str__(self) -> str:
        return f"ticket {self.ticket_id}: {self.failures} failed recomputes"


class Notification(models.Model):
    """In-app notification. Its e-mail copy is claimed (a lease in `email_retry_at`), sent,
    and only then marked `emailed_at`: at least once, never by two workers at a time, and
    with a Message-ID derived from this row so a resend after a crash is recognisable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(Ticket, null=True, on_delete=models.CASCADE, related_name="+")
    escalation = models.ForeignKey(Escalation, null=True, on_delete=models.CASCADE)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="The server accepted it.")
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_retry_at = models.DateTimeField(
        null=True, blank=True, help_text="Claimed or backing off until then."
    )
    email_error = models.CharField(max_length=300, blank=True, default="")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The mailer's claim: unsent e-mail copies of escalation notifications.
            models.Index(
                fields=["id"],
                condition=Q(emailed_at__isnull=True, escalation__isnull=False),
                name="notification_email_pending",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "escalation"],
                condition=Q(escalation__isnull=False),
                name="one_notification_per_escalation",
            )
        ]

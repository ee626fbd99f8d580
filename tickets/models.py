import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


UNSOLVED_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {p: i for i, p in enumerate(Priority.values)}


class Channel(models.TextChoices):
    API = "api", "API"
    EMAIL = "email", "E-mail"
    WEB = "web", "Web form"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Requester(models.Model):
    """A customer contact. Customers are not users of the agent app."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="requesters"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class QueueKind(models.TextChoices):
    SUPPORT = "support", "Support"
    ENGINEERING = "engineering", "Engineering"


class Queue(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=QueueKind.choices, default=QueueKind.SUPPORT)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_queue"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ContactReason(models.Model):
    """Why a customer wrote in: a managed list (admin), chosen on the contact form and
    kept on the ticket, so contacts can be counted by reason."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class RequesterPhone(models.Model):
    """A requester's phone number in E.164; a requester may have several."""

    requester = models.ForeignKey(Requester, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.number


class Ticket(models.Model):
    subject = models.CharField(max_length=200)
    description = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,  # ticket_assignee_urgency leads with it: one index less per write
    )
    requester = models.ForeignKey(Requester, on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    external_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    solved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Set in the same transaction as any change that can move a timer; cleared by the
    # recompute. The reconciliation sweep recomputes whatever is still marked (DESIGN §2).
    sla_stale = models.BooleanField(default=True)
    # Earliest SLA deadline of a running timer (denormalised by the SLA recompute) so
    # queues sort by urgency with one index.
    next_due_at = models.DateTimeField(null=True, blank=True)
    # Other people copied on the conversation (e-mail addresses, DESIGN §8).
    cc = ArrayField(models.EmailField(), default=list, blank=True, db_default=[])
    contact_reason = models.ForeignKey(
        ContactReason, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    # Opened by an auto-submitted message (RFC 3834): no acknowledgement, no survey, and not
    # counted as a contact.
    opened_by_robot = models.BooleanField(default=False, db_default=False)
    # Set when this ticket was merged into another (closed, a duplicate).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "queue", "next_due_at"], name="ticket_queue_urgency"),
            models.Index(
                fields=["assignee", "status", "next_due_at"], name="ticket_assignee_urgency"
            ),
            # The workspace's queue pages: unsolved tickets by urgency, read in index order
            # so a page of 50 costs the same with 100 or 100,000 open tickets.
            models.Index(
                fields=["queue", "next_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_queue_urgency",
            ),
            models.Index(
                fields=["assignee", "next_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_mine_urgency",
            ),
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(fields=["id"], condition=Q(sla_stale=True), name="ticket_sla_stale"),
            GinIndex(fields=["tags"], name="ticket_tags"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_unsolved(self) -> bool:
        return self.status in UNSOLVED_STATUSES


class AuthorType(models.TextChoices):
    AGENT = "agent", "Agent"
    REQUESTER = "requester", "Requester"
    SYSTEM = "system", "System"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField()
    public = models.BooleanField(default=True)
    author_type = models.CharField(max_length=16, choices=AuthorType.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField()
    # How the message reached the desk (an agent's reply through the workspace is "api").
    channel = models.CharField(
        max_length=16, choices=Channel.choices, default=Channel.API, db_default=Channel.API
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_time")]

    def __str__(self) -> str:
        return f"{self.get_author_type_display()} message on #{self.ticket_id}"

    @property
    def is_reply(self) -> bool:
        """SLA_SPEC S3: a reply is a public message by an agent."""
        return self.public and self.author_type == AuthorType.AGENT


def attachment_path(attachment: "Attachment", filename: str) -> str:
    # Never the sender's file name: it only labels the download.
    return f"attachments/{attachment.ticket_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on a message, stored through Django's storage (var/media/ by default).
    Downloaded only by someone who may read the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    # The Content-ID of an inline image (cid: references in an HTML body), without <>.
    content_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EventType(models.TextChoices):
    CREATED = "created", "Created"
    MESSAGE_ADDED = "message_added", "Message added"
    STATUS_CHANGED = "status_changed", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    QUEUE_CHANGED = "queue_changed", "Queue changed"
    ASSIGNEE_CHANGED = "assignee_changed", "Assignee changed"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    SUBJECT_CHANGED = "subject_changed", "Subject changed"
    ORGANIZATION_CHANGED = "organization_changed", "Organisation changed"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    ESCALATED = "escalated", "Escalated"
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged", "Escalation acknowledged"
    CC_CHANGED = "cc_changed", "CCs changed"
    CONTACT_REASON_CHANGED = "contact_reason_changed", "Contact reason changed"
    MERGED = "merged", "Merged into another ticket"
    MERGE_RECEIVED = "merge_received", "Another ticket merged into this one"
    EMAIL_BOUNCED = "email_bounced", "E-mail bounced"
    CSAT_RATED = "csat_rated", "Satisfaction rated"


class TicketEvent(models.Model):
    """Append-only history. `at` is when it happened (imports back-date it); `recorded_at`
    when we wrote it. The id orders events that share an instant (SLA_SPEC T3)."""

    # No index of its own: event_ticket_time leads with it (one index less per event).
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    type = models.CharField(max_length=32, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at", "id"], name="event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.type} on #{self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"


class IdempotencyRecord(models.Model):
    """First response to a ticket creation with an Idempotency-Key (per user), kept >= 24 h."""

    # No index of its own: the unique (user, key) index serves lookups by user. With a
    # second one, a planner without statistics (a new desk; autovacuum off) took it for the
    # key lookup and read every record of the user: intake slowed with each ticket.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

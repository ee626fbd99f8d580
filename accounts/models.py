import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    LEAD = "lead", "Team lead"
    ENGINEER = "engineer", "Engineer"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    # Empty follows the desk's zone (settings.DESK_TIME_ZONE), so changing that moves
    # everyone who never chose; validated against the tz database by the profile service.
    timezone = models.CharField(
        max_length=64, blank=True, default="", help_text="IANA time zone; empty: the desk's."
    )

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_lead_or_admin(self) -> bool:
        return self.role in (Role.LEAD, Role.ADMIN) or self.is_superuser

    @property
    def works_support(self) -> bool:
        """Agents, leads and admins work support queues; engineers only Engineering ones."""
        return self.role != Role.ENGINEER or self.is_superuser

    @property
    def can_acknowledge_escalations(self) -> bool:
        return self.role in (Role.ENGINEER, Role.LEAD, Role.ADMIN) or self.is_superuser


class Scope(models.TextChoices):
    TICKETS_READ = "tickets:read", "Read tickets"
    TICKETS_WRITE = "tickets:write", "Create and change tickets"
    ADMIN = "admin", "Configure the desk (calendars, policies, rules, queues)"
    IMPORT = "import", "Import back-dated tickets and messages"
    EMAIL = "email", "Deliver inbound e-mail (a mail provider's inbound route)"
    ANALYTICS = "analytics", "Run read-only SQL over the analytics views"


# What each role's tokens may carry: a token never exceeds its user's role, and no scope
# implies another (a write-only token reads nothing; `admin` does not grant `import`).
_WORKER_SCOPES = frozenset({Scope.TICKETS_READ, Scope.TICKETS_WRITE})
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.AGENT: _WORKER_SCOPES,
    Role.ENGINEER: _WORKER_SCOPES,
    Role.LEAD: frozenset(Scope.values),
    Role.ADMIN: frozenset(Scope.values),
}


def role_scopes(user: User) -> frozenset[str]:
    """The scopes a user's role allows (and what a browser session of theirs has)."""
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Scope.values)
    return ROLE_SCOPES.get(user.role, frozenset())


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the raw value is shown once at creation."""

    PREFIX = "sd_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"

    @classmethod
    def generate_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def has_scope(self, scope: str) -> bool:
        """Granted and still allowed by the owner's role (roles can change after issue)."""
        return scope in self.scopes and scope in role_scopes(self.user)

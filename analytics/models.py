from django.conf import settings
from django.db import models


class ParameterType(models.TextChoices):
    TEXT = "text", "Text"
    INT = "int", "Whole number"
    NUMBER = "number", "Number"
    DATE = "date", "Date (YYYY-MM-DD)"
    TIMESTAMP = "timestamp", "Date and time (ISO 8601)"
    BOOL = "bool", "true or false"


class SavedQuery(models.Model):
    """A named query with typed `:name` parameters, bound as query parameters when run.
    `parameters` is a list of {"name", "type", "default"} (default optional)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    sql = models.TextField()
    parameters = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "saved queries"

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    TIMEOUT = "timeout", "Timed out"
    REFUSED = "refused", "Refused"


class QueryRun(models.Model):
    """The audit log: every run of the console, whoever ran it and however it ended."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_query = models.ForeignKey(
        SavedQuery, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    sql = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.FloatField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    truncated = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [
            models.Index(fields=["-started_at"], name="analytics_run_started"),
            models.Index(fields=["user", "-started_at"], name="analytics_run_user_started"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

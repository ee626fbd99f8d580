"""Daily roll-ups of SLA outcomes: a derived cache of sla.SlaTimer, rebuilt by dashboard.rollups.

A timer belongs to the UTC day of its outcome (met at fulfilled_at, breached at breached_at,
cancelled at cancelled_at). Percentiles cannot be summed, so each row keeps the raw elapsed
seconds of its met and breached timers: percentile_cont over the union of these arrays gives
exactly what it gives over the timers themselves, so past days read from here and today read
live produce identical figures.

Ids are plain columns, not foreign keys: a roll-up row outlives nothing and is rewritten
whole, and queue/policy deletion must not be blocked by a cache.
"""

from datetime import UTC

from django.contrib.postgres.fields import ArrayField
from django.db import models


class DailySlaRollup(models.Model):
    day = models.DateField()
    queue_id = models.BigIntegerField()
    priority = models.CharField(max_length=16)
    tier = models.CharField(max_length=16, null=True)  # null: ticket without organisation
    channel = models.CharField(max_length=16)
    policy_id = models.BigIntegerField(null=True)
    metric = models.CharField(max_length=16)
    met = models.PositiveIntegerField(default=0)
    breached = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    # elapsed_seconds of the met and breached timers (cancelled ones never got an answer).
    elapsed_seconds = ArrayField(models.IntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "queue_id", "priority", "tier", "channel", "policy_id", "metric"],
                name="one_sla_rollup_per_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}: {self.met} met, {self.breached} breached"


class RolledUpDay(models.Model):
    """A UTC day whose roll-up rows hold every outcome in [start of the day, `until`): the
    next midnight for a closed day, the last whole hour rolled up for today (an empty span
    has a marker and no rows). Readers take the rest of the day, and days without a
    marker, live, so a missing or late roll-up is never wrong."""

    day = models.DateField(primary_key=True)
    rolled_at = models.DateTimeField()
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} rolled up until {self.until:%Y-%m-%d %H:%M}"

    @property
    def complete(self) -> bool:
        return self.until.astimezone(UTC).date() > self.day

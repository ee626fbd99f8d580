"""Parse and validate the period and filters shared by the metrics API and the dashboard.

Both read the same query parameters, so a bad value gives the same 400 in both places.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from sla.models import SlaPolicy
from support_desk.errors import InvalidRequest
from tickets.models import Channel, Priority, Queue, Tier

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")
GROUP_BYS = ("day", "queue", "priority", "tier", "policy", "metric")
DEFAULT_DAYS = 7
# Bounds the work one request can ask for (a year and a bit covers any review period).
MAX_DAYS = 400


@dataclass(frozen=True)
class Period:
    """[start, end): start inclusive, end exclusive, both aware UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def previous(self) -> "Period":
        return Period(self.start - (self.end - self.start), self.start)

    @property
    def days(self) -> list[date]:
        """Every UTC day the period touches, in order."""
        first = self.start.astimezone(UTC).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(UTC).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class Filters:
    queue: Queue | None = None
    priority: str | None = None
    tier: str | None = None
    channel: str | None = None
    policy: SlaPolicy | None = None

    @property
    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        values = {
            "queue": self.queue.slug if self.queue else None,
            "priority": self.priority,
            "tier": self.tier,
            "channel": self.channel,
            "policy": str(self.policy.pk) if self.policy else None,
        }
        return {k: v for k, v in values.items() if v}


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _parse_instant(raw: str, param: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or datetime (UTC when it names no offset)."""
    raw = raw.strip()
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is None:
                raise ValueError
            return start_of_day(day)
    except ValueError:
        raise InvalidRequest(
            "Must be an ISO 8601 date or datetime, e.g. 2025-03-01 or 2025-03-01T09:00:00Z.",
            param=param,
        ) from None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    # Keeps "the previous period" and day arithmetic far from datetime's limits.
    if not 1970 <= value.year <= 2999:
        raise InvalidRequest("Must be between the years 1970 and 2999.", param=param)
    return value


def parse_period(params, *, now: datetime | None = None) -> Period:
    """`from`/`to`; by default the last 7 UTC days including today."""
    now = now or timezone.now()
    raw_from, raw_to = params.get("from") or "", params.get("to") or ""
    end = (
        _parse_instant(raw_to, "to")
        if raw_to
        else start_of_day(now.astimezone(UTC).date() + timedelta(days=1))
    )
    start = _parse_instant(raw_from, "from") if raw_from else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise InvalidRequest("Must be before `to`.", param="from", code="invalid_range")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidRequest(
            f"The period may span at most {MAX_DAYS} days.", param="from", code="invalid_range"
        )
    return Period(start, end)


def _choice(params, name: str, choices) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in choices:
        raise InvalidRequest(
            f"Must be one of {', '.join(choices)}.", param=name, code="invalid_choice"
        )
    return value


def parse_filters(params) -> Filters:
    queue = policy = None
    if slug := params.get("queue"):
        queue = Queue.objects.filter(slug=slug).first() if _SLUG.fullmatch(slug) else None
        if queue is None:
            raise InvalidRequest("No queue with this slug.", param="queue", code="not_found")
    if raw_policy := params.get("policy"):
        if not re.fullmatch(r"[0-9]{1,18}", raw_policy):
            raise InvalidRequest("Must be a policy id.", param="policy")
        policy = SlaPolicy.objects.filter(pk=int(raw_policy)).first()
        if policy is None:
            raise InvalidRequest("No policy with this id.", param="policy", code="not_found")
    return Filters(
        queue=queue,
        priority=_choice(params, "priority", Priority.values),
        tier=_choice(params, "tier", Tier.values),
        channel=_choice(params, "channel", Channel.values),
        policy=policy,
    )


def parse_group_by(params) -> str | None:
    return _choice(params, "group_by", GROUP_BYS)

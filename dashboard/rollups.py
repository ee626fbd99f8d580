"""Keep DailySlaRollup in step with sla_slatimer: each closed UTC day, and today up to its
last whole hour.

A day is rebuilt whole (delete + insert from the same SQL the live path uses) and then marked
in RolledUpDay with how far it reaches (`until`); readers compute the rest live, so a late or
failed roll-up only costs speed, never correctness. Today is rolled up to the last whole
hour that ended at least SETTLE ago, so the live part of a dashboard is at most the last
hour or so, whatever the time of day. Outcomes can still land in a rolled-up span after it
was rolled up (a late recompute, a back-dated import), so every refresh rebuilds today and
the last REFRESH_DAYS days; rollups_rebuild(since=...) redoes older history after a bulk
import. Queue, priority and tier are the ticket's at roll-up time.
"""

from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .metrics import live_facts_sql
from .models import RolledUpDay
from .params import Filters, start_of_day

REFRESH_DAYS = 3
# Today's roll-up stops at a whole hour at least this long ago: outcomes are recorded a few
# seconds after their instant (the sweep runs every second), not minutes.
SETTLE = timedelta(minutes=5)
# One lock for every roll-up writer: two workers rebuilding the same day would otherwise
# interleave their delete and insert.
_LOCK_KEY = 0x5D_A5_B0_A2D


def _rebuild(day_windows: list[tuple[date, datetime, datetime]], now: datetime) -> int:
    """Replace the rows of each (day, start, until) with the facts of [start, until) and
    mark the day as reaching `until`; returns the rows written."""
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        first, end = day_windows[0][0], day_windows[-1][0] + timedelta(days=1)
        cursor.execute(
            "DELETE FROM dashboard_dailyslarollup WHERE day >= %s AND day < %s", [first, end]
        )
        params: list = []
        windows: list[list[datetime]] = []
        for _, start, until in day_windows:
            if until <= start:
                continue
            if windows and windows[-1][1] == start:
                windows[-1][1] = until  # one range for consecutive days: one index scan
            else:
                windows.append([start, until])
        if windows:
            facts = live_facts_sql(windows, Filters(), params)
            cursor.execute(
                "INSERT INTO dashboard_dailyslarollup (day, queue_id, priority, tier, channel,"
                " policy_id, metric, met, breached, cancelled, elapsed_seconds) " + facts,
                params,
            )
            written = cursor.rowcount
        cursor.execute(
            "INSERT INTO dashboard_rolledupday (day, rolled_at, until)"
            " SELECT d, %s, u FROM unnest(%s::date[], %s::timestamptz[]) AS m(d, u)"
            " ON CONFLICT (day) DO UPDATE SET rolled_at = EXCLUDED.rolled_at,"
            " until = EXCLUDED.until",
            [now, [d for d, _, _ in day_windows], [u for _, _, u in day_windows]],
        )
    return written


def rollups_build(*, first_day: date, end_day: date, now: datetime | None = None) -> int:
    """Rebuild the roll-ups of the closed UTC days [first_day, end_day); returns the rows
    written."""
    now = now or timezone.now()
    if end_day > now.astimezone(UTC).date():
        raise ValueError("Only closed days can be rolled up whole; today goes by the hour.")
    if first_day >= end_day:
        return 0
    days = [first_day + timedelta(days=i) for i in range((end_day - first_day).days)]
    return _rebuild([(d, start_of_day(d), start_of_day(d + timedelta(days=1))) for d in days], now)


def rollups_build_today(*, now: datetime | None = None) -> int:
    """Rebuild today's roll-up up to the last whole hour that ended SETTLE ago."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    until = (now - SETTLE).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return _rebuild([(today, start_of_day(today), max(until, start_of_day(today)))], now)


def _first_outcome_day() -> date | None:
    # Three min() lookups, each answered from the end of its own index.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT LEAST((SELECT min(fulfilled_at) FROM sla_slatimer),"
            " (SELECT min(breached_at) FROM sla_slatimer),"
            " (SELECT min(cancelled_at) FROM sla_slatimer))"
        )
        first = cursor.fetchone()[0]
    return first.astimezone(UTC).date() if first else None


def rollups_refresh(*, now: datetime | None = None, since: date | None = None) -> int:
    """Roll up every closed day not yet rolled up whole, re-roll the last REFRESH_DAYS days
    (or every day from `since`), and roll today up to its last settled hour."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    if since is None:
        complete = [m.day for m in RolledUpDay.objects.order_by("-day")[:2] if m.complete]
        if not complete:
            since = _first_outcome_day() or today
        else:
            since = min(complete[0] + timedelta(days=1), today - timedelta(days=REFRESH_DAYS))
    return rollups_build(first_day=since, end_day=today, now=now) + rollups_build_today(now=now)

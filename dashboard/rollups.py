"""Keep DailySlaRollup in step with sla_slatimer, one closed UTC day at a time.

A day is rebuilt whole (delete + insert from the same SQL the live path uses) and then marked
in RolledUpDay; until it is marked, readers compute it live, so a late or failed roll-up
only costs speed, never correctness. Outcomes can still land in a closed day after it was
rolled up (a late recompute, a back-dated import), so every refresh also rebuilds the last
REFRESH_DAYS days; rollups_rebuild(since=...) redoes older history after a bulk import.
Queue, priority and tier are the ticket's at roll-up time.
"""

from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .metrics import live_facts_sql
from .models import RolledUpDay
from .params import Filters, start_of_day

REFRESH_DAYS = 3
# One lock for every roll-up writer: two workers rebuilding the same day would otherwise
# interleave their delete and insert.
_LOCK_KEY = 0x5D_A5_B0_A2D


@transaction.atomic
def rollups_build(*, first_day: date, end_day: date, now: datetime | None = None) -> int:
    """Rebuild the roll-ups of UTC days [first_day, end_day); returns the rows written."""
    now = now or timezone.now()
    if end_day > now.astimezone(UTC).date():
        raise ValueError("Only closed days can be rolled up; today is always read live.")
    if first_day >= end_day:
        return 0
    params: list = []
    facts = live_facts_sql([(start_of_day(first_day), start_of_day(end_day))], Filters(), params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(
            "DELETE FROM dashboard_dailyslarollup WHERE day >= %s AND day < %s",
            [first_day, end_day],
        )
        cursor.execute(
            "INSERT INTO dashboard_dailyslarollup (day, queue_id, priority, tier, channel,"
            " policy_id, metric, met, breached, cancelled, elapsed_seconds) " + facts,
            params,
        )
        written = cursor.rowcount
        cursor.execute(
            "INSERT INTO dashboard_rolledupday (day, rolled_at)"
            " SELECT d::date, %s FROM generate_series(%s::date, %s::date - 1, '1 day') d"
            " ON CONFLICT (day) DO UPDATE SET rolled_at = EXCLUDED.rolled_at",
            [now, first_day, end_day],
        )
    return written


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
    """Roll up every closed day not yet rolled up, and re-roll the last REFRESH_DAYS days
    (or every day from `since`)."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    if since is None:
        last = RolledUpDay.objects.order_by("-day").values_list("day", flat=True).first()
        if last is None:
            since = _first_outcome_day() or today
        else:
            since = min(last + timedelta(days=1), today - timedelta(days=REFRESH_DAYS))
    return rollups_build(first_day=since, end_day=today, now=now)

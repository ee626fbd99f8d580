"""SLA figures: the one code path behind GET /api/v1/metrics/sla, the dashboard and the roll-ups.

Definitions (DESIGN §5 "Metrics"):
- A timer counts in the period of its outcome: a met timer at fulfilled_at, a breached one at
  breached_at, a cancelled one at cancelled_at. Active and paused timers have no outcome yet.
  The period is [from, to); days are UTC days.
- met / breached / cancelled are timer counts over every metric; compliance is
  met / (met + breached), null when both are 0 (cancelled timers are shown apart).
- first_reply_* and resolution_* are percentiles of elapsed business minutes
  (elapsed_seconds / 60) over the met and breached timers of that metric counted in the
  period. A breached timer still running contributes the elapsed time last computed.
- Percentiles are PostgreSQL's percentile_cont: sort the n values, take position p * (n - 1)
  (0-based) and interpolate linearly between the two values around it. SQL gathers the
  values, percentile_cont below sorts and interpolates them (one sort per group).
- Queue, priority, tier and channel are the ticket's current ones; policy is the timer's.

Whole past UTC days, and today up to its last rolled-up hour, are read from DailySlaRollup
where dashboard.rollups has marked them; the rest of the period (days cut by the period,
today's latest hour, days not rolled up yet) is read live from sla_slatimer. The roll-up
stores each row's raw elapsed seconds, so both paths feed the same percentile_cont with the
same values and give identical figures.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from sla.models import Metric, SlaPolicy
from tickets.models import Priority, Queue, Tier

from .models import RolledUpDay
from .params import Filters, Period, start_of_day

# group_by name -> the facts column it groups on.
DIMENSIONS = {
    "day": "day",
    "queue": "queue_id",
    "priority": "priority",
    "tier": "tier",
    "policy": "policy_id",
    "metric": "metric",
}

_OUTCOME_AT = (
    "CASE st.status WHEN 'met' THEN st.fulfilled_at WHEN 'breached' THEN st.breached_at "
    "ELSE st.cancelled_at END"
)


@dataclass(frozen=True)
class Figures:
    key: object
    label: str
    met: int
    breached: int
    cancelled: int
    first_reply_p50_minutes: float | None
    first_reply_p90_minutes: float | None
    resolution_p50_minutes: float | None
    resolution_p90_minutes: float | None

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "met": self.met,
            "breached": self.breached,
            "cancelled": self.cancelled,
            "compliance": self.compliance,
            "first_reply_p50_minutes": self.first_reply_p50_minutes,
            "first_reply_p90_minutes": self.first_reply_p90_minutes,
            "resolution_p50_minutes": self.resolution_p50_minutes,
            "resolution_p90_minutes": self.resolution_p90_minutes,
        }


@dataclass(frozen=True)
class SlaSummary:
    period: Period
    total: Figures
    groups: dict[str, list[Figures]]
    percentiles_for: list[str]


def _window_sql(windows: Sequence[tuple[datetime, datetime]], params: list) -> str:
    """Timers whose outcome instant falls in any window; each branch matches one index
    (timer_fulfilled, timer_breached, timer_cancelled) so PostgreSQL can BitmapOr them."""
    parts = []
    for start, end in windows:
        for status, column in (
            ("met", "fulfilled_at"),
            ("breached", "breached_at"),
            ("cancelled", "cancelled_at"),
        ):
            parts.append(f"(st.status = '{status}' AND st.{column} >= %s AND st.{column} < %s)")
            params += [start, end]
    return "(" + " OR ".join(parts) + ")"


def _filter_sql(filters: Filters, columns: dict[str, str], params: list) -> str:
    clauses = []
    for name, value in (
        ("queue_id", filters.queue.pk if filters.queue else None),
        ("priority", filters.priority),
        ("tier", filters.tier),
        ("channel", filters.channel),
        ("policy_id", filters.policy.pk if filters.policy else None),
    ):
        if value is not None:
            clauses.append(f"{columns[name]} = %s")
            params.append(value)
    return "".join(f" AND {c}" for c in clauses)


LIVE_COLUMNS = {
    "queue_id": "t.queue_id",
    "priority": "t.priority",
    "tier": "org.tier",
    "channel": "t.channel",
    "policy_id": "st.policy_id",
}


def live_facts_sql(
    windows: Sequence[tuple[datetime, datetime]], filters: Filters, params: list
) -> str:
    """One row per (UTC day, queue, priority, tier, channel, policy, metric) with outcome
    counts and the elapsed seconds of met and breached timers. Shared with the roll-up."""
    where = _window_sql(windows, params)
    where += _filter_sql(filters, LIVE_COLUMNS, params)
    return f"""
        SELECT (({_OUTCOME_AT}) AT TIME ZONE 'UTC')::date AS day,
               t.queue_id, t.priority, org.tier, t.channel, st.policy_id, st.metric,
               count(*) FILTER (WHERE st.status = 'met') AS met,
               count(*) FILTER (WHERE st.status = 'breached') AS breached,
               count(*) FILTER (WHERE st.status = 'cancelled') AS cancelled,
               COALESCE(array_agg(st.elapsed_seconds)
                        FILTER (WHERE st.status IN ('met', 'breached')), '{{}}') AS elapsed
        FROM sla_slatimer st
        JOIN tickets_ticket t ON t.id = st.ticket_id
        LEFT JOIN tickets_organization org ON org.id = t.organization_id
        WHERE {where}
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    """


def _rollup_facts_sql(days: Sequence, filters: Filters, params: list) -> str:
    params.append(list(days))
    where = _filter_sql(filters, {k: f"r.{k}" for k in LIVE_COLUMNS}, params)
    return f"""
        SELECT r.day, r.queue_id, r.priority, r.tier, r.channel, r.policy_id, r.metric,
               r.met, r.breached, r.cancelled, r.elapsed_seconds AS elapsed
        FROM dashboard_dailyslarollup r
        WHERE r.day = ANY(%s){where}
    """


def plan_sources(period: Period, *, now: datetime, use_rollups: bool = True):
    """(days read from roll-ups, live windows) covering the period exactly once. A day's
    roll-up covers [its start, marker.until): usable when that span lies in the period."""
    markers = []
    if use_rollups:
        starts = [d for d in period.days if start_of_day(d) >= period.start]
        markers = [
            m
            for m in RolledUpDay.objects.filter(day__in=starts).order_by("day")
            if m.until <= period.end and m.until <= now
        ]
    windows: list[tuple[datetime, datetime]] = []
    cursor = period.start
    for marker in markers:
        if start_of_day(marker.day) > cursor:
            windows.append((cursor, start_of_day(marker.day)))
        cursor = max(cursor, marker.until)
    if cursor < period.end:
        windows.append((cursor, period.end))
    return [m.day for m in markers], windows


def _dimension_name(columns: list[str]) -> str:
    """SQL naming the dimension a grouping-set row groups by ('' for the total)."""
    if not columns:
        return "''"
    names = {c: d for d, c in DIMENSIONS.items()}
    cases = " ".join(f"WHEN GROUPING({c}) = 0 THEN '{names[c]}'" for c in columns)
    return f"CASE {cases} ELSE '' END"


def _grouped(columns: list[str]) -> tuple[str, str]:
    """(select list of every dimension column, GROUPING SETS list) for these columns."""
    selected = ", ".join(c if c in columns else "NULL" for c in DIMENSIONS.values())
    return selected, ", ".join(["()"] + [f"({c})" for c in columns])


ELAPSED = "elapsed"  # not a dimension: marks the rows that carry elapsed seconds


def _summary_sql(
    rolled, windows, filters: Filters, dims: list[str], params: list, *, elapsed: bool
) -> str:
    """Counts per grouping set from the facts rows, in one statement that computes the facts
    once; with `elapsed`, also the facts rows of first-reply and resolution timers with
    their elapsed seconds (dimension name ELAPSED), for sla_summary's percentiles."""
    sources = []
    if rolled:
        sources.append(_rollup_facts_sql(rolled, filters, params))
    if windows:
        sources.append(live_facts_sql(windows, filters, params))
    columns = [DIMENSIONS[d] for d in dims]
    selected, sets = _grouped(columns)
    counts = f"""
        WITH facts AS ({" UNION ALL ".join(sources)})
        SELECT {_dimension_name(columns)}, {selected},
               sum(met), sum(breached), sum(cancelled), NULL::int[]
        FROM facts
        GROUP BY GROUPING SETS ({sets})
    """
    if not elapsed:
        return counts
    return f"""{counts}
        UNION ALL
        SELECT '{ELAPSED}', {", ".join(f"f.{k}" for k in DIMENSIONS.values())}, NULL, NULL, NULL,
               f.elapsed
        FROM facts f
        WHERE f.metric IN ('first_reply', 'resolution') AND cardinality(f.elapsed) > 0
    """


def percentile_cont(ordered: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over values already sorted: position fraction * (n - 1),
    linear interpolation between the values either side, in the same floating-point steps
    (tests check it against PostgreSQL itself)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    first = float(ordered[low])
    if high == low:
        return first
    return first + (float(ordered[high]) - first) * (position - low)


def _percentile_minutes(elapsed: dict[tuple, list[int]], key: tuple, metric: str) -> dict:
    """p50 and p90 in minutes of one group's elapsed seconds for one metric. Sorted in
    Python: one sort per group, where SQL's ordered-set aggregates sorted once per grouping
    set and per aggregate (about three times the work at a million tickets)."""
    values = sorted(elapsed.get((*key, metric), ()))
    return {
        f"{metric}_p{int(p * 100)}_minutes": None
        if not values
        else round(percentile_cont(values, p) / 60, 2)
        for p in (0.5, 0.9)
    }


def _labels(dims: Sequence[str], queues=None, policies=None) -> dict[str, dict]:
    """raw value -> (API key, display label) per dimension; queues and policies are small
    tables, read only when grouped by (or passed in by a caller that has them already)."""
    labels = {
        "priority": {v: (v, label) for v, label in Priority.choices},
        "tier": {v: (v, label) for v, label in Tier.choices} | {None: (None, "No organisation")},
        "metric": {v: (v, label) for v, label in Metric.choices},
    }
    if "queue" in dims:
        queues = Queue.objects.all() if queues is None else queues
        labels["queue"] = {q.pk: (q.slug, q.name) for q in queues}
    if "policy" in dims:
        policies = SlaPolicy.objects.all() if policies is None else policies
        labels["policy"] = {p.pk: (p.pk, p.name) for p in policies}
    return labels


_ORDER = {
    "priority": Priority.values,
    "tier": [*Tier.values, None],
    "metric": Metric.values,
}


def sla_summary(
    *,
    period: Period,
    filters: Filters,
    group_bys: Sequence[str] = (),
    percentiles_for: Sequence[str] | None = None,
    now: datetime | None = None,
    use_rollups: bool = True,
    queues: Sequence[Queue] | None = None,
    policies: Sequence[SlaPolicy] | None = None,
    counts_only: bool = False,
) -> SlaSummary:
    """Total and per-dimension figures for the period in one SQL statement. Percentiles are
    computed for the total and for `percentiles_for` (default: every grouped dimension);
    groups of other dimensions carry None for them, and so does everything when
    `counts_only` (a comparison that shows only counts skips the sorts)."""
    now = now or timezone.now()
    rolled, windows = plan_sources(period, now=now, use_rollups=use_rollups)
    dims = [d for d in DIMENSIONS if d in group_bys]
    pct_dims = dims if percentiles_for is None else [d for d in dims if d in percentiles_for]
    params: list = []
    sql = _summary_sql(rolled, windows, filters, dims, params, elapsed=not counts_only)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    merged: dict[tuple, dict] = {}
    # (dimension, raw value, metric) -> elapsed seconds; ("", None, metric) is the total.
    elapsed: dict[tuple, list[int]] = {}
    column_index = {d: i for i, d in enumerate(DIMENSIONS)}
    for dim, *values, met, breached, cancelled, seconds in rows:
        if dim == ELAPSED:
            metric = values[column_index["metric"]]
            elapsed.setdefault(("", None, metric), []).extend(seconds)
            for pct_dim in pct_dims:
                key = (pct_dim, values[column_index[pct_dim]], metric)
                elapsed.setdefault(key, []).extend(seconds)
            continue
        raw = values[column_index[dim]] if dim else None
        # Over no facts at all, the total's sums are NULL.
        merged[(dim, raw)] = {
            "met": int(met or 0),
            "breached": int(breached or 0),
            "cancelled": int(cancelled or 0),
        }
    if not counts_only:
        for key in [("", None)] + [k for k in merged if k[0] in pct_dims]:
            figures = merged.setdefault(key, {})
            for metric in ("first_reply", "resolution"):
                figures.update(_percentile_minutes(elapsed, key, metric))

    labels = _labels(dims, queues, policies)
    blank = dict.fromkeys(["met", "breached", "cancelled"], 0) | dict.fromkeys(
        [
            "first_reply_p50_minutes",
            "first_reply_p90_minutes",
            "resolution_p50_minutes",
            "resolution_p90_minutes",
        ]
    )
    total = Figures(None, "All", **(blank | merged.pop(("", None), {})))
    groups: dict[str, list[Figures]] = {d: [] for d in dims}
    for (dim, raw), figures in merged.items():
        if dim == "day":
            key, label = raw.isoformat(), raw.isoformat()
        else:
            key, label = labels[dim].get(raw, (raw, str(raw)))
        groups[dim].append(Figures(key, label, **(blank | figures)))
    for dim in dims:
        groups[dim] = _ordered(dim, groups[dim], period, labels)
    return SlaSummary(
        period=period, total=total, groups=groups, percentiles_for=[] if counts_only else pct_dims
    )


def _ordered(dim: str, groups: list[Figures], period: Period, labels) -> list[Figures]:
    if dim == "day":
        # Every day of the period, zeros included, so a trend chart has no gaps.
        by_key = {g.key: g for g in groups}
        return [
            by_key.get(d.isoformat())
            or Figures(d.isoformat(), d.isoformat(), 0, 0, 0, None, None, None, None)
            for d in period.days
        ]
    if dim in _ORDER:
        order = {v: i for i, v in enumerate(_ORDER[dim])}
        return sorted(groups, key=lambda g: order.get(g.key, len(order)))
    return sorted(groups, key=lambda g: g.label.lower())

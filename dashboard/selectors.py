"""Dashboard figures other than SLA outcomes (those are dashboard.metrics): lists of breaches
and timers at risk, backlog, created vs solved, escalations to Engineering, agent workload.

Each is one indexed SQL statement (see migrations/0002_reporting_indexes.py), bounded by the
period or by the open tickets, never by the whole history.

Filters: queue, priority, tier and channel are the ticket's; policy is a timer's, so it
narrows the timer lists (breaches, at risk) and the SLA figures only.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from accounts.models import User
from tickets.models import UNSOLVED_STATUSES, Queue

from .params import Filters, Period

LIST_LIMIT = 50
AGE_BUCKETS = [  # (label, lower bound in days), youngest first
    ("< 1 day", 0),
    ("1-3 days", 1),
    ("3-7 days", 3),
    ("7-30 days", 7),
    ("30+ days", 30),
]


def _ticket_filters(filters: Filters, params: list, *, queue_column: str = "t.queue_id") -> str:
    sql = ""
    for column, value in (
        (queue_column, filters.queue.pk if filters.queue else None),
        ("t.priority", filters.priority),
        ("t.channel", filters.channel),
        ("org.tier", filters.tier),
    ):
        if value is not None:
            sql += f" AND {column} = %s"
            params.append(value)
    return sql


def _rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_TIMER_ROW = """
    SELECT st.ticket_id, t.subject, q.name AS queue, t.priority, st.metric,
           st.due_at, st.warning_at, st.breached_at, st.fulfilled_at,
           u.username AS assignee
    FROM sla_slatimer st
    JOIN tickets_ticket t ON t.id = st.ticket_id
    JOIN tickets_queue q ON q.id = t.queue_id
    LEFT JOIN tickets_organization org ON org.id = t.organization_id
    LEFT JOIN accounts_user u ON u.id = t.assignee_id
"""


def _policy_filter(filters: Filters, params: list) -> str:
    if filters.policy is None:
        return ""
    params.append(filters.policy.pk)
    return " AND st.policy_id = %s"


def breaches_in_period(*, period: Period, filters: Filters) -> list[dict]:
    """The latest LIST_LIMIT timers breached in the period, newest first."""
    params: list = [period.start, period.end]
    where = _ticket_filters(filters, params) + _policy_filter(filters, params)
    params.append(LIST_LIMIT)
    return _rows(
        _TIMER_ROW + " WHERE st.status = 'breached' AND st.breached_at >= %s"
        f" AND st.breached_at < %s{where} ORDER BY st.breached_at DESC, st.id DESC LIMIT %s",
        params,
    )


def at_risk_now(*, now: datetime, filters: Filters) -> tuple[list[dict], int]:
    """Running timers past their warning time and not yet breached, soonest due first
    (LIST_LIMIT of them), and how many there are in all."""
    params: list = [now]
    where = _ticket_filters(filters, params) + _policy_filter(filters, params)
    params.append(LIST_LIMIT)
    rows = _rows(
        "SELECT *, count(*) OVER () AS total FROM ("
        + _TIMER_ROW
        + " WHERE st.status = 'active' AND st.running AND st.warning_at <= %s"
        f"{where}) risk ORDER BY due_at NULLS LAST, ticket_id LIMIT %s",
        params,
    )
    return rows, (rows[0]["total"] if rows else 0)


@dataclass(frozen=True)
class OpenCounts:
    """Open tickets now, counted in one pass: per (queue id, AGE_BUCKETS index) and per
    assignee id."""

    by_queue_age: dict[tuple[int, int], int]
    by_assignee: dict[int, int]


def open_ticket_counts(*, now: datetime, filters: Filters) -> OpenCounts:
    """One index-only scan of the open tickets (dash_ticket_open) feeds both the backlog by
    age and the agents' open tickets: counted per (queue, age bucket, assignee), a few
    hundred groups, then summed both ways here."""
    params: list = []
    cases = []
    for index, (_, days) in reversed(list(enumerate(AGE_BUCKETS))):
        cases.append(f"WHEN t.created_at <= %s THEN {index}")
        params.append(now - timedelta(days=days))
    params.append(list(UNSOLVED_STATUSES))
    where = _ticket_filters(filters, params)
    rows = _rows(
        f"SELECT t.queue_id, CASE {' '.join(cases)} ELSE 0 END AS bucket, t.assignee_id,"
        " count(*) AS n"
        " FROM tickets_ticket t LEFT JOIN tickets_organization org ON org.id = t.organization_id"
        f" WHERE t.status = ANY(%s){where} GROUP BY 1, 2, 3",
        params,
    )
    by_queue_age: dict[tuple[int, int], int] = {}
    by_assignee: dict[int, int] = {}
    for row in rows:
        key = (row["queue_id"], row["bucket"])
        by_queue_age[key] = by_queue_age.get(key, 0) + row["n"]
        if row["assignee_id"] is not None:
            by_assignee[row["assignee_id"]] = by_assignee.get(row["assignee_id"], 0) + row["n"]
    return OpenCounts(by_queue_age, by_assignee)


def backlog_by_age(
    counts: OpenCounts, *, queues: list[Queue] | None = None
) -> dict[str, list[int]]:
    """Open tickets per queue name -> counts per AGE_BUCKETS entry (by created_at)."""
    names = {q.pk: q.name for q in (Queue.objects.all() if queues is None else queues)}
    table: dict[str, list[int]] = {}
    for (queue_id, bucket), n in counts.by_queue_age.items():
        table.setdefault(names.get(queue_id, "?"), [0] * len(AGE_BUCKETS))[bucket] += n
    return dict(sorted(table.items(), key=lambda item: item[0].lower()))


@dataclass(frozen=True)
class DayFlow:
    day: str
    created: int
    solved: int


def created_vs_solved(*, period: Period, filters: Filters) -> list[DayFlow]:
    """Tickets created and tickets solved per UTC day of the period (solved_at: the latest
    time the ticket was solved)."""
    params: list = []
    parts = []
    for column in ("created_at", "solved_at"):
        params += [period.start, period.end]
        where = _ticket_filters(filters, params)
        parts.append(
            f"SELECT '{column}' AS kind, (t.{column} AT TIME ZONE 'UTC')::date AS day,"
            " count(*) AS n FROM tickets_ticket t"
            " LEFT JOIN tickets_organization org ON org.id = t.organization_id"
            f" WHERE t.{column} >= %s AND t.{column} < %s{where} GROUP BY 2"
        )
    counts = {(r["kind"], r["day"]): r["n"] for r in _rows(" UNION ALL ".join(parts), params)}
    return [
        DayFlow(d.isoformat(), counts.get(("created_at", d), 0), counts.get(("solved_at", d), 0))
        for d in period.days
    ]


def _minutes(value) -> float | None:
    return None if value is None else round(float(value), 2)


def escalations_to_engineering(*, period: Period, now: datetime, filters: Filters) -> dict:
    """Escalations into Engineering queues raised in the period, their time to acknowledge
    (p50/p90 minutes, over those acknowledged), and how many are open now (any age).
    The queue filter matches the queue the ticket was escalated from."""
    params: list = [period.start, period.end]
    where = _ticket_filters(filters, params, queue_column="e.from_queue_id")
    open_params: list = []
    open_where = _ticket_filters(filters, open_params, queue_column="e.from_queue_id")
    base = (
        " FROM sla_escalation e JOIN tickets_queue q ON q.id = e.to_queue_id"
        " AND q.kind = 'engineering'"
    )
    if filters.priority or filters.channel or filters.tier:
        base += (
            " JOIN tickets_ticket t ON t.id = e.ticket_id"
            " LEFT JOIN tickets_organization org ON org.id = t.organization_id"
        )
    ack = "EXTRACT(EPOCH FROM (e.acknowledged_at - e.created_at)) / 60.0"
    row = _rows(
        f"SELECT count(*) AS raised, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP"
        f" (ORDER BY {ack}) AS ack, (SELECT count(*) {base}"
        f" WHERE e.acknowledged_at IS NULL{open_where}) AS open"
        f"{base} WHERE e.created_at >= %s AND e.created_at < %s{where}",
        open_params + params,
    )[0]
    ack_values = row["ack"] or [None, None]
    return {
        "raised": row["raised"],
        "ack_p50_minutes": _minutes(ack_values[0]),
        "ack_p90_minutes": _minutes(ack_values[1]),
        "open_unacknowledged": row["open"],
    }


def agent_workload(counts: OpenCounts, *, period: Period, filters: Filters) -> list[dict]:
    """Per agent: open tickets assigned now (from `counts`), and public replies written in
    the period."""
    reply_params: list = [period.start, period.end]
    reply_where = _ticket_filters(filters, reply_params)
    # Without ticket filters the covering index on messages answers alone.
    reply_join = (
        " JOIN tickets_ticket t ON t.id = m.ticket_id"
        " LEFT JOIN tickets_organization org ON org.id = t.organization_id"
        if reply_where
        else ""
    )
    rows = _rows(
        f"SELECT m.author_id AS user_id, count(*) AS replies FROM tickets_message m{reply_join}"
        " WHERE m.public AND m.author_type = 'agent' AND m.author_id IS NOT NULL"
        f" AND m.created_at >= %s AND m.created_at < %s{reply_where} GROUP BY 1",
        reply_params,
    )
    merged = {pk: [n, 0] for pk, n in counts.by_assignee.items()}
    for row in rows:
        merged.setdefault(row["user_id"], [0, 0])[1] += row["replies"]
    users = User.objects.filter(pk__in=merged).only("username", "first_name", "last_name")
    names = {u.pk: u.get_full_name() or u.username for u in users}
    out = [
        {"agent": names.get(pk, "?"), "open_tickets": o, "replies": r}
        for pk, (o, r) in merged.items()
    ]
    return sorted(out, key=lambda row: (-row["open_tickets"], -row["replies"], row["agent"]))

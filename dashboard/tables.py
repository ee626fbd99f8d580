"""The dashboard's tables as plain rows: the page renders them and the CSV export writes the
very same rows, so an export always holds exactly what the page shows."""

from dataclasses import dataclass, field

from .metrics import Figures
from .report import DashboardReport
from .selectors import AGE_BUCKETS, LIST_LIMIT


@dataclass(frozen=True)
class Link:
    """A cell linking to a ticket; the CSV writes its text, the page the link (the
    dashboard_cell filter)."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


SLA_HEADERS = [
    "Met",
    "Breached",
    "Cancelled",
    "Compliance %",
    "First reply p50 (min)",
    "First reply p90 (min)",
    "Resolution p50 (min)",
    "Resolution p90 (min)",
]


def _sla_row(label: str, f: Figures, times: bool) -> list:
    row = [label, f.met, f.breached, f.cancelled, _percent(f.compliance)]
    if times:
        row += [
            _number(f.first_reply_p50_minutes),
            _number(f.first_reply_p90_minutes),
            _number(f.resolution_p50_minutes),
            _number(f.resolution_p90_minutes),
        ]
    return row


def sla_table(report: DashboardReport, dimension: str) -> Table:
    groups = report.sla.groups[dimension]
    times = dimension in report.sla.percentiles_for
    return Table(
        name=f"sla_by_{dimension}",
        title=f"SLA by {dimension}",
        headers=[dimension.title(), *(SLA_HEADERS if times else SLA_HEADERS[:4])],
        rows=[_sla_row(g.label, g, times) for g in groups]
        + [_sla_row("All", report.sla.total, times)],
    )


def _ticket(row: dict) -> Link:
    return Link(f"#{row['ticket_id']} {row['subject']}", f"/tickets/{row['ticket_id']}/")


def breaches_table(report: DashboardReport) -> Table:
    return Table(
        name="breaches",
        title="Breaches in the period",
        headers=["Ticket", "Queue", "Priority", "Metric", "Breached at (UTC)", "Answered at"],
        rows=[
            [
                _ticket(r),
                r["queue"],
                r["priority"],
                r["metric"],
                _time(r["breached_at"]),
                _time(r["fulfilled_at"]),
            ]
            for r in report.breaches
        ],
        note=f"The latest {LIST_LIMIT}." if len(report.breaches) == LIST_LIMIT else "",
    )


def at_risk_table(report: DashboardReport) -> Table:
    rows, total = report.at_risk
    return Table(
        name="at_risk",
        title="At risk now",
        headers=["Ticket", "Queue", "Priority", "Metric", "Assignee", "Due at (UTC)"],
        rows=[
            [
                _ticket(r),
                r["queue"],
                r["priority"],
                r["metric"],
                r["assignee"] or "",
                _time(r["due_at"]),
            ]
            for r in rows
        ],
        note=f"The {LIST_LIMIT} due soonest of {total}." if total > len(rows) else "",
    )


def backlog_table(report: DashboardReport) -> Table:
    return Table(
        name="backlog",
        title="Open tickets by age",
        headers=["Queue", *[label for label, _ in AGE_BUCKETS], "Total"],
        rows=[[queue, *counts, sum(counts)] for queue, counts in report.backlog.items()],
    )


def flow_table(report: DashboardReport) -> Table:
    return Table(
        name="created_solved",
        title="Created vs solved per day (UTC)",
        headers=["Day", "Created", "Solved"],
        rows=[[d.day, d.created, d.solved] for d in report.flow],
    )


def escalations_table(report: DashboardReport) -> Table:
    e = report.escalations
    return Table(
        name="escalations",
        title="Escalations to Engineering",
        headers=["Raised in period", "Ack p50 (min)", "Ack p90 (min)", "Open unacknowledged"],
        rows=[
            [
                e["raised"],
                _number(e["ack_p50_minutes"]),
                _number(e["ack_p90_minutes"]),
                e["open_unacknowledged"],
            ]
        ],
    )


def workload_table(report: DashboardReport) -> Table:
    return Table(
        name="workload",
        title="Agent workload",
        headers=["Agent", "Open tickets", "Public replies in period"],
        rows=[[w["agent"], w["open_tickets"], w["replies"]] for w in report.workload],
    )


BUILDERS = {
    **{
        f"sla_by_{d}": (lambda report, d=d: sla_table(report, d))
        for d in ("metric", "queue", "priority", "tier", "policy", "day")
    },
    "breaches": breaches_table,
    "at_risk": at_risk_table,
    "backlog": backlog_table,
    "created_solved": flow_table,
    "escalations": escalations_table,
    "workload": workload_table,
}

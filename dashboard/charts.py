"""Chart specifications (labels and series) for static/dashboard/dashboard.js, embedded in the
page with json_script. Drawn from the same report as the tables beside them."""

from .report import DashboardReport
from .selectors import AGE_BUCKETS


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def chart_specs(report: DashboardReport) -> list[dict]:
    sla = report.sla
    days = sla.groups["day"]
    specs = [
        {
            "id": "chart-trend",
            "title": "Daily SLA outcomes and compliance",
            "type": "bar",
            "stacked": True,
            "percentAxis": True,
            "labels": [g.label for g in days],
            "datasets": [
                {"label": "Met", "data": [g.met for g in days]},
                {"label": "Breached", "data": [g.breached for g in days]},
                {
                    "label": "Compliance %",
                    "type": "line",
                    "yAxisID": "pct",
                    "data": [_pct(g.compliance) for g in days],
                },
            ],
        }
    ]
    for dim in ("metric", "queue", "priority", "tier", "policy"):
        groups = sla.groups[dim]
        specs.append(
            {
                "id": f"chart-sla-{dim}",
                "title": f"Compliance % by {dim}",
                "type": "bar",
                "max": 100,
                "labels": [g.label for g in groups],
                "datasets": [
                    {"label": "Compliance %", "data": [_pct(g.compliance) for g in groups]}
                ],
            }
        )
    queues = sla.groups["queue"]
    specs.append(
        {
            "id": "chart-times",
            "title": "Business minutes by queue",
            "type": "bar",
            "labels": [g.label for g in queues],
            "datasets": [
                {"label": label, "data": [getattr(g, attr) for g in queues]}
                for label, attr in (
                    ("First reply p50", "first_reply_p50_minutes"),
                    ("First reply p90", "first_reply_p90_minutes"),
                    ("Resolution p50", "resolution_p50_minutes"),
                    ("Resolution p90", "resolution_p90_minutes"),
                )
            ],
        }
    )
    backlog = report.backlog
    specs.append(
        {
            "id": "chart-backlog",
            "title": "Open tickets by age",
            "type": "bar",
            "stacked": True,
            "labels": list(backlog),
            "datasets": [
                {"label": label, "data": [counts[i] for counts in backlog.values()]}
                for i, (label, _) in enumerate(AGE_BUCKETS)
            ],
        }
    )
    specs.append(
        {
            "id": "chart-flow",
            "title": "Created vs solved per day",
            "type": "line",
            "labels": [d.day for d in report.flow],
            "datasets": [
                {"label": "Created", "data": [d.created for d in report.flow]},
                {"label": "Solved", "data": [d.solved for d in report.flow]},
            ],
        }
    )
    return specs

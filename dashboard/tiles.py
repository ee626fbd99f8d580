"""The key-figure tiles at the top of the dashboard, as display strings."""

from dataclasses import dataclass

from .report import DashboardReport

NONE = "\N{EN DASH}"  # no value (nothing decided in the period)


@dataclass(frozen=True)
class Tile:
    name: str
    title: str
    value: str
    detail: str = ""
    tone: str = ""  # good | bad | "" (neutral)


def _pct(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def _minutes(p50: float | None, p90: float | None) -> str:
    if p50 is None:
        return NONE
    return f"{p50:g} / {p90:g} min"


def tiles(report: DashboardReport) -> list[Tile]:
    total, previous = report.sla.total, report.sla_previous.total
    change = report.compliance_change_points
    if change is None:
        change_text = "no comparison: no decided timers in one of the periods"
    else:
        change_text = f"{change:+.1f} pts vs previous period ({_pct(previous.compliance)})"
    _, at_risk = report.at_risk
    escalations = report.escalations
    ack = _minutes(escalations["ack_p50_minutes"], escalations["ack_p90_minutes"])
    return [
        Tile(
            "compliance",
            "SLA compliance",
            _pct(total.compliance),
            change_text,
            "" if change is None else ("good" if change >= 0 else "bad"),
        ),
        Tile("met", "Met", str(total.met), f"previous period {previous.met}"),
        Tile(
            "breached",
            "Breached",
            str(total.breached),
            f"previous period {previous.breached}",
            "bad" if total.breached > previous.breached else "",
        ),
        Tile("cancelled", "Cancelled", str(total.cancelled), "not counted in compliance"),
        Tile("at_risk", "At risk now", str(at_risk), "running timers past their warning"),
        Tile(
            "first_reply",
            "First reply p50 / p90",
            _minutes(total.first_reply_p50_minutes, total.first_reply_p90_minutes),
            "business minutes",
        ),
        Tile(
            "resolution",
            "Resolution p50 / p90",
            _minutes(total.resolution_p50_minutes, total.resolution_p90_minutes),
            "business minutes",
        ),
        Tile("backlog", "Open backlog", str(report.backlog_total), "unsolved tickets now"),
        Tile(
            "escalations",
            "Escalations to Engineering",
            str(escalations["raised"]),
            f"ack p50 / p90 {ack}; {escalations['open_unacknowledged']} open unacknowledged",
        ),
    ]

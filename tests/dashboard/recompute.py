"""Independent recomputation of the SLA figures in plain Python over the raw timer rows, to
check dashboard.metrics against (it shares no code with it)."""

import math
from collections import defaultdict

from sla.models import SlaTimer

OUTCOME_FIELD = {"met": "fulfilled_at", "breached": "breached_at", "cancelled": "cancelled_at"}


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    values = sorted(values)
    position = p * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def _key(timer: SlaTimer, group_by: str, outcome_at):
    ticket = timer.ticket
    return {
        "day": lambda: outcome_at.date().isoformat(),
        "queue": lambda: ticket.queue.slug,
        "priority": lambda: ticket.priority,
        "tier": lambda: ticket.organization.tier if ticket.organization else None,
        "policy": lambda: timer.policy_id,
        "metric": lambda: timer.metric,
    }[group_by]()


def figures(timers: list[SlaTimer]) -> dict:
    met = sum(t.status == "met" for t in timers)
    breached = sum(t.status == "breached" for t in timers)
    out = {
        "met": met,
        "breached": breached,
        "cancelled": sum(t.status == "cancelled" for t in timers),
        "compliance": met / (met + breached) if met + breached else None,
    }
    for metric in ("first_reply", "resolution"):
        minutes = [
            t.elapsed_seconds / 60
            for t in timers
            if t.metric == metric and t.status in ("met", "breached")
        ]
        out[f"{metric}_p50_minutes"] = percentile(minutes, 0.5)
        out[f"{metric}_p90_minutes"] = percentile(minutes, 0.9)
    return out


def expected(start, end, group_by=None, **filters) -> tuple[dict, dict]:
    """(total, {key: figures}) for timers whose outcome falls in [start, end)."""
    chosen = []
    for timer in SlaTimer.objects.select_related("ticket__queue", "ticket__organization"):
        if timer.status not in OUTCOME_FIELD:
            continue
        at = getattr(timer, OUTCOME_FIELD[timer.status])
        if not start <= at < end:
            continue
        ticket = timer.ticket
        tier = ticket.organization.tier if ticket.organization else None
        if filters.get("queue") and ticket.queue.slug != filters["queue"]:
            continue
        if filters.get("priority") and ticket.priority != filters["priority"]:
            continue
        if filters.get("tier") and tier != filters["tier"]:
            continue
        chosen.append((timer, at))
    groups = defaultdict(list)
    if group_by:
        for timer, at in chosen:
            groups[_key(timer, group_by, at)].append(timer)
    return figures([t for t, _ in chosen]), {k: figures(v) for k, v in groups.items()}


def assert_same(actual: dict, wanted: dict) -> None:
    for name, value in wanted.items():
        if value is None or isinstance(value, int):
            assert actual[name] == value, name
        else:
            assert actual[name] is not None, name
            # Minutes are rounded to 2 decimals; compliance is an exact ratio.
            tolerance = 1e-9 if name == "compliance" else 0.005 + 1e-9
            assert abs(actual[name] - value) <= tolerance, (name, actual[name], value)

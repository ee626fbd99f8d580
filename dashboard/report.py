"""Everything the dashboard shows for one period and set of filters, computed on first use:
the page reads every part, a CSV export or the at-risk poll only the part it needs."""

from datetime import datetime
from functools import cached_property

from django.utils import timezone

from sla.models import SlaPolicy
from tickets.models import Queue

from . import selectors
from .metrics import SlaSummary, sla_summary
from .params import Filters, Period

SLA_DIMENSIONS = ["day", "queue", "priority", "tier", "policy", "metric"]
# Response-time percentiles are shown in total and by queue and priority; skipping the other
# dimensions halves the cost of the page's heaviest statement.
PERCENTILE_DIMENSIONS = ["queue", "priority"]


class DashboardReport:
    def __init__(self, *, period: Period, filters: Filters, now: datetime | None = None):
        self.period = period
        self.filters = filters
        self.now = now or timezone.now()

    @cached_property
    def queues(self) -> list[Queue]:
        return list(Queue.objects.all())

    @cached_property
    def policies(self) -> list[SlaPolicy]:
        return list(SlaPolicy.objects.all())

    @cached_property
    def sla(self) -> SlaSummary:
        return sla_summary(
            period=self.period,
            filters=self.filters,
            group_bys=SLA_DIMENSIONS,
            percentiles_for=PERCENTILE_DIMENSIONS,
            now=self.now,
            queues=self.queues,
            policies=self.policies,
        )

    @cached_property
    def sla_previous(self) -> SlaSummary:
        # Only its counts are shown (compliance, met, breached): no percentile sorts.
        return sla_summary(
            period=self.period.previous, filters=self.filters, now=self.now, counts_only=True
        )

    @cached_property
    def compliance_change_points(self) -> float | None:
        """Percentage points gained (or lost) since the previous period of the same length."""
        now, before = self.sla.total.compliance, self.sla_previous.total.compliance
        if now is None or before is None:
            return None
        return round((now - before) * 100, 1)

    @cached_property
    def breaches(self) -> list[dict]:
        return selectors.breaches_in_period(period=self.period, filters=self.filters)

    @cached_property
    def at_risk(self) -> tuple[list[dict], int]:
        return selectors.at_risk_now(now=self.now, filters=self.filters)

    @cached_property
    def open_counts(self) -> selectors.OpenCounts:
        return selectors.open_ticket_counts(now=self.now, filters=self.filters)

    @cached_property
    def backlog(self) -> dict[str, list[int]]:
        return selectors.backlog_by_age(self.open_counts, queues=self.queues)

    @cached_property
    def backlog_total(self) -> int:
        return sum(sum(counts) for counts in self.backlog.values())

    @cached_property
    def flow(self) -> list[selectors.DayFlow]:
        return selectors.created_vs_solved(period=self.period, filters=self.filters)

    @cached_property
    def escalations(self) -> dict:
        return selectors.escalations_to_engineering(
            period=self.period, now=self.now, filters=self.filters
        )

    @cached_property
    def workload(self) -> list[dict]:
        return selectors.agent_workload(self.open_counts, period=self.period, filters=self.filters)

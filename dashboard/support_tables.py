"""The dashboard's support figures (DESIGN §9) as tiles and tables, from
dashboard.support_metrics: the same code as GET /api/v1/metrics/support. The CSV export of a
support table writes the very rows the page shows."""

from dataclasses import dataclass
from functools import cached_property

from .params import Period
from .support_metrics import SupportFigures, SupportFilters, SupportSummary, support_summary
from .tables import Table
from .tiles import NONE, Tile

TABLES = ("support_by_day", "support_by_reason", "support_by_tier", "support_by_agent")
HEADERS = [
    "Contacts",
    "Per 100 accounts",
    "Per 10k payments",
    "Surveys sent",
    "Responses",
    "CSAT %",
    "Response rate %",
]


def _pct(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _row(label: str, f: SupportFigures) -> list:
    return [
        label,
        f.contacts,
        _rate(f.contact_rate_per_100_accounts),
        _rate(f.contact_rate_per_10k_payments),
        f.surveys_sent,
        f.csat_responses,
        "" if f.csat_score is None else f"{f.csat_score * 100:.1f}",
        "" if f.csat_response_rate is None else f"{f.csat_response_rate * 100:.1f}",
    ]


@dataclass
class SupportReport:
    period: Period
    filters: SupportFilters
    # The help center's per-day figures (four more queries, batched over the period) are
    # the API's; the tiles show them for the whole period, with its trend.
    self_service_by_day: bool = False

    @cached_property
    def summary(self) -> SupportSummary:
        return support_summary(
            period=self.period,
            filters=self.filters,
            group_bys=["day", "reason", "tier", "agent"],
            self_service_by_day=self.self_service_by_day,
        )

    @cached_property
    def previous(self) -> SupportSummary:
        return support_summary(period=self.period.previous, filters=self.filters)

    def table(self, name: str) -> Table:
        dimension = name.removeprefix("support_by_")
        day = dimension == "day" and self.self_service_by_day
        return Table(
            name=name,
            title=f"Contacts and satisfaction by {dimension}",
            headers=[
                dimension.title(),
                *(["Deflection %", "Self-service"] if day else []),
                *HEADERS,
            ],
            rows=[self._row(dimension, g.label, g) for g in self.summary.groups[dimension]]
            + [self._row(dimension, "All", self.summary.total)],
            note=(
                "Contacts by current assignee; CSAT by the agent credited with the solve."
                if dimension == "agent"
                else "Contact rates are n/a where no day has an imported denominator."
            ),
        )

    def _row(self, dimension: str, label: str, f: SupportFigures) -> list:
        row = _row(label, f)
        if dimension == "day" and self.self_service_by_day:
            row[1:1] = [
                "" if f.deflection_rate is None else f"{f.deflection_rate * 100:.1f}",
                "" if f.self_service_score is None else f"{f.self_service_score:.2f}",
            ]
        return row

    def tables(self) -> dict[str, Table]:
        return {name: self.table(name) for name in TABLES}

    def tiles(self) -> list[Tile]:
        now, before = self.summary.total, self.previous.total
        return [
            _trend_tile(
                "csat",
                "CSAT",
                now.csat_score,
                before.csat_score,
                _pct,
                True,
                f"{now.csat_responses} responses rated 4-5 / all",
            ),
            _trend_tile(
                "csat_response_rate",
                "Survey response rate",
                now.csat_response_rate,
                before.csat_response_rate,
                _pct,
                True,
                f"{now.csat_responses} of {now.surveys_sent} surveys sent",
            ),
            _trend_tile(
                "contacts_per_100_accounts",
                "Contacts per 100 accounts",
                now.contact_rate_per_100_accounts,
                before.contact_rate_per_100_accounts,
                _rate,
                False,
                f"{now.contacts} contacts in the period",
            ),
            _trend_tile(
                "contacts_per_10k_payments",
                "Contacts per 10k payments",
                now.contact_rate_per_10k_payments,
                before.contact_rate_per_10k_payments,
                _rate,
                False,
                "days without a denominator are left out",
            ),
            _trend_tile(
                "deflection",
                "Deflection rate",
                now.deflection_rate,
                before.deflection_rate,
                _pct,
                True,
                "contact-form visits that read an article and sent no ticket",
            ),
            _trend_tile(
                "self_service",
                "Self-service score",
                now.self_service_score,
                before.self_service_score,
                lambda v: NONE if v is None else f"{v:.2f}",
                True,
                "article views per ticket created",
            ),
        ]


def _trend_tile(name, title, value, previous, fmt, higher_is_better: bool, detail: str) -> Tile:
    """The figure with the previous period of the same length beside it."""
    tone = ""
    if value is not None and previous is not None and value != previous:
        better = value > previous if higher_is_better else value < previous
        tone = "good" if better else "bad"
    shown = "n/a" if value is None else fmt(value)
    before = "n/a" if previous is None else fmt(previous)
    return Tile(name, title, shown, f"{detail}; previous period {before}", tone)

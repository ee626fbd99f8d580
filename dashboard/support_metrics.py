"""Support figures: contacts, contact rate, CSAT, deflection and self-service (DESIGN §9).
The one code path behind GET /api/v1/metrics/support and the dashboard's support figures.

Definitions (docs/satisfaction.md says the same for readers):
- Contacts: tickets created in [from, to), not opened by a robot and not merged into
  another ticket. Reason, queue, tier and assignee are the ticket's current ones.
- Contact rate per 100 active accounts and per 10,000 payments. A contact on a UTC day is
  compared with that day's denominator (segment "all", or the tier's row when grouping by
  or filtering on tier). Only days that have a denominator count, in the numerator and the
  denominator alike; with none, the rate is null ("n/a"), never 0. Over several days,
  payments (a flow) are summed and active accounts (a stock) are averaged:
      per_100_accounts = contacts on covered days / mean(active accounts of those days) * 100
      per_10k_payments = contacts on covered days / sum(payments of those days) * 10,000
  Grouped by agent, rates are null (no agent has a denominator of their own).
- CSAT: surveys count in the period in which they were sent (a cohort). Their reason,
  queue, tier, priority and channel are the ticket's at the solve (kept on the survey).
  surveys_sent = sent and not withdrawn (statuses sent, answered, expired); csat_responses
  = answered ones; csat_score = responses rated 4 or 5 / csat_responses; csat_response_rate
  = csat_responses / surveys_sent; null when the divisor is 0. By agent: the agent
  credited with the solve.
- deflection_rate and self_service_score come from helpcenter.selectors.self_service_figures
  for the total, and from self_service_figures_by_day (the same figures, one grouped read
  for the whole period) for day groups; null for other groups (visits have no queue or agent).

Everything is read in two statements (contacts, surveys) with GROUPING SETS over
(day, group), plus one for the denominators and the help center's few (four for the total,
four more for all the days together).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from django.db import connection

from accounts.models import User
from support_desk.errors import InvalidRequest
from tickets.models import ContactReason, Queue, Tier

from .params import Filters, Period, parse_filters

GROUP_BYS = ("day", "reason", "tier", "queue", "agent")
ANSWERED, COUNTED_AS_SENT = "answered", ("sent", "answered", "expired")
NO_KEY = "__none__"

# group_by -> (contacts' key column on ticket `t`, surveys' key column on survey `s`).
_KEY_COLUMNS = {
    "reason": ("t.contact_reason_id", "s.contact_reason_id_at_solve"),
    "tier": ("o.tier", "s.tier_at_solve"),
    "queue": ("t.queue_id", "s.queue_id_at_solve"),
    "agent": ("t.assignee_id", "s.agent_id"),
}
# filter -> (contacts' column, surveys' column).
_FILTER_COLUMNS = {
    "queue": ("t.queue_id", "s.queue_id_at_solve"),
    "priority": ("t.priority", "s.priority_at_solve"),
    "tier": ("o.tier", "s.tier_at_solve"),
    "channel": ("t.channel", "s.channel_at_solve"),
    "reason": ("t.contact_reason_id", "s.contact_reason_id_at_solve"),
}


@dataclass(frozen=True)
class SupportFilters:
    base: Filters = field(default_factory=Filters)
    reason: ContactReason | None = None

    @property
    def query(self) -> dict[str, str]:
        values = dict(self.base.query)
        values.pop("policy", None)
        if self.reason:
            values["reason"] = self.reason.slug
        return values


def parse_support_filters(params) -> SupportFilters:
    """The dashboard's filters (queue, priority, tier, channel; policy is an SLA filter and
    is ignored here) plus `reason`, a contact reason slug."""
    reason = None
    if slug := params.get("reason"):
        reason = ContactReason.objects.filter(slug=slug[:64]).first()
        if reason is None:
            raise InvalidRequest(
                "No contact reason with this slug.", param="reason", code="not_found"
            )
    return SupportFilters(base=parse_filters(params), reason=reason)


def parse_support_group_by(params) -> str | None:
    value = params.get("group_by") or None
    if value is not None and value not in GROUP_BYS:
        raise InvalidRequest(
            f"Must be one of {', '.join(GROUP_BYS)}.", param="group_by", code="invalid_choice"
        )
    return value


@dataclass(frozen=True)
class SupportFigures:
    key: object
    label: str
    contacts: int
    contact_rate_per_100_accounts: float | None
    contact_rate_per_10k_payments: float | None
    surveys_sent: int
    csat_responses: int
    csat_score: float | None
    csat_response_rate: float | None
    deflection_rate: float | None
    self_service_score: float | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SupportSummary:
    period: Period
    total: SupportFigures
    groups: dict[str, list[SupportFigures]]


# --- reading ------------------------------------------------------------------------------


def _where(filters: SupportFilters, column: int) -> tuple[str, dict]:
    base = filters.base
    values = {
        "queue": base.queue.pk if base.queue is not None else None,
        "priority": base.priority,
        "tier": base.tier,
        "channel": base.channel,
        "reason": filters.reason.pk if filters.reason is not None else None,
    }
    clauses = [
        f" AND {_FILTER_COLUMNS[name][column]} = %({name})s"
        for name, value in values.items()
        if value is not None
    ]
    return "".join(clauses), {k: v for k, v in values.items() if v is not None}


def _grouping_sets(day: str, group_bys: Sequence[str], column: int) -> tuple[str, str, list]:
    """SELECT expressions for the non-day groups and their GROUPING flags, the GROUPING
    SETS clause, and the non-day group names in order."""
    others = [g for g in group_bys if g != "day"]
    columns = [_KEY_COLUMNS[g][column] for g in others]
    selects = "".join(f", {c}" for c in columns) + "".join(f", GROUPING({c})" for c in columns)
    sets = [f"({day})", *[f"({day}, {c})" for c in columns]]
    return selects, f"GROUP BY GROUPING SETS ({', '.join(sets)})", others


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _split(rows, others: list[str]) -> dict:
    """{None: {day: values}, group: {key: {day: values}}} from GROUPING SETS rows laid out
    as (day, k_..., g_..., values...)."""
    totals: dict = {}
    groups: dict[str, dict] = {g: defaultdict(dict) for g in others}
    n = len(others)
    for row in rows:
        day, keys, flags, values = row[0], row[1 : 1 + n], row[1 + n : 1 + 2 * n], row[1 + 2 * n :]
        grouped = [g for g, flag in zip(others, flags, strict=True) if flag == 0]
        if not grouped:
            totals[day] = values
        else:
            g = grouped[0]
            key = keys[others.index(g)]
            groups[g][NO_KEY if key is None else key][day] = values
    return {"total": totals, **groups}


def _contacts(period: Period, filters: SupportFilters, group_bys: Sequence[str]) -> dict:
    where, params = _where(filters, 0)
    day = "(t.created_at AT TIME ZONE 'UTC')::date"
    selects, group_clause, others = _grouping_sets(day, group_bys, 0)
    sql = f"""
        SELECT {day}{selects}, count(*)
        FROM tickets_ticket t
        LEFT JOIN tickets_organization o ON o.id = t.organization_id
        WHERE t.created_at >= %(start)s AND t.created_at < %(end)s
          AND NOT t.opened_by_robot AND t.merged_into_id IS NULL{where}
        {group_clause}
    """
    rows = _rows(sql, {"start": period.start, "end": period.end, **params})
    return _split(rows, others)


def _surveys(period: Period, filters: SupportFilters, group_bys: Sequence[str]) -> dict:
    where, params = _where(filters, 1)
    day = "(s.sent_at AT TIME ZONE 'UTC')::date"
    selects, group_clause, others = _grouping_sets(day, group_bys, 1)
    sql = f"""
        SELECT {day}{selects},
               count(*),
               count(*) FILTER (WHERE s.status = %(answered)s),
               count(*) FILTER (WHERE s.status = %(answered)s AND s.rating >= 4)
        FROM csat_survey s
        WHERE s.sent_at >= %(start)s AND s.sent_at < %(end)s
          AND s.status = ANY(%(counted)s){where}
        {group_clause}
    """
    rows = _rows(
        sql,
        {
            "start": period.start,
            "end": period.end,
            "answered": ANSWERED,
            "counted": list(COUNTED_AS_SENT),
            **params,
        },
    )
    return _split(rows, others)


def denominators_for(period: Period) -> dict[tuple[str, str], dict[date, int]]:
    """{(metric, segment): {day: value}} for the UTC days the period touches."""
    days = period.days
    rows = _rows(
        "SELECT date, metric, segment, value FROM csat_denominator"
        " WHERE date >= %(first)s AND date <= %(last)s",
        {"first": days[0], "last": days[-1]},
    )
    found: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
    for day, metric, segment, value in rows:
        found[(metric, segment)][day] = value
    return found


def _self_service(start: datetime, end: datetime) -> dict | None:
    try:
        from helpcenter.selectors import self_service_figures
    except ImportError:
        return None
    return self_service_figures(start=start, end=end)


def _self_service_by_day(start: datetime, end: datetime) -> dict[date, dict]:
    """{day: the help center's figures for that day's part of [start, end)}, read at once."""
    try:
        from helpcenter.selectors import self_service_figures_by_day
    except ImportError:
        return {}
    return self_service_figures_by_day(start=start, end=end)


# --- figures ------------------------------------------------------------------------------


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _rates(
    contacts_by_day: dict, days: Sequence[date], denominators: dict, segment: str | None
) -> tuple[float | None, float | None]:
    if segment is None:
        return None, None
    out: list[float | None] = []
    for metric in ("active_accounts", "payments"):
        values = denominators.get((metric, segment), {})
        covered = [d for d in days if values.get(d)]
        if not covered:
            out.append(None)
            continue
        contacts = sum(contacts_by_day.get(d, (0,))[0] for d in covered)
        if metric == "active_accounts":
            mean = sum(values[d] for d in covered) / len(covered)
            out.append(contacts / mean * 100)
        else:
            out.append(contacts / sum(values[d] for d in covered) * 10_000)
    return out[0], out[1]


def _figures(
    key,
    label: str,
    contacts_by_day: dict,
    surveys_by_day: dict,
    days: Sequence[date],
    denominators: dict,
    segment: str | None,
    self_service: dict | None,
) -> SupportFigures:
    per_100, per_10k = _rates(contacts_by_day, days, denominators, segment)
    sent = sum(v[0] for v in surveys_by_day.values())
    responses = sum(v[1] for v in surveys_by_day.values())
    satisfied = sum(v[2] for v in surveys_by_day.values())
    return SupportFigures(
        key=key,
        label=label,
        contacts=sum(v[0] for v in contacts_by_day.values()),
        contact_rate_per_100_accounts=per_100,
        contact_rate_per_10k_payments=per_10k,
        surveys_sent=sent,
        csat_responses=responses,
        csat_score=_ratio(satisfied, responses),
        csat_response_rate=_ratio(responses, sent),
        deflection_rate=(self_service or {}).get("deflection_rate"),
        self_service_score=(self_service or {}).get("self_service_score"),
    )


def _labels(group_by: str, keys) -> dict:
    ids = [k for k in keys if k != NO_KEY]
    if group_by == "reason":
        return {r.pk: (r.slug, r.name) for r in ContactReason.objects.filter(pk__in=ids)}
    if group_by == "queue":
        return {q.pk: (q.slug, q.name) for q in Queue.objects.filter(pk__in=ids)}
    if group_by == "agent":
        return {
            u.pk: (u.username, u.get_full_name() or u.username)
            for u in User.objects.filter(pk__in=ids)
        }
    if group_by == "tier":
        return {t: (t, str(label)) for t, label in Tier.choices}
    return {}


_NO_LABEL = {"reason": "No reason", "tier": "No organisation", "queue": "?", "agent": "Unassigned"}


def support_summary(
    *,
    period: Period,
    filters: SupportFilters | None = None,
    group_bys: Sequence[str] = (),
    self_service_by_day: bool = True,
) -> SupportSummary:
    filters = filters or SupportFilters()
    contacts = _contacts(period, filters, group_bys)
    surveys = _surveys(period, filters, group_bys)
    denominators = denominators_for(period)
    days = period.days
    segment = filters.base.tier or "all"
    total = _figures(
        None,
        "Total",
        contacts["total"],
        surveys["total"],
        days,
        denominators,
        segment,
        _self_service(period.start, period.end),
    )
    groups: dict[str, list[SupportFigures]] = {}
    for group_by in group_bys:
        if group_by == "day":
            by_day = _self_service_by_day(period.start, period.end) if self_service_by_day else {}
            groups["day"] = [
                _day_figures(day, contacts, surveys, denominators, segment, by_day.get(day))
                for day in days
            ]
            continue
        keys = set(contacts[group_by]) | set(surveys[group_by])
        labels = _labels(group_by, keys)
        rows = []
        for key in keys:
            public_key, label = labels.get(key, (None, _NO_LABEL[group_by]))
            if group_by == "agent":
                group_segment = None
            elif group_by == "tier":
                # A tier's contacts over that tier's denominator.
                group_segment = None if key == NO_KEY else key
            else:
                group_segment = segment
            rows.append(
                _figures(
                    None if key == NO_KEY else public_key,
                    label,
                    contacts[group_by].get(key, {}),
                    surveys[group_by].get(key, {}),
                    days,
                    denominators,
                    group_segment,
                    None,
                )
            )
        rows.sort(key=lambda f: (-f.contacts, -f.surveys_sent, f.label))
        groups[group_by] = rows
    return SupportSummary(period=period, total=total, groups=groups)


def _day_figures(
    day, contacts, surveys, denominators, segment, self_service: dict | None
) -> SupportFigures:
    return _figures(
        day.isoformat(),
        day.strftime("%a %d %b"),
        {day: contacts["total"][day]} if day in contacts["total"] else {},
        {day: surveys["total"][day]} if day in surveys["total"] else {},
        [day],
        denominators,
        segment,
        self_service,
    )

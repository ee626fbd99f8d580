"""GET /api/v1/metrics/support against independent SQL over the raw tables."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Role
from csat.models import Denominator, Survey
from tests.factories import (
    OrganizationFactory,
    QueueFactory,
    RequesterFactory,
    TicketFactory,
    UserFactory,
    make_token,
)
from tickets.models import ContactReason, EventType, TicketEvent

pytestmark = pytest.mark.django_db

START, END = datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC)
DAYS = [date(2025, 3, 3) + timedelta(days=i) for i in range(7)]
GAP = date(2025, 3, 6)  # no denominator on this day
URL = "/api/v1/metrics/support"


@pytest.fixture
def desk(db):
    rng = random.Random(11)
    queues = [QueueFactory(slug="payments"), QueueFactory(slug="payouts")]
    agents = [UserFactory(username=f"agent{i}", role=Role.AGENT) for i in range(3)]
    reasons = list(ContactReason.objects.all()[:3])
    orgs = [OrganizationFactory(tier=t) for t in ("standard", "premium", "enterprise")]
    requesters = [RequesterFactory(organization=o) for o in orgs] + [
        RequesterFactory(organization=None)
    ]
    original = TicketFactory(queue=queues[0], created_at=START - timedelta(days=3))
    for i in range(120):
        requester = requesters[i % 4]
        created = START - timedelta(hours=12) + timedelta(minutes=rng.randrange(0, 8 * 24 * 60))
        if i % 17 == 0:
            created = START  # inclusive edge
        if i % 19 == 0:
            created = END  # exclusive edge
        ticket = TicketFactory(
            queue=queues[i % 2],
            requester=requester,
            organization=requester.organization,
            created_at=created,
            assignee=agents[i % 3] if i % 5 else None,
            contact_reason=reasons[i % 3] if i % 7 else None,
            opened_by_robot=i % 13 == 0,
            merged_into=original if i % 23 == 0 else None,
            status="solved",
            priority="high" if i % 4 == 0 else "normal",
        )
        if i % 3 == 0:
            continue
        event = TicketEvent.objects.create(
            ticket=ticket, type=EventType.STATUS_CHANGED, at=created, data={"status": "solved"}
        )
        sent = created + timedelta(hours=1) if i % 11 else None
        status = ("sent", "answered", "answered", "expired", "void", "answered")[i % 6]
        if sent is None:
            status = "pending"
        answered = status == "answered"
        Survey.objects.create(
            ticket=ticket,
            solve_event=event,
            solved_at=created,
            agent=agents[(i + 1) % 3] if i % 8 else None,
            requester_email=requester.email,
            queue_id_at_solve=ticket.queue_id,
            contact_reason_id_at_solve=ticket.contact_reason_id,
            tier_at_solve=ticket.organization.tier if ticket.organization else None,
            priority_at_solve=ticket.priority,
            channel_at_solve=ticket.channel,
            status=status,
            created_at=created,
            send_after=created + timedelta(hours=1),
            sent_at=sent,
            responded_at=sent + timedelta(hours=2) if answered else None,
            rating=rng.randint(1, 5) if answered else None,
            token_hash=f"{i:064d}" if sent else None,
        )
    for day in [*DAYS, START.date() - timedelta(days=1)]:
        if day == GAP:
            continue
        for segment, share in (("all", 1.0), ("standard", 0.6), ("premium", 0.3)):
            Denominator.objects.create(
                date=day,
                metric="active_accounts",
                segment=segment,
                value=int(2000 * share) + day.day,
            )
            if day.weekday() != 2:  # payments also missing on Wednesdays
                Denominator.objects.create(
                    date=day,
                    metric="payments",
                    segment=segment,
                    value=int(150_000 * share) + day.day,
                )
    return {"queues": queues, "reasons": reasons}


@pytest.fixture
def lead_client(db):
    client = Client()
    lead = UserFactory(username="lead", role=Role.LEAD)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {make_token(lead, ('tickets:read',))}"
    return client


def _sql(query: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


KEYS = {
    None: "NULL::text",
    "reason": "r.slug",
    "tier": "o.tier",
    "queue": "q.slug",
    "agent": "ua.username",
}
SURVEY_KEYS = {**KEYS, "tier": "s.tier_at_solve", "agent": "us.username"}


def _contacts_sql(group_by, start, end, extra=""):
    key = KEYS.get(group_by, "NULL::text")
    return f"""
        SELECT {key} AS k, (t.created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n
        FROM tickets_ticket t
        LEFT JOIN tickets_organization o ON o.id = t.organization_id
        LEFT JOIN tickets_contactreason r ON r.id = t.contact_reason_id
        JOIN tickets_queue q ON q.id = t.queue_id
        LEFT JOIN accounts_user ua ON ua.id = t.assignee_id
        WHERE t.created_at >= '{start.isoformat()}' AND t.created_at < '{end.isoformat()}'
          AND t.opened_by_robot = false AND t.merged_into_id IS NULL {extra}
        GROUP BY 1, 2
    """


def expected_rates(group_by, key, start=START, end=END, extra=""):
    """(per 100 accounts, per 10k payments), recomputed in SQL alone."""
    if group_by == "agent":
        return None, None
    segment = key if group_by == "tier" else "all"
    out = []
    for metric, how in (("active_accounts", "avg"), ("payments", "sum")):
        rows = _sql(
            f"""
            WITH c AS ({_contacts_sql(group_by, start, end, extra)}),
                 den AS (SELECT date, value FROM csat_denominator
                         WHERE metric = %s AND segment = %s AND value > 0
                           AND date >= %s AND date < %s)
            SELECT (SELECT coalesce(sum(c.n), 0) FROM c JOIN den ON den.date = c.d
                    WHERE c.k IS NOT DISTINCT FROM %s),
                   (SELECT {how}(value) FROM den)
            """,
            [
                metric,
                segment,
                start.date(),
                (end - timedelta(microseconds=1)).date() + timedelta(days=1),
                key,
            ],
        )[0]
        contacts, denominator = rows
        if denominator is None:
            out.append(None)
        else:
            factor = 100 if metric == "active_accounts" else 10_000
            out.append(float(contacts) / float(denominator) * factor)
    return tuple(out)


def expected_csat(group_by, start=START, end=END, extra=""):
    key = SURVEY_KEYS.get(group_by, "NULL::text")
    rows = _sql(
        f"""
        SELECT {key},
               count(*) FILTER (WHERE s.status IN ('sent', 'answered', 'expired')),
               count(*) FILTER (WHERE s.status = 'answered'),
               count(*) FILTER (WHERE s.status = 'answered' AND s.rating IN (4, 5))
        FROM csat_survey s
        LEFT JOIN tickets_contactreason r ON r.id = s.contact_reason_id_at_solve
        JOIN tickets_queue q ON q.id = s.queue_id_at_solve
        LEFT JOIN accounts_user us ON us.id = s.agent_id
        WHERE s.sent_at >= %s AND s.sent_at < %s
          AND s.status IN ('sent', 'answered', 'expired') {extra}
        GROUP BY 1
        """,
        [start, end],
    )
    return {k: (sent, responses, happy) for k, sent, responses, happy in rows}


def expected_contacts(group_by, start=START, end=END, extra=""):
    rows = _sql(
        f"SELECT k, sum(n) FROM ({_contacts_sql(group_by, start, end, extra)}) x GROUP BY k", []
    )
    return {k: int(n) for k, n in rows}


def _check(figures, contacts, surveys, rates):
    sent, responses, happy = surveys
    assert figures["contacts"] == contacts
    assert figures["surveys_sent"] == sent
    assert figures["csat_responses"] == responses
    assert figures["csat_score"] == (pytest.approx(happy / responses) if responses else None)
    assert figures["csat_response_rate"] == (pytest.approx(responses / sent) if sent else None)
    for got, want in zip(
        (figures["contact_rate_per_100_accounts"], figures["contact_rate_per_10k_payments"]),
        rates,
        strict=True,
    ):
        assert got == (None if want is None else pytest.approx(want, abs=1e-6))


def _get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("group_by", [None, "reason", "tier", "queue", "agent"])
def test_figures_equal_sql(desk, lead_client, group_by):
    body = _get(
        lead_client,
        **{"from": "2025-03-03", "to": "2025-03-10"},
        **({"group_by": group_by} if group_by else {}),
    )
    contacts = expected_contacts(None)
    surveys = expected_csat(None)
    assert contacts[None] > 50
    assert surveys[None][1] > 5
    _check(body["total"], contacts[None], surveys[None], expected_rates(None, None))
    if group_by is None:
        assert body["groups"] == []
        return
    contacts, surveys = expected_contacts(group_by), expected_csat(group_by)
    got = {g["key"]: g for g in body["groups"]}
    assert set(got) == set(contacts) | set(surveys)
    for key, figures in got.items():
        _check(
            figures,
            contacts.get(key, 0),
            surveys.get(key, (0, 0, 0)),
            expected_rates(group_by, key),
        )


def test_days_without_a_denominator_are_null_never_zero(desk, lead_client):
    body = _get(lead_client, **{"from": "2025-03-03", "to": "2025-03-10", "group_by": "day"})
    days = {g["key"]: g for g in body["groups"]}
    assert list(days) == [d.isoformat() for d in DAYS]
    gap = days[GAP.isoformat()]
    assert gap["contacts"] > 0
    assert gap["contact_rate_per_100_accounts"] is None
    assert gap["contact_rate_per_10k_payments"] is None
    for day in DAYS:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        contacts = expected_contacts(None, start, end).get(None, 0)
        surveys = expected_csat(None, start, end).get(None, (0, 0, 0))
        _check(days[day.isoformat()], contacts, surveys, expected_rates(None, None, start, end))
    wednesday = next(d for d in DAYS if d.weekday() == 2).isoformat()
    assert days[wednesday]["contact_rate_per_10k_payments"] is None
    assert days[wednesday]["contact_rate_per_100_accounts"] is not None


@pytest.mark.parametrize(
    ("params", "extra", "survey_extra"),
    [
        ({"tier": "premium"}, "AND o.tier = 'premium'", "AND s.tier_at_solve = 'premium'"),
        ({"queue": "payouts"}, "AND q.slug = 'payouts'", "AND q.slug = 'payouts'"),
        ({"priority": "high"}, "AND t.priority = 'high'", "AND s.priority_at_solve = 'high'"),
        ({"channel": "api"}, "AND t.channel = 'api'", "AND s.channel_at_solve = 'api'"),
    ],
)
def test_filters(desk, lead_client, params, extra, survey_extra):
    body = _get(lead_client, **{"from": "2025-03-03", "to": "2025-03-10"}, **params)
    contacts = expected_contacts(None, extra=extra).get(None, 0)
    surveys = expected_csat(None, extra=survey_extra).get(None, (0, 0, 0))
    rates = (
        expected_rates("tier", "premium", extra=extra)
        if "tier" in params
        else (expected_rates(None, None, extra=extra))
    )
    _check(body["total"], contacts, surveys, rates)


def test_reason_filter(desk, lead_client):
    reason = desk["reasons"][1]
    body = _get(lead_client, **{"from": "2025-03-03", "to": "2025-03-10", "reason": reason.slug})
    extra = f"AND t.contact_reason_id = {reason.pk}"
    _check(
        body["total"],
        expected_contacts(None, extra=extra)[None],
        expected_csat(None, extra=f"AND s.contact_reason_id_at_solve = {reason.pk}").get(
            None, (0, 0, 0)
        ),
        expected_rates(None, None, extra=extra),
    )


def test_a_period_without_denominators_gives_null_rates(desk, lead_client):
    body = _get(lead_client, **{"from": "2024-01-01", "to": "2024-01-08"})
    assert body["total"]["contact_rate_per_100_accounts"] is None
    assert body["total"]["contact_rate_per_10k_payments"] is None
    assert body["total"]["csat_score"] is None


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("group_by=priority", "group_by"),
        ("reason=nope", "reason"),
        ("from=2025-03-10&to=2025-03-03", "from"),
        ("from=bad", "from"),
        ("tier=gold", "tier"),
    ],
)
def test_bad_parameters_are_400(desk, lead_client, query, param):
    response = lead_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_self_service_figures_come_from_the_help_center(desk, lead_client, monkeypatch):
    calls, day_calls = [], []

    def figures(*, start, end):
        calls.append((start, end))
        return {"deflection_rate": 0.25, "self_service_score": 3.5}

    def figures_by_day(*, start, end):
        day_calls.append((start, end))
        days = [start.date() + timedelta(days=i) for i in range((end - start).days)]
        return {d: {"deflection_rate": 0.5, "self_service_score": float(d.day)} for d in days}

    monkeypatch.setattr("helpcenter.selectors.self_service_figures", figures)
    monkeypatch.setattr("helpcenter.selectors.self_service_figures_by_day", figures_by_day)
    body = _get(lead_client, **{"from": "2025-03-03", "to": "2025-03-10", "group_by": "day"})
    assert body["total"]["deflection_rate"] == 0.25
    assert body["total"]["self_service_score"] == 3.5
    assert all(g["deflection_rate"] == 0.5 for g in body["groups"])
    assert [g["self_service_score"] for g in body["groups"]] == [3, 4, 5, 6, 7, 8, 9]
    # One call for the total and one for all the days together, not one per day.
    assert calls == [(START, END)]
    assert day_calls == [(START, END)]
    queues = _get(lead_client, **{"from": "2025-03-03", "to": "2025-03-10", "group_by": "queue"})
    assert all(g["deflection_rate"] is None for g in queues["groups"])

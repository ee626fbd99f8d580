"""GET /api/v1/csat and PUT /api/v1/metrics/denominators."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from csat import services as csat
from csat.models import Denominator, Survey
from tests.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(api_client, lead):
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ('tickets:read', 'admin'))}"
    )
    return api_client


def _answered(make_ticket, solve, agent, rating):
    ticket = make_ticket()
    solve(ticket, assignee=agent)
    csat.surveys_send_due(now=timezone.now() + timedelta(hours=2))
    token = mail.outbox[-1].body.split("/help/survey/")[1].split("/")[0]
    csat.survey_respond(raw_token=token, rating=rating, comment=f"rated {rating}")
    return ticket


def test_list_shows_sent_surveys_with_their_answers(lead_client, make_ticket, solve, agent):
    rated = _answered(make_ticket, solve, agent, 5)
    pending = make_ticket()
    solve(pending)  # not sent yet: not listed
    response = lead_client.get("/api/v1/csat")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    [row] = body["results"]
    assert row["ticket"] == rated.pk
    assert row["agent"] == "ann"
    assert (row["rating"], row["comment"], row["status"]) == (5, "rated 5", "answered")
    assert set(row) == {
        "id",
        "ticket",
        "agent",
        "sent_at",
        "responded_at",
        "rating",
        "comment",
        "status",
    }


def test_list_filters_and_paginates(lead_client, make_ticket, solve, agent):
    tickets = [_answered(make_ticket, solve, agent, r) for r in (1, 2, 3)]
    one = lead_client.get(f"/api/v1/csat?ticket={tickets[1].pk}").json()["results"]
    assert [r["ticket"] for r in one] == [tickets[1].pk]
    page = lead_client.get("/api/v1/csat?limit=2").json()
    assert len(page["results"]) == 2
    rest = lead_client.get(page["next"]).json()
    assert len(rest["results"]) == 1
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert lead_client.get(f"/api/v1/csat?from={tomorrow}").json()["results"] == []
    assert len(lead_client.get(f"/api/v1/csat?to={tomorrow}").json()["results"]) == 3


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("ticket=abc", "ticket"),
        ("from=yesterday", "from"),
        ("to=2025-13-01", "to"),
        ("limit=0", "limit"),
        ("cursor=%%%", "cursor"),
    ],
)
def test_list_bad_parameters_are_400(lead_client, query, param):
    response = lead_client.get(f"/api/v1/csat?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


ROWS = [
    {"date": "2026-11-01", "metric": "active_accounts", "segment": "all", "value": 2200},
    {"date": "2026-11-01", "metric": "payments", "segment": "all", "value": 180000},
    {"date": "2026-11-01", "metric": "active_accounts", "segment": "premium", "value": 400},
]


def test_denominators_upsert_is_idempotent(lead_client):
    first = lead_client.put("/api/v1/metrics/denominators", {"rows": ROWS}, format="json")
    assert first.status_code == 200
    assert first.json() == {"received": 3, "created": 3, "updated": 0, "unchanged": 0}
    again = lead_client.put("/api/v1/metrics/denominators", ROWS, format="json")  # a bare list
    assert again.json() == {"received": 3, "created": 0, "updated": 0, "unchanged": 3}
    changed = [{**ROWS[0], "value": 2300}]
    assert (
        lead_client.put("/api/v1/metrics/denominators", {"rows": changed}, format="json").json()[
            "updated"
        ]
        == 1
    )
    assert Denominator.objects.count() == 3
    assert Denominator.objects.get(metric="active_accounts", segment="all").value == 2300
    assert Denominator.objects.get(segment="premium").date == date(2026, 11, 1)


@pytest.mark.parametrize(
    ("bad", "param"),
    [
        ({"value": -1}, "rows[3].value"),
        ({"value": "12"}, "rows[3].value"),
        ({"value": True}, "rows[3].value"),
        ({"value": 1.5}, "rows[3].value"),
        ({"date": "2026-02-30"}, "rows[3].date"),
        ({"metric": "revenue"}, "rows[3].metric"),
        ({"segment": "gold"}, "rows[3].segment"),
        ({"colour": "red"}, "rows[3].colour"),
    ],
)
def test_a_bad_row_is_400_naming_it_and_changes_nothing(lead_client, bad, param):
    lead_client.put("/api/v1/metrics/denominators", {"rows": ROWS}, format="json")
    before = list(Denominator.objects.values_list("date", "metric", "segment", "value"))
    rows = [
        {**ROWS[0], "value": 1},  # would change a row
        {"date": "2026-11-02", "metric": "payments", "segment": "all", "value": 5},  # a new one
        ROWS[2],
        {**{"date": "2026-11-03", "metric": "payments", "segment": "all", "value": 9}, **bad},
    ]
    response = lead_client.put("/api/v1/metrics/denominators", {"rows": rows}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert list(Denominator.objects.values_list("date", "metric", "segment", "value")) == before


@pytest.mark.parametrize("body", [{"rows": "x"}, {"rows": [1]}, {"other": []}, "text", 5])
def test_malformed_bodies_are_400(lead_client, body):
    response = lead_client.put("/api/v1/metrics/denominators", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_denominators_need_the_admin_scope(api_client, lead):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ('tickets:read',))}")
    response = api_client.put("/api/v1/metrics/denominators", {"rows": ROWS}, format="json")
    assert response.status_code == 403
    assert not Denominator.objects.exists()


def test_surveys_are_visible_only_to_leads(api_client, agent, make_ticket, solve):
    _answered(make_ticket, solve, agent, 4)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(agent)}")
    assert api_client.get("/api/v1/csat").status_code == 403
    assert Survey.objects.count() == 1

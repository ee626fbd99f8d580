"""Cursor pagination follows its links exactly and refuses a cursor it did not issue."""

import pytest

from accounts.models import Role
from tests.factories import UserFactory, make_token
from tickets import services as tickets


@pytest.fixture
def lead_client(api_client, db):
    lead = UserFactory(role=Role.LEAD)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ['tickets:read'])}")
    for n in range(5):
        tickets.ticket_create(
            actor=lead, subject=f"Payout {n}", description="d", requester_email=f"r{n}@x.test"
        )
    return api_client


def test_next_links_walk_every_ticket_once(lead_client):
    seen, url = [], "/api/v1/tickets?limit=2"
    while url:
        body = lead_client.get(url).json()
        seen += [t["subject"] for t in body["results"]]
        url = body["next"]
    assert sorted(seen) == [f"Payout {n}" for n in range(5)]


@pytest.mark.parametrize(
    "query",
    [
        "cursor=true",  # not base64 of a cursor
        "cursor=%7B%27%C3%98%25%C2%B3%27%3A+1%7D",  # not base64 at all
        "cursor=cj0x",  # base64 of "r=1": no position, no offset
        "cursor=cD0x&cursor=cD0y",  # two cursors
        "limit=2&limit=3",
    ],
)
def test_a_cursor_we_did_not_issue_is_a_400(lead_client, query):
    response = lead_client.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["param"] in ("cursor", "limit")


def test_documented_list_parameters_may_repeat(lead_client):
    response = lead_client.get("/api/v1/tickets?status=new&status=open")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5

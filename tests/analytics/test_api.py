"""POST /api/v1/analytics/query and /api/v1/analytics/saved-queries: shapes and errors."""

import pytest

from accounts.models import Role
from analytics import services
from analytics.models import SavedQuery
from tests.factories import UserFactory, make_token

QUERY = "/api/v1/analytics/query"
SAVED = "/api/v1/analytics/saved-queries"


@pytest.fixture
def client(api_client, lead):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ['analytics'])}")
    return api_client


def test_query_returns_columns_rows_and_figures(client):
    response = client.post(
        QUERY, {"sql": "SELECT :n::int + 1 AS answer", "params": {"n": 41}}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == ["answer"]
    assert body["rows"] == [[42]]
    assert body["row_count"] == 1
    assert body["truncated"] is False
    assert isinstance(body["duration_ms"], float)


def test_syntax_error_is_400_with_the_databases_message_and_position(client):
    response = client.post(QUERY, {"sql": "SELECT 1 +"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "syntax_error"
    assert "syntax error at end of input" in error["message"]
    assert error["details"]["position"] == ["11"]


def test_refused_query_is_400(client):
    response = client.post(QUERY, {"sql": "DELETE FROM tickets"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "query_refused"


def test_timeout_is_400_query_timeout(client, settings, monkeypatch):
    settings.ANALYTICS_TIMEOUT_MS = 200
    original = services.check_query
    monkeypatch.setattr(services, "check_query", lambda sql, views: None)  # let pg_sleep through
    response = client.post(QUERY, {"sql": "SELECT pg_sleep(5)"}, format="json")
    monkeypatch.setattr(services, "check_query", original)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "query_timeout"


def test_rate_limited_is_429(client, monkeypatch):
    monkeypatch.setattr(services, "RUNS_PER_MINUTE", 1)
    assert client.post(QUERY, {"sql": "SELECT 1"}, format="json").status_code == 200
    response = client.post(QUERY, {"sql": "SELECT 1"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize("role", [Role.AGENT, Role.ENGINEER])
def test_others_than_leads_get_403(api_client, db, role):
    user = UserFactory(username=f"an-{role}", role=role)
    api_client.force_login(user)
    for method, url in (("post", QUERY), ("get", SAVED), ("post", SAVED)):
        response = getattr(api_client, method)(url, {"sql": "SELECT 1"}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "permission_error"


def test_a_lead_token_without_the_analytics_scope_gets_403(api_client, lead):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ['tickets:read'])}")
    assert api_client.post(QUERY, {"sql": "SELECT 1"}, format="json").status_code == 403


def test_saved_queries_crud_and_run(client):
    created = client.post(
        SAVED,
        {
            "name": "Since",
            "description": "d",
            "sql": "SELECT :since::date AS since, :n AS n",
            "parameters": [
                {"name": "since", "type": "date"},
                {"name": "n", "type": "int", "default": 3},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["created_by"] == "an-lead"
    assert client.get(SAVED).json()["results"][0]["name"] == "Since"
    assert client.get(f"{SAVED}/{pk}").json()["parameters"][1]["default"] == 3

    run = client.post(f"{SAVED}/{pk}/run", {"params": {"since": "2026-05-01"}}, format="json")
    assert run.status_code == 200, run.content
    assert run.json()["rows"] == [["2026-05-01", 3]]
    bad = client.post(f"{SAVED}/{pk}/run", {"params": {"since": "May"}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "params.since"

    patched = client.patch(f"{SAVED}/{pk}", {"description": "new"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["description"] == "new"
    assert client.delete(f"{SAVED}/{pk}").status_code == 204
    assert not SavedQuery.objects.exists()


def test_saved_query_must_declare_its_parameters_and_be_a_query(client):
    undeclared = client.post(SAVED, {"name": "x", "sql": "SELECT :a"}, format="json")
    assert undeclared.status_code == 400
    assert undeclared.json()["error"]["param"] == "parameters"
    refused = client.post(SAVED, {"name": "y", "sql": "DROP VIEW tickets"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "query_refused"

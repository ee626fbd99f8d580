from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiToken, Role, hash_token
from tests.factories import QueueFactory, UserFactory, make_token
from tickets.models import Ticket


@pytest.mark.django_db
def test_prints_the_token_alone_on_the_last_line_and_stores_its_hash(capsys, api_client):
    UserFactory(username="integration")
    call_command("create_api_token", "--user", "integration", "--scopes", "tickets:read")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("sd_")
    assert " " not in raw
    token = ApiToken.objects.get()
    assert token.key_hash == hash_token(raw)
    assert raw not in token.key_hash
    assert token.scopes == ["tickets:read"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api/v1/tickets").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "scopes", "message"),
    [("ghost", "tickets:read", "No active user"), ("integration", "tickets:delete", "unknown")],
)
def test_bad_input_exits_with_a_message(user, scopes, message):
    UserFactory(username="integration")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", "--user", user, "--scopes", scopes)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AGENT, Role.ENGINEER])
@pytest.mark.parametrize("scope", ["admin", "import"])
def test_a_token_never_exceeds_its_users_role(role, scope):
    UserFactory(username="worker", role=role)
    with pytest.raises(CommandError, match=f"cannot carry {scope}"):
        call_command("create_api_token", "--user", "worker", "--scopes", f"tickets:read,{scope}")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_demoted_users_tokens_lose_what_the_new_role_does_not_allow(api_client):
    lead = UserFactory(role=Role.LEAD)
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ('tickets:read', 'admin'))}"
    )
    body = {"name": "NY", "timezone": "America/New_York", "always_open": True}
    assert api_client.post("/api/v1/calendars", body, format="json").status_code == 201
    lead.role = Role.AGENT
    lead.save()
    refused = api_client.post("/api/v1/calendars", {**body, "name": "LDN"}, format="json")
    assert refused.status_code == 403
    assert api_client.get("/api/v1/tickets").status_code == 200


@pytest.mark.django_db
def test_no_scope_implies_another(api_client):
    lead = UserFactory(role=Role.LEAD)
    past = (timezone.now() - timedelta(days=2)).isoformat()
    ticket = {"subject": "s", "description": "d", "requester": {"email": "a@b.test"}}
    QueueFactory(slug="payments", is_default=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ('tickets:write',))}")
    assert api_client.get("/api/v1/tickets").status_code == 403  # write-only reads nothing
    assert api_client.get("/api/v1/queues").status_code == 403
    assert api_client.get("/api/v1/queues/payments").status_code == 403  # list = detail
    assert api_client.post("/api/v1/tickets", ticket, format="json").status_code == 201
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(lead, ('tickets:write', 'admin'))}"
    )
    backdated = api_client.post("/api/v1/tickets", {**ticket, "created_at": past}, format="json")
    assert backdated.status_code == 403  # admin does not grant import
    assert Ticket.objects.count() == 1

"""The tickets API as a REST client sees it: status codes, bodies and rows (DESIGN §5)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.factories import OrganizationFactory, QueueFactory, UserFactory, make_token
from tickets.models import EventType, Message, Organization, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

BODY = {
    "subject": "Payout po_1Q2 not received",
    "description": "Our payout of $4,210.00 scheduled for Monday has not arrived.",
    "requester": {"email": "finance@acme.test", "name": "Dana Finance"},
    "organization": {"name": "Acme Ltd", "external_id": "acct_1Acme", "tier": "premium"},
    "priority": "high",
    "tags": ["Payouts", "bank-transfer"],
}


@pytest.fixture
def client(api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token()}")
    return api_client


def as_user(api_client, user=None, scopes=("tickets:read", "tickets:write")):
    if user is None and "import" in scopes:
        user = UserFactory(role=Role.LEAD)  # only leads' and admins' tokens may import
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, scopes)}")
    return api_client


def error(response) -> dict:
    return response.json()["error"]


def create(client, **changes):
    response = client.post("/api/v1/tickets", {**BODY, **changes}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_returns_the_ticket_and_writes_its_event(client):
    body = create(client)
    assert body["subject"] == BODY["subject"]
    assert body["status"] == "new"
    assert body["priority"] == "high"
    assert body["channel"] == "api"
    assert body["queue"] == "support"  # the desk's default queue
    assert body["requester"] == {"email": "finance@acme.test", "name": "Dana Finance"}
    assert body["organization"] == {
        "name": "Acme Ltd",
        "external_id": "acct_1Acme",
        "tier": "premium",
    }
    assert body["tags"] == ["payouts", "bank-transfer"]
    assert body["version"] == 1
    assert body["sla"] == []
    assert body["escalations"] == []
    assert TicketEvent.objects.filter(ticket_id=body["id"], type=EventType.CREATED).count() == 1


def test_organization_is_matched_by_external_id(client):
    OrganizationFactory(external_id="acct_1Acme", name="Acme Ltd", tier="enterprise")
    create(client, organization={"external_id": "acct_1Acme"})
    assert Organization.objects.filter(external_id="acct_1Acme").count() == 1
    assert Ticket.objects.get().organization.tier == "enterprise"


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"description": None}, "description"),
        ({"requester": {"name": "no email"}}, "requester.email"),
        ({"requester": {"email": "not-an-email"}}, "requester.email"),
        ({"priority": "critical"}, "priority"),
        ({"channel": "fax"}, "channel"),
        ({"queue": "no-such-queue"}, "queue"),
        ({"organization": {"name": "X", "tier": "gold"}}, "organization.tier"),
        ({"tags": "payouts"}, "tags"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(client, changes, param):
    response = client.post("/api/v1/tickets", {**BODY, **changes}, format="json")
    assert response.status_code == 400
    assert error(response)["type"] == "invalid_request_error"
    assert error(response)["param"] == param
    assert param in error(response)["details"]
    assert not Ticket.objects.exists()


def test_missing_subject_matches_the_documented_error(client):
    response = client.post(
        "/api/v1/tickets", {k: v for k, v in BODY.items() if k != "subject"}, format="json"
    )
    assert response.json() == {
        "error": {
            "type": "invalid_request_error",
            "code": "required",
            "message": "subject: This field is required.",
            "param": "subject",
            "details": {"subject": ["This field is required."]},
        }
    }


def test_malformed_json_and_non_object_bodies_are_400(client):
    bad = client.post("/api/v1/tickets", "{oops", content_type="application/json")
    assert bad.status_code == 400
    assert error(bad)["type"] == "invalid_request_error"
    assert client.post("/api/v1/tickets", [1, 2], format="json").status_code == 400
    form = client.post("/api/v1/tickets", "subject=x", content_type="text/plain")
    assert form.status_code == 415
    assert error(form)["type"] == "invalid_request_error"
    assert not Ticket.objects.exists()


def test_created_at_needs_the_import_scope(api_client):
    past = (timezone.now() - timedelta(days=3)).isoformat()
    as_user(api_client)
    denied = api_client.post("/api/v1/tickets", {**BODY, "created_at": past}, format="json")
    assert denied.status_code == 403
    assert error(denied)["type"] == "permission_error"
    as_user(api_client, scopes=("tickets:write", "import"))
    body = create(api_client, created_at=past)
    assert body["created_at"].startswith(past[:19])


def test_naive_or_future_created_at_is_rejected(api_client):
    as_user(api_client, scopes=("tickets:write", "import"))
    naive = api_client.post(
        "/api/v1/tickets", {**BODY, "created_at": "2026-01-05T10:00:00"}, format="json"
    )
    assert naive.status_code == 400
    assert error(naive)["param"] == "created_at"
    future = (timezone.now() + timedelta(days=1)).isoformat()
    ahead = api_client.post("/api/v1/tickets", {**BODY, "created_at": future}, format="json")
    assert ahead.status_code == 400
    assert error(ahead)["param"] == "created_at"
    assert not Ticket.objects.exists()


def test_get_one_and_404(client):
    ticket = create(client)
    got = client.get(f"/api/v1/tickets/{ticket['id']}")
    assert got.status_code == 200
    assert got.json() == ticket
    assert got["ETag"] == '"1"'
    missing = client.get("/api/v1/tickets/987654")
    assert missing.status_code == 404
    assert error(missing)["type"] == "not_found"


def test_patch_changes_fields_writes_events_and_bumps_version(client):
    agent = UserFactory(username="maria")
    ticket = create(client)
    engineering = QueueFactory(slug="eng-payments")
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        {"status": "open", "priority": "urgent", "assignee": "maria", "queue": engineering.slug},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["priority"], body["assignee"], body["queue"]) == (
        "open",
        "urgent",
        agent.username,
        "eng-payments",
    )
    assert body["version"] == 2
    types = set(TicketEvent.objects.filter(ticket_id=ticket["id"]).values_list("type", flat=True))
    assert {"status_changed", "priority_changed", "assignee_changed", "queue_changed"} <= types


def test_stale_if_match_is_412_and_changes_nothing(client):
    ticket = create(client)
    client.patch(f"/api/v1/tickets/{ticket['id']}", {"priority": "low"}, format="json")
    stale = client.patch(
        f"/api/v1/tickets/{ticket['id']}", {"priority": "urgent"}, format="json", HTTP_IF_MATCH="1"
    )
    assert stale.status_code == 412
    assert error(stale)["type"] == "precondition_failed"
    assert Ticket.objects.get().priority == "low"


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"status": "deleted"}, "status"),
        ({"assignee": "nobody"}, "assignee"),
        ({"queue": "nowhere"}, "queue"),
        ({"subject": ""}, "subject"),
        ({"description": "cannot change"}, "description"),
    ],
)
def test_bad_patch_is_400(client, changes, param):
    ticket = create(client)
    response = client.patch(f"/api/v1/tickets/{ticket['id']}", changes, format="json")
    assert response.status_code == 400
    assert error(response)["param"] == param
    assert Ticket.objects.get().version == 1


def test_bad_if_match_is_400(client):
    ticket = create(client)
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}", {"priority": "low"}, format="json", HTTP_IF_MATCH="abc"
    )
    assert response.status_code == 400
    assert error(response)["param"] == "If-Match"


def test_closed_ticket_cannot_change_or_take_messages(client):
    ticket = create(client)
    url = f"/api/v1/tickets/{ticket['id']}"
    assert client.patch(url, {"status": "closed"}, format="json").status_code == 200
    reopen = client.patch(url, {"status": "open"}, format="json")
    assert reopen.status_code == 409
    assert error(reopen)["type"] == "conflict"
    message = client.post(f"{url}/messages", {"body": "hello?"}, format="json")
    assert message.status_code == 409
    assert not Message.objects.exists()


def test_messages_reply_note_and_customer_reopen(client):
    ticket = create(client)
    url = f"/api/v1/tickets/{ticket['id']}/messages"
    reply = client.post(url, {"body": "We are checking with the bank."}, format="json")
    assert reply.status_code == 201
    assert reply.json()["author_type"] == "agent"
    assert reply.json()["public"] is True
    note = client.post(url, {"body": "Bank says R03.", "public": False}, format="json")
    assert note.status_code == 201
    assert note.json()["public"] is False
    client.patch(f"/api/v1/tickets/{ticket['id']}", {"status": "pending"}, format="json")
    customer = client.post(url, {"body": "Any news?", "author_type": "requester"}, format="json")
    assert customer.status_code == 201
    assert Ticket.objects.get().status == "open"  # SLA_SPEC S2
    listed = client.get(url).json()
    assert [m["body"] for m in listed["results"]] == [
        "We are checking with the bank.",
        "Bank says R03.",
        "Any news?",
    ]
    events = client.get(f"/api/v1/tickets/{ticket['id']}/events").json()["results"]
    assert [e["type"] for e in events].count("message_added") == 3


def test_customer_message_cannot_be_internal(client):
    ticket = create(client)
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        {"body": "x", "author_type": "requester", "public": False},
        format="json",
    )
    assert response.status_code == 400
    assert error(response)["param"] == "public"


def test_empty_message_body_is_400(client):
    ticket = create(client)
    response = client.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": ""}, format="json")
    assert response.status_code == 400
    assert error(response)["param"] == "body"


def test_unknown_urls_and_methods_use_the_error_format(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert error(missing)["type"] == "not_found"
    ticket = create(client)
    delete = client.delete(f"/api/v1/tickets/{ticket['id']}")
    assert delete.status_code == 405
    assert error(delete)["code"] == "method_not_allowed"


def test_authentication_errors(api_client):
    assert api_client.get("/api/v1/tickets").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer sd_not-a-real-token")
    response = api_client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert error(response)["type"] == "authentication_error"


def test_read_only_token_cannot_write(api_client):
    as_user(api_client, scopes=("tickets:read",))
    assert api_client.get("/api/v1/tickets").status_code == 200
    response = api_client.post("/api/v1/tickets", BODY, format="json")
    assert response.status_code == 403
    assert error(response)["type"] == "permission_error"
    assert not Ticket.objects.exists()


def test_rate_limit_is_429_with_retry_after(api_client, monkeypatch):
    from accounts.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
    as_user(api_client)
    statuses = [api_client.get("/api/v1/tickets").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api_client.get("/api/v1/tickets")
    assert error(limited)["type"] == "rate_limit_error"
    assert int(limited["Retry-After"]) >= 1


def test_queues_listed_for_all_and_created_by_admins_only(api_client):
    QueueFactory(slug="payouts")
    as_user(api_client, UserFactory(role=Role.AGENT))
    assert [q["slug"] for q in api_client.get("/api/v1/queues").json()["results"]] == ["payouts"]
    new = {"slug": "eng-platform", "name": "Engineering — Platform", "kind": "engineering"}
    denied = api_client.post("/api/v1/queues", new, format="json")
    assert denied.status_code == 403
    as_user(api_client, UserFactory(role=Role.ADMIN), scopes=("admin",))
    created = api_client.post("/api/v1/queues", new, format="json")
    assert created.status_code == 201
    assert created.json()["kind"] == "engineering"
    duplicate = api_client.post("/api/v1/queues", new, format="json")
    assert duplicate.status_code == 400
    assert error(duplicate)["param"] == "slug"
    renamed = api_client.patch("/api/v1/queues/eng-platform", {"name": "Platform"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Platform"
    bad_kind = api_client.post("/api/v1/queues", {**new, "slug": "x", "kind": "ops"}, format="json")
    assert bad_kind.status_code == 400
    assert error(bad_kind)["param"] == "kind"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/tickets"),
        ("post", "/api/v1/tickets"),
        ("get", "/api/v1/tickets/1"),
        ("patch", "/api/v1/tickets/1"),
        ("get", "/api/v1/tickets/1/messages"),
        ("post", "/api/v1/tickets/1/messages"),
        ("get", "/api/v1/tickets/1/events"),
        ("get", "/api/v1/tickets/1/sla"),
        ("get", "/api/v1/queues"),
        ("post", "/api/v1/queues"),
        ("get", "/api/v1/queues/payouts"),
        ("get", "/api/v1/escalations"),
        ("post", "/api/v1/escalations/1/acknowledge"),
        ("get", "/api/v1/metrics/sla"),
    ],
)
def test_every_endpoint_needs_authentication(api_client, method, path):
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == 401, path
    assert error(response)["type"] == "authentication_error"


@pytest.mark.parametrize(
    "value",
    ["0028-07-14T01:27:13-20:53", "1850-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "soon"],
)
def test_out_of_range_timestamps_are_400_not_500(client, value):
    response = client.get("/api/v1/tickets", {"created_after": value})
    assert response.status_code == 400
    assert error(response)["param"] == "created_after"

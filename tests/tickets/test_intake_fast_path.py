"""API ticket creation on its fast path (issue 10): few statements, cached token and default
queue, upserts in one statement, the response stored with the ticket. Each test checks
what a client or the database would show."""

import json
import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import TOKEN_CACHE_SECONDS
from accounts.models import ApiToken, Role
from tests.factories import (
    OrganizationFactory,
    QueueFactory,
    RequesterFactory,
    UserFactory,
    make_token,
)
from tickets import services
from tickets.models import (
    EventType,
    IdempotencyRecord,
    Organization,
    QueueKind,
    Requester,
    Ticket,
    TicketEvent,
)

pytestmark = pytest.mark.django_db

BODY = {
    "subject": "Payout 1 delayed",
    "description": "Payout has not arrived; request id req_123.",
    "requester": {"email": "ops1@merchant.test", "name": "Ops"},
    "priority": "high",
    "tags": ["payouts"],
}


@pytest.fixture(autouse=True)
def _fresh_default_queue():
    # Each test has its own queues: no copy of another test's default queue.
    services.queue_default_forget()
    yield
    services.queue_default_forget()


@pytest.fixture
def support():
    return QueueFactory(slug="support", kind=QueueKind.SUPPORT, is_default=True)


@pytest.fixture
def agent_client(api_client, support):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(UserFactory())}")
    return api_client


def create(client, body=None, *, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key or str(uuid.uuid4())}
    return client.post("/api/v1/tickets", body or BODY, format="json", **headers)


def test_a_creation_takes_at_most_six_queries(agent_client, django_assert_max_num_queries):
    assert create(agent_client).status_code == 201  # a server that has seen the token
    with django_assert_max_num_queries(6):
        response = create(agent_client)
    assert response.status_code == 201
    assert Ticket.objects.count() == 2


def test_with_a_new_organisation_still_at_most_six(agent_client, django_assert_max_num_queries):
    assert create(agent_client).status_code == 201
    body = {**BODY, "organization": {"name": "Acme", "external_id": "acct_9", "tier": "premium"}}
    with django_assert_max_num_queries(6):
        response = create(agent_client, body)
    assert response.status_code == 201
    assert response.json()["organization"] == {
        "name": "Acme",
        "external_id": "acct_9",
        "tier": "premium",
    }


def test_the_201_is_the_ticket_as_it_is_read_back(agent_client):
    body = {**BODY, "organization": {"name": "Acme", "external_id": "acct_1"}}
    created = create(agent_client, body).json()
    read = agent_client.get(f"/api/v1/tickets/{created['id']}").json()
    assert created == read
    assert created["queue"] == "support"
    assert created["requester"] == {"email": "ops1@merchant.test", "name": "Ops"}


def test_the_stored_response_is_the_one_returned_with_its_id(agent_client):
    first = create(agent_client, key="order-7")
    record = IdempotencyRecord.objects.get(key="order-7")
    assert record.response_status == 201
    assert record.response_body == first.json()
    assert record.response_body["id"] == Ticket.objects.get().pk
    again = create(agent_client, key="order-7")
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_event_and_stale_mark_are_written_with_the_ticket(agent_client):
    ticket_id = create(agent_client).json()["id"]
    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.sla_stale is True
    event = TicketEvent.objects.get(ticket=ticket)
    assert event.type == EventType.CREATED
    assert event.data == {
        "priority": "high",
        "status": "new",
        "channel": "api",
        "queue": "support",
    }
    assert event.actor.api_tokens.exists()


def test_the_recompute_is_announced_after_commit(agent_client, django_capture_on_commit_callbacks):
    from tickets import subscribers

    heard: list[int] = []
    subscribers.subscribe(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ticket_id = create(agent_client).json()["id"]
    finally:
        subscribers._listeners.remove(heard.append)
    assert heard == [ticket_id]


# -- Requesters and organisations: one statement each, the same rules as before ----------


def test_an_existing_requester_gains_a_missing_name_but_keeps_one(agent_client):
    RequesterFactory(email="nameless@merchant.test", name="")
    RequesterFactory(email="named@merchant.test", name="Dana")
    for email in ("nameless@merchant.test", "Named@Merchant.test"):
        body = {**BODY, "requester": {"email": email, "name": "Someone Else"}}
        assert create(agent_client, body).status_code == 201
    assert Requester.objects.get(email="nameless@merchant.test").name == "Someone Else"
    assert Requester.objects.get(email="named@merchant.test").name == "Dana"
    assert Requester.objects.count() == 2


def test_the_requesters_organisation_is_the_tickets_when_none_is_named(agent_client):
    acme = OrganizationFactory(name="Acme", external_id="acct_1", tier="enterprise")
    RequesterFactory(email="cfo@acme.test", organization=acme)
    body = {**BODY, "requester": {"email": "cfo@acme.test"}}
    response = create(agent_client, body)
    assert response.json()["organization"] == {
        "name": "Acme",
        "external_id": "acct_1",
        "tier": "enterprise",
    }
    assert Ticket.objects.get().organization == acme


def test_the_stored_response_shows_the_requester_as_stored(agent_client):
    acme = OrganizationFactory(name="Acme", external_id="acct_5", tier="premium")
    RequesterFactory(email="dana@acme.test", name="Dana", organization=acme)
    body = {**BODY, "requester": {"email": "dana@acme.test", "name": "Someone Else"}}
    response = create(agent_client, body, key="k-5")
    assert response.json()["requester"] == {"email": "dana@acme.test", "name": "Dana"}
    assert response.json()["organization"]["external_id"] == "acct_5"
    assert IdempotencyRecord.objects.get(key="k-5").response_body == response.json()
    assert create(agent_client, body, key="k-5").json() == response.json()


def test_a_requester_without_organisation_gains_the_one_named(agent_client):
    requester = RequesterFactory(email="cto@shop.test", organization=None)
    body = {**BODY, "requester": {"email": "cto@shop.test"}, "organization": {"name": "Shop"}}
    create(agent_client, body)
    requester.refresh_from_db()
    assert requester.organization.name == "Shop"
    other = OrganizationFactory(name="Other", external_id=None)
    body["organization"] = {"name": "Other"}
    create(agent_client, body)
    requester.refresh_from_db()
    assert requester.organization.name == "Shop"  # an organisation it has is kept
    assert Ticket.objects.order_by("id").last().organization == other  # the ticket's is named


def test_organisation_by_external_id_created_updated_or_left_alone(agent_client):
    def org(payload):
        response = create(agent_client, {**BODY, "organization": payload})
        assert response.status_code == 201
        return response.json()["organization"]

    assert org({"external_id": "acct_2"}) == {
        "name": "acct_2",
        "external_id": "acct_2",
        "tier": "standard",
    }
    assert org({"external_id": "acct_2", "name": "Beta", "tier": "premium"})["tier"] == "premium"
    assert org({"external_id": "acct_2"}) == {
        "name": "Beta",
        "external_id": "acct_2",
        "tier": "premium",
    }
    assert Organization.objects.filter(external_id="acct_2").count() == 1


def test_organisation_by_name_is_matched_among_those_without_external_id(agent_client):
    OrganizationFactory(name="Gamma", external_id="acct_3")
    plain = OrganizationFactory(name="Gamma", external_id=None, tier="premium")
    create(agent_client, {**BODY, "organization": {"name": "Gamma"}})
    assert Ticket.objects.get().organization == plain
    create(agent_client, {**BODY, "organization": {"name": "Delta", "tier": "enterprise"}})
    assert Organization.objects.get(name="Delta").tier == "enterprise"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_tickets_of_one_requester_make_one_requester():
    QueueFactory(slug="support", is_default=True)
    token = make_token()
    barrier = threading.Barrier(12)
    statuses: list[int] = [0] * 12

    def send(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        body = {
            **BODY,
            "requester": {"email": "new@merchant.test", "name": "New"},
            "organization": {"external_id": "acct_new", "name": "New Co"},
        }
        try:
            barrier.wait()
            statuses[index] = create(client, body).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 12
    assert Ticket.objects.count() == 12
    assert Requester.objects.filter(email="new@merchant.test").count() == 1
    assert Organization.objects.filter(external_id="acct_new").count() == 1
    assert Requester.objects.get().organization.external_id == "acct_new"


# -- What the caches may and may not do ----------------------------------------------------


def test_a_revoked_token_stops_at_once_where_it_was_revoked(api_client, support):
    token = make_token()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert create(api_client).status_code == 201
    record = ApiToken.objects.get()
    record.revoked_at = timezone.now()
    record.save()  # as the admin does
    refused = create(api_client)
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"


def test_a_token_revoked_elsewhere_stops_within_the_cache_time(api_client, support):
    token = make_token()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert create(api_client).status_code == 201
        # Another process revokes it: this one hears nothing (no model save here).
        ApiToken.objects.update(revoked_at=timezone.now())
        traveller.shift(timedelta(seconds=TOKEN_CACHE_SECONDS + 1))
        assert create(api_client).status_code == 401
    assert TOKEN_CACHE_SECONDS <= 30


def test_a_deactivated_user_is_refused(api_client, support):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")
    assert create(api_client).status_code == 201
    user.is_active = False
    user.save()
    assert create(api_client).status_code == 401


def test_a_default_queue_turned_engineering_meanwhile_refuses_an_agent(agent_client, support):
    assert create(agent_client).status_code == 201  # the default queue is now cached
    type(support).objects.filter(pk=support.pk).update(kind=QueueKind.ENGINEERING)
    refused = create(agent_client)
    assert refused.status_code == 403
    assert Ticket.objects.count() == 1


def test_a_default_queue_turned_support_meanwhile_lets_an_agent_in(agent_client, support):
    type(support).objects.filter(pk=support.pk).update(kind=QueueKind.ENGINEERING)
    assert create(agent_client).status_code == 403  # cached as Engineering
    type(support).objects.filter(pk=support.pk).update(kind=QueueKind.SUPPORT)
    assert create(agent_client).status_code == 201


def test_a_deleted_default_queue_is_replaced_not_a_500(agent_client, support):
    assert create(agent_client).status_code == 201
    Ticket.objects.all().delete()
    support.delete()
    QueueFactory(slug="payments", kind=QueueKind.SUPPORT, is_default=True)
    response = create(agent_client)
    assert response.status_code == 201
    assert response.json()["queue"] == "payments"


def test_an_engineer_opens_in_an_engineering_default_queue(api_client):
    QueueFactory(slug="eng", kind=QueueKind.ENGINEERING, is_default=True)
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(UserFactory(role=Role.ENGINEER))}"
    )
    assert create(api_client).json()["queue"] == "eng"


@pytest.mark.parametrize("field", ["subject", "description"])
def test_a_lone_surrogate_is_400_naming_it_and_nothing_is_stored(agent_client, field):
    # JSON can carry "\ud800"; PostgreSQL cannot store it.
    raw = json.dumps({**BODY, field: "Payout \ud800 delayed"})
    response = agent_client.post("/api/v1/tickets", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][field] == [
        "Surrogate characters are not allowed: U+D800."
    ]
    assert not Ticket.objects.exists()


def test_a_description_at_its_limit_is_stored_whole(agent_client):
    description = "é" * 100_000
    response = create(agent_client, {**BODY, "description": description})
    assert response.status_code == 201
    assert Ticket.objects.get().description == description
    too_long = create(agent_client, {**BODY, "description": description + "x"})
    assert too_long.status_code == 400
    assert Ticket.objects.count() == 1

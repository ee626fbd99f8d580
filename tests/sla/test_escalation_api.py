"""GET /api/v1/escalations, POST .../acknowledge and GET /api/v1/tickets/{id}/sla."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from sla.models import Escalation, Notification
from sla.services import escalation_create_manual
from support_desk.errors import InvalidRequest
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import SlaPolicyFactory
from tickets import services as tickets
from tickets.models import EventType, QueueKind, TicketEvent

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def auth(client, user, scopes=("tickets:read", "tickets:write")):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, scopes)}")
    return client


@pytest.fixture
def escalated():
    engineering = QueueFactory(slug="eng-platform", kind=QueueKind.ENGINEERING)
    UserFactory(username="erin", role=Role.ENGINEER)
    agent = UserFactory(role=Role.AGENT)
    ticket = tickets.ticket_create(
        actor=agent, subject="Webhooks 500", description="...", requester_email="dev@m.test"
    )
    escalation = escalation_create_manual(
        ticket_id=ticket.pk,
        actor=agent,
        to_queue=engineering,
        impact="All webhooks to acct_42 fail since 09:00",
        steps="POST /v1/webhooks/test",
        account_ids=["acct_42", " "],
        links=["https://status.example/incidents/1"],
    )
    return escalation


def test_manual_escalation_moves_ticket_and_notifies_engineers(escalated):
    ticket = escalated.ticket
    ticket.refresh_from_db()
    assert ticket.queue.slug == "eng-platform"
    assert escalated.details["account_ids"] == ["acct_42"]
    assert TicketEvent.objects.filter(ticket=ticket, type=EventType.ESCALATED).count() == 1
    assert Notification.objects.filter(escalation=escalated, user__username="erin").exists()


def test_manual_escalation_needs_an_engineering_queue_and_an_impact():
    support = QueueFactory(slug="payouts", kind=QueueKind.SUPPORT)
    agent = UserFactory()
    ticket = tickets.ticket_create(
        actor=agent, subject="s", description="d", requester_email="x@y.test"
    )
    with pytest.raises(InvalidRequest) as error:
        escalation_create_manual(ticket_id=ticket.pk, actor=agent, to_queue=support, impact="x")
    assert error.value.param == "to_queue"
    engineering = QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    with pytest.raises(InvalidRequest) as error:
        escalation_create_manual(ticket_id=ticket.pk, actor=agent, to_queue=engineering, impact=" ")
    assert error.value.param == "impact"
    assert not Escalation.objects.exists()


def test_list_filters_by_ticket_and_status(api_client, escalated):
    auth(api_client, UserFactory(role=Role.ENGINEER))
    body = api_client.get(f"/api/v1/escalations?ticket={escalated.ticket_id}&status=open").json()
    assert [e["id"] for e in body["results"]] == [escalated.pk]
    assert body["results"][0]["to_queue"] == "eng-platform"
    assert body["next"] is None
    assert api_client.get("/api/v1/escalations?status=acknowledged").json()["results"] == []
    bad = api_client.get("/api/v1/escalations?status=closed")
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "status"


def test_engineer_acknowledges_once(api_client, escalated):
    engineer = UserFactory(role=Role.ENGINEER)
    auth(api_client, engineer)
    url = f"/api/v1/escalations/{escalated.pk}/acknowledge"
    response = api_client.post(url)
    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == engineer.username
    again = api_client.post(url)
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "conflict"
    events = TicketEvent.objects.filter(
        ticket=escalated.ticket, type=EventType.ESCALATION_ACKNOWLEDGED
    )
    assert events.count() == 1


def test_agent_cannot_acknowledge(api_client, escalated):
    auth(api_client, UserFactory(role=Role.AGENT))
    response = api_client.post(f"/api/v1/escalations/{escalated.pk}/acknowledge")
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"
    escalated.refresh_from_db()
    assert escalated.acknowledged_at is None


def test_read_only_token_cannot_acknowledge(api_client, escalated):
    auth(api_client, UserFactory(role=Role.ENGINEER), scopes=("tickets:read",))
    assert api_client.post(f"/api/v1/escalations/{escalated.pk}/acknowledge").status_code == 403


def test_unknown_escalation_is_404(api_client):
    auth(api_client, UserFactory(role=Role.LEAD))
    response = api_client.post("/api/v1/escalations/999999/acknowledge")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def test_ticket_sla_explains_each_stretch(api_client):
    """Case 4 of SLA_SPEC §9: Christmas Day and the weekend do not count."""
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    with time_machine.travel(datetime(2026, 12, 24, 18, 30, tzinfo=NY), tick=False):
        ticket = tickets.ticket_create(
            actor=None, subject="s", description="d", requester_email="x@y.test"
        )
    auth(api_client, UserFactory())
    with time_machine.travel(datetime(2026, 12, 28, 11, 0, tzinfo=NY), tick=False):
        response = api_client.get(f"/api/v1/tickets/{ticket.pk}/sla")
    assert response.status_code == 200
    (timer,) = response.json()
    assert timer["status"] == "breached"
    assert timer["breached_at"] == "2026-12-28T15:00:00Z"
    reasons = {s["reason"] for s in timer["segments"]}
    assert "holiday: Christmas Day" in reasons
    assert any(s["counted"] for s in timer["segments"])


def test_ticket_sla_of_unknown_ticket_is_404(api_client):
    auth(api_client, UserFactory())
    assert api_client.get("/api/v1/tickets/424242/sla").status_code == 404


def test_open_escalations_are_the_ones_waiting_for_engineering(api_client, escalated):
    from django.utils import timezone

    notified = tickets.ticket_create(
        actor=None, subject="Slow", description="d", requester_email="slow@m.test"
    )
    notify_only = Escalation.objects.create(
        ticket=notified, reason="first reply breached", fire_at=timezone.now()
    )
    auth(api_client, UserFactory(role=Role.LEAD))
    open_ids = [
        e["id"] for e in api_client.get("/api/v1/escalations?status=open").json()["results"]
    ]
    assert open_ids == [escalated.pk]
    every = [e["id"] for e in api_client.get("/api/v1/escalations").json()["results"]]
    assert set(every) == {escalated.pk, notify_only.pk}
    refused = api_client.post(f"/api/v1/escalations/{notify_only.pk}/acknowledge")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_acknowledgeable"
    notify_only.refresh_from_db()
    assert notify_only.acknowledged_at is None

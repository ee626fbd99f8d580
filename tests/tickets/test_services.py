import pytest

from tickets import services
from tickets.models import AuthorType, EventType, Status

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_writes_ticket_and_created_event():
    agent = UserFactory()
    ticket = services.ticket_create(
        actor=agent,
        subject="Payout missing",
        description="Payout po_123 did not arrive",
        requester_email="Ops@Merchant.test",
        organization={"name": "Merchant", "external_id": "acct_1", "tier": "premium"},
    )
    assert ticket.requester.email == "ops@merchant.test"
    assert ticket.organization.tier == "premium"
    assert list(ticket.events.values_list("type", flat=True)) == [EventType.CREATED]
    assert ticket.sla_stale


def test_customer_message_reopens_pending_ticket_after_the_message():
    agent = UserFactory()
    ticket = services.ticket_create(
        actor=agent, subject="s", description="d", requester_email="a@b.test"
    )
    services.ticket_add_message(
        ticket_id=ticket.pk, actor=agent, body="Can you send logs?", then_status=Status.PENDING
    )
    services.ticket_add_message(
        ticket_id=ticket.pk, actor=None, body="Logs attached", author_type=AuthorType.REQUESTER
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.version == 3
    types = list(ticket.events.values_list("type", "data__status"))
    assert types == [
        ("created", "new"),
        ("message_added", None),
        ("status_changed", "pending"),
        ("message_added", None),
        ("status_changed", "open"),
    ]

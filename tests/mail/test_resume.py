"""An agent resumes mail to an address stopped by a permanent bounce, from the ticket page."""

import pytest

from accounts.models import Role
from mail import suppression
from tests.factories import QueueFactory, UserFactory
from tickets import services
from tickets.models import QueueKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    services.queue_default_forget()
    QueueFactory(slug="support", is_default=True)
    yield services.ticket_create(
        actor=None, subject="Payout", description="d", requester_email="ann@merchant.test",
        cc=["bob@merchant.test"],
    )  # fmt: skip
    services.queue_default_forget()


def test_the_ticket_page_shows_a_stopped_address_and_an_agent_resumes_it(client, ticket):
    suppression.suppress("bob@merchant.test", "5.1.1 no such user")
    client.force_login(UserFactory(role=Role.AGENT))
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Mail stopped" in page
    assert "bob@merchant.test" in page
    response = client.post(f"/tickets/{ticket.pk}/mail/resume/", {"address": "Bob@Merchant.test"})
    assert response.status_code == 302
    assert not suppression.is_suppressed("bob@merchant.test")
    assert "Mail stopped" not in client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_only_addresses_of_the_ticket_and_only_tickets_one_may_change(client, ticket):
    suppression.suppress("eve@elsewhere.test", "5.1.1")
    client.force_login(UserFactory(role=Role.AGENT))
    client.post(f"/tickets/{ticket.pk}/mail/resume/", {"address": "eve@elsewhere.test"})
    assert suppression.is_suppressed("eve@elsewhere.test")
    engineering = QueueFactory(slug="eng", kind=QueueKind.ENGINEERING)
    hidden = services.ticket_create(
        actor=None, subject="Eng", description="d", requester_email="eve@elsewhere.test",
        queue=engineering,
    )  # fmt: skip
    response = client.post(f"/tickets/{hidden.pk}/mail/resume/", {"address": "eve@elsewhere.test"})
    assert response.status_code == 404
    assert suppression.is_suppressed("eve@elsewhere.test")

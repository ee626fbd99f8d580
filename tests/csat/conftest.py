import pytest

from accounts.models import Role
from tests.factories import QueueFactory, UserFactory
from tickets import services


@pytest.fixture
def queue(db):
    return QueueFactory(slug="support", is_default=True)


@pytest.fixture
def agent(db):
    return UserFactory(username="ann", role=Role.AGENT)


@pytest.fixture
def lead(db):
    return UserFactory(username="lea", role=Role.LEAD)


@pytest.fixture
def make_ticket(queue):
    def make(email="pat@merchant.test", **kwargs):
        return services.ticket_create(
            actor=None,
            subject=kwargs.pop("subject", "Payout missing"),
            description="Where is my payout?",
            requester_email=email,
            **kwargs,
        )

    return make


@pytest.fixture
def solve(agent):
    def do(ticket, actor=None, assignee=...):
        if assignee is not ...:
            services.ticket_update(ticket_id=ticket.pk, actor=actor, assignee=assignee)
        return services.ticket_update(ticket_id=ticket.pk, actor=actor, status="solved")

    return do

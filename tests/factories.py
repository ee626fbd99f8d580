"""factory_boy factories for the ticket domain. Apps add theirs beside their tests."""

import factory
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import api_token_create
from tickets.models import (
    Organization,
    Queue,
    QueueKind,
    Requester,
    Ticket,
    Tier,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@desk.test")
    role = Role.AGENT
    password = factory.django.Password("pw")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Merchant {n} Ltd")
    external_id = factory.Sequence(lambda n: f"acct_{n:06d}")
    tier = Tier.STANDARD


class RequesterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requester

    email = factory.Sequence(lambda n: f"customer{n}@merchant.test")
    name = factory.Sequence(lambda n: f"Customer {n}")
    organization = factory.SubFactory(OrganizationFactory)


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"queue-{n}")
    name = factory.LazyAttribute(lambda q: q.slug.replace("-", " ").title())
    kind = QueueKind.SUPPORT


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare ticket row. Tests of behaviour should create tickets through
    tickets.services.ticket_create so the event history exists."""

    class Meta:
        model = Ticket

    subject = factory.Sequence(lambda n: f"Payout {n} delayed")
    description = "Our payout has not arrived."
    queue = factory.SubFactory(QueueFactory)
    requester = factory.SubFactory(RequesterFactory)
    organization = factory.SelfAttribute("requester.organization")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")


def make_token(user: User | None = None, scopes=("tickets:read", "tickets:write")) -> str:
    """Create an API token and return its raw value."""
    user = user or UserFactory()
    return api_token_create(user=user, scopes=scopes)[1]

"""The 201 of a creation is built by hand on the hot path (created_ticket_body); it must be
exactly what TicketSerializer, the one definition of a ticket's shape, says of the ticket."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import QueueFactory
from tickets import services
from tickets.api.serializers import TicketSerializer, created_ticket_body
from tickets.models import Channel, ContactReason, Priority, QueueKind, Tier

pytestmark = pytest.mark.django_db

# What the API lets through: no surrogates, no NUL or other control characters.
printable = st.characters(blacklist_categories=("Cs", "Cc"))
text = st.text(alphabet=printable, min_size=1, max_size=40).filter(str.strip)
instant = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
)
offset = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@pytest.fixture
def queue():
    services.queue_default_forget()
    yield QueueFactory(slug="support", kind=QueueKind.SUPPORT, is_default=True)
    services.queue_default_forget()


@given(
    subject=text,
    description=st.text(alphabet=printable, max_size=200),
    name=st.text(alphabet=printable, max_size=30),
    priority=st.sampled_from(Priority.values),
    channel=st.sampled_from(Channel.values),
    tags=st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), max_size=4),
    cc=st.lists(st.from_regex(r"[a-z]{1,8}@cc\.test", fullmatch=True), max_size=3),
    organization=st.none()
    | st.fixed_dictionaries(
        {"name": text, "external_id": st.from_regex(r"acct_[0-9]{1,6}", fullmatch=True)},
        optional={"tier": st.sampled_from(Tier.values)},
    ),
    reason=st.booleans(),
    created_at=st.none() | st.tuples(instant, offset),
    external_id=st.from_regex(r"[A-Za-z0-9_-]{0,20}", fullmatch=True),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_creation_body_is_what_the_serializer_says(
    queue, subject, description, name, priority, channel, tags, cc, organization, reason,
    created_at, external_id,
):  # fmt: skip
    ticket = services.ticket_create(
        actor=None,
        subject=subject,
        description=description,
        requester_email="ops@merchant.test",
        requester_name=name,
        priority=priority,
        channel=channel,
        tags=tags,
        cc=cc,
        organization=organization,
        contact_reason=ContactReason.objects.order_by("id").first() if reason else None,
        created_at=created_at and created_at[0].astimezone(created_at[1]),
        external_id=external_id,
    )

    body = created_ticket_body(ticket)

    assert body == TicketSerializer(ticket).data
    assert list(body) == list(TicketSerializer(ticket).data)  # the same order of keys too

import random
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from sla.models import SlaTimer
from tests.factories import (
    OrganizationFactory,
    QueueFactory,
    RequesterFactory,
    TicketFactory,
    UserFactory,
)

from .factories import SlaPolicyFactory

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # a Monday, mid-day: today is partial
PERIOD_START = datetime(2025, 3, 3, tzinfo=UTC)  # [start, end) = the 7 days up to today
PERIOD_END = datetime(2025, 3, 10, tzinfo=UTC)


@pytest.fixture
def lead(db):
    return UserFactory(username="lead", role=Role.LEAD)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=Role.AGENT)


def _outcome_instant(rng: random.Random) -> datetime:
    """Mostly inside the period, some on and just around its edges, some in today."""
    choice = rng.random()
    if choice < 0.08:
        return PERIOD_START  # inclusive edge
    if choice < 0.14:
        return PERIOD_END  # exclusive edge (and the start of today)
    if choice < 0.2:
        return PERIOD_START - timedelta(seconds=1)
    return PERIOD_START - timedelta(days=2) + timedelta(minutes=rng.randrange(0, 13 * 24 * 60))


@pytest.fixture
def desk(db):
    """About 60 tickets and 170 timers with known outcomes in two support queues (payments
    has every kind of outcome; refunds has only cancelled timers), three tiers plus tickets
    without organisation, two policies, every metric."""
    rng = random.Random(5)
    payments = QueueFactory(slug="payments", name="Payments")
    refunds = QueueFactory(slug="refunds", name="Refunds")
    gold = SlaPolicyFactory(name="Enterprise")
    basic = SlaPolicyFactory(name="Standard")
    orgs = [OrganizationFactory(tier=t) for t in ("standard", "premium", "enterprise")]
    timers = []
    for i in range(60):
        queue = refunds if i % 6 == 0 else payments
        org = orgs[i % 4] if i % 4 < 3 else None
        ticket = TicketFactory(
            queue=queue,
            organization=org,
            requester=RequesterFactory(organization=org),
            priority=rng.choice(["low", "normal", "high", "urgent"]),
            channel=rng.choice(["email", "web"]),
            created_at=PERIOD_START - timedelta(days=3),
        )
        for cycle, metric in enumerate(["first_reply", "next_reply", "resolution"], start=1):
            status = (
                "cancelled"
                if queue == refunds
                else rng.choice(["met", "met", "met", "breached", "cancelled", "active", "paused"])
            )
            at = _outcome_instant(rng)
            timer = SlaTimer(
                ticket=ticket,
                metric=metric,
                cycle=cycle,
                policy=gold if org and org.tier == "enterprise" else basic,
                status=status,
                running=status == "active",
                target_minutes=60,
                started_at=at - timedelta(hours=2),
                computed_at=NOW,
                elapsed_seconds=rng.randrange(0, 20_000),
            )
            if status == "met":
                timer.fulfilled_at = at
            elif status == "breached":
                timer.breached_at = at
                # A late answer: fulfilled_at in another day must not move the timer.
                timer.fulfilled_at = at + timedelta(days=1) if rng.random() < 0.5 else None
            elif status == "cancelled":
                timer.cancelled_at = at
            elif status == "active":
                timer.warning_at = at
                timer.due_at = at + timedelta(hours=1)
            timers.append(timer)
    SlaTimer.objects.bulk_create(timers)
    return {"payments": payments, "refunds": refunds, "gold": gold, "basic": basic}


@pytest.fixture
def activity(desk):
    """On top of `desk`: ticket ages, solved tickets, assignees, messages of every kind and
    escalations to Engineering, at known instants."""
    from sla.models import Escalation
    from tickets.models import Message, Ticket

    rng = random.Random(7)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Agent")
    bob = UserFactory(username="bob")
    engineering = QueueFactory(
        slug="eng-payments", name="Engineering - Payments", kind="engineering"
    )
    tickets = list(Ticket.objects.order_by("id"))
    for i, ticket in enumerate(tickets):
        ticket.created_at = NOW - timedelta(hours=13 * i + 1)
        ticket.assignee = [alice, bob, None][i % 3]
        if i % 5 == 0:
            ticket.status = "solved"
            ticket.solved_at = ticket.created_at + timedelta(hours=20)
        else:
            ticket.status = rng.choice(["new", "open", "pending", "on_hold"])
        ticket.save()
        for n in range(3):
            Message.objects.create(
                ticket=ticket,
                body="Looking into it",
                public=n != 2,  # the third is an internal note
                author_type="agent" if n != 1 else "requester",
                author=ticket.assignee if n != 1 else None,
                created_at=ticket.created_at + timedelta(hours=5 * n),
            )
    for i, ticket in enumerate(tickets[:24]):
        created = NOW - timedelta(hours=9 * i + 2)
        escalation = Escalation.objects.create(
            ticket=ticket,
            reason="Breached",
            from_queue=ticket.queue,
            to_queue=engineering if i % 4 else desk["payments"],  # every 4th: not Engineering
            fire_at=created,
        )
        # created_at is auto_now_add: set the known instant afterwards.
        Escalation.objects.filter(pk=escalation.pk).update(
            created_at=created,
            acknowledged_at=created + timedelta(minutes=7 * i + 3) if i % 3 else None,
        )
    return {**desk, "alice": alice, "bob": bob, "engineering": engineering}

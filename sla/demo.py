"""Demo SLA set-up for seed_demo (DESIGN §6): calendars, a policy per tier, escalation
rules, and a history processed as a running desk would have. Idempotent: running it again
updates the same rows by name."""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from tickets.models import EventType, Queue, QueueKind, Ticket, TicketEvent

from .models import Calendar, Escalation, EscalationRule, Notification, SlaPolicy, SlaTarget

# A live desk's sweeper runs every second or so: a moment is handled a few seconds after it
# came due. Now and then a worker restart makes one late (SLA_SPEC E4), as on a real desk.
ON_TIME_SECONDS = (1.0, 12.0)
LATE_SECONDS = (90.0, 400.0)
LATE_SHARE = 0.03
MAX_STEPS = 25
ACKNOWLEDGED_SHARE = 0.75

WEEKDAYS = range(5)

CALENDARS = {
    "24x7": {"timezone": "UTC", "always_open": True, "hours": [], "holiday_country": None},
    "New York business hours": {
        "timezone": "America/New_York",
        "always_open": False,
        "hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in WEEKDAYS],
        "holiday_country": "US",
    },
    "London business hours": {
        "timezone": "Europe/London",
        "always_open": False,
        "hours": [{"weekday": d, "start": "09:00", "end": "17:30"} for d in WEEKDAYS],
        "holiday_country": "GB",
    },
}

# minutes per priority: (first_reply, next_reply, resolution)
FAST = {
    "urgent": (30, 60, 480),
    "high": (60, 120, 1440),
    "normal": (120, 240, 2880),
    "low": (240, 480, 5760),
}
BUSINESS = {
    "urgent": (60, 120, 960),
    "high": (120, 240, 1920),
    "normal": (240, 480, 2880),
    "low": (480, 960, 4800),
}

POLICIES = [
    # name, position, calendar, match, targets, warn_at_percent
    ("Enterprise — 24x7", 10, "24x7", {"match_tiers": ["enterprise"]}, FAST, 75),
    (
        "Premium — New York hours",
        20,
        "New York business hours",
        {"match_tiers": ["premium"]},
        BUSINESS,
        75,
    ),
    (
        "Disputes — London team",
        30,
        "London business hours",
        {"match_queues": ["disputes"]},
        BUSINESS,
        80,
    ),
    ("Standard — New York hours", 100, "New York business hours", {}, BUSINESS, 75),
]

RULES = [
    # name, metric, trigger, after_minutes, priorities, action, target queue slug
    ("First reply at risk: tell the assignee", "first_reply", "warning", 0, [], "notify", None),
    ("First reply breached: tell the leads", "first_reply", "breach", 0, [], "notify", None),
    (
        "Next reply 60 min overdue: raise priority",
        "next_reply",
        "breach",
        60,
        [],
        "raise_priority",
        None,
    ),
    (
        "Urgent resolution overdue: Engineering — Payments",
        "resolution",
        "breach",
        60,
        ["urgent"],
        "move_to_queue",
        "eng-payments",
    ),
]


def seed_sla() -> None:
    calendars = {}
    for name, spec in CALENDARS.items():
        calendars[name], _ = Calendar.objects.update_or_create(name=name, defaults=spec)
    for name, position, calendar, match, table, warn in POLICIES:
        policy, _ = SlaPolicy.objects.update_or_create(
            name=name,
            defaults={
                "position": position,
                "calendar": calendars[calendar],
                "warn_at_percent": warn,
                "pause_on": ["pending", "on_hold"],
                "match_priorities": [],
                "match_tiers": [],
                "match_channels": [],
                "match_queues": [],
                **match,
            },
        )
        for priority, minutes in table.items():
            for metric, value in zip(
                ("first_reply", "next_reply", "resolution"), minutes, strict=True
            ):
                SlaTarget.objects.update_or_create(
                    policy=policy,
                    priority=priority,
                    metric=metric,
                    defaults={"minutes": value, "business_hours": calendar != "24x7"},
                )
    for position, (name, metric, trigger, after, priorities, action, slug) in enumerate(RULES):
        EscalationRule.objects.update_or_create(
            name=name,
            defaults={
                "metric": metric,
                "trigger": trigger,
                "after_minutes": after,
                "priorities": priorities,
                "action": action,
                "target_queue": Queue.objects.filter(slug=slug).first() if slug else None,
                "position": position,
            },
        )


def recompute_all() -> int:
    """Compute every demo ticket's timers now, so the desk opens with them in place."""
    from tickets.models import Ticket

    from .services import ticket_sla_recompute

    total = 0
    # Escalation actions (raise priority, move queue) change tickets, which marks them
    # stale again; a few passes settle them, as the reconciliation sweep would.
    for _ in range(3):
        ids = list(Ticket.objects.filter(sla_stale=True).values_list("id", flat=True))
        for ticket_id in ids:
            ticket_sla_recompute(ticket_id=ticket_id)
        total += len(ids)
    return total


def _moments(result) -> list[datetime]:
    """The instants at which the sweeper acts on a ticket: warnings, breaches, firings."""
    moments = [f.at for f in result.firings]
    for timer in result.timers:
        ended = timer.fulfilled_at or timer.cancelled_at
        if timer.warning_at and (ended is None or timer.warning_at < ended):
            moments.append(timer.warning_at)
        if timer.breached_at:
            moments.append(timer.breached_at)
    return moments


def _backdate(ticket_id: int, at: datetime) -> None:
    """Rows the recompute just wrote carry the wall-clock time of seeding; a desk that was
    running wrote them at `at` (and e-mailed the notifications then)."""
    Escalation.objects.filter(ticket_id=ticket_id, created_at__gt=at).update(created_at=at)
    fresh = Notification.objects.filter(ticket_id=ticket_id, created_at__gt=at)
    fresh.filter(escalation__isnull=False).update(created_at=at, emailed_at=at)
    fresh.update(created_at=at)


def replay_history(*, ticket_id: int, rng: random.Random, until: datetime | None = None) -> int:
    """Process a demo ticket's SLA moments the way the sweeper of a running desk did: each
    warning, breach and rule firing a few seconds after it came due, so the seeded history
    reads "on time" instead of every firing being "late" by hours. Returns the steps run."""
    from .services import compute_for_ticket, ticket_sla_recompute

    until = until or timezone.now()
    done_at: datetime | None = None
    moments: list[datetime] = []
    seen_version = None
    steps = 0
    while steps < MAX_STEPS:
        ticket = Ticket.objects.select_related("queue", "organization", "assignee").get(
            pk=ticket_id
        )
        # An action (raise priority, move queue) changes the ticket, hence its version and
        # the later moments: look again then, not at every step.
        if ticket.version != seen_version:
            result, _ = compute_for_ticket(ticket, now=until)
            moments, seen_version = _moments(result), ticket.version
        ahead = [m for m in moments if done_at is None or m > done_at]
        if not ahead:
            break
        delay = LATE_SECONDS if rng.random() < LATE_SHARE else ON_TIME_SECONDS
        at = min(ahead) + timedelta(seconds=rng.uniform(*delay))
        if at >= until:
            break
        # One transaction: the e-mail enqueue runs after commit and finds them sent.
        with transaction.atomic():
            ticket_sla_recompute(ticket_id=ticket_id, now=at)
            _backdate(ticket_id, at)
        done_at = at
        steps += 1
    ticket_sla_recompute(ticket_id=ticket_id, now=until)
    return steps


def acknowledge_old_escalations(*, rng: random.Random, older_than: timedelta) -> int:
    """Engineers acknowledged most of what reached Engineering a while ago, within the hour."""
    from .services import escalation_acknowledge

    engineer = User.objects.filter(role=Role.ENGINEER, is_active=True).order_by("pk").first()
    if engineer is None:
        return 0
    cutoff = timezone.now() - older_than
    old = Escalation.objects.filter(
        acknowledged_at__isnull=True,
        to_queue__kind=QueueKind.ENGINEERING,
        created_at__lt=cutoff,
    )
    done = 0
    for escalation in old:
        if rng.random() >= ACKNOWLEDGED_SHARE:
            continue  # a few still wait, so the Escalations page has work on it
        at = escalation.created_at + timedelta(minutes=rng.uniform(4, 55))
        with transaction.atomic():
            escalation_acknowledge(escalation_id=escalation.pk, actor=engineer)
            Escalation.objects.filter(pk=escalation.pk).update(acknowledged_at=at)
            TicketEvent.objects.filter(
                ticket_id=escalation.ticket_id,
                type=EventType.ESCALATION_ACKNOWLEDGED,
                data__escalation_id=escalation.pk,
            ).update(at=at)
        done += 1
    return done

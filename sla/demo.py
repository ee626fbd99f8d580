"""Demo SLA set-up for seed_demo (DESIGN §6): calendars, a policy per tier, escalation
rules. Idempotent: running it again updates the same rows by name."""

from tickets.models import Queue

from .models import Calendar, EscalationRule, SlaPolicy, SlaTarget

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

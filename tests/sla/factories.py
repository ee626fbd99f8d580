"""Factories for SLA configuration: the calendars of SLA_SPEC §9 and policies with targets."""

from datetime import datetime
from zoneinfo import ZoneInfo

import factory
import time_machine

from sla.models import Calendar, EscalationRule, SlaPolicy, SlaTarget

NY = ZoneInfo("America/New_York")
NY_HOURS = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


class CalendarFactory(factory.django.DjangoModelFactory):
    """NY of SLA_SPEC §9: America/New_York, Mon-Fri 09:00-17:00, US holidays."""

    class Meta:
        model = Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "America/New_York"
    always_open = False
    hours = factory.LazyFunction(lambda: list(NY_HOURS))
    holiday_country = "US"


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Policy {n}")
    position = factory.Sequence(lambda n: n)
    calendar = factory.SubFactory(CalendarFactory)
    pause_on = factory.LazyFunction(lambda: ["pending", "on_hold"])

    @factory.post_generation
    def targets(self, create, extracted, **kwargs):
        """targets=[(priority, metric, minutes), ...] or (priority, metric, minutes, business)."""
        for target in extracted or []:
            priority, metric, minutes, *rest = target
            SlaTarget.objects.create(
                policy=self,
                priority=priority,
                metric=metric,
                minutes=minutes,
                business_hours=rest[0] if rest else True,
            )


class EscalationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    metric = "first_reply"
    trigger = "breach"
    after_minutes = 0
    action = "notify"
    position = factory.Sequence(lambda n: n)


def ny(*args) -> datetime:
    """A New York wall-clock time: ny(2026, 3, 3, 9, 0)."""
    return datetime(*args, tzinfo=NY)


def ticket_recomputed_at(at: datetime, **kwargs):
    """A card-decline ticket created at `at`, its timers recomputed as of then."""
    from sla.services import ticket_sla_recompute
    from tickets import services as tickets

    with time_machine.travel(at, tick=False):
        ticket = tickets.ticket_create(
            actor=None,
            subject="Card declines with do_not_honor",
            description="Since 09:00 every card is declined.",
            requester_email="cto@merchant.test",
            **kwargs,
        )
        ticket_sla_recompute(ticket_id=ticket.pk)
    return ticket

"""Factories for SLA timers with known outcomes: rows are written directly, never through the
engine, so each test states exactly what the dashboard must count."""

from datetime import timedelta

import factory
from django.utils import timezone

from sla.models import Calendar, Escalation, SlaPolicy, SlaTimer
from tests.factories import TicketFactory


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Calendar
        django_get_or_create = ("name",)

    name = "24x7"
    timezone = "UTC"
    always_open = True


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Policy {n}")
    calendar = factory.SubFactory(CalendarFactory)


class SlaTimerFactory(factory.django.DjangoModelFactory):
    """A timer; pass status and the matching outcome instant (fulfilled_at, breached_at or
    cancelled_at) and elapsed_seconds."""

    class Meta:
        model = SlaTimer

    ticket = factory.SubFactory(TicketFactory)
    metric = "first_reply"
    cycle = factory.Sequence(lambda n: n % 30000 + 1)
    policy = factory.SubFactory(SlaPolicyFactory)
    status = "active"
    running = factory.LazyAttribute(lambda t: t.status == "active")
    target_minutes = 60
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    computed_at = factory.LazyFunction(timezone.now)


class EscalationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Escalation

    ticket = factory.SubFactory(TicketFactory)
    reason = "First reply breached"
    fire_at = factory.LazyFunction(timezone.now)

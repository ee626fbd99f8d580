"""Ticket list filters (DESIGN §5). Every bad value is a 400 naming the parameter."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from rest_framework import serializers

from tickets.models import Priority, Status, Ticket
from tickets.selectors import ticket_search

from .fields import parse_aware

SLA_STATES = [("breached", "breached"), ("at_risk", "at risk"), ("active", "active")]


def _without_empty(data) -> QueryDict:
    kept = QueryDict(mutable=True)
    pairs = data.lists() if isinstance(data, QueryDict) else ((k, [v]) for k, v in data.items())
    for key, values in pairs:
        present = [v for v in values if not isinstance(v, str) or v.strip()]
        if present:
            kept.setlist(key, present)
    return kept


def _timers(**conditions):
    from django.apps import apps

    timer = apps.get_model("sla", "SlaTimer")
    return Exists(timer.objects.filter(ticket=OuterRef("pk"), **conditions))


def _invalid(what: str, choices) -> dict[str, str]:
    """Name the bad value and the allowed ones (the default message reads "Select a valid
    choice.  is not one of the available choices." for an empty value)."""
    allowed = ", ".join(value for value, _ in choices)
    return {"invalid_choice": f"“%(value)s” is not a {what}. Use one of: {allowed}."}


class TicketFilter(django_filters.FilterSet):
    """An empty parameter (`status=`, as an HTML form sends for "any") means no filter; a
    non-empty bad value is an error naming the parameter, never a silently wider list."""

    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, error_messages=_invalid("status", Status.choices)
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, error_messages=_invalid("priority", Priority.choices)
    )
    queue = django_filters.CharFilter(field_name="queue__slug")
    assignee = django_filters.CharFilter(method="filter_assignee", help_text='"none": unassigned')
    organization = django_filters.CharFilter(
        method="filter_organization", help_text="external_id or id"
    )
    tag = django_filters.CharFilter(method="filter_tag")
    contact_reason = django_filters.CharFilter(
        method="filter_contact_reason", help_text='a contact reason slug; "none": without one'
    )
    sla = django_filters.ChoiceFilter(
        choices=SLA_STATES, method="filter_sla", error_messages=_invalid("SLA state", SLA_STATES)
    )
    created_after = django_filters.CharFilter(method="filter_time")
    created_before = django_filters.CharFilter(method="filter_time")
    updated_after = django_filters.CharFilter(method="filter_time")
    q = django_filters.CharFilter(method="filter_q", help_text="subject, description, messages")

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = _without_empty(data)
        super().__init__(data, *args, **kwargs)

    def filter_assignee(self, qs, name, value):
        if value.lower() == "none":
            return qs.filter(assignee__isnull=True)
        return qs.filter(assignee__username=value)

    def filter_organization(self, qs, name, value):
        match = Q(organization__external_id=value)
        if value.isdigit():
            match |= Q(organization_id=int(value))
        return qs.filter(match)

    def filter_contact_reason(self, qs, name, value):
        if value.lower() == "none":
            return qs.filter(contact_reason__isnull=True)
        return qs.filter(contact_reason__slug=value)

    def filter_tag(self, qs, name, value):
        return qs.filter(tags__contains=[value.strip().lower()])

    def filter_sla(self, qs, name, value):
        if value == "breached":  # breached and still waiting on us
            return qs.filter(_timers(status="breached", running=True))
        if value == "at_risk":
            now = timezone.now()
            return qs.filter(
                _timers(status="active", running=True, warning_at__lte=now, due_at__gt=now)
            )
        return qs.filter(_timers(status="active", running=True))

    def filter_time(self, qs, name, value):
        try:
            instant = parse_aware(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({name: error.detail}) from None
        lookup = {
            "created_after": "created_at__gte",
            "created_before": "created_at__lt",
            "updated_after": "updated_at__gte",
        }[name]
        return qs.filter(**{lookup: instant})

    def filter_q(self, qs, name, value):
        return ticket_search(qs, value)

"""The ticket's `sla` and `escalations` in API responses (registered in SlaConfig.ready)."""

from django.db.models import Prefetch
from rest_framework import serializers

from tickets.api.extensions import TicketField, register_ticket_field

from ..models import Escalation, SlaTimer
from .escalation_views import EscalationOutSerializer


class SlaTimerSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaTimer
        fields = [
            "metric",
            "cycle",
            "policy",
            "status",
            "started_at",
            "due_at",
            "warning_at",
            "fulfilled_at",
            "breached_at",
            "elapsed_seconds",
        ]


def register() -> None:
    register_ticket_field(
        TicketField(
            name="sla",
            prefetch=(
                Prefetch("sla_timers", queryset=SlaTimer.objects.order_by("metric", "cycle")),
            ),
            represent=lambda ticket: SlaTimerSerializer(ticket.sla_timers.all(), many=True).data,
        )
    )
    register_ticket_field(
        TicketField(
            name="escalations",
            prefetch=(
                Prefetch(
                    "escalations",
                    queryset=Escalation.objects.select_related(
                        "rule", "from_queue", "to_queue", "acknowledged_by", "created_by"
                    ).order_by("-created_at", "-id"),
                ),
            ),
            represent=lambda ticket: (
                EscalationOutSerializer(ticket.escalations.all(), many=True).data
            ),
        )
    )

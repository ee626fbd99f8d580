"""Escalations and a ticket's explained timers (DESIGN §5 "SLA" and "Escalation")."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanAcknowledgeEscalations, TicketScopes
from support_desk.errors import InvalidRequest
from tickets.api.pagination import page_limit, paginated
from tickets.models import Ticket
from tickets.visibility import ticket_for

from .. import selectors, services
from ..models import Escalation


class EscalationOutSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    from_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    to_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Escalation
        fields = [
            "id",
            "ticket",
            "rule",
            "level",
            "metric",
            "cycle",
            "reason",
            "details",
            "from_queue",
            "to_queue",
            "fire_at",
            "created_at",
            "late",
            "created_by",
            "acknowledged_at",
            "acknowledged_by",
        ]


class SegmentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    counted = serializers.BooleanField()
    reason = serializers.CharField()


class ExplainedTimerSerializer(serializers.Serializer):
    metric = serializers.CharField()
    cycle = serializers.IntegerField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    warning_at = serializers.DateTimeField(allow_null=True)
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    elapsed_seconds = serializers.IntegerField()
    target_minutes = serializers.IntegerField()
    business_hours = serializers.BooleanField()
    segments = SegmentSerializer(many=True)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request):
        return page_limit(request)  # 1-200 or a 400, like every other list


def _positive_int(value: str | None, param: str) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise InvalidRequest("Must be a positive integer.", param=param)
    return int(value)


class EscalationList(APIView):
    permission_classes = [TicketScopes]

    @extend_schema(
        parameters=[
            OpenApiParameter("ticket", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "acknowledged"]),
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses=paginated(EscalationOutSerializer),
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        if status not in (None, "open", "acknowledged"):
            raise InvalidRequest('Use "open" or "acknowledged".', param="status")
        qs = selectors.escalation_list(
            user=request.user,
            ticket_id=_positive_int(request.query_params.get("ticket"), "ticket"),
            status=status,
        )
        paginator = NewestFirst()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = EscalationOutSerializer(page, many=True).data
        return Response({"results": data, "next": paginator.get_next_link()})


class EscalationAcknowledge(APIView):
    permission_classes = [CanAcknowledgeEscalations]

    @extend_schema(request=None, responses=EscalationOutSerializer)
    def post(self, request, pk: int):
        escalation = services.escalation_acknowledge(escalation_id=pk, actor=request.user)
        return Response(EscalationOutSerializer(escalation).data)


class TicketSla(APIView):
    permission_classes = [TicketScopes]

    @extend_schema(responses=ExplainedTimerSerializer(many=True))
    def get(self, request, pk: int):
        ticket = ticket_for(
            request.user,
            pk,
            queryset=Ticket.objects.select_related("queue", "organization").prefetch_related(
                "sla_timers"
            ),
        )
        timers = selectors.ticket_sla_explained(ticket)
        return Response(ExplainedTimerSerializer(timers, many=True).data)

"""SLA configuration API and the what-if preview (DESIGN §5). Leads and admins configure;
everyone may preview."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Scope
from accounts.permissions import IsLeadOrAdmin, TicketScopes
from tickets.api.pagination import paginate, paginated

from .. import config_services
from ..models import Calendar, EscalationRule, SlaPolicy
from ..preview import sla_preview
from .escalation_views import ExplainedTimerSerializer
from .serializers import CalendarSerializer, PolicySerializer, RuleSerializer

ERRORS = {
    400: OpenApiResponse(description="invalid_request_error"),
    401: OpenApiResponse(description="authentication_error"),
    403: OpenApiResponse(description="permission_error"),
    404: OpenApiResponse(description="not_found"),
}


class ConfiguresSla(IsLeadOrAdmin):
    """Leads and admins. Tokens read with tickets:read and write with admin."""

    role_message = "Only team leads and admins manage SLA configuration."


class _Collection(APIView):
    permission_classes = [ConfiguresSla]
    model = None
    serializer_class = None
    ordering: tuple[str, ...] = ("id",)

    def queryset(self):
        return self.model.objects.all()

    def get(self, request):
        return paginate(request, self.queryset(), self.serializer_class, ordering=self.ordering)

    def post(self, request):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.save(serializer.validated_data)
        return Response(self.serializer_class(obj).data, status=status.HTTP_201_CREATED)


class _Item(APIView):
    permission_classes = [ConfiguresSla]
    model = None
    serializer_class = None

    def queryset(self):
        return self.model.objects.all()

    def get(self, request, pk: int):
        return Response(self.serializer_class(get_object_or_404(self.queryset(), pk=pk)).data)

    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool):
        obj = get_object_or_404(self.queryset(), pk=pk)
        serializer = self.serializer_class(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        obj = self.save(serializer.validated_data, obj)
        return Response(self.serializer_class(self.queryset().get(pk=obj.pk)).data)

    def delete(self, request, pk: int):
        self.remove(get_object_or_404(self.queryset(), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarList(_Collection):
    model, serializer_class = Calendar, CalendarSerializer

    @extend_schema(operation_id="calendars_list", responses={200: paginated(CalendarSerializer)})
    def get(self, request):
        return super().get(request)

    @extend_schema(
        operation_id="calendars_create",
        request=CalendarSerializer,
        responses={201: CalendarSerializer, **ERRORS},
    )
    def post(self, request):
        return super().post(request)

    def save(self, data, obj=None):
        return config_services.calendar_save(calendar=obj, **data)


class CalendarDetail(_Item):
    model, serializer_class = Calendar, CalendarSerializer

    @extend_schema(operation_id="calendars_retrieve", responses={200: CalendarSerializer, **ERRORS})
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(
        operation_id="calendars_update",
        request=CalendarSerializer,
        responses={200: CalendarSerializer, **ERRORS},
    )
    def put(self, request, pk: int):
        return super().put(request, pk)

    @extend_schema(
        operation_id="calendars_partial_update",
        request=CalendarSerializer(partial=True),
        responses={200: CalendarSerializer, **ERRORS},
    )
    def patch(self, request, pk: int):
        return super().patch(request, pk)

    @extend_schema(
        operation_id="calendars_destroy",
        responses={204: None, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def delete(self, request, pk: int):
        return super().delete(request, pk)

    def save(self, data, obj=None):
        return config_services.calendar_save(calendar=obj, **data)

    def remove(self, obj):
        config_services.calendar_delete(calendar=obj)


class PolicyList(_Collection):
    model, serializer_class = SlaPolicy, PolicySerializer
    ordering = ("position", "id")

    def queryset(self):
        return SlaPolicy.objects.prefetch_related("targets")

    @extend_schema(operation_id="sla_policies_list", responses={200: paginated(PolicySerializer)})
    def get(self, request):
        return super().get(request)

    @extend_schema(
        operation_id="sla_policies_create",
        request=PolicySerializer,
        responses={201: PolicySerializer, **ERRORS},
    )
    def post(self, request):
        return super().post(request)

    def save(self, data, obj=None):
        return config_services.policy_save(policy=obj, **data)


class PolicyDetail(_Item):
    model, serializer_class = SlaPolicy, PolicySerializer

    def queryset(self):
        return SlaPolicy.objects.prefetch_related("targets")

    @extend_schema(
        operation_id="sla_policies_retrieve", responses={200: PolicySerializer, **ERRORS}
    )
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(
        operation_id="sla_policies_update",
        request=PolicySerializer,
        responses={200: PolicySerializer, **ERRORS},
    )
    def put(self, request, pk: int):
        return super().put(request, pk)

    @extend_schema(
        operation_id="sla_policies_partial_update",
        request=PolicySerializer(partial=True),
        responses={200: PolicySerializer, **ERRORS},
    )
    def patch(self, request, pk: int):
        return super().patch(request, pk)

    @extend_schema(operation_id="sla_policies_destroy", responses={204: None, **ERRORS})
    def delete(self, request, pk: int):
        return super().delete(request, pk)

    def save(self, data, obj=None):
        return config_services.policy_save(policy=obj, **data)

    def remove(self, obj):
        config_services.policy_delete(policy=obj)


class RuleList(_Collection):
    model, serializer_class = EscalationRule, RuleSerializer
    ordering = ("position", "id")

    @extend_schema(operation_id="escalation_rules_list", responses={200: paginated(RuleSerializer)})
    def get(self, request):
        return super().get(request)

    @extend_schema(
        operation_id="escalation_rules_create",
        request=RuleSerializer,
        responses={201: RuleSerializer, **ERRORS},
    )
    def post(self, request):
        return super().post(request)

    def save(self, data, obj=None):
        return config_services.rule_save(rule=obj, **data)


class RuleDetail(_Item):
    model, serializer_class = EscalationRule, RuleSerializer

    @extend_schema(
        operation_id="escalation_rules_retrieve", responses={200: RuleSerializer, **ERRORS}
    )
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(
        operation_id="escalation_rules_update",
        request=RuleSerializer,
        responses={200: RuleSerializer, **ERRORS},
    )
    def put(self, request, pk: int):
        return super().put(request, pk)

    @extend_schema(
        operation_id="escalation_rules_partial_update",
        request=RuleSerializer(partial=True),
        responses={200: RuleSerializer, **ERRORS},
    )
    def patch(self, request, pk: int):
        return super().patch(request, pk)

    @extend_schema(
        operation_id="escalation_rules_destroy",
        responses={204: None, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def delete(self, request, pk: int):
        return super().delete(request, pk)

    def save(self, data, obj=None):
        return config_services.rule_save(rule=obj, **data)

    def remove(self, obj):
        config_services.rule_delete(rule=obj)


class FiringSerializer(serializers.Serializer):
    rule = serializers.CharField(source="rule.name")
    metric = serializers.CharField()
    cycle = serializers.IntegerField()
    at = serializers.DateTimeField()


class SlaPreview(APIView):
    permission_classes = [TicketScopes]
    write_scope = Scope.TICKETS_READ  # a POST that computes and changes nothing

    @extend_schema(
        operation_id="sla_preview",
        request=inline_serializer(
            name="SlaPreviewRequest",
            fields={
                "calendar": serializers.JSONField(required=False),
                "policy": serializers.JSONField(required=False),
                "escalation_rules": serializers.ListField(
                    child=serializers.DictField(), required=False
                ),
                "ticket": serializers.DictField(required=False),
                "events": serializers.ListField(child=serializers.DictField()),
                "now": serializers.DateTimeField(required=False),
            },
        ),
        responses={
            200: inline_serializer(
                name="SlaPreviewResponse",
                fields={
                    "now": serializers.DateTimeField(),
                    "timers": ExplainedTimerSerializer(many=True),
                    "escalations": FiringSerializer(many=True),
                    "upcoming_escalations": FiringSerializer(many=True),
                },
            ),
            **ERRORS,
        },
    )
    def post(self, request):
        result = sla_preview(request.data)
        return Response(
            {
                "now": serializers.DateTimeField().to_representation(result["now"]),
                "timers": ExplainedTimerSerializer(result["timers"], many=True).data,
                "escalations": FiringSerializer(result["firings"], many=True).data,
                "upcoming_escalations": FiringSerializer(result["upcoming"], many=True).data,
            }
        )

"""GET /api/v1/metrics/sla (DESIGN §5 "Metrics"); the figures come from dashboard.metrics."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Scope
from accounts.permissions import IsLeadOrAdmin, token_has

from .metrics import sla_summary
from .params import GROUP_BYS, parse_filters, parse_group_by, parse_period
from .support_metrics import GROUP_BYS as SUPPORT_GROUP_BYS
from .support_metrics import parse_support_filters, parse_support_group_by, support_summary


class TokenCanReadTickets(BasePermission):
    """A lead's token still needs tickets:read (or admin): an import-only token reads nothing."""

    message = "This token lacks the tickets:read scope."

    def has_permission(self, request, view) -> bool:
        return token_has(request, Scope.TICKETS_READ)


_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.STR,
        description="ISO 8601 date or datetime, inclusive (UTC if naive); default `to` - 7 days.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.STR,
        description="ISO 8601 date or datetime, exclusive. Default: the end of today (UTC).",
    ),
    OpenApiParameter("queue", OpenApiTypes.STR, description="Queue slug."),
    OpenApiParameter("priority", OpenApiTypes.STR, enum=["low", "normal", "high", "urgent"]),
    OpenApiParameter("tier", OpenApiTypes.STR, enum=["standard", "premium", "enterprise"]),
    OpenApiParameter("channel", OpenApiTypes.STR, enum=["api", "email", "web", "phone", "chat"]),
    OpenApiParameter("policy", OpenApiTypes.INT, description="SLA policy id."),
    OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUP_BYS)),
]


def _figures_fields() -> dict:
    minutes = {"allow_null": True, "help_text": "Business minutes (percentile_cont)."}
    return {
        "met": serializers.IntegerField(),
        "breached": serializers.IntegerField(),
        "cancelled": serializers.IntegerField(),
        "compliance": serializers.FloatField(
            allow_null=True, help_text="met / (met + breached); null when both are 0."
        ),
        "first_reply_p50_minutes": serializers.FloatField(**minutes),
        "first_reply_p90_minutes": serializers.FloatField(**minutes),
        "resolution_p50_minutes": serializers.FloatField(**minutes),
        "resolution_p90_minutes": serializers.FloatField(**minutes),
    }


def _metrics_response(name: str, fields: dict, key_help: str):
    """The documented shape of a metrics response: {from, to, group_by, total, groups}."""
    return inline_serializer(
        f"{name}Metrics",
        {
            "from": serializers.DateTimeField(),
            "to": serializers.DateTimeField(),
            "group_by": serializers.CharField(allow_null=True),
            "total": inline_serializer(f"{name}Figures", fields),
            "groups": inline_serializer(
                f"{name}Group",
                {
                    "key": serializers.JSONField(help_text=key_help),
                    "label": serializers.CharField(),
                    **fields,
                },
                many=True,
            ),
        },
    )


_RESPONSE = _metrics_response(
    "Sla",
    _figures_fields(),
    "Day (YYYY-MM-DD), queue slug, priority, tier (null: no organisation), policy id or metric.",
)


class SlaMetricsView(APIView):
    """SLA outcomes of the timers whose outcome (met, breached, cancelled) happened in
    [from, to), in total and per group. Leads and admins only."""

    permission_classes = [IsAuthenticated, IsLeadOrAdmin, TokenCanReadTickets]

    @extend_schema(parameters=_PARAMETERS, responses={200: _RESPONSE})
    def get(self, request):
        period = parse_period(request.query_params)
        filters = parse_filters(request.query_params)
        group_by = parse_group_by(request.query_params)
        summary = sla_summary(
            period=period, filters=filters, group_bys=[group_by] if group_by else []
        )
        return Response(_metrics_body(period, group_by, summary))


def _metrics_body(period, group_by: str | None, summary) -> dict:
    """{from, to, group_by, total, groups} of an SLA or support summary."""
    return {
        "from": period.start.isoformat().replace("+00:00", "Z"),
        "to": period.end.isoformat().replace("+00:00", "Z"),
        "group_by": group_by,
        "total": _without_label(summary.total.as_dict()),
        "groups": [g.as_dict() for g in summary.groups.get(group_by, [])],
    }


def _without_label(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k not in ("key", "label")}


# --- GET /api/v1/metrics/support (DESIGN §9); the figures come from dashboard.support_metrics


def _support_fields() -> dict:
    rate = {"allow_null": True, "help_text": "null (n/a) when no day has a denominator."}
    ratio = {"allow_null": True, "help_text": "0..1; null when the divisor is 0."}
    return {
        "contacts": serializers.IntegerField(),
        "contact_rate_per_100_accounts": serializers.FloatField(**rate),
        "contact_rate_per_10k_payments": serializers.FloatField(**rate),
        "surveys_sent": serializers.IntegerField(),
        "csat_responses": serializers.IntegerField(),
        "csat_score": serializers.FloatField(**ratio),
        "csat_response_rate": serializers.FloatField(**ratio),
        "deflection_rate": serializers.FloatField(**ratio),
        "self_service_score": serializers.FloatField(
            allow_null=True, help_text="Article views per ticket created (total and days only)."
        ),
    }


_SUPPORT_RESPONSE = _metrics_response(
    "Support",
    _support_fields(),
    "Day (YYYY-MM-DD), contact reason slug, tier, queue slug or agent username; null: none "
    "(no reason, no organisation, unassigned).",
)


class SupportMetricsView(APIView):
    """Contacts, contact rates, CSAT, deflection and self-service in [from, to), in total
    and per group. Leads and admins only. docs/satisfaction.md defines every figure."""

    permission_classes = [IsAuthenticated, IsLeadOrAdmin, TokenCanReadTickets]

    @extend_schema(
        parameters=[
            *[p for p in _PARAMETERS if p.name not in ("policy", "group_by")],
            OpenApiParameter("reason", OpenApiTypes.STR, description="Contact reason slug."),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(SUPPORT_GROUP_BYS)),
        ],
        responses={200: _SUPPORT_RESPONSE},
    )
    def get(self, request):
        period = parse_period(request.query_params)
        filters = parse_support_filters(request.query_params)
        group_by = parse_support_group_by(request.query_params)
        summary = support_summary(
            period=period, filters=filters, group_bys=[group_by] if group_by else []
        )
        return Response(_metrics_body(period, group_by, summary))

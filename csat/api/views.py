"""GET /api/v1/csat and PUT /api/v1/metrics/denominators (DESIGN §9)."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsLeadOrAdmin
from support_desk.errors import InvalidRequest
from tickets.api.pagination import paginate, paginated

from ..denominators import denominators_upsert
from ..models import Survey
from ..selectors import survey_list


class SurveySerializer(serializers.ModelSerializer):
    agent = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Survey
        fields = ["id", "ticket", "agent", "sent_at", "responded_at", "rating", "comment", "status"]


def _instant(raw: str | None, param: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is None:
                raise ValueError
            value = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except ValueError:
        raise InvalidRequest("Must be an ISO 8601 date or datetime.", param=param) from None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    if not 1970 <= value.year <= 2999:
        raise InvalidRequest("Must be between the years 1970 and 2999.", param=param)
    return value


def _ticket_id(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidRequest("Must be a ticket id.", param="ticket")
    return int(raw)


class SurveyList(APIView):
    """Surveys that went out (sent, answered, expired, void), newest first. `from`/`to`
    filter on sent_at ([from, to)). Leads and admins."""

    permission_classes = [IsLeadOrAdmin]

    @extend_schema(
        operation_id="csat_list",
        parameters=[
            OpenApiParameter("ticket", OpenApiTypes.INT),
            OpenApiParameter("from", OpenApiTypes.STR, description="sent_at >= from (ISO 8601)"),
            OpenApiParameter("to", OpenApiTypes.STR, description="sent_at < to (ISO 8601)"),
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses=paginated(SurveySerializer),
    )
    def get(self, request):
        params = request.query_params
        qs = survey_list(
            user=request.user,
            ticket_id=_ticket_id(params.get("ticket")),
            sent_from=_instant(params.get("from"), "from"),
            sent_to=_instant(params.get("to"), "to"),
        )
        return paginate(request, qs, SurveySerializer, ordering=("-id",), view=self)


class DenominatorRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    metric = serializers.ChoiceField(choices=["active_accounts", "payments"])
    segment = serializers.ChoiceField(
        choices=["all", "standard", "premium", "enterprise"], default="all"
    )
    value = serializers.IntegerField(min_value=0)


class DenominatorsUpsert(APIView):
    """Upsert daily denominators for the contact rate. Body: {"rows": [...]} or the list
    itself. All or nothing: a bad row is a 400 naming it (param `rows[3].value`)."""

    permission_classes = [IsLeadOrAdmin]

    @extend_schema(
        request=inline_serializer("DenominatorRows", {"rows": DenominatorRowSerializer(many=True)}),
        responses={
            200: inline_serializer(
                "DenominatorUpsertResult",
                {
                    "received": serializers.IntegerField(),
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                    "unchanged": serializers.IntegerField(),
                },
            )
        },
        examples=[
            OpenApiExample(
                "Two rows",
                request_only=True,
                value={
                    "rows": [
                        {
                            "date": "2026-11-30",
                            "metric": "payments",
                            "segment": "all",
                            "value": 182000,
                        },
                        {
                            "date": "2026-11-30",
                            "metric": "active_accounts",
                            "segment": "premium",
                            "value": 410,
                        },
                    ]
                },
            )
        ],
    )
    def put(self, request):
        body = request.data
        rows = body.get("rows") if isinstance(body, dict) else body
        if isinstance(body, dict) and set(body) - {"rows"}:
            raise InvalidRequest('Send {"rows": [...]} or a list of rows.', param="rows")
        return Response(denominators_upsert(rows=rows))

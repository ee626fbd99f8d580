"""POST /api/v1/calls (record a call) and GET /api/v1/calls (calls on visible tickets)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import TicketScopes
from phone.models import Call
from phone.numbers import to_e164
from phone.services import call_record
from support_desk.errors import InvalidRequest
from tickets.api.idempotency import request_fingerprint
from tickets.api.pagination import paginate, paginated
from tickets.visibility import ticket_for, visible_tickets

from .serializers import CallCreateSerializer, CallSerializer

ERRORS = {
    400: OpenApiResponse(description="invalid_request_error"),
    401: OpenApiResponse(description="authentication_error"),
    403: OpenApiResponse(description="permission_error"),
    404: OpenApiResponse(description="not_found"),
}


class CallList(APIView):
    permission_classes = [TicketScopes]

    @extend_schema(
        operation_id="calls_list",
        parameters=[
            OpenApiParameter("ticket", OpenApiTypes.INT, description="Calls on this ticket."),
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses={200: paginated(CallSerializer), **ERRORS},
    )
    def get(self, request):
        raw = request.query_params.get("ticket")
        if raw is None:
            qs = Call.objects.filter(ticket__in=visible_tickets(request.user).values("pk"))
        else:
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
                raise InvalidRequest("A ticket id.", param="ticket")
            qs = Call.objects.filter(ticket=ticket_for(request.user, int(raw)))
        qs = qs.select_related("agent")
        return paginate(request, qs, CallSerializer, ordering=("started_at", "id"), view=self)

    @extend_schema(
        operation_id="calls_create",
        request=CallCreateSerializer,
        responses={
            201: CallSerializer,
            200: OpenApiResponse(CallSerializer, description="The same call, recorded before."),
            409: OpenApiResponse(description="idempotency_error: call_id used with another body"),
            **ERRORS,
        },
    )
    def post(self, request):
        serializer = CallCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requester = data.get("requester") or {}
        call, created = call_record(
            actor=request.user,
            call_id=data["call_id"],
            direction=data["direction"],
            from_number=to_e164(data["from"], param="from"),
            to_number=to_e164(data["to"], param="to"),
            started_at=data["started_at"],
            ended_at=data.get("ended_at"),
            outcome=data["outcome"],
            agent=data.get("agent") or request.user,
            notes=data.get("notes", ""),
            recording_url=data.get("recording_url") or "",
            ticket_id=data.get("ticket"),
            requester_email=requester.get("email", ""),
            requester_name=requester.get("name", ""),
            request_hash=request_fingerprint(request.data),
        )
        return Response(CallSerializer(call).data, status=201 if created else 200)

"""Tickets REST API v1 (DESIGN §5). Views parse, check permissions and call services."""

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Scope
from accounts.permissions import IsAdminOrReadOnly, TicketScopes, token_has
from support_desk.errors import InvalidRequest
from support_desk.parsers import StrictJSONParser
from tickets import services
from tickets.api.extensions import message_prefetches
from tickets.attachments import attachment_add
from tickets.merging import ticket_merge
from tickets.models import Queue
from tickets.selectors import ticket_queryset
from tickets.visibility import (
    Access,
    Forbidden,
    can_create_in,
    require,
    ticket_for,
    visible_tickets,
)

from .attachment_views import MessageMultipartSerializer, is_multipart, multipart_message_data
from .fields import StrictIntegerField, StrictSerializerMixin
from .filters import TicketFilter
from .idempotency import check_key, replay, request_fingerprint
from .pagination import paginate, paginated
from .serializers import (
    EventSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    QueueSerializer,
    TicketCreateSerializer,
    TicketPatchSerializer,
    TicketSerializer,
    created_ticket_body,
    ticket_create_data,
)

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "next_due_at": ("urgency", "id"),  # soonest deadline first, tickets without one last
    "-next_due_at": ("-urgency", "-id"),
}
ERRORS = {
    400: OpenApiResponse(description="invalid_request_error"),
    401: OpenApiResponse(description="authentication_error"),
    403: OpenApiResponse(description="permission_error"),
    404: OpenApiResponse(description="not_found"),
}


def _check_import(request, data: dict) -> None:
    """Back-dating (created_at) is for migrations: it needs the `import` scope (a browser
    session has it when the role allows it: leads and admins)."""
    if "created_at" not in data:
        return
    if not token_has(request, Scope.IMPORT):
        raise PermissionDenied("created_at needs a token with the `import` scope.")


def _ticket_response(ticket_id: int, status_code: int = 200) -> Response:
    ticket = ticket_queryset().get(pk=ticket_id)
    response = Response(TicketSerializer(ticket).data, status=status_code)
    response["ETag"] = f'"{ticket.version}"'
    return response


MAX_VERSION_DIGITS = 18  # a PostgreSQL bigint has 19 digits


def _expected_version(request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if value == "*":
        return None  # RFC 9110: any current version matches
    # ASCII digits only ("²".isdigit() is true, int("²") fails), and no more than a
    # version can have: int() of 5,000 digits is slow and then overflows the column.
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_VERSION_DIGITS:
        raise InvalidRequest('If-Match must be a ticket version, e.g. "3".', param="If-Match")
    return int(value)


class TicketList(APIView):
    permission_classes = [TicketScopes]

    @extend_schema(
        operation_id="tickets_list",
        parameters=[
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                enum=list(ORDERINGS),
                description="default -created_at",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1-200, default 50"),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("status", OpenApiTypes.STR, many=True),
            OpenApiParameter("priority", OpenApiTypes.STR, many=True),
            OpenApiParameter("queue", OpenApiTypes.STR),
            OpenApiParameter("assignee", OpenApiTypes.STR),
            OpenApiParameter("organization", OpenApiTypes.STR),
            OpenApiParameter("tag", OpenApiTypes.STR),
            OpenApiParameter(
                "contact_reason", OpenApiTypes.STR, description='a reason\'s slug, or "none"'
            ),
            OpenApiParameter("sla", OpenApiTypes.STR, enum=["breached", "at_risk", "active"]),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("updated_after", OpenApiTypes.DATETIME),
            OpenApiParameter("q", OpenApiTypes.STR),
        ],
        responses={200: paginated(TicketSerializer), **ERRORS},
    )
    def get(self, request):
        ordering = request.query_params.get("ordering") or "-created_at"
        if ordering not in ORDERINGS:
            raise InvalidRequest(f"Order by one of: {', '.join(ORDERINGS)}.", param="ordering")
        qs = visible_tickets(request.user, ticket_queryset())
        if "urgency" in ORDERINGS[ordering][0]:
            qs = qs.annotate(
                urgency=Coalesce("next_due_at", Value(FAR_FUTURE, output_field=DateTimeField()))
            )
        filters = TicketFilter(request.query_params, queryset=qs, request=request)
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        return paginate(
            request, filters.qs, TicketSerializer, ordering=ORDERINGS[ordering], view=self
        )

    @extend_schema(
        operation_id="tickets_create",
        request=TicketCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Repeat a creation safely: same key and body, same response (24 h).",
            )
        ],
        responses={
            201: TicketSerializer,
            409: OpenApiResponse(description="idempotency_error"),
            **ERRORS,
        },
    )
    def post(self, request):
        data = ticket_create_data(request.data)
        _check_import(request, request.data)
        try:
            status_code, body, replayed = self._create(request, data)
        except services.QueueChanged:
            # Our copy of the default queue (or the queue named) changed between the
            # permission check and the INSERT: check again against the queue as it is now.
            services.queue_default_forget()
            status_code, body, replayed = self._create(request, ticket_create_data(request.data))
        response = Response(body, status=status_code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, request, data: dict) -> tuple[int, dict, bool]:
        queue = data.get("queue") or services.queue_default()
        if not can_create_in(request.user, queue.kind) and "queue" not in data:
            # Refuse on the default queue as it is now, not on this process's copy of it.
            services.queue_default_forget()
            queue = services.queue_default()
        if not can_create_in(request.user, queue.kind):
            raise Forbidden(
                f"Your role may not open tickets in the {queue.get_kind_display()} queue "
                f'"{queue.slug}".'
            )

        requester = data["requester"]
        fields = {
            "actor": request.user,
            "subject": data["subject"],
            "description": data["description"],
            "requester_email": requester["email"],
            "requester_name": requester.get("name", ""),
            "organization": data.get("organization"),
            "priority": data["priority"],
            "channel": data["channel"],
            "queue": queue,
            "tags": data.get("tags", []),
            "external_id": data.get("external_id", ""),
            "created_at": data.get("created_at"),
        }
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return 201, created_ticket_body(services.ticket_create(**fields)), False
        once = services.Once(
            user_id=request.user.pk,
            key=check_key(key),
            request_hash=request_fingerprint(request.data),
            render=created_ticket_body,
        )
        if services.ticket_create_once(once=once, **fields) is not None:
            return once.status, once.body, False
        status_code, body = replay(
            user=request.user, key=once.key, request_hash=once.request_hash, existing=once.existing
        )
        return status_code, body, True


class TicketDetail(APIView):
    permission_classes = [TicketScopes]

    @extend_schema(operation_id="tickets_retrieve", responses={200: TicketSerializer, **ERRORS})
    def get(self, request, pk: int):
        ticket_for(request.user, pk)
        return _ticket_response(pk)

    @extend_schema(
        operation_id="tickets_partial_update",
        request=TicketPatchSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The version you read; a stale one gets 412 and changes nothing.",
            )
        ],
        responses={
            200: TicketSerializer,
            409: OpenApiResponse(description="conflict"),
            412: OpenApiResponse(description="precondition_failed"),
            **ERRORS,
        },
    )
    def patch(self, request, pk: int):
        ticket_for(request.user, pk, need=Access.WRITE)
        serializer = TicketPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = {
            k: data[k] for k in ("subject", "status", "priority", "queue", "tags") if k in data
        }
        if "assignee" in data:
            changes["assignee"] = data["assignee"]
        services.ticket_update(
            ticket_id=pk, actor=request.user, expected_version=_expected_version(request), **changes
        )
        return _ticket_response(pk)


class TicketMessages(APIView):
    permission_classes = [TicketScopes]
    parser_classes = [StrictJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="tickets_messages_list",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses={200: paginated(MessageSerializer), **ERRORS},
    )
    def get(self, request, pk: int):
        ticket = ticket_for(request.user, pk)
        qs = ticket.messages.select_related("author").prefetch_related(*message_prefetches())
        return paginate(request, qs, MessageSerializer, ordering=("created_at", "id"), view=self)

    @extend_schema(
        operation_id="tickets_messages_create",
        request={
            "application/json": MessageCreateSerializer,
            "multipart/form-data": MessageMultipartSerializer,
        },
        responses={201: MessageSerializer, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def post(self, request, pk: int):
        ticket = ticket_for(request.user, pk)
        # JSON, or multipart/form-data with files under `attachments` (DESIGN §8).
        fields, files = multipart_message_data(request) if is_multipart(request) else (None, [])
        serializer = MessageCreateSerializer(data=request.data if fields is None else fields)
        serializer.is_valid(raise_exception=True)
        _check_import(request, serializer.initial_data)
        data = serializer.validated_data
        is_note = not data["public"] and data["author_type"] == "agent"
        require(request.user, ticket, Access.NOTE if is_note else Access.WRITE)
        with transaction.atomic():
            message = services.ticket_add_message(
                ticket_id=pk,
                actor=request.user,
                body=data["body"],
                public=data["public"],
                author_type=data["author_type"],
                created_at=data.get("created_at"),
            )
            for upload in files:
                attachment_add(
                    ticket=ticket,
                    message=message,
                    filename=upload.name,
                    content_type=upload.content_type,
                    file=upload,
                )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketMergeSerializer(StrictSerializerMixin, serializers.Serializer):
    into = StrictIntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The ticket to merge this one into."
    )


class TicketMerge(APIView):
    """POST /api/v1/tickets/{id}/merge {"into": <id>}: this ticket (a duplicate) is closed
    into the other, which gets its messages, attachments and CCs (tickets/merging.py)."""

    permission_classes = [TicketScopes]

    @extend_schema(
        operation_id="tickets_merge",
        request=TicketMergeSerializer,
        responses={200: TicketSerializer, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def post(self, request, pk: int):
        ticket_for(request.user, pk, need=Access.WRITE)
        serializer = TicketMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = ticket_merge(
            source_id=pk, target_id=serializer.validated_data["into"], actor=request.user
        )
        return _ticket_response(target.pk)


class TicketEvents(APIView):
    permission_classes = [TicketScopes]

    @extend_schema(
        operation_id="tickets_events_list",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses={200: paginated(EventSerializer), **ERRORS},
    )
    def get(self, request, pk: int):
        ticket = ticket_for(request.user, pk)
        qs = ticket.events.select_related("actor")
        return paginate(request, qs, EventSerializer, ordering=("at", "id"), view=self)


class QueueList(APIView):
    permission_classes = [IsAdminOrReadOnly]

    @extend_schema(
        operation_id="queues_list", responses={200: paginated(QueueSerializer), **ERRORS}
    )
    def get(self, request):
        return paginate(
            request, Queue.objects.all(), QueueSerializer, ordering=("slug",), view=self
        )

    @extend_schema(
        operation_id="queues_create",
        request=QueueSerializer,
        responses={201: QueueSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = QueueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queue = services.queue_create(**serializer.validated_data)
        return Response(QueueSerializer(queue).data, status=status.HTTP_201_CREATED)


class QueueDetail(APIView):
    permission_classes = [IsAdminOrReadOnly]

    @extend_schema(operation_id="queues_retrieve", responses={200: QueueSerializer, **ERRORS})
    def get(self, request, slug: str):
        return Response(QueueSerializer(get_object_or_404(Queue, slug=slug)).data)

    @extend_schema(
        operation_id="queues_partial_update",
        request=QueueSerializer(partial=True),
        responses={200: QueueSerializer, **ERRORS},
    )
    def patch(self, request, slug: str):
        queue = get_object_or_404(Queue, slug=slug)
        serializer = QueueSerializer(queue, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        queue = services.queue_update(queue=queue, **serializer.validated_data)
        return Response(QueueSerializer(queue).data)

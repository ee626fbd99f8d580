"""The HTTP door: POST /api/v1/inbound/email with the raw message (DESIGN §8), for mail
providers' inbound routes. 202 once the message is committed; processing follows."""

from django.conf import settings
from django.db import DatabaseError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Scope
from accounts.permissions import ScopePermission
from mail.inbound import inbound_store
from mail.models import Door, InboundStatus
from mail.parsing import looks_like_mail


class EmailTooLarge(APIException):
    status_code = 413
    default_code = "request_too_large"


class Unavailable(APIException):
    status_code = 503
    default_code = "unavailable"
    default_detail = "The message could not be stored now; deliver it again later."


class RFC822Parser(BaseParser):
    """The body as bytes, at most EMAIL_MAX_BYTES (read from the stream: Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE is for form and JSON bodies, far smaller than an e-mail)."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = settings.EMAIL_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise EmailTooLarge(f"The message is larger than the limit of {limit} bytes.")
        return raw


class EmailScope(ScopePermission):
    read_scope = Scope.EMAIL
    write_scope = Scope.EMAIL


ACCEPTED = inline_serializer(
    "InboundEmailAccepted",
    {
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=[*InboundStatus.values]),
    },
)


class InboundEmailView(APIView):
    permission_classes = [EmailScope]
    parser_classes = [RFC822Parser]

    @extend_schema(
        operation_id="inbound_email_create",
        summary="Deliver one inbound e-mail (raw RFC 5322 message)",
        description=(
            "For a mail provider's inbound route. The body is the raw message with "
            "`Content-Type: message/rfc822`; needs the `email` scope. Answers 202 once the "
            "message is stored; it is processed (threaded onto a ticket or opening one) "
            "moments later. The same bytes delivered again answer `duplicate` with the first "
            "delivery's id. 413 above EMAIL_MAX_BYTES, 503 when it cannot be stored now."
        ),
        request={"message/rfc822": OpenApiTypes.BINARY},
        responses={
            202: ACCEPTED,
            503: OpenApiResponse(description="api_error: try again later."),
        },
        tags=["inbound e-mail"],
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.EMAIL_MAX_BYTES
        if length.isdigit() and int(length) > limit:
            raise EmailTooLarge(f"The message is larger than the limit of {limit} bytes.")
        raw = request.data
        if not isinstance(raw, bytes) or not raw.strip():
            raise ParseError("The body must be a raw e-mail message.")
        if not looks_like_mail(raw):
            raise ParseError("The body is not an e-mail (it does not start with header lines).")
        try:
            stored = inbound_store(raw=raw, door=Door.API)
        except DatabaseError:
            raise Unavailable() from None
        state = stored.inbound.status if stored.created else InboundStatus.DUPLICATE
        return Response({"id": stored.inbound.pk, "status": state}, status=status.HTTP_202_ACCEPTED)

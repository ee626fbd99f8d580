"""GET /api/v1/attachments/{id}: a message's file, for whoever may read its ticket.

Bearer tokens and browser sessions both work (the workspace links here). The file goes
out with the content type stored at upload (tickets/attachments.py), `nosniff`, a sandbox
policy, and as a download unless it is a PNG, JPEG or GIF."""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from accounts.permissions import TicketScopes
from support_desk.errors import InvalidRequest, NotFound
from tickets.attachments import (
    INLINE_TYPES,
    MAX_PER_MESSAGE,
    AttachmentTooLarge,
    attachment_check_size,
    attachment_filename,
)
from tickets.models import Attachment, AuthorType
from tickets.visibility import ticket_for


class _AnyAccept(BaseContentNegotiation):
    """A file is what it is whatever the Accept header asks for (an <img> asks for
    image/*); errors are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentDownload(APIView):
    permission_classes = [TicketScopes]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="attachments_download",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, with its stored content type. Content-Disposition is "
                "attachment, or inline for PNG, JPEG and GIF images.",
            ),
            401: OpenApiResponse(description="authentication_error"),
            403: OpenApiResponse(description="permission_error"),
            404: OpenApiResponse(description="not_found"),
        },
    )
    def get(self, request, pk: int):
        attachment = Attachment.objects.filter(pk=pk).first()
        if attachment is None:
            raise NotFound("No such attachment.")
        try:
            ticket_for(request.user, attachment.ticket_id)
        except NotFound:
            raise NotFound("No such attachment.") from None
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise NotFound("The attachment's file is missing.") from None
        inline = attachment.content_type in INLINE_TYPES
        response = FileResponse(
            handle,
            content_type=attachment.content_type,
            as_attachment=not inline,
            filename=attachment.filename,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


# --- message create with files (POST /api/v1/tickets/{id}/messages, multipart) ------------


class MessageMultipartSerializer(serializers.Serializer):
    """Documents the multipart/form-data body of a message create: the JSON fields as form
    fields, and any number of files under `attachments`."""

    # As in an HTML form, an optional field sent empty counts as not sent.
    body = serializers.CharField(max_length=100_000)
    public = serializers.ChoiceField(choices=["true", "false"], default="true", allow_blank=True)
    author_type = serializers.ChoiceField(
        choices=[AuthorType.AGENT, AuthorType.REQUESTER], default=AuthorType.AGENT, allow_blank=True
    )
    created_at = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="ISO 8601 with a UTC offset; needs the `import` scope.",
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=f"Files, each at most ATTACHMENT_MAX_BYTES (up to {MAX_PER_MESSAGE}).",
    )


_OPTIONAL = ("public", "author_type", "created_at")
_BOOLEANS = {"true": True, "false": False}


def is_multipart(request) -> bool:
    return (request.content_type or "").startswith("multipart/form-data")


def multipart_message_data(request) -> tuple[dict, list]:
    """(fields as MessageCreateSerializer takes them, the uploaded files) from a multipart
    message create. Refuses a body that cannot hold a valid message before reading it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = MAX_PER_MESSAGE * settings.ATTACHMENT_MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length > limit:
        raise AttachmentTooLarge(
            f"The request is {length} bytes; a message with files may have at most "
            f"{MAX_PER_MESSAGE} files of {settings.ATTACHMENT_MAX_BYTES} bytes.",
            param="attachments",
        )
    fields: dict = {}
    for name in request.data:
        if name in request.FILES:
            continue
        value = request.data.getlist(name)[-1]
        if value == "" and name in _OPTIONAL:
            continue
        fields[name] = _BOOLEANS.get(value, value) if name == "public" else value
    unknown = sorted(set(request.FILES) - {"attachments"})
    if unknown:
        raise InvalidRequest(
            f"Unknown file field {unknown[0]!r}; send files as `attachments`.", param=unknown[0]
        )
    files = request.FILES.getlist("attachments")
    if len(files) > MAX_PER_MESSAGE:
        raise InvalidRequest(
            f"At most {MAX_PER_MESSAGE} files per message.", param="attachments", code="too_many"
        )
    for upload in files:
        attachment_check_size(upload.size, filename=attachment_filename(upload.name))
    return fields, files

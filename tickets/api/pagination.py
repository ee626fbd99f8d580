"""Cursor pagination in DESIGN §5's shape: {"results": [...], "next": url or null}."""

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from support_desk.errors import InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_CURSOR = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def page_limit(request) -> int:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.", param="limit")
    return int(raw)


class Cursor(CursorPagination):
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
    page_size = DEFAULT_LIMIT

    def __init__(self, ordering: tuple[str, ...]):
        self.ordering = ordering

    def get_page_size(self, request):
        return page_limit(request)

    def decode_cursor(self, request):
        # DRF's decoder skips characters outside base64 and reads an empty result as the
        # first page, so a garbled cursor would silently restart the list.
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded == "":
            return None
        if encoded is not None and not _CURSOR.fullmatch(encoded):
            raise NotFound
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is None and not cursor.offset:
            raise NotFound
        return cursor

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise InvalidRequest("This cursor is not valid.", param="cursor") from None

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        }


def paginate(request, queryset, serializer_class, *, ordering: tuple[str, ...], view=None):
    paginator = Cursor(ordering)
    page = paginator.paginate_queryset(queryset, request, view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def paginated(serializer_class):
    """The documented shape of a cursor-paginated list of `serializer_class`."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "results": serializer_class(many=True),
            "next": serializers.URLField(allow_null=True),
        },
    )

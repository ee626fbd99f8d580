"""/api/v1/articles (DESIGN §9): anyone reads published public articles, signed-in callers
with tickets:read read every article (drafts and internal ones), agents, leads and admins
write with tickets:write; engineers read only."""

from django.shortcuts import get_object_or_404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ScopePermission
from support_desk.errors import InvalidRequest
from tickets.api.pagination import page_limit, paginate, paginated

from .. import selectors, services
from ..models import ArticleStatus, Visibility
from .serializers import ArticleSerializer

ERRORS = {
    400: OpenApiResponse(description="invalid_request_error"),
    401: OpenApiResponse(description="authentication_error"),
    403: OpenApiResponse(description="permission_error"),
    404: OpenApiResponse(description="not_found"),
}


class ArticlePermission(ScopePermission):
    """Reads: anyone (anonymous callers see public articles only; a signed-in caller needs
    tickets:read). Writes: agents, leads and admins with tickets:write."""

    role_message = "Only agents, leads and admins write knowledge-base articles."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in SAFE_METHODS and not (user and user.is_authenticated):
            return True
        if not super().has_permission(request, view):
            return False
        if request.method not in SAFE_METHODS and not selectors.can_write_articles(user):
            self.message = self.role_message
            return False
        return True


class PublicReadSchema(AutoSchema):
    """Reads need no credentials: the schema says so (an empty security requirement)."""

    def get_auth(self):
        auth = super().get_auth()
        if self.method in SAFE_METHODS and {} not in auth:
            auth = [*auth, {}]
        return auth


def _visible(request):
    user = request.user if request.user.is_authenticated else None
    return selectors.articles_for(user).select_related("category")


LIST_PARAMETERS = [
    OpenApiParameter(
        "q", OpenApiTypes.STR, description="Full-text search (websearch syntax), ranked."
    ),
    OpenApiParameter("category", OpenApiTypes.STR, description="A category slug."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=ArticleStatus.values),
    OpenApiParameter("visibility", OpenApiTypes.STR, enum=Visibility.values),
    OpenApiParameter("limit", OpenApiTypes.INT, description="1-200, default 50."),
    OpenApiParameter("cursor", OpenApiTypes.STR),
]


class ArticleList(APIView):
    permission_classes = [ArticlePermission]
    schema = PublicReadSchema()

    @extend_schema(
        operation_id="articles_list",
        parameters=LIST_PARAMETERS,
        responses={200: paginated(ArticleSerializer), **ERRORS},
        description="Without `q`, newest first and cursor-paginated; with `q`, the best "
        "`limit` matches by rank and `next` is null.",
    )
    def get(self, request):
        qs = _visible(request)
        params = request.query_params
        for name, choices in (("status", ArticleStatus.values), ("visibility", Visibility.values)):
            value = params.get(name, "")
            if value and value not in choices:
                raise InvalidRequest(f'"{value}" is not a {name}.', param=name)
            if value:
                qs = qs.filter(**{name: value})
        if params.get("category"):
            qs = qs.filter(category__slug=params["category"])
        query = selectors.clean_query(params.get("q"))
        if query:
            hits = selectors.article_search(
                query, base=qs, limit=page_limit(request), snippets=False
            )
            data = ArticleSerializer([h.article for h in hits], many=True).data
            return Response({"results": data, "next": None})
        return paginate(request, qs, ArticleSerializer, ordering=("-updated_at", "-id"))

    @extend_schema(
        operation_id="articles_create",
        request=ArticleSerializer,
        responses={201: ArticleSerializer, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def post(self, request):
        serializer = ArticleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = services.article_create(author=request.user, **serializer.validated_data)
        return Response(ArticleSerializer(article).data, status=status.HTTP_201_CREATED)


class ArticleDetail(APIView):
    permission_classes = [ArticlePermission]
    schema = PublicReadSchema()

    def _article(self, request, slug: str):
        return get_object_or_404(_visible(request), slug=slug)

    @extend_schema(operation_id="articles_retrieve", responses={200: ArticleSerializer, **ERRORS})
    def get(self, request, slug: str):
        return Response(ArticleSerializer(self._article(request, slug)).data)

    @extend_schema(
        operation_id="articles_update",
        request=ArticleSerializer,
        responses={200: ArticleSerializer, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def put(self, request, slug: str):
        return self._update(request, slug, partial=False)

    @extend_schema(
        operation_id="articles_partial_update",
        request=ArticleSerializer(partial=True),
        responses={200: ArticleSerializer, 409: OpenApiResponse(description="conflict"), **ERRORS},
    )
    def patch(self, request, slug: str):
        return self._update(request, slug, partial=True)

    def _update(self, request, slug: str, *, partial: bool):
        article = self._article(request, slug)
        serializer = ArticleSerializer(article, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        article = services.article_update(article=article, **serializer.validated_data)
        return Response(ArticleSerializer(article).data)

    @extend_schema(operation_id="articles_destroy", responses={204: None, **ERRORS})
    def delete(self, request, slug: str):
        services.article_delete(article=self._article(request, slug))
        return Response(status=status.HTTP_204_NO_CONTENT)

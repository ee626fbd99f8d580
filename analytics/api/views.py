"""POST /api/v1/analytics/query and /api/v1/analytics/saved-queries (DESIGN §10): leads and
admins, scope `analytics` for reads and writes alike."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Scope
from accounts.permissions import ScopePermission
from tickets.api.pagination import paginate, paginated

from .. import services
from ..models import SavedQuery
from .serializers import (
    QueryRequestSerializer,
    QueryResultSerializer,
    RunRequestSerializer,
    SavedQuerySerializer,
)

ERRORS = {
    400: OpenApiResponse(
        description="invalid_request_error: refused by the parser check (`query_refused`), "
        "PostgreSQL's message with `details.position` (`syntax_error`, `permission_denied`, "
        "...), or cancelled at the timeout (`query_timeout`)."
    ),
    403: OpenApiResponse(description="permission_error: leads and admins only"),
    429: OpenApiResponse(description="rate_limit_error: one query at a time, 30 a minute"),
}


class RunsAnalytics(ScopePermission):
    read_scope = Scope.ANALYTICS
    write_scope = Scope.ANALYTICS
    role_message = "Only team leads and admins may use SQL analytics."

    def roles_check(self, user) -> bool:
        return user.is_lead_or_admin


def _result(result) -> dict:
    return {
        "columns": result.columns,
        "rows": result.rows,
        "row_count": result.row_count,
        "truncated": result.truncated,
        "duration_ms": result.duration_ms,
    }


class QueryView(APIView):
    permission_classes = [RunsAnalytics]

    @extend_schema(
        operation_id="analytics_query",
        request=QueryRequestSerializer,
        responses={200: QueryResultSerializer, **ERRORS},
        description="Run one read-only query over the `analytics` views as the analytics "
        "role. `:name` placeholders take their values from `params`.",
    )
    def post(self, request):
        body = QueryRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.query_run(
            user=request.user, sql=body.validated_data["sql"], params=body.validated_data["params"]
        )
        return Response(_result(result))


class SavedQueryList(APIView):
    permission_classes = [RunsAnalytics]

    @extend_schema(
        operation_id="analytics_saved_queries_list",
        responses={200: paginated(SavedQuerySerializer)},
    )
    def get(self, request):
        queryset = SavedQuery.objects.select_related("created_by")
        return paginate(request, queryset, SavedQuerySerializer, ordering=("id",))

    @extend_schema(
        operation_id="analytics_saved_queries_create",
        request=SavedQuerySerializer,
        responses={201: SavedQuerySerializer, **ERRORS},
    )
    def post(self, request):
        body = SavedQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = services.saved_query_save(user=request.user, **body.validated_data)
        return Response(SavedQuerySerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedQueryDetail(APIView):
    permission_classes = [RunsAnalytics]

    @extend_schema(
        operation_id="analytics_saved_queries_retrieve", responses={200: SavedQuerySerializer}
    )
    def get(self, request, pk: int):
        return Response(SavedQuerySerializer(get_object_or_404(SavedQuery, pk=pk)).data)

    @extend_schema(
        operation_id="analytics_saved_queries_update",
        request=SavedQuerySerializer,
        responses={200: SavedQuerySerializer, **ERRORS},
    )
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="analytics_saved_queries_partial_update",
        request=SavedQuerySerializer(partial=True),
        responses={200: SavedQuerySerializer, **ERRORS},
    )
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool):
        saved = get_object_or_404(SavedQuery, pk=pk)
        body = SavedQuerySerializer(saved, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = {
            "name": saved.name,
            "sql": saved.sql,
            "description": saved.description,
            "parameters": saved.parameters,
            **body.validated_data,
        }
        saved = services.saved_query_save(saved_query=saved, **data)
        return Response(SavedQuerySerializer(saved).data)

    @extend_schema(operation_id="analytics_saved_queries_destroy", responses={204: None})
    def delete(self, request, pk: int):
        services.saved_query_delete(saved_query=get_object_or_404(SavedQuery, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedQueryRun(APIView):
    permission_classes = [RunsAnalytics]

    @extend_schema(
        operation_id="analytics_saved_queries_run",
        request=RunRequestSerializer,
        responses={200: QueryResultSerializer, **ERRORS},
        description="Run a saved query; `params` give its declared parameters (their "
        "defaults otherwise), converted to the declared types and bound as parameters.",
    )
    def post(self, request, pk: int):
        saved = get_object_or_404(SavedQuery, pk=pk)
        body = RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.query_run(
            user=request.user,
            sql=saved.sql,
            params=body.validated_data["params"],
            saved_query=saved,
        )
        return Response(_result(result))

"""Every API error in DESIGN §5's format: {"error": {type, code, message, param, details}}."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from .errors import ApplicationError

logger = logging.getLogger(__name__)

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    405: "invalid_request_error",
    406: "invalid_request_error",
    409: "conflict",
    412: "precondition_failed",
    413: "invalid_request_error",
    414: "invalid_request_error",
    415: "invalid_request_error",
    431: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(
    status_code: int,
    message: str,
    *,
    code: str,
    type_: str | None = None,
    param: str | None = None,
    details: dict | None = None,
) -> dict:
    return {
        "error": {
            "type": type_ or _TYPES.get(status_code, "api_error"),
            "code": code,
            "message": message,
            "param": param,
            "details": details or {},
        }
    }


def _flatten(detail, prefix: str = "") -> list[tuple[str, str, str]]:
    """(param, message, code) for each leaf of a DRF error tree, params dotted."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            if isinstance(key, int):  # ListField and ListSerializer key item errors by index
                out += _flatten(value, f"{prefix}[{key}]")
                continue
            name = "" if key == "non_field_errors" else str(key)
            out += _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not isinstance(value, exceptions.ErrorDetail):
                out += _flatten(value, f"{prefix}[{index}]")
            else:
                out += _flatten(value, prefix)
        return out
    return [(prefix, str(detail), getattr(detail, "code", None) or "invalid")]


def _details(leaves: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for param, message, _ in leaves:
        details.setdefault(param or "non_field_errors", []).append(message)
    return details


def validation_response(detail) -> Response:
    leaves = _flatten(detail) or [("", "Invalid request.", "invalid")]
    param, message, code = leaves[0]
    text = f"{param}: {message}" if param else message
    body = error_body(400, text, code=code, param=param or None, details=_details(leaves))
    return Response(body, status=400)


def too_large_body() -> dict:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body(
        413,
        f"The request body is larger than the limit of {limit} bytes.",
        code="request_too_large",
    )


def _is_nul_data_error(exc: Exception) -> bool:
    """psycopg refuses NUL in text before sending the query: the input's fault, not ours.
    Bodies and URLs are checked earlier (parsers, request_limits); this is the backstop."""
    return isinstance(exc, DataError) and "NUL (0x00)" in str(exc)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response(too_large_body(), status=413)
    if _is_nul_data_error(exc):
        return Response(
            error_body(400, "Text may not contain NUL (\\u0000).", code="null_character"),
            status=400,
        )
    if isinstance(exc, ApplicationError):
        body = error_body(
            exc.status,
            f"{exc.param}: {exc.message}" if exc.param and exc.status == 400 else exc.message,
            code=exc.code,
            type_=exc.type,
            param=exc.param,
            details=exc.details,
        )
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return validation_response(exc.detail)
    if isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated):
            status_code = 401
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(status_code, str(exc.detail), code=code)
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        if status_code == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(body, status=status_code, headers=headers)

    logger.exception("Unhandled API error", exc_info=exc)
    body = error_body(500, "Something went wrong on our side.", code="internal_error")
    return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def is_api(request) -> bool:
    """Whether the request is for the API (JSON errors, no page-only middleware)."""
    return request.path_info.startswith("/api/")


def _api_or(request, status_code: int, message: str, code: str, fallback):
    if is_api(request):
        return JsonResponse(error_body(status_code, message, code=code), status=status_code)
    return fallback


def handler404(request, exception=None):
    from django.views.defaults import page_not_found

    return _api_or(request, 404, "No such resource.", "not_found", None) or page_not_found(
        request, exception
    )


def handler400(request, exception=None):
    """Django's own 400s (RequestDataTooBig outside a DRF view, too many fields, a bad Host)."""
    from django.views.defaults import bad_request

    if is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(too_large_body(), status=413)
        return JsonResponse(error_body(400, "Bad request.", code="bad_request"), status=400)
    return bad_request(request, exception)


def handler500(request):
    from django.views.defaults import server_error

    return _api_or(
        request, 500, "Something went wrong on our side.", "internal_error", None
    ) or server_error(request)

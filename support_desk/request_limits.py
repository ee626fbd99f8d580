"""Size limits on the request line and headers, answered in the API's error format.

gunicorn checks these limits too, but answers with its own HTML page before Django runs.
So gunicorn's limits are set above these (support_desk/gunicorn.conf.py) and this
middleware, first in MIDDLEWARE, refuses an over-long URL with 414 and over-large headers
with 431, as JSON under /api/ (DESIGN §6). A NUL character in the path or query string
is refused here too: PostgreSQL cannot compare text with it, so any lookup would fail.
An API query parameter given twice is refused unless the API documents it as a list:
otherwise the view would silently read one of the values.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from .api_errors import error_body, is_api

DEFAULT_MAX_URL_BYTES = 8000
DEFAULT_MAX_HEADER_BYTES = 8190
DEFAULT_MAX_HEADERS_TOTAL_BYTES = 65536
DEFAULT_MAX_HEADER_FIELDS = 100
# The only API query parameters that may be repeated (documented as lists), by path.
REPEATABLE_QUERY_PARAMS = {"/api/v1/tickets": {"status", "priority"}}


def _limit(name: str, default: int) -> int:
    return getattr(settings, name, default)


def _wire_name(key: str) -> str:
    return key.removeprefix("HTTP_").replace("_", "-").title()


def _header_sizes(meta: dict) -> list[tuple[str, int]]:
    """(META key, bytes on the wire as "Name: value\r\n") for each request header. The
    name on the wire is as long as the key without HTTP_, so no name is built here."""
    sizes = []
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            sizes.append((key, len(key) - 1 + len(str(value))))  # -5 for HTTP_, +4 for ": \r\n"
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            sizes.append((key, len(key) + 4 + len(str(value))))
    return sizes


def _problem(request) -> tuple | None:
    """(status, code, message[, param]) of the first limit the request breaks, or None."""
    meta = request.META
    # As sent (still percent-encoded): that is what the server had to read.
    raw_path = meta.get("RAW_URI") or meta.get("REQUEST_URI") or request.get_full_path()
    url_bytes = len(raw_path.encode("utf-8", "surrogateescape"))
    max_url = _limit("API_MAX_URL_BYTES", DEFAULT_MAX_URL_BYTES)
    if url_bytes > max_url:
        return 414, "uri_too_long", f"The URL is {url_bytes} bytes long; the limit is {max_url}."

    sizes = _header_sizes(meta)
    max_fields = _limit("API_MAX_HEADER_FIELDS", DEFAULT_MAX_HEADER_FIELDS)
    if len(sizes) > max_fields:
        return 431, "headers_too_large", f"At most {max_fields} request headers are accepted."
    max_header = _limit("API_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES)
    for key, size in sizes:
        if size > max_header:
            name = _wire_name(key)
            return 431, "headers_too_large", f"The {name} header is over {max_header} bytes."
    max_total = _limit("API_MAX_HEADERS_TOTAL_BYTES", DEFAULT_MAX_HEADERS_TOTAL_BYTES)
    if sum(size for _, size in sizes) > max_total:
        return 431, "headers_too_large", f"The request headers exceed {max_total} bytes in all."

    if "\x00" in request.path_info:
        return 400, "null_character", "The URL may not contain NUL (%00)."
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return 400, "null_character", "May not contain NUL (%00).", key
    if is_api(request):
        repeatable = REPEATABLE_QUERY_PARAMS.get(request.path_info.rstrip("/"), set())
        for key, values in request.GET.lists():
            if len(values) > 1 and key not in repeatable:
                return 400, "repeated_parameter", "May be given only once.", key
    return None


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _problem(request)
        if problem is None:
            return self.get_response(request)
        status, code, message, param = (*problem, None)[:4]
        if is_api(request):
            body = error_body(
                status,
                f"{param}: {message}" if param else message,
                code=code,
                param=param,
                details={param: [message]} if param else None,
            )
            response = JsonResponse(body, status=status)
        else:
            response = HttpResponse(
                message, status=status, content_type="text/plain; charset=utf-8"
            )
        # Answered before CommonMiddleware, which would set it; without it gunicorn chunks.
        response["Content-Length"] = str(len(response.content))
        return response

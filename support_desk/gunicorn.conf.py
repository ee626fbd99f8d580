"""gunicorn settings for every way the desk is served: `make run` (scripts/run.py), the
Docker image and docker-compose, `make bench`. Use: gunicorn -c support_desk/gunicorn.conf.py

Every error under /api/ is the JSON error format (DESIGN §6), also for what gunicorn refuses
before Django runs. So:
- gunicorn's request-line and header limits are set *above* Django's (settings
  API_MAX_URL_BYTES, API_MAX_HEADER_BYTES, ...), whose middleware
  (support_desk/request_limits.py) then answers 414 / 431 as JSON with a useful message;
- what still reaches gunicorn's own limits (a request line over 8190 bytes, a header over
  32 KiB, more than 200 headers) or is not HTTP at all gets gunicorn's error status with a
  JSON body in the same format, instead of gunicorn's HTML page. gunicorn calls
  util.write_error for each of these; there is no setting for the body's format.
The limits stay bounded: 0 would mean "unlimited" for the request line, and gunicorn would
then buffer a never-ending line.
"""

import json

from gunicorn import util

# 8190 is the largest bounded request line gunicorn supports (anything above is clamped).
limit_request_line = 8190
limit_request_field_size = 32768
limit_request_fields = 200

_CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}
_TYPES = {403: "permission_error", 500: "api_error", 501: "api_error"}


def json_error_response(status_int: int, reason: str, mesg: str) -> bytes:
    body = json.dumps(
        {
            "error": {
                "type": _TYPES.get(status_int, "invalid_request_error"),
                "code": _CODES.get(status_int, "bad_request"),
                "message": mesg or reason,
                "param": None,
                "details": {},
            }
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1")
    return head + body


def _write_json_error(sock, status_int, reason, mesg):
    util.write_nonblock(sock, json_error_response(int(status_int), reason, mesg))


util.write_error = _write_json_error

"""Hostile input never yields a 500 or a non-JSON error under /api/ (issue 9 item 4, DESIGN §6).

One test (or a few) per root cause that was found: an oversized body, JSON nested 1,000
deep, NUL characters, a 5,000-digit If-Match, loosely typed values (a number as a subject,
`1e999999` as a tag, "yes" as a boolean), unknown keys inside nested objects, holidays in
year 1 or 9999, and URLs and headers too large for the application server.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from sla.models import Calendar, SlaPolicy
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import CalendarFactory
from tickets.models import Queue, Ticket

ROOT = Path(__file__).resolve().parent.parent
TICKET = {
    "subject": "Payout po_1Q2 not received",
    "description": "Our payout has not arrived.",
    "requester": {"email": "finance@acme.test"},
}
CALENDAR = {
    "name": "New York",
    "timezone": "America/New_York",
    "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
}
HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def client(api_client, db):
    admin = UserFactory(role=Role.ADMIN)
    token = make_token(admin, ("tickets:read", "tickets:write", "admin"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def post_raw(client, path: str, raw: str | bytes):
    return client.generic("POST", path, raw, content_type="application/json")


def error_of(response, status: int) -> dict:
    """The response is `status` with DESIGN §5's JSON error body; returns its `error`."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = json.loads(response.content)["error"]
    assert set(error) == {"type", "code", "message", "param", "details"}
    return error


# -- Body size and shape ---------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_in_the_error_format(client, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440  # Django's 2.5 MB, kept
    raw = json.dumps({**TICKET, "description": "x" * 2_700_000})
    error = error_of(post_raw(client, "/api/v1/tickets", raw), 413)
    assert error["code"] == "request_too_large"
    assert error["type"] == "invalid_request_error"
    assert not Ticket.objects.exists()


def test_a_body_just_under_the_limit_is_parsed(client):
    raw = json.dumps({**TICKET, "description": "x" * 2_000_000})
    error = error_of(post_raw(client, "/api/v1/tickets", raw), 400)
    assert error["param"] == "description"  # over the field's 100,000 characters, not a 413


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_deeper_than_python_can_parse_is_400(client, depth):
    error = error_of(post_raw(client, "/api/v1/tickets", "[" * depth + "]" * depth), 400)
    assert error["code"] == "too_deep"


def test_json_nested_deeper_than_64_levels_is_400_naming_where(client):
    nested: object = "deep"
    for _ in range(70):
        nested = {"a": nested}
    error = error_of(client.post("/api/v1/tickets", {**TICKET, "x": nested}, format="json"), 400)
    assert error["code"] == "too_deep"
    assert error["param"].startswith("x.a.a")


@pytest.mark.parametrize("literal", ["1e999999", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_400_and_nothing_is_stored(client, literal):
    raw = json.dumps(TICKET)[:-1] + f', "tags": [{literal}]}}'
    error_of(post_raw(client, "/api/v1/tickets", raw), 400)
    assert not Ticket.objects.exists()


def test_a_body_that_is_not_utf8_is_400(client):
    error_of(post_raw(client, "/api/v1/tickets", b'{"subject": "\xff\xfe"}'), 400)


# -- NUL characters --------------------------------------------------------------------------


def test_nul_in_a_queue_slug_is_400_and_no_queue_is_saved(client):
    before = Queue.objects.count()
    body = {"slug": "pay\x00outs", "name": "Payouts"}
    error = error_of(client.post("/api/v1/queues", body, format="json"), 400)
    assert error["code"] == "null_character"
    assert error["param"] == "slug"
    assert Queue.objects.count() == before


def test_nul_in_a_holiday_name_is_400_and_no_calendar_is_saved(client):
    body = {**CALENDAR, "holidays": [{"date": "2026-12-24", "name": "Christmas\x00Eve"}]}
    error = error_of(client.post("/api/v1/calendars", body, format="json"), 400)
    assert error["param"] == "holidays[0].name"
    assert not Calendar.objects.exists()


def test_nul_in_a_key_is_400(client):
    error = error_of(client.post("/api/v1/tickets", {**TICKET, "sub\x00": 1}, format="json"), 400)
    assert error["code"] == "null_character"


@pytest.mark.parametrize(
    "path", ["/api/v1/queues/pay%00outs", "/api/v1/tickets?q=a%00b", "/api/v1/tickets?ta%00g=x"]
)
def test_nul_in_the_url_is_400(client, path):
    assert error_of(client.get(path), 400)["code"] == "null_character"


@HYPOTHESIS
@given(name=st.text(min_size=1, max_size=30))
def test_any_text_as_a_holiday_name_is_stored_or_refused_never_a_500(client, name):
    calendar_name = f"Calendar {Calendar.objects.count()}"
    body = {**CALENDAR, "name": calendar_name, "holidays": [{"date": "2026-12-24", "name": name}]}
    response = client.post("/api/v1/calendars", body, format="json")
    if "\x00" in name or len(name) > 100:
        error_of(response, 400)
    else:
        assert response.status_code == 201, response.content
        assert response.json()["holidays"][0]["name"] == name.strip()  # text fields are trimmed


# -- If-Match --------------------------------------------------------------------------------


@pytest.fixture
def ticket_id(client):
    response = client.post("/api/v1/tickets", TICKET, format="json")
    assert response.status_code == 201
    return response.json()["id"]


@pytest.mark.parametrize("value", ["9" * 5000, '"' + "1" * 5000 + '"', "²", "1.0", "-1", ""])
def test_an_if_match_that_is_not_a_version_is_400_and_changes_nothing(client, ticket_id, value):
    response = client.patch(
        f"/api/v1/tickets/{ticket_id}", {"subject": "Changed"}, format="json", HTTP_IF_MATCH=value
    )
    assert error_of(response, 400)["param"] == "If-Match"
    assert Ticket.objects.get(pk=ticket_id).subject == TICKET["subject"]


@pytest.mark.parametrize(
    ("value", "status"), [('"1"', 200), ('W/"1"', 200), ("*", 200), ("2", 412)]
)
def test_if_match_versions(client, ticket_id, value, status):
    response = client.patch(
        f"/api/v1/tickets/{ticket_id}", {"priority": "high"}, format="json", HTTP_IF_MATCH=value
    )
    assert response.status_code == status


@HYPOTHESIS
@given(value=st.text(max_size=40))
def test_any_if_match_is_200_400_or_412(client, ticket_id, value):
    response = client.patch(
        f"/api/v1/tickets/{ticket_id}", {"priority": "low"}, format="json", HTTP_IF_MATCH=value
    )
    assert response.status_code in (200, 400, 412)


# -- Loosely typed values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/api/v1/tickets", {**TICKET, "subject": 12345}, "subject"),
        ("/api/v1/tickets", {**TICKET, "description": True}, "description"),
        ("/api/v1/tickets", {**TICKET, "tags": [1]}, "tags[0]"),
        ("/api/v1/tickets", {**TICKET, "queue": 7}, "queue"),
        (
            "/api/v1/tickets",
            {**TICKET, "requester": {"email": "a@b.co", "name": 5}},
            "requester.name",
        ),
        ("/api/v1/queues", {"slug": "refunds", "name": 5}, "name"),
        ("/api/v1/queues", {"slug": 5, "name": "Refunds"}, "slug"),
        ("/api/v1/calendars", {**CALENDAR, "name": 5}, "name"),
        ("/api/v1/calendars", {**CALENDAR, "always_open": "yes"}, "always_open"),
        (
            "/api/v1/calendars",
            {**CALENDAR, "hours": [{"weekday": "1", "start": "09:00", "end": "17:00"}]},
            "hours[0].weekday",
        ),
        (
            "/api/v1/calendars",
            {**CALENDAR, "hours": [{"weekday": True, "start": "09:00", "end": "17:00"}]},
            "hours[0].weekday",
        ),
    ],
)
def test_a_value_of_the_wrong_json_type_is_400(client, path, body, param):
    error = error_of(client.post(path, body, format="json"), 400)
    assert error["param"] == param
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("public", ["yes", "true", 1, 0, None])
def test_public_must_be_a_json_boolean(client, ticket_id, public):
    body = {"body": "Thanks, looking into it.", "public": public}
    error = error_of(client.post(f"/api/v1/tickets/{ticket_id}/messages", body, format="json"), 400)
    assert error["param"] == "public"


def test_sla_policy_fields_are_strictly_typed(client):
    calendar = CalendarFactory()
    base = {
        "name": "Standard",
        "calendar": calendar.pk,
        "targets": [{"priority": "normal", "metric": "first_reply", "minutes": 60}],
    }
    cases = [
        ({"calendar": str(calendar.pk)}, "calendar"),
        ({"calendar": ""}, "calendar"),
        ({"warn_at_percent": "50"}, "warn_at_percent"),
        ({"targets": [{**base["targets"][0], "minutes": "60"}]}, "targets[0].minutes"),
        (
            {"targets": [{**base["targets"][0], "business_hours": "true"}]},
            "targets[0].business_hours",
        ),
    ]
    for change, param in cases:
        error = error_of(
            client.post("/api/v1/sla-policies", {**base, **change}, format="json"), 400
        )
        assert error["param"] == param
    assert not SlaPolicy.objects.exists()
    assert client.post("/api/v1/sla-policies", base, format="json").status_code == 201


@HYPOTHESIS
@given(
    tag=st.one_of(
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.lists(st.text(max_size=3), max_size=2),
        st.text(max_size=60),
    )
)
def test_a_tag_is_stored_only_when_it_is_a_string(client, tag):
    response = client.post("/api/v1/tickets", {**TICKET, "tags": [tag]}, format="json")
    if isinstance(tag, str) and tag.strip() and len(tag) <= 50 and "\x00" not in tag:
        assert response.status_code == 201, response.content
        assert all(isinstance(t, str) for t in response.json()["tags"])
    else:
        error_of(response, 400)


# -- Unknown keys in nested objects ----------------------------------------------------------


def test_an_unknown_key_in_calendar_hours_is_400_naming_it(client):
    hours = [{"weekday": 0, "start": "09:00", "end": "17:00", "colour": "red"}]
    error = error_of(
        client.post("/api/v1/calendars", {**CALENDAR, "hours": hours}, format="json"), 400
    )
    assert error["param"] == "hours[0].colour"
    assert error["code"] == "unknown_field"
    assert not Calendar.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (
            "/api/v1/tickets",
            {**TICKET, "requester": {"email": "a@b.co", "phone": "1"}},
            "requester.phone",
        ),
        (
            "/api/v1/tickets",
            {**TICKET, "organization": {"name": "Acme", "vat": "1"}},
            "organization.vat",
        ),
        (
            "/api/v1/calendars",
            {**CALENDAR, "holidays": [{"date": "2026-12-25", "nom": "X"}]},
            "holidays[0].nom",
        ),
    ],
)
def test_an_unknown_key_in_a_nested_object_is_400_naming_it(client, path, body, param):
    assert error_of(client.post(path, body, format="json"), 400)["param"] == param


def test_unknown_keys_in_policy_match_and_targets_are_400(client):
    base = {
        "name": "Standard",
        "calendar": CalendarFactory().pk,
        "targets": [{"priority": "normal", "metric": "first_reply", "minutes": 60}],
    }
    for change, param in [
        ({"match": {"priorities": ["high"], "regions": ["eu"]}}, "match.regions"),
        ({"targets": [{**base["targets"][0], "unit": "minutes"}]}, "targets[0].unit"),
    ]:
        error = error_of(
            client.post("/api/v1/sla-policies", {**base, **change}, format="json"), 400
        )
        assert error["param"] == param
    assert not SlaPolicy.objects.exists()


def test_an_inline_preview_calendar_is_validated_like_a_saved_one(client):
    body = {
        "calendar": {
            **CALENDAR,
            "hours": [{"weekday": 0, "start": "09:00", "end": "17:00", "x": 1}],
        },
        "policy": {"targets": [{"priority": "normal", "metric": "first_reply", "minutes": 60}]},
        "events": [{"type": "created", "at": "2026-03-02T10:00:00Z"}],
    }
    assert error_of(client.post("/api/v1/sla/preview", body, format="json"), 400)["param"] == (
        "calendar.hours[0].x"
    )


# -- Holiday years ---------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1969-12-31", "3000-01-01"])
def test_a_holiday_outside_1970_to_2999_is_400(client, day):
    body = {**CALENDAR, "holidays": [{"date": day, "name": "Far away"}]}
    error = error_of(client.post("/api/v1/calendars", body, format="json"), 400)
    assert error["param"] == "holidays[0].date"
    assert not Calendar.objects.exists()


@pytest.mark.parametrize("day", ["1970-01-01", "2999-12-31"])
def test_holidays_at_the_ends_of_the_range_are_accepted(client, day):
    body = {**CALENDAR, "holidays": [{"date": day, "name": "Edge"}]}
    response = client.post("/api/v1/calendars", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["holidays"] == [{"date": day, "name": "Edge"}]


# -- E-mail addresses ------------------------------------------------------------------------


def test_an_idn_email_is_accepted_and_echoed_as_given(client):
    body = {**TICKET, "requester": {"email": "kasse@bücher.example"}}
    created = client.post("/api/v1/tickets", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["requester"]["email"] == "kasse@bücher.example"
    again = client.get(f"/api/v1/tickets/{created.json()['id']}")
    assert again.json()["requester"]["email"] == "kasse@bücher.example"


def test_the_schema_documents_email_as_idn_email(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    requester = schema["components"]["schemas"]["RequesterInRequest"]
    assert requester["properties"]["email"]["format"] == "idn-email"
    assert requester["additionalProperties"] is False


# -- URLs, headers, methods, media types -----------------------------------------------------


def test_a_url_over_the_limit_is_414_json(client, settings):
    long_query = "q=" + "a" * settings.API_MAX_URL_BYTES
    error = error_of(client.get(f"/api/v1/tickets?{long_query}"), 414)
    assert error["code"] == "uri_too_long"


def test_a_url_at_the_limit_is_served(client, settings):
    path = "/api/v1/tickets?q="
    response = client.get(path + "a" * (settings.API_MAX_URL_BYTES - len(path)))
    assert response.status_code == 200


def test_a_header_over_the_limit_is_431_json(client):
    error = error_of(client.get("/api/v1/tickets", HTTP_X_NOTE="a" * 9000), 431)
    assert error["code"] == "headers_too_large"


def test_too_many_headers_is_431_json(client):
    headers = {f"HTTP_X_H{i}": "1" for i in range(120)}
    assert error_of(client.get("/api/v1/tickets", **headers), 431)["code"] == "headers_too_large"


def test_a_long_url_outside_the_api_is_414_plain_text(client, settings):
    response = client.get("/login/?next=" + "a" * settings.API_MAX_URL_BYTES)
    assert response.status_code == 414
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("delete", "/api/v1/tickets", {}, 405),
        ("get", "/api/v1/tickets", {"HTTP_ACCEPT": "text/html"}, 406),
        ("post", "/api/v1/tickets", {"data": "subject=x", "content_type": "text/plain"}, 415),
        ("get", "/api/v1/no-such-thing", {}, 404),
        ("get", "/api/v1/tickets/999999999", {}, 404),
        ("get", "/api/v1/tickets?limit=0", {}, 400),
        ("get", "/api/v1/tickets?limit=201", {}, 400),
        ("get", "/api/v1/escalations?limit=201", {}, 400),
    ],
)
def test_other_errors_are_json_too(client, method, path, kwargs, status):
    error_of(getattr(client, method)(path, **kwargs), status)


# -- The application server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _exchange(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                headers = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:]
                )
                if len(body) >= int(headers.get("Content-Length", "0")):
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def gunicorn_port():
    """gunicorn as `make run` and the Docker image start it, with our config file."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "support_desk.wsgi", "-c",
         "support_desk/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--log-level", "error"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _long_url(n: int) -> bytes:
    return b"GET /api/v1/tickets?q=" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\n\r\n"


def _big_header(n: int) -> bytes:
    return b"GET /api/v1/tickets HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * n + b"\r\n\r\n"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        # Past gunicorn's own limits: gunicorn's error, in the API's format.
        pytest.param(_long_url(9000), 414, "uri_too_long", id="gunicorn-url"),
        pytest.param(_big_header(40_000), 431, "headers_too_large", id="gunicorn-header"),
        pytest.param(
            b"GET /api/v1/tickets HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n",
            400,
            "bad_request",
            id="gunicorn-malformed",
        ),
        # Within gunicorn's limits, past Django's: the middleware's answer.
        pytest.param(_long_url(8100), 414, "uri_too_long", id="django-url"),
        pytest.param(_big_header(9000), 431, "headers_too_large", id="django-header"),
    ],
)
def test_what_gunicorn_refuses_is_json_too(gunicorn_port, raw, status, code):
    got, headers, body = _exchange(gunicorn_port, raw)
    assert got == status
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == code


def test_gunicorn_limits_sit_above_djangos(settings):
    config: dict = {}
    exec((ROOT / "support_desk" / "gunicorn.conf.py").read_text(), config)
    assert config["limit_request_line"] > settings.API_MAX_URL_BYTES + len("PATCH  HTTP/1.1")
    assert config["limit_request_field_size"] > settings.API_MAX_HEADER_BYTES
    assert config["limit_request_fields"] > settings.API_MAX_HEADER_FIELDS
    assert 0 not in (config["limit_request_line"], config["limit_request_field_size"])


# -- Any JSON at all -------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@HYPOTHESIS
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "subject": JSON,
            "description": JSON,
            "requester": JSON,
            "organization": JSON,
            "priority": JSON,
            "queue": JSON,
            "tags": JSON,
            "external_id": JSON,
        },
    )
)
def test_any_json_body_is_201_or_a_json_400(client, body):
    QueueFactory(slug="payouts")
    response = client.post("/api/v1/tickets", body, format="json")
    if response.status_code != 201:
        error_of(response, 400)


def test_djangos_own_400s_are_json_under_the_api(client):
    # A Host outside ALLOWED_HOSTS is refused by Django itself, before any view.
    error = error_of(client.get("/api/v1/tickets", HTTP_HOST="evil.example"), 400)
    assert error["code"] == "bad_request"

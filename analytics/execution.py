"""Running one query as the analytics role, on its own connection.

The session user is the analytics role itself (a connection signed in as it, never `SET
ROLE` from the owner's connection, which `set_config('role', ...)` inside a SELECT could
undo). Each run: a fresh connection, `BEGIN READ ONLY`, per-transaction timeouts and
`search_path = analytics`, one prepared statement (so PostgreSQL itself refuses a second
statement), at most max_rows + 1 rows fetched, then ROLLBACK and close. A watchdog cancels
the statement from the client side too, in case a query managed to lift its own timeout.
"""

import contextlib
import datetime
import decimal
import math
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import psycopg
from django.conf import settings
from django.db import connections

from support_desk.errors import ApplicationError, InvalidRequest

from .sqlcheck import BoundQuery

APPLICATION_NAME = "support-desk-analytics"
CONNECT_TIMEOUT_SECONDS = 5
# The client-side cancel fires this long after the server-side statement_timeout should have.
WATCHDOG_GRACE_SECONDS = 1.0


class QueryTimeout(InvalidRequest):
    code = "query_timeout"


class AnalyticsUnavailable(ApplicationError):
    status = 503
    type = "api_error"
    code = "analytics_unavailable"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list]
    truncated: bool
    duration_ms: float

    @property
    def row_count(self) -> int:
        return len(self.rows)


def provisioned_role() -> str | None:
    """The role ANALYTICS_DATABASE_URL signs in as, when a DBA provisioned one."""
    url = settings.ANALYTICS_DATABASE_URL
    if not url:
        return None
    return unquote(urlsplit(url).username or "") or None


def connection_kwargs(*, using: str = "default") -> dict:
    """How to sign in as the analytics role: ANALYTICS_DATABASE_URL as it is, or the
    desk's own database (host, port or socket directory, name) with the role's name and the
    password analytics_setup gave it."""
    if settings.ANALYTICS_DATABASE_URL:
        return {"conninfo": settings.ANALYTICS_DATABASE_URL}
    from .setup import role_password

    db = connections[using].settings_dict
    options = db.get("OPTIONS") or {}
    kwargs = {
        "dbname": db["NAME"],
        "user": settings.ANALYTICS_ROLE,
        "password": role_password(),
        "host": db.get("HOST") or options.get("host") or None,
        "port": db.get("PORT") or options.get("port") or None,
    }
    return {k: v for k, v in kwargs.items() if v not in (None, "")}


def execute(
    bound: BoundQuery,
    values: list,
    *,
    timeout_ms: int,
    max_rows: int,
    using: str = "default",
) -> QueryResult:
    kwargs = connection_kwargs(using=using)
    started = time.perf_counter()
    try:
        conn = psycopg.connect(
            **kwargs,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=APPLICATION_NAME,
        )
    except psycopg.OperationalError as exc:
        raise AnalyticsUnavailable(
            "The analytics database role cannot sign in right now "
            f"({_first_line(exc)}). Run `manage.py analytics_setup`, or check "
            "ANALYTICS_DATABASE_URL.",
        ) from None
    watchdog = threading.Timer(timeout_ms / 1000 + WATCHDOG_GRACE_SECONDS, _cancel, [conn])
    try:
        conn.read_only = True  # psycopg opens the transaction with BEGIN READ ONLY
        timeout = int(timeout_ms)
        # Our own text, no parameters: one round trip (simple protocol) for all four.
        conn.execute(
            f"SET LOCAL statement_timeout = {timeout};"
            f" SET LOCAL lock_timeout = {min(timeout, 1000)};"
            f" SET LOCAL idle_in_transaction_session_timeout = {timeout * 2};"
            " SET LOCAL search_path = analytics"
        )
        watchdog.start()
        cursor = psycopg.RawCursor(conn)
        # prepare=True: the extended protocol, in which PostgreSQL refuses a second statement.
        cursor.execute(bound.text, values, prepare=True)
        if cursor.description is None:
            columns, rows = [], []
        else:
            columns = [c.name for c in cursor.description]
            rows = cursor.fetchmany(max_rows + 1)
        duration_ms = (time.perf_counter() - started) * 1000
    except psycopg.errors.QueryCanceled:
        raise QueryTimeout(
            f"The query was cancelled after {timeout_ms} ms (ANALYTICS_TIMEOUT_MS). Narrow it "
            "down: a shorter period, fewer joins, or filter before grouping.",
            param="sql",
        ) from None
    except psycopg.Error as exc:
        raise _database_error(exc, bound) from None
    finally:
        watchdog.cancel()
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        conn.close()  # the backend ends with the connection: nothing is left running
    truncated = len(rows) > max_rows
    return QueryResult(
        columns=columns,
        rows=[[jsonable(v) for v in row] for row in rows[:max_rows]],
        truncated=truncated,
        duration_ms=round(duration_ms, 1),
    )


def syntax_error(bound: BoundQuery, *, using: str = "default") -> ApplicationError | None:
    """PostgreSQL's own error for a statement it cannot parse (parse only, nothing runs:
    an unnamed prepared statement is parsed and analysed, never executed), or None when it
    parses."""
    try:
        conn = psycopg.connect(
            **connection_kwargs(using=using),
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=APPLICATION_NAME,
        )
    except psycopg.OperationalError:
        return None
    try:
        conn.read_only = True
        with conn.cursor() as setup:
            setup.execute("SET LOCAL statement_timeout = 1000")
            setup.execute("SET LOCAL search_path = analytics")
        result = conn.pgconn.prepare(b"", bound.text.encode())
        if result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
            return _database_error(psycopg.errors.error_from_result(result), bound)
        return None
    finally:
        conn.close()


def _cancel(conn: psycopg.Connection) -> None:
    # Best effort: the server-side statement_timeout is the first line.
    with contextlib.suppress(Exception):
        conn.cancel_safe(timeout=2)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _database_error(exc: psycopg.Error, bound: BoundQuery) -> ApplicationError:
    """PostgreSQL's own message, and where in the SQL as written it points."""
    diag = exc.diag
    message = diag.message_primary or _first_line(exc)
    # details holds lists of strings, as in every error of the API (DESIGN §5).
    details: dict = {"sql": [message], "sqlstate": [exc.sqlstate or ""]}
    if diag.message_hint:
        details["hint"] = [diag.message_hint]
    if diag.statement_position:
        position = bound.original_position(int(diag.statement_position))
        details["position"] = [str(position)]
        message = f"{message} (at character {position})"
    code = {
        "42601": "syntax_error",
        "42501": "permission_denied",
        "25006": "read_only",
        "42P01": "undefined_table",
        "42703": "undefined_column",
        "42883": "undefined_function",
        "53300": "too_many_connections",
    }.get(exc.sqlstate or "", "database_error")
    if code == "too_many_connections":
        return AnalyticsUnavailable(
            "Too many analytics queries are running on the server; try again shortly."
        )
    return InvalidRequest(f"PostgreSQL: {message}", param="sql", code=code, details=details)


def jsonable(value):
    """A database value as JSON can carry it (and a chart can plot numbers)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN or Infinity
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)

"""Running queries for people (limits, parameters, the audit log) and saved queries."""

import contextlib
import datetime
import decimal
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.fail_open import guarded
from accounts.throttling import count_in_window
from support_desk.errors import ApplicationError, InvalidRequest

from .catalog import VIEWS_BY_NAME
from .execution import QueryResult, QueryTimeout, execute, syntax_error
from .models import Outcome, ParameterType, QueryRun, SavedQuery
from .sqlcheck import QueryRefused, UnreadableQuery, bind_parameters, check_query

RUNS_PER_MINUTE = 30
# pg_try_advisory_lock(class, user id): one running query per person, on every web process.
_LOCK_CLASS = 0x414E_4C59


class TooManyQueries(ApplicationError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limited"


def available_views() -> set[str]:
    """The catalogue's views that exist in this database (optional ones come and go)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT viewname FROM pg_views WHERE schemaname = 'analytics'")
        return {row[0] for row in cursor.fetchall()} & set(VIEWS_BY_NAME)


def schema_browser() -> list[dict]:
    """Views and their documented columns, as they exist in this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'analytics' ORDER BY table_name, ordinal_position"
        )
        present: dict[str, dict[str, str]] = {}
        for table, column, data_type in cursor.fetchall():
            present.setdefault(table, {})[column] = data_type
    out = []
    for name, view in VIEWS_BY_NAME.items():
        if name not in present:
            continue
        columns = [
            {"name": c.name, "type": present[name][c.name], "doc": c.doc}
            for c in view.columns
            if c.name in present[name]
        ]
        out.append({"name": name, "doc": view.doc, "columns": columns})
    return out


def _throttle(user) -> None:
    window = int(time.time() // 60)
    answered, count = guarded(
        what="analytics rate limit",
        operation=lambda: count_in_window(
            cache=cache, key=f"analytics-runs:u{user.pk}:{window}", timeout=65
        ),
    )
    if answered and count > RUNS_PER_MINUTE:
        raise TooManyQueries(
            f"At most {RUNS_PER_MINUTE} analytics queries a minute per person; wait a moment."
        )


@contextlib.contextmanager
def _one_at_a_time(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, user.pk])
        if not cursor.fetchone()[0]:
            raise TooManyQueries(
                "You already have an analytics query running; wait for it to finish."
            )
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, user.pk])


def coerce_value(name: str, kind: str, raw):
    """A parameter's value in its declared type; a clear error otherwise."""
    param = f"params.{name}"
    if raw is None:
        return None
    try:
        if kind == ParameterType.INT:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(str(raw).strip()) if not isinstance(raw, float) else int(raw)
        if kind == ParameterType.NUMBER:
            if isinstance(raw, bool):
                raise ValueError
            value = decimal.Decimal(str(raw).strip())
            if not value.is_finite():
                raise ValueError
            return value
        if kind == ParameterType.DATE:
            return datetime.date.fromisoformat(str(raw).strip())
        if kind == ParameterType.TIMESTAMP:
            value = datetime.datetime.fromisoformat(str(raw).strip())
            return value if timezone.is_aware(value) else value.replace(tzinfo=datetime.UTC)
        if kind == ParameterType.BOOL:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError
    except (ValueError, decimal.InvalidOperation, OverflowError):
        label = ParameterType(kind).label.lower()
        raise InvalidRequest(f"Must be a {label}.", param=param) from None
    if isinstance(raw, dict | list):
        raise InvalidRequest("Must be a single value.", param=param)
    text = str(raw)
    if "\x00" in text:
        raise InvalidRequest("Text may not contain NUL (\\u0000).", param=param)
    return text


def _inferred_type(raw) -> str:
    if isinstance(raw, bool):
        return ParameterType.BOOL
    if isinstance(raw, int):
        return ParameterType.INT
    if isinstance(raw, float):
        return ParameterType.NUMBER
    return ParameterType.TEXT


def _values(names: tuple[str, ...], params: dict, declared: list[dict] | None) -> list:
    types = {p["name"]: p["type"] for p in declared or []}
    defaults = {p["name"]: p.get("default") for p in declared or [] if "default" in p}
    params = {str(k).lower(): v for k, v in (params or {}).items()}
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise InvalidRequest(
            f"The query has no parameter :{unknown[0]}.", param=f"params.{unknown[0]}"
        )
    values = []
    for name in names:
        if name in params:
            raw = params[name]
        elif name in defaults and defaults[name] not in (None, ""):
            raw = defaults[name]
        else:
            raise InvalidRequest(f"This query needs a value for :{name}.", param=f"params.{name}")
        kind = types.get(name) or _inferred_type(raw)
        values.append(coerce_value(name, kind, raw))
    return values


def query_run(
    *,
    user,
    sql: str,
    params: dict | None = None,
    saved_query: SavedQuery | None = None,
    parser_check: bool = True,
) -> QueryResult:
    """Run one query as the analytics role for `user`, and record it in the audit log.

    `parser_check=False` skips the friendly parser check (tests use it to prove that
    PostgreSQL refuses the same things by itself)."""
    _throttle(user)
    started_at = timezone.now()
    run = QueryRun(
        user=user,
        saved_query=saved_query,
        sql=sql,
        params={str(k): v for k, v in (params or {}).items()},
        started_at=started_at,
    )
    clock = time.perf_counter()
    with _one_at_a_time(user):
        try:
            bound = bind_parameters(sql)
            if parser_check:
                try:
                    check_query(sql, views=available_views())
                except UnreadableQuery as unreadable:
                    raise syntax_error(bound) or QueryRefused(
                        "The console could not check this query "
                        f"({unreadable.message}); please write it in plainer SQL.",
                        param="sql",
                    ) from None
            values = _values(
                bound.names, params or {}, saved_query.parameters if saved_query else None
            )
            result = execute(
                bound,
                values,
                timeout_ms=settings.ANALYTICS_TIMEOUT_MS,
                max_rows=settings.ANALYTICS_MAX_ROWS,
            )
        except ApplicationError as error:
            run.duration_ms = round((time.perf_counter() - clock) * 1000, 1)
            run.outcome = (
                Outcome.TIMEOUT
                if isinstance(error, QueryTimeout)
                else Outcome.REFUSED
                if isinstance(error, QueryRefused)
                else Outcome.ERROR
            )
            run.error = error.message
            _record(run)
            raise
    run.outcome = Outcome.OK
    run.duration_ms = result.duration_ms
    run.row_count = result.row_count
    run.truncated = result.truncated
    _record(run)
    return result


def _record(run: QueryRun) -> None:
    # Requests are not atomic (no ATOMIC_REQUESTS): the row commits at once, whatever the
    # response turns out to be.
    run.save()


# --- saved queries -------------------------------------------------------------------


def validate_saved_sql(*, sql: str, parameters: list[dict]) -> None:
    check_query(sql, views=available_views())
    names = set(bind_parameters(sql).names)
    declared = {p["name"] for p in parameters}
    undeclared = sorted(names - declared)
    if undeclared:
        raise InvalidRequest(
            f"Declare the type of :{undeclared[0]} in parameters.", param="parameters"
        )
    unused = sorted(declared - names)
    if unused:
        raise InvalidRequest(f"The SQL does not use :{unused[0]}.", param="parameters")
    for p in parameters:
        if p.get("default") not in (None, ""):
            coerce_value(p["name"], p["type"], p["default"])


@transaction.atomic
def saved_query_save(
    *,
    saved_query: SavedQuery | None = None,
    user=None,
    name: str,
    sql: str,
    description: str = "",
    parameters: list[dict] | None = None,
) -> SavedQuery:
    parameters = parameters or []
    validate_saved_sql(sql=sql, parameters=parameters)
    clash = SavedQuery.objects.filter(name=name)
    if saved_query is not None:
        clash = clash.exclude(pk=saved_query.pk)
    if clash.exists():
        raise InvalidRequest("A saved query with this name exists.", param="name", code="unique")
    if saved_query is None:
        saved_query = SavedQuery(created_by=user)
    saved_query.name = name
    saved_query.sql = sql
    saved_query.description = description
    saved_query.parameters = parameters
    saved_query.save()
    return saved_query


def saved_query_delete(*, saved_query: SavedQuery) -> None:
    saved_query.delete()

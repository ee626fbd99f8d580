"""The parser check in front of the database (sqlglot, PostgreSQL dialect), and `:name`
parameters turned into real bound parameters.

The check only gives friendlier errors: the analytics role's rights and the read-only
transaction refuse everything it refuses anyway (tests switch it off and prove it). One
thing it adds that rights cannot: functions PostgreSQL grants to PUBLIC (set_config,
pg_sleep, query_to_xml, current_setting, ...) can only be refused here, so functions called
by name must be on ALLOWED_FUNCTIONS.
"""

import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from support_desk.errors import InvalidRequest

# sqlglot logs a warning for every statement it falls back to parsing as a Command.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Functions sqlglot does not model itself (it models count, sum, date_trunc, extract,
# coalesce, ... as typed expressions, which are allowed) and that a query may call.
ALLOWED_FUNCTIONS = frozenset(
    """
    abs age array_agg array_length array_position array_positions array_remove array_to_string
    avg bit_length bool_and bool_or btrim cardinality cbrt ceil ceiling char_length
    character_length chr coalesce concat concat_ws corr count covar_pop covar_samp cume_dist
    current_date date date_bin date_part date_trunc degrees dense_rank div every exp extract
    first_value floor format generate_series greatest initcap isfinite justify_days
    justify_hours justify_interval json_agg json_array_length json_build_array
    json_build_object json_extract_path json_extract_path_text json_object_agg
    json_typeof jsonb_agg jsonb_array_elements jsonb_array_elements_text jsonb_array_length
    jsonb_build_array jsonb_build_object jsonb_each jsonb_each_text jsonb_extract_path
    jsonb_extract_path_text jsonb_object_agg jsonb_object_keys jsonb_typeof lag last_value
    lead least left length ln log log10 lower lpad ltrim make_date make_interval make_time
    make_timestamp make_timestamptz max md5 min mod mode nth_value ntile nullif octet_length
    overlay percent_rank percentile_cont percentile_disc pi position power radians random
    rank regexp_count regexp_like regexp_match regexp_matches regexp_replace regexp_split_to_array
    regexp_split_to_table repeat replace reverse right round row_number rpad rtrim sign sin
    cos tan split_part sqrt starts_with stddev stddev_pop stddev_samp string_agg string_to_array
    strpos substr substring sum timezone to_char to_date to_json to_jsonb to_number to_timestamp
    translate trim trunc unnest upper var_pop var_samp variance width_bucket now
    statement_timestamp clock_timestamp transaction_timestamp array_cat array_append
    array_prepend array_fill array_dims array_lower array_upper split_part
    """.split()  # noqa: SIM905 - a word list reads better than 170 quoted strings
)

# Statement kinds that are never a query, with the name the message gives them.
_NOT_QUERIES = (
    (exp.Insert, "INSERT"),
    (exp.Update, "UPDATE"),
    (exp.Delete, "DELETE"),
    (exp.Merge, "MERGE"),
    (exp.TruncateTable, "TRUNCATE"),
    (exp.Create, "CREATE"),
    (exp.Drop, "DROP"),
    (exp.Alter, "ALTER"),
    (exp.Grant, "GRANT"),
    (exp.Copy, "COPY"),
    (exp.Command, "command"),
    (exp.Set, "SET"),
    (exp.Transaction, "transaction control"),
    (exp.Commit, "COMMIT"),
    (exp.Rollback, "ROLLBACK"),
)
_QUERIES = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)


class QueryRefused(InvalidRequest):
    """The query is not one the analytics console runs (before it reaches the database)."""

    code = "query_refused"


class UnreadableQuery(InvalidRequest):
    """sqlglot could not parse it: PostgreSQL is then asked for its own syntax error."""

    code = "syntax_error"


@dataclass(frozen=True)
class BoundQuery:
    """The text PostgreSQL receives ($1, $2, ... for :names) and the names in $ order."""

    text: str
    names: tuple[str, ...]
    # (position in text, position in the original, length difference so far)
    _shifts: tuple[tuple[int, int], ...] = ()

    def original_position(self, position: int) -> int:
        """Map a 1-based position in `text` (PostgreSQL's error position) back to the SQL
        as written."""
        delta = 0
        for at, shift in self._shifts:
            if position <= at:
                break
            delta = shift
        return position + delta


def bind_parameters(sql: str) -> BoundQuery:
    """Replace each `:name` outside strings, comments and array slices by `$n`. The values
    are then sent as parameters, never pasted into the text. `::type` casts are untouched."""
    try:
        tokens = Postgres().tokenizer().tokenize(sql)
    except (TokenError, ValueError, RecursionError, IndexError) as exc:
        raise UnreadableQuery(f"The SQL could not be read: {exc}", param="sql") from None
    names: list[str] = []
    pieces: list[str] = []
    shifts: list[tuple[int, int]] = []
    cursor = 0
    depth = 0
    out_length = 0
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.L_BRACKET:
            depth += 1
        elif token.token_type == TokenType.R_BRACKET:
            depth = max(0, depth - 1)
        if token.token_type != TokenType.COLON or depth or index + 1 == len(tokens):
            continue
        following = tokens[index + 1]
        if following.start != token.end + 1 or not _NAME.fullmatch(following.text):
            continue
        name = following.text.lower()
        if name not in names:
            names.append(name)
        replacement = f"${names.index(name) + 1}"
        pieces.append(sql[cursor : token.start])
        out_length += token.start - cursor
        pieces.append(replacement)
        out_length += len(replacement)
        cursor = following.end + 1
        shifts.append((out_length, cursor - out_length))
    pieces.append(sql[cursor:])
    return BoundQuery("".join(pieces), tuple(names), tuple(shifts))


def check_query(sql: str, *, views: set[str] | None = None) -> None:
    """Refuse, with a clear message, anything but one read-only query over the views."""
    if not sql.strip():
        raise QueryRefused("Write a query first.", param="sql")
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        message = first.get("description") or str(exc).splitlines()[0]
        details = {"sql": [message]}
        if first.get("line"):
            details["line"], details["column"] = [str(first["line"])], [str(first.get("col"))]
        raise UnreadableQuery(f"Syntax error: {message}", param="sql", details=details) from None
    except TokenError as exc:
        raise UnreadableQuery(f"Syntax error: {exc}", param="sql") from None
    except (ValueError, RecursionError, AttributeError, TypeError, KeyError, IndexError) as exc:
        # sqlglot's own failures on odd input: PostgreSQL is asked instead.
        raise UnreadableQuery(f"Syntax error: {type(exc).__name__}", param="sql") from None
    if len(statements) != 1:
        raise QueryRefused(
            f"Only one statement may run at a time; this has {len(statements)}.", param="sql"
        )
    statement = statements[0]
    for kind, label in _NOT_QUERIES:
        if isinstance(statement, kind):
            raise QueryRefused(
                f"Only queries (SELECT, WITH, VALUES) may run, not {label} statements "
                f"({_first_words(sql)}...).",
                param="sql",
            )
    if not isinstance(statement, _QUERIES):
        raise QueryRefused(
            f"Only queries (SELECT, WITH, VALUES) may run, not {_first_words(sql)}...",
            param="sql",
        )
    for kind, label in _NOT_QUERIES:
        found = statement.find(kind)
        if found is not None:
            raise QueryRefused(
                f"A query may not contain a data-modifying {label} (for example inside WITH).",
                param="sql",
            )
    if statement.find(exp.Into) is not None:
        raise QueryRefused("SELECT ... INTO creates a table; it may not run here.", param="sql")
    if statement.find(exp.Lock) is not None:
        raise QueryRefused("FOR UPDATE/SHARE locks rows; it may not run here.", param="sql")
    _check_functions(statement)
    _check_tables(statement, views)


def _first_words(sql: str) -> str:
    return " ".join(sql.split()[:3])


def _check_functions(statement: exp.Expression) -> None:
    for node in statement.find_all(exp.Anonymous):
        name = node.name.lower()
        if name not in ALLOWED_FUNCTIONS:
            raise QueryRefused(
                f"The function {name}() may not be used here. Aggregates, date, text, number, "
                "JSON and window functions are allowed; see the analytics help for the list.",
                param="sql",
            )


def _check_tables(statement: exp.Expression, views: set[str] | None) -> None:
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a function in FROM: checked with the functions
        schema = table.db.lower()
        name = table.name.lower()
        if table.catalog or (schema and schema != "analytics"):
            raise QueryRefused(
                f"Only the analytics views may be read; {table.sql('postgres')} is outside them.",
                param="sql",
            )
        if not schema and name in ctes:
            continue
        if views is not None and not views:
            raise QueryRefused(
                "No analytics views exist in this database yet: an admin runs "
                "`manage.py analytics_setup`.",
                param="sql",
            )
        if views is not None and name not in views:
            raise QueryRefused(
                f"There is no view {name!r}. The views are: {', '.join(sorted(views))}.",
                param="sql",
            )

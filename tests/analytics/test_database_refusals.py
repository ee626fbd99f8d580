"""PostgreSQL itself refuses what the parser check refuses: every case runs with the check
switched off, as the analytics role, against the test run's real database, and must come
back refused by the database (its SQLSTATE in the error details)."""

import pytest
from django.db import connection

from analytics import services
from analytics.execution import QueryTimeout
from analytics.sqlcheck import QueryRefused
from support_desk.errors import ApplicationError

# (sql, SQLSTATEs that count as the database's refusal)
DENIED, READ_ONLY, SYNTAX, UNDEFINED, UNSUPPORTED = "42501", "25006", "42601", "42P01", "0A000"
CASES = [
    ("INSERT INTO tickets (subject) VALUES ('x')", {DENIED, READ_ONLY}),
    ("UPDATE tickets SET subject = 'x'", {DENIED, READ_ONLY}),
    ("DELETE FROM tickets", {DENIED, READ_ONLY}),
    ("TRUNCATE tickets", {DENIED, READ_ONLY}),
    (
        "MERGE INTO tickets t USING tickets s ON t.id = s.id WHEN MATCHED THEN DELETE",
        {DENIED, READ_ONLY, UNSUPPORTED},
    ),
    ("CREATE TABLE analytics.x (a int)", {DENIED, READ_ONLY}),
    ("CREATE TEMP TABLE x (a int)", {DENIED, READ_ONLY}),
    ("ALTER VIEW tickets RENAME TO t2", {DENIED, READ_ONLY}),
    ("DROP VIEW tickets", {DENIED, READ_ONLY}),
    ("GRANT SELECT ON tickets TO PUBLIC", {DENIED, READ_ONLY}),
    ("COPY tickets TO PROGRAM 'id'", {DENIED, READ_ONLY}),
    ("COPY tickets FROM PROGRAM 'id'", {DENIED, READ_ONLY}),
    ("DO $$BEGIN DELETE FROM tickets; END$$", {DENIED, READ_ONLY}),
    ("DO $$BEGIN CREATE TABLE analytics.y (a int); END$$", {DENIED, READ_ONLY}),
    ("SET ROLE postgres", {DENIED}),
    ("SET SESSION AUTHORIZATION postgres", {DENIED}),
    ("SELECT set_config('role', 'postgres', false)", {DENIED}),
    ("SELECT * INTO t FROM tickets", {DENIED, READ_ONLY}),
    ("WITH d AS (DELETE FROM tickets RETURNING id) SELECT * FROM d", {DENIED, READ_ONLY}),
    ("SELECT * FROM tickets FOR UPDATE", {DENIED, READ_ONLY}),
    ("SELECT nextval('public.tickets_ticket_id_seq')", {DENIED, READ_ONLY}),
    ("SELECT setval('public.tickets_ticket_id_seq', 1)", {DENIED, READ_ONLY}),
    ("SELECT * FROM public.accounts_user", {DENIED}),
    ("SELECT password FROM public.accounts_user", {DENIED}),
    ("SELECT * FROM public.accounts_apitoken", {DENIED}),
    ("SELECT * FROM public.django_session", {DENIED}),
    ("SELECT * FROM public.tickets_idempotencyrecord", {DENIED}),
    ("SELECT * FROM accounts_user", {UNDEFINED}),  # search_path is analytics only
    ("SELECT pg_read_file('/etc/passwd')", {DENIED}),
    ("SELECT pg_ls_dir('.')", {DENIED}),
    ("SELECT lo_import('/etc/passwd')", {DENIED, READ_ONLY}),
    # PostgreSQL 16 refuses a data-modifying statement in a non-volatile function (0A000)
    # before the read-only transaction or the rights are asked; 15 says read-only.
    ("SELECT query_to_xml('DELETE FROM tickets', true, true, '')", {DENIED, READ_ONLY, "0A000"}),
    ("SELECT 1; DELETE FROM tickets", {SYNTAX}),  # one prepared statement only
    ("COMMIT; SELECT pg_sleep(60)", {SYNTAX}),
]


@pytest.mark.parametrize(("sql", "sqlstates"), CASES, ids=[c[0][:40] for c in CASES])
def test_the_parser_refuses_it(lead, sql, sqlstates):
    with pytest.raises(QueryRefused):
        services.query_run(user=lead, sql=sql)


@pytest.mark.parametrize(("sql", "sqlstates"), CASES, ids=[c[0][:40] for c in CASES])
def test_the_database_refuses_it_without_the_parser(lead, sql, sqlstates):
    with pytest.raises(ApplicationError) as refused:
        services.query_run(user=lead, sql=sql, parser_check=False)
    error = refused.value
    assert error.details.get("sqlstate", [""])[0] in sqlstates, (error.message, error.details)
    assert error.message.startswith("PostgreSQL: ")


@pytest.mark.parametrize("function", ["pg_terminate_backend", "pg_cancel_backend"])
def test_the_desk_own_backends_cannot_be_signalled(lead, function):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with pytest.raises(QueryRefused):
        services.query_run(user=lead, sql=f"SELECT {function}({pid})")
    with pytest.raises(ApplicationError) as refused:
        services.query_run(user=lead, sql=f"SELECT {function}({pid})", parser_check=False)
    assert refused.value.details["sqlstate"] == [DENIED]


def test_dblink_is_refused_if_installed(lead):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regproc('dblink')")
        present = cursor.fetchone()[0] is not None
    if not present:
        pytest.skip("dblink is not installed in the test database")
    with pytest.raises(ApplicationError):
        services.query_run(
            user=lead,
            sql="SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)",
            parser_check=False,
        )


def test_role_switching_leaves_the_session_user_as_is(lead):
    """RESET ROLE is harmless (the session user is the analytics role), and each run is a
    new session: nothing a query sets survives it."""
    services.query_run(user=lead, sql="RESET ROLE", parser_check=False)
    result = services.query_run(user=lead, sql="SELECT current_user, session_user")
    assert result.rows == [["desk_analytics", "desk_analytics"]]


def test_comment_and_string_tricks_run_as_one_harmless_statement(lead):
    assert services.query_run(user=lead, sql="SELECT 1 --;DELETE").rows == [[1]]
    assert services.query_run(user=lead, sql="SELECT $$;DELETE$$ AS s").rows == [[";DELETE"]]


def _still_running(sql_fragment: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
            ["support-desk-analytics", f"%{sql_fragment}%"],
        )
        return cursor.fetchone()[0]


def _gone(sql_fragment: str) -> bool:
    import time

    for _ in range(40):
        if _still_running(sql_fragment) == 0:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_sleep(30) AS slept",
        # A query that lifts its own timeout is cancelled by the client-side watchdog.
        "SELECT set_config('statement_timeout', '0', true), pg_sleep(30) AS watchdog",
    ],
)
def test_a_slow_query_is_cancelled_and_its_backend_is_gone(lead, settings, sql):
    import time

    settings.ANALYTICS_TIMEOUT_MS = 300
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as timeout:
        services.query_run(user=lead, sql=sql, parser_check=False)
    assert time.monotonic() - started < 5
    assert timeout.value.code == "query_timeout"
    assert _gone("pg_sleep(30)")

"""The parser check alone (no database): what it refuses, with what message, and how
`:name` parameters become $n without touching strings, comments, casts or slices."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.sqlcheck import QueryRefused, UnreadableQuery, bind_parameters, check_query
from support_desk.errors import InvalidRequest

VIEWS = {"tickets", "queues", "sla_timers", "agents"}

REFUSED = [
    ("INSERT INTO tickets (id) VALUES (1)", "not INSERT statements"),
    ("UPDATE tickets SET subject = 'x'", "not UPDATE statements"),
    ("DELETE FROM tickets", "not DELETE statements"),
    ("TRUNCATE tickets", "not TRUNCATE statements"),
    ("MERGE INTO tickets t USING tickets s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE"),
    ("CREATE TABLE x (a int)", "not CREATE statements"),
    ("ALTER VIEW tickets RENAME TO t2", "may run"),
    ("DROP VIEW tickets", "not DROP statements"),
    ("GRANT SELECT ON tickets TO PUBLIC", "not GRANT statements"),
    ("COPY tickets TO PROGRAM 'id'", "not COPY statements"),
    ("COPY tickets FROM PROGRAM 'id'", "not COPY statements"),
    ("DO $$BEGIN DELETE FROM tickets; END$$", "may run"),
    ("SET ROLE postgres", "may run"),
    ("RESET ROLE", "may run"),
    ("SELECT set_config('role', 'postgres', false)", "set_config() may not be used"),
    ("SELECT * INTO t FROM tickets", "SELECT ... INTO"),
    ("WITH d AS (DELETE FROM tickets RETURNING id) SELECT * FROM d", "data-modifying DELETE"),
    ("WITH u AS (UPDATE tickets SET subject = '' RETURNING id) SELECT 1", "data-modifying"),
    ("SELECT * FROM tickets FOR UPDATE", "FOR UPDATE"),
    ("SELECT * FROM tickets FOR SHARE", "FOR UPDATE/SHARE"),
    ("SELECT nextval('tickets_ticket_id_seq')", "nextval() may not"),
    ("SELECT setval('tickets_ticket_id_seq', 1)", "setval() may not"),
    ("SELECT pg_sleep(10)", "pg_sleep() may not"),
    ("SELECT * FROM public.accounts_user", "outside them"),
    ("SELECT * FROM accounts_apitoken", "no view 'accounts_apitoken'"),
    ("SELECT * FROM django_session", "no view 'django_session'"),
    ("SELECT password FROM accounts_user", "no view 'accounts_user'"),
    ("SELECT * FROM pg_catalog.pg_authid", "outside them"),
    ("SELECT pg_read_file('/etc/passwd')", "pg_read_file() may not"),
    ("SELECT lo_import('/etc/passwd')", "lo_import() may not"),
    ("SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)", "dblink() may not"),
    ("SELECT query_to_xml('DELETE FROM tickets', true, true, '')", "query_to_xml() may not"),
    ("SELECT current_setting('data_directory')", "current_setting() may not"),
    ("SELECT pg_terminate_backend(1)", "pg_terminate_backend() may not"),
    ("SELECT 1; DELETE FROM tickets", "Only one statement"),
    ("SELECT 1; --\nDELETE FROM tickets", "Only one statement"),
    ("SELECT '1'';DELETE FROM tickets --'; DELETE FROM tickets", "Only one statement"),
    ("", "Write a query first"),
]


@pytest.mark.parametrize(("sql", "message"), REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_refused_with_a_clear_message(sql, message):
    with pytest.raises(QueryRefused) as refused:
        check_query(sql, views=VIEWS)
    assert message in refused.value.message
    assert refused.value.param == "sql"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 --;DELETE",  # one statement with a comment: it deletes nothing
        "SELECT $$;DELETE$$",  # a dollar-quoted string
        "SELECT ';DELETE FROM tickets'",
        "VALUES (1), (2)",
        "SELECT 1 UNION ALL SELECT 2",
        "WITH t AS (SELECT id FROM tickets) SELECT count(*) FROM t",
        "SELECT date_trunc('week', created_at), count(*) FROM tickets GROUP BY 1",
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY elapsed_seconds) FROM sla_timers",
        "SELECT g FROM generate_series(1, 3) g",
        "SELECT * FROM analytics.tickets WHERE created_at > :since",
        "SELECT to_char(now(), 'ID Dy'), make_interval(days => :days)",
    ],
)
def test_queries_pass(sql):
    check_query(sql, views=VIEWS)


def test_unparseable_sql_is_left_to_postgresql_for_its_message():
    with pytest.raises(UnreadableQuery):
        check_query("SELECT 1 +", views=VIEWS)


def test_parameters_become_positional_outside_strings_comments_and_casts():
    bound = bind_parameters(
        "SELECT :since::date, ':since', a[1:2], $$ :x $$ -- :y\nFROM t WHERE q = :queue "
        "AND s >= :since AND v LIKE '10%'"
    )
    assert bound.names == ("since", "queue")
    assert bound.text == (
        "SELECT $1::date, ':since', a[1:2], $$ :x $$ -- :y\nFROM t WHERE q = $2 "
        "AND s >= $1 AND v LIKE '10%'"
    )


def test_error_positions_map_back_to_the_sql_as_written():
    sql = "SELECT :long_name, oops FROM t"
    bound = bind_parameters(sql)
    assert bound.text == "SELECT $1, oops FROM t"
    position = bound.text.index("oops") + 1  # PostgreSQL counts from 1
    assert sql[bound.original_position(position) - 1 :].startswith("oops")
    assert bound.original_position(3) == 3


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_is_accepted_or_refused_never_crashes(sql):
    try:
        bound = bind_parameters(sql)
        check_query(sql, views=VIEWS)
    except InvalidRequest:
        return
    assert len(bound.names) == len(set(bound.names))


@given(
    st.lists(
        st.sampled_from(
            [
                "SELECT",
                "1",
                ":a",
                "'",
                "--",
                "\n",
                ";",
                "$$",
                "(",
                ")",
                "FROM",
                "tickets",
                "::",
                "[",
                "]",
                ":",
                "DELETE",
                "WITH",
                "x",
                "AS",
                ",",
                "/*",
                "*/",
                '"',
                "%s",
                "%",
            ]
        ),
        max_size=25,
    ).map(" ".join)
)
@settings(max_examples=300, deadline=None)
def test_sql_shaped_noise_never_crashes(sql):
    test_any_text_is_accepted_or_refused_never_crashes.hypothesis.inner_test(sql)

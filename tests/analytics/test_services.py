"""Running queries: rows, truncation, bound parameters, the audit log, limits."""

import psycopg
import pytest
from django.db import connection

from analytics import services
from analytics.execution import connection_kwargs
from analytics.models import Outcome, QueryRun, SavedQuery
from support_desk.errors import InvalidRequest


def test_rows_columns_and_duration(lead):
    result = services.query_run(user=lead, sql="SELECT 1 AS one, 'a' AS letter")
    assert result.columns == ["one", "letter"]
    assert result.rows == [[1, "a"]]
    assert not result.truncated
    assert result.duration_ms > 0


@pytest.mark.parametrize(("rows", "truncated"), [(5, False), (6, True), (50, True)])
def test_truncation_at_max_rows(lead, settings, rows, truncated):
    settings.ANALYTICS_MAX_ROWS = 5
    result = services.query_run(user=lead, sql=f"SELECT g FROM generate_series(1, {rows}) g")
    assert result.row_count == min(rows, 5)
    assert result.truncated is truncated


def test_parameters_are_bound_never_pasted(lead):
    hostile = "'); DROP TABLE tickets_ticket; --"
    result = services.query_run(
        user=lead, sql="SELECT :v AS bound, ':v' AS literal, length(:v) AS n", params={"v": hostile}
    )
    assert result.rows == [[hostile, ":v", len(hostile)]]
    run = QueryRun.objects.get()
    assert run.sql == "SELECT :v AS bound, ':v' AS literal, length(:v) AS n"
    assert run.params == {"v": hostile}
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('tickets_ticket') IS NOT NULL")
        assert cursor.fetchone()[0]


def test_typed_parameters_of_a_saved_query(lead):
    saved = SavedQuery.objects.create(
        name="typed",
        sql="SELECT :d + 1 AS next_day, :n * 2 AS twice, :t AS t",
        parameters=[
            {"name": "d", "type": "date"},
            {"name": "n", "type": "int", "default": 21},
            {"name": "t", "type": "text"},
        ],
    )
    result = services.query_run(
        user=lead, sql=saved.sql, params={"d": "2026-02-28", "t": "x"}, saved_query=saved
    )
    assert result.rows == [["2026-03-01", 42, "x"]]
    with pytest.raises(InvalidRequest) as bad:
        services.query_run(
            user=lead, sql=saved.sql, params={"d": "not a date", "t": "x"}, saved_query=saved
        )
    assert bad.value.param == "params.d"
    with pytest.raises(InvalidRequest, match="needs a value for :t"):
        services.query_run(user=lead, sql=saved.sql, params={"d": "2026-01-01"}, saved_query=saved)


def test_unknown_parameter_is_refused(lead):
    with pytest.raises(InvalidRequest, match="no parameter :typo"):
        services.query_run(user=lead, sql="SELECT 1", params={"typo": 1})


def test_every_run_is_audited_with_its_outcome(lead, settings):
    settings.ANALYTICS_TIMEOUT_MS = 200
    services.query_run(user=lead, sql="SELECT 1")
    for sql, kwargs in [
        ("DELETE FROM tickets", {}),
        ("SELECT nope FROM tickets", {}),
        ("SELECT pg_sleep(5)", {"parser_check": False}),
    ]:
        with pytest.raises(InvalidRequest):
            services.query_run(user=lead, sql=sql, **kwargs)
    runs = {r.sql: r for r in QueryRun.objects.all()}
    assert runs["SELECT 1"].outcome == Outcome.OK
    assert runs["SELECT 1"].row_count == 1
    assert runs["DELETE FROM tickets"].outcome == Outcome.REFUSED
    assert runs["SELECT nope FROM tickets"].outcome == Outcome.ERROR
    assert "nope" in runs["SELECT nope FROM tickets"].error
    assert runs["SELECT pg_sleep(5)"].outcome == Outcome.TIMEOUT
    assert {r.user_id for r in runs.values()} == {lead.pk}


def test_database_errors_carry_message_and_position(lead):
    with pytest.raises(InvalidRequest) as error:
        services.query_run(user=lead, sql="SELECT :x, nope FROM tickets", params={"x": 1})
    assert error.value.code == "undefined_column"
    assert "nope" in error.value.message
    assert error.value.details["position"] == [str(len("SELECT :x, ") + 1)]


def test_syntax_errors_come_from_postgresql_with_position(lead):
    with pytest.raises(InvalidRequest) as error:
        services.query_run(user=lead, sql="SELECT 1 +")
    assert error.value.code == "syntax_error"
    assert error.value.details["position"] == ["11"]
    assert "(at character 11)" in error.value.message
    assert "syntax error" in error.value.message


def test_rate_limit_per_person(lead, monkeypatch):
    monkeypatch.setattr(services, "RUNS_PER_MINUTE", 2)
    services.query_run(user=lead, sql="SELECT 1")
    services.query_run(user=lead, sql="SELECT 1")
    with pytest.raises(services.TooManyQueries) as limited:
        services.query_run(user=lead, sql="SELECT 1")
    assert limited.value.status == 429


def test_one_running_query_per_person(lead, admin_user):
    """The advisory lock another web process would hold while this person's query runs."""
    # As Django connects (the embedded server's socket directory comes from its options).
    params = connection.get_connection_params()
    owner = {k: params[k] for k in ("dbname", "user", "host", "port", "password") if k in params}
    with psycopg.connect(**owner, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [services._LOCK_CLASS, lead.pk])
        with pytest.raises(services.TooManyQueries, match="already have"):
            services.query_run(user=lead, sql="SELECT 1")
        assert services.query_run(user=admin_user, sql="SELECT 1").rows == [[1]]
        # Released explicitly: a closed connection's backend may linger a moment.
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [services._LOCK_CLASS, lead.pk])
    assert services.query_run(user=lead, sql="SELECT 1").rows == [[1]]


def test_the_session_user_is_the_analytics_role():
    kwargs = connection_kwargs()
    assert kwargs["user"] == "desk_analytics"
    with psycopg.connect(**kwargs) as conn:
        row = conn.execute("SELECT session_user, current_user, current_setting('search_path')")
        assert row.fetchone() == ("desk_analytics", "desk_analytics", "analytics")


@pytest.mark.django_db(transaction=True)
def test_views_show_committed_desk_data_without_secrets(lead):
    from tickets import services as ticket_services

    ticket = ticket_services.ticket_create(
        actor=None,
        subject="Card 4242 4242 4242 4242 declined",
        description="d",
        requester_email="c@m.test",
    )
    result = services.query_run(
        user=lead, sql="SELECT id, subject FROM tickets WHERE id = :id", params={"id": ticket.pk}
    )
    [(found_id, subject)] = result.rows
    assert found_id == ticket.pk
    assert subject.startswith("Card ")
    assert "4242 4242 4242 4242" not in subject
    agents = services.query_run(user=lead, sql="SELECT * FROM agents")
    assert agents.columns == ["id", "username", "name", "role", "is_active"]
    assert "an-lead" in [row[1] for row in agents.rows]

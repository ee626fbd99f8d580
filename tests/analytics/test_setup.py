"""analytics_setup: the role's attributes and rights, the views and their comments, and a
clear refusal where the database user may not create roles."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from analytics import setup
from analytics.catalog import VIEWS, VIEWS_BY_NAME, markdown

ROLE = "desk_analytics"


def _one(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchone()


def test_setup_is_idempotent_and_the_role_can_do_nothing_else(db, capsys):
    call_command("analytics_setup")
    call_command("analytics_setup")
    assert "Analytics ready." in capsys.readouterr().out
    login, superuser, createdb, createrole, inherit, limit = _one(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolconnlimit"
        " FROM pg_roles WHERE rolname = %s",
        [ROLE],
    )
    assert (login, superuser, createdb, createrole, inherit) == (True, False, False, False, False)
    assert 0 < limit <= 10
    assert _one(
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
        " WHERE r.rolname = %s",
        [ROLE],
    ) == (0,)
    checks = {
        "has_schema_privilege(%s, 'analytics', 'USAGE')": True,
        "has_schema_privilege(%s, 'analytics', 'CREATE')": False,
        "has_schema_privilege(%s, 'public', 'CREATE')": False,
        "has_database_privilege(%s, current_database(), 'CREATE')": False,
        "has_table_privilege(%s, 'analytics.tickets', 'SELECT')": True,
        "has_table_privilege(%s, 'analytics.tickets', 'INSERT')": False,
        "has_table_privilege(%s, 'analytics.tickets', 'UPDATE')": False,
        "has_table_privilege(%s, 'analytics.tickets', 'DELETE')": False,
        "has_table_privilege(%s, 'public.tickets_ticket', 'SELECT')": False,
        "has_table_privilege(%s, 'public.accounts_user', 'SELECT')": False,
        "has_table_privilege(%s, 'public.accounts_apitoken', 'SELECT')": False,
        "has_table_privilege(%s, 'public.django_session', 'SELECT')": False,
        "has_function_privilege(%s, 'pg_read_file(text)', 'EXECUTE')": False,
        "has_function_privilege(%s, 'lo_import(text)', 'EXECUTE')": False,
    }
    for expression, expected in checks.items():
        assert _one(f"SELECT {expression}", [ROLE]) == (expected,), expression


def test_views_are_documented_from_the_catalogue(db):
    present = {
        row[0]
        for row in connection.cursor().execute(
            "SELECT viewname FROM pg_views WHERE schemaname = 'analytics'"
        )
    }
    core = {v.name for v in VIEWS if not v.optional}
    assert core <= present
    assert present <= set(VIEWS_BY_NAME)
    assert _one("SELECT obj_description('analytics.tickets'::regclass)") == (
        VIEWS_BY_NAME["tickets"].doc,
    )
    assert _one(
        "SELECT col_description('analytics.sla_timers'::regclass, attnum) FROM pg_attribute"
        " WHERE attrelid = 'analytics.sla_timers'::regclass AND attname = 'elapsed_seconds'"
    )[0].startswith("Time counted")
    # No view exposes a credential, whatever its app.
    columns = {
        row[0]
        for row in connection.cursor().execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics'"
        )
    }
    assert not columns & {"password", "token_hash", "key_hash", "raw", "session_data", "html"}


def test_docs_come_from_the_catalogue():
    text = markdown()
    for view in VIEWS:
        assert f"### `{view.name}`" in text
    with open(settings.BASE_DIR / "docs" / "analytics.md", encoding="utf-8") as docs:
        assert text in docs.read(), "regenerate with manage.py analytics_setup --print-docs"


class _FakeCursor:
    """A database user with neither SUPERUSER nor CREATEROLE, and no analytics role yet."""

    def __init__(self):
        self.rows = []

    def execute(self, sql, params=None):
        self.rows = [(False, False)] if "rolsuper" in sql else []

    def fetchone(self):
        return self.rows[0] if self.rows else None


def test_a_user_who_may_not_create_roles_gets_a_clear_message(db, monkeypatch):
    with pytest.raises(setup.SetupRefused, match="ANALYTICS_DATABASE_URL"):
        setup._ensure_role(_FakeCursor(), ROLE, f'"{ROLE}"')

    def refuse(**kwargs):
        raise setup.SetupRefused("may not create the analytics role; see ANALYTICS_DATABASE_URL")

    monkeypatch.setattr("analytics.management.commands.analytics_setup.analytics_setup", refuse)
    with pytest.raises(CommandError, match="ANALYTICS_DATABASE_URL"):
        call_command("analytics_setup")


@pytest.mark.django_db(transaction=True)
def test_concurrent_setups_do_not_trip_over_each_other():
    """Several processes (here threads, each with its own connection) set up at once, as the
    test databases of parallel runs do on one server: all succeed, the views stay whole."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def one(_):
        try:
            return setup.analytics_setup().views
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(4)))
    assert all("tickets" in views for views in results)
    assert _one("SELECT has_table_privilege(%s, 'analytics.tickets', 'SELECT')", [ROLE]) == (True,)

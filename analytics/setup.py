"""Creates or updates the analytics role and the `analytics` schema's views (DESIGN §10).

Two parts with different reach:
- the role is cluster-wide: several databases on one server (test databases, a team's
  desks) may run this at the same moment, so "already exists" and "tuple concurrently
  updated" are expected and retried, and nothing is altered that is already as wanted;
- the schema, its views and their grants belong to this database: built in one
  transaction under an advisory lock, so two processes on one database take turns.

The views are owned by the connecting (owner) role and read their base tables with its
rights, so the analytics role gets USAGE on `analytics` and SELECT on its views only.
"""

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connections, transaction

from .catalog import VIEWS, View

logger = logging.getLogger(__name__)

SCHEMA = "analytics"
CONNECTION_LIMIT = 10
# An arbitrary constant: the advisory lock that serialises setup within one database.
_LOCK_KEY = 0x414E_4C59
# SQLSTATEs a concurrent CREATE/ALTER ROLE elsewhere on the server may raise.
_RACES = {"42710", "23505", "XX000", "40001", "40P01"}


class SetupRefused(Exception):
    """The database user may not do what the setup needs (create or alter the role)."""


@dataclass
class SetupReport:
    role: str
    role_created: bool = False
    role_managed: bool = True
    views: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def role_name() -> str:
    from .execution import provisioned_role

    return provisioned_role() or settings.ANALYTICS_ROLE


def role_password() -> str:
    """The role's password, derived from SECRET_KEY: every process of the desk knows it
    without storing it anywhere (trust authentication ignores it)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"analytics-role:{settings.ANALYTICS_ROLE}".encode(), "sha256").hexdigest()


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None)


def _retrying(cursor, sql: str, params=None, *, attempts: int = 6) -> None:
    for attempt in range(attempts):
        try:
            cursor.execute(sql, params)
            return
        except DatabaseError as exc:
            if _sqlstate(exc) not in _RACES or attempt == attempts - 1:
                raise
            time.sleep(0.02 + random.random() * 0.1 * (attempt + 1))


def _ensure_role(cursor, role: str, quoted: str) -> bool:
    """Create or update the cluster-wide role; True when this call created it."""
    cursor.execute(
        "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user",
    )
    superuser, createrole = cursor.fetchone()
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    exists = cursor.fetchone() is not None
    if not (superuser or createrole):
        if exists:
            return False  # provisioned by a DBA: left as it is
        raise SetupRefused(
            f"The database user may not create the analytics role {role!r} (it needs "
            "CREATEROLE). Ask a DBA to create a LOGIN role with no other rights and set "
            "ANALYTICS_DATABASE_URL to a URL that signs in as it, then run analytics_setup "
            "again to create the views and grant it SELECT on them."
        )
    created = False
    attributes = (
        "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS "
        f"CONNECTION LIMIT {CONNECTION_LIMIT}"
    )
    if not exists:
        try:
            with transaction.atomic(using=cursor.db.alias):
                cursor.execute(f"CREATE ROLE {quoted} {attributes} PASSWORD %s", [role_password()])
            created = True
        except DatabaseError as exc:
            if _sqlstate(exc) not in _RACES:
                raise  # another database's setup created it first: update it below
    if not created:
        _retrying(cursor, f"ALTER ROLE {quoted} WITH {attributes} PASSWORD %s", [role_password()])
    # Defaults for any session of the role, should someone connect to it directly; the
    # desk's own runs set each of these again per transaction.
    timeout = int(settings.ANALYTICS_TIMEOUT_MS)
    for name, value in (
        ("search_path", SCHEMA),
        ("default_transaction_read_only", "on"),
        ("statement_timeout", str(timeout)),
        ("idle_in_transaction_session_timeout", str(timeout * 2)),
    ):
        _retrying(cursor, f"ALTER ROLE {quoted} SET {name} = %s", [value])
    # No memberships: the role may not SET ROLE to, or inherit from, anyone.
    cursor.execute(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        [role],
    )
    for (granted,) in cursor.fetchall():
        _retrying(cursor, f"REVOKE {cursor.db.ops.quote_name(granted)} FROM {quoted}")
    return created


def _table_columns(cursor, table: str) -> set[str] | None:
    cursor.execute("SELECT to_regclass(%s)::oid", [table])
    oid = cursor.fetchone()[0]
    if oid is None:
        return None
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped",
        [oid],
    )
    return {row[0] for row in cursor.fetchall()}


def _create_view(cursor, view: View, present: set[str], quoted_role: str) -> list[str]:
    qn = cursor.db.ops.quote_name
    columns = [c for c in view.columns if all(n in present for n in c.required_columns)]
    select = ", ".join(f"{c.sql} AS {qn(c.name)}" for c in columns)
    where = f" WHERE {view.where}" if view.where else ""
    name = f"{SCHEMA}.{qn(view.name)}"
    cursor.execute(f"CREATE VIEW {name} AS SELECT {select} FROM {qn(view.table)} b{where}")
    cursor.execute(f"COMMENT ON VIEW {name} IS %s", [view.doc])
    for column in columns:
        cursor.execute(f"COMMENT ON COLUMN {name}.{qn(column.name)} IS %s", [column.doc])
    cursor.execute(f"GRANT SELECT ON {name} TO {quoted_role}")
    return [c.name for c in view.columns if c not in columns]


def analytics_setup(*, using: str = "default") -> SetupReport:
    """Create or update the role (where allowed) and rebuild the views. Idempotent."""
    connection = connections[using]
    role = role_name()
    report = SetupReport(role=role)
    with connection.cursor() as cursor:
        quoted = connection.ops.quote_name(role)
        if not _provisioned():
            report.role_created = _ensure_role(cursor, role, quoted)
        else:  # a DBA's role: granted the views, never altered
            report.role_managed = False
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise SetupRefused(
                    f"ANALYTICS_DATABASE_URL signs in as {role!r}, which does not exist."
                )
        with transaction.atomic(using=using):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            cursor.execute("SELECT current_database()")
            database = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cursor.execute("SELECT viewname FROM pg_views WHERE schemaname = %s", [SCHEMA])
            for (old,) in cursor.fetchall():
                cursor.execute(
                    f"DROP VIEW IF EXISTS {SCHEMA}.{connection.ops.quote_name(old)} CASCADE"
                )
            # Nothing but USAGE on analytics and SELECT on its views: no CREATE anywhere,
            # no TEMPORARY on this database, nothing on public (PUBLIC's own default rights
            # on public stay; its tables grant nothing to PUBLIC).
            cursor.execute(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC")
            cursor.execute(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM {quoted}")
            cursor.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {quoted}")
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%'"
                " AND nspname NOT IN ('information_schema', %s)",
                [SCHEMA],
            )
            for (other,) in cursor.fetchall():  # public, and any schema an app may add
                cursor.execute(
                    f"REVOKE ALL ON SCHEMA {connection.ops.quote_name(other)} FROM {quoted}"
                )
            cursor.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
            cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}")
            cursor.execute(f"REVOKE ALL ON DATABASE {database} FROM {quoted}")
            cursor.execute(f"GRANT CONNECT ON DATABASE {database} TO {quoted}")
            for view in VIEWS:
                present = _table_columns(cursor, view.table)
                if present is None:
                    if not view.optional:
                        logger.warning(
                            "analytics: table %s is missing; view %s skipped", view.table, view.name
                        )
                    report.skipped.append(view.name)
                    continue
                sid = transaction.savepoint(using=using)
                try:
                    missing = _create_view(cursor, view, present, quoted)
                except DatabaseError as exc:
                    # One view that does not fit its table (an app changed) must not cost
                    # the others: it is left out and said so.
                    transaction.savepoint_rollback(sid, using=using)
                    logger.warning("analytics: view %s not created: %s", view.name, exc)
                    report.skipped.append(view.name)
                    continue
                transaction.savepoint_commit(sid, using=using)
                if missing:
                    logger.info("analytics: %s without %s", view.name, ", ".join(missing))
                report.views.append(view.name)
            fingerprint = hashlib.sha256(repr(VIEWS).encode()).hexdigest()[:16]
            cursor.execute(
                f"COMMENT ON SCHEMA {SCHEMA} IS %s",
                [f"Support Desk analytics views ({fingerprint})"],
            )
    return report


def _provisioned() -> bool:
    from .execution import provisioned_role

    return provisioned_role() is not None

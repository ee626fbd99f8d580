"""Fuzz the whole REST API from its own OpenAPI schema: no input may produce a 5xx, and
every response must match what the schema documents."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from accounts.models import Role
from support_desk.wsgi import application
from tests.factories import QueueFactory, UserFactory, make_token


@pytest.fixture(autouse=True)
def _keep_db_connection():
    """In-process WSGI calls would close the test's connection mid-transaction (RECIPES §2)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db):
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@pytest.fixture
def auth_header(db, monkeypatch):
    from accounts.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "100000/min"})
    QueueFactory(slug="payouts", is_default=True)
    admin = UserFactory(username="fuzz", role=Role.ADMIN)
    token = make_token(admin, ("tickets:read", "tickets:write", "admin", "import"))
    return {"Authorization": f"Bearer {token}"}


lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@lazy_schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_fails_and_matches_its_schema(case, auth_header):
    case.call_and_validate(
        headers=auth_header,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )

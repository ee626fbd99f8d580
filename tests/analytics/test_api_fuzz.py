"""Fuzz the analytics operations from the OpenAPI schema with a lead's analytics token (the
whole-API fuzz in tests/test_schema.py uses an admin token without that scope, so it only
ever sees their 403): nothing yields a 500, and responses match the schema."""

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import Role
from analytics import services
from analytics.models import SavedQuery
from support_desk.wsgi import application
from tests.factories import UserFactory, make_token

# The schema's other operations are generated too (and skipped below); one takes raw mail.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")


@pytest.fixture(autouse=True)
def _keep_db_connection():
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="session")
def analytics_schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema.include(path_regex=r"^/api/v1/analytics/")


@pytest.fixture
def fuzz_desk(db, monkeypatch):
    from accounts.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "100000/min"})
    monkeypatch.setattr(services, "RUNS_PER_MINUTE", 100_000)
    lead = UserFactory(username="an-fuzz", role=Role.LEAD)
    saved = SavedQuery.objects.create(
        name="fuzz", sql="SELECT :n::int AS n", parameters=[{"name": "n", "type": "int"}]
    )
    return {"Authorization": f"Bearer {make_token(lead, ['analytics'])}"}, saved.pk


lazy = schemathesis.pytest.from_fixture("analytics_schema")


@lazy.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_analytics_api_never_fails(case, fuzz_desk):
    headers, saved_id = fuzz_desk
    if not case.operation.path.startswith("/api/v1/analytics/"):
        return  # the rest of the API is fuzzed by tests/test_schema.py
    if "id" in (case.path_parameters or {}) and not (
        case.meta is not None and case.meta.is_negative_at("path")
    ):
        case.path_parameters["id"] = saved_id
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    finally:
        transaction.savepoint_rollback(savepoint)

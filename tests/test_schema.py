"""Fuzz the whole REST API from its own OpenAPI schema, in-process: schema-valid (positive)
and schema-violating (negative) requests for every operation, then stateful sequences that
follow the schema's links (read a ticket from the list, then patch it and reply to it).

Every built-in schemathesis check must hold except positive_data_acceptance ("every
schema-valid request is accepted"), which cannot: a valid-looking request can still name a
queue, calendar, assignee or cursor that does not exist, or break a cross-field rule
(move_to_queue needs a target_queue; hours must not overlap), and the API rightly answers
400 (or 409/412). Its negative twin, negative_data_rejection, does hold: whatever the
schema forbids, the API refuses.
"""

from dataclasses import dataclass

import pytest
import schemathesis
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import Role
from support_desk.wsgi import application
from tests.factories import QueueFactory, UserFactory, make_token

EXCLUDED_CHECKS = [positive_data_acceptance]
# The inbound e-mail door takes a raw message (mail/api/views.py): sent as bytes.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")


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


@pytest.fixture(scope="session")
def api_schema(django_db_setup, django_db_blocker):
    # Loaded once: generating the schema takes about a second.
    with django_db_blocker.unblock():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


@dataclass
class Desk:
    headers: dict
    # Path prefix -> (path parameter, the id or slug of an object that exists).
    objects: dict


@pytest.fixture
def desk(db, monkeypatch):
    """An admin's token and one object of each kind: random ids would only ever reach the
    404 of an operation on /tickets/{id}, never its validation."""
    from accounts.throttling import TokenRateThrottle
    from sla.models import Escalation
    from tests.sla.factories import EscalationRuleFactory, SlaPolicyFactory
    from tickets import services

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "100000/min"})
    queue = QueueFactory(slug="payouts", is_default=True)
    admin = UserFactory(username="fuzz", role=Role.ADMIN)
    token = make_token(admin, ("tickets:read", "tickets:write", "admin", "import"))
    tickets = [
        services.ticket_create(
            actor=admin,
            subject=f"Payout {n} missing",
            description="Our payout has not arrived.",
            requester_email=f"merchant{n}@bücher.example",
            organization={"name": f"Merchant {n}", "external_id": f"acct_{n}"},
        )
        for n in range(2)
    ]
    policy = SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    rule = EscalationRuleFactory()
    escalation = Escalation.objects.create(
        ticket=tickets[0], rule=rule, metric="first_reply", cycle=1, reason="breached",
        fire_at=timezone.now(),
    )  # fmt: skip
    return Desk(
        headers={"Authorization": f"Bearer {token}"},
        objects={
            "/api/v1/tickets/{id}": ("id", tickets[0].pk),
            "/api/v1/calendars/{id}": ("id", policy.calendar_id),
            "/api/v1/sla-policies/{id}": ("id", policy.pk),
            "/api/v1/escalation-rules/{id}": ("id", rule.pk),
            "/api/v1/escalations/{id}": ("id", escalation.pk),
            "/api/v1/queues/{slug}": ("slug", queue.slug),
        },
    )


def _aim_at_existing_objects(case, desk: Desk) -> None:
    """Unless the path itself is the negative part of the case, point it at a real object."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        return
    for prefix, (name, value) in desk.objects.items():
        if case.operation.path.startswith(prefix) and name in (case.path_parameters or {}):
            case.path_parameters[name] = value


lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@lazy_schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, desk):
    """Positive and negative cases (and the coverage phase's boundary values) per operation,
    each from the same desk (a savepoint undoes what the case changed)."""
    _aim_at_existing_objects(case, desk)
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(headers=desk.headers, excluded_checks=EXCLUDED_CHECKS)
    finally:
        transaction.savepoint_rollback(savepoint)


def test_api_holds_in_stateful_sequences(api_schema, desk):
    class Machine(api_schema.as_state_machine()):
        # Every sequence starts from the same desk: hypothesis replays choice sequences and
        # requires the same choices to lead to the same states.
        def setup(self):
            self._savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self._savepoint)

        def get_call_kwargs(self, case):
            return {"headers": desk.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                excluded_checks=EXCLUDED_CHECKS,
                headers=desk.headers,
                transport_kwargs=kwargs,
            )

    Machine.run(
        settings=settings(
            max_examples=20,
            stateful_step_count=8,
            deadline=None,
            phases=[Phase.generate],
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )

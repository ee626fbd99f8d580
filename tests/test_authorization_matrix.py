"""The authorization matrix: every operation of the OpenAPI schema, for every role and every
combination of token scopes (and a browser session), against the visibility table.

Nothing here lists endpoints: operations come from the schema, so a new endpoint is walked
as soon as it exists. Each one is judged by the family its path belongs to (tickets,
configuration, queues, metrics...). A path in no family fails the test: decide who may use
it, then add its family below.

The expectations are an independent restatement of the visibility table, computed from
facts about the fixture tickets (their queue, assignee, escalations), not by calling the
application's own rule.
"""

import itertools
import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Role, Scope
from accounts.throttling import TokenRateThrottle
from sla.models import Escalation
from sla.services import escalation_create_manual
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import CalendarFactory, EscalationRuleFactory, SlaPolicyFactory
from tickets import services
from tickets.attachments import attachment_add
from tickets.models import QueueKind, Ticket

ALL_ROLES = (Role.AGENT, Role.ENGINEER, Role.LEAD, Role.ADMIN)
LEADS = (Role.LEAD, Role.ADMIN)
READ, WRITE, ADMIN = Scope.TICKETS_READ, Scope.TICKETS_WRITE, Scope.ADMIN
ROLE_SCOPES = {
    Role.AGENT: (READ, WRITE),
    Role.ENGINEER: (READ, WRITE),
    Role.LEAD: tuple(Scope.values),
    Role.ADMIN: tuple(Scope.values),
}


@dataclass(frozen=True)
class Family:
    """Who may call a family of operations: roles for reads and writes, and the scope each
    needs. `ticket_scoped`: a path's {id} is a ticket, judged by the visibility table.
    `public_read`: anyone may read it without signing in (what they see is checked by the
    family's own tests: tests/helpcenter/test_api.py); writes still answer 401."""

    read_roles: tuple
    write_roles: tuple
    read_scope: str = READ
    write_scope: str = WRITE
    ticket_scoped: bool = False
    public_read: bool = False


FAMILIES = [
    (r"^/api/v1/tickets(/|$)", Family(ALL_ROLES, ALL_ROLES, ticket_scoped=True)),
    (r"^/api/v1/escalations/\{id\}/acknowledge$", Family((), (Role.ENGINEER, *LEADS))),
    (r"^/api/v1/escalations$", Family(ALL_ROLES, ())),
    (r"^/api/v1/(calendars|sla-policies|escalation-rules)(/|$)", Family(LEADS, LEADS, READ, ADMIN)),
    (r"^/api/v1/queues(/|$)", Family(ALL_ROLES, (Role.ADMIN,), READ, ADMIN)),
    # Imported contact-rate denominators: configuration, so the admin scope (csat).
    (r"^/api/v1/metrics/denominators$", Family((), LEADS, READ, ADMIN)),
    (r"^/api/v1/metrics/", Family(LEADS, ())),
    (r"^/api/v1/csat$", Family(LEADS, ())),
    (r"^/api/v1/sla/preview$", Family(ALL_ROLES, ALL_ROLES, READ, READ)),
    # The knowledge base: public articles for anyone; engineers read, never write.
    (r"^/api/v1/articles(/|$)", Family(ALL_ROLES, (Role.AGENT, *LEADS), public_read=True)),
    # {id} is an attachment; each fixture ticket has one (desk["attachments"]).
    (r"^/api/v1/attachments/", Family(ALL_ROLES, (), ticket_scoped=True)),
    # Recording a call: visibility applies to the ticket named in the body (tests/phone).
    (r"^/api/v1/calls$", Family(ALL_ROLES, ALL_ROLES)),
    # A mail provider's inbound route: the raw message, scope `email` (lead and admin tokens).
    (r"^/api/v1/inbound/email$", Family((), LEADS, READ, Scope.EMAIL)),
    # SQL analytics: leads and admins, scope analytics for reads and writes alike; {id} is
    # the saved query desk["config"]["analytics"].
    (r"^/api/v1/analytics/", Family(LEADS, LEADS, Scope.ANALYTICS, Scope.ANALYTICS)),
]


def family_of(path: str) -> Family:
    for pattern, family in FAMILIES:
        if re.search(pattern, path):
            return family
    pytest.fail(f"{path} belongs to no family: say who may use it in FAMILIES")


def operations() -> list[tuple[str, str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, op.get("operationId", f"{method} {path}"))
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = operations()


# --- the desk: tickets that exercise every row of the table ---------------------------


@dataclass
class Facts:
    """What the visibility table looks at, recorded when the fixture ticket was made."""

    id: int
    kind: str
    assignee: str | None = None
    escalated_by: set = field(default_factory=set)
    sent_to_engineering: bool = False


@pytest.fixture
def desk(db, monkeypatch, settings, tmp_path):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "1000000/min"})
    settings.MEDIA_ROOT = str(tmp_path)
    support = QueueFactory(slug="payments", kind=QueueKind.SUPPORT, is_default=True)
    engineering = QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    users = {role: UserFactory(username=f"{role}-1", role=role) for role in ALL_ROLES}
    other_agent = UserFactory(username="agent-2", role=Role.AGENT)

    def ticket(name, queue, assignee=None):
        t = services.ticket_create(
            actor=None, subject=name, description="d", requester_email=f"{name}@m.test"
        )
        if queue != support or assignee:
            services.ticket_update(ticket_id=t.pk, actor=None, queue=queue, assignee=assignee)
        return Facts(t.pk, queue.kind, assignee.username if assignee else None)

    tickets = {
        "support": ticket("support", support),
        "engineering": ticket("engineering", engineering),
        "eng_assigned_to_agent": ticket("assigned", engineering, users[Role.AGENT]),
        "support_of_other_agent": ticket("other", support, other_agent),
    }
    # Escalated by the agent to Engineering: it moves to the Engineering queue.
    by_agent = ticket("escalated", support)
    escalation_create_manual(
        ticket_id=by_agent.id, actor=users[Role.AGENT], to_queue=engineering, impact="down"
    )
    by_agent.kind, by_agent.sent_to_engineering = QueueKind.ENGINEERING, True
    by_agent.escalated_by.add(users[Role.AGENT].username)
    tickets["escalated_by_agent"] = by_agent
    # Sent to Engineering by someone else, then handed back to support.
    back = ticket("handed-back", support)
    escalation_create_manual(ticket_id=back.id, actor=other_agent, to_queue=engineering, impact="x")
    services.ticket_update(ticket_id=back.id, actor=None, queue=support)
    back.sent_to_engineering = True
    back.escalated_by.add(other_agent.username)
    tickets["handed_back"] = back
    # A notify-only rule firing: it was never sent to Engineering.
    notified = ticket("notified", support)
    rule = EscalationRuleFactory()
    Escalation.objects.create(
        ticket_id=notified.id, rule=rule, reason="breached", fire_at=rule.updated_at
    )
    tickets["notify_only"] = notified

    calendar = CalendarFactory()
    from analytics.models import SavedQuery

    config = {
        "analytics": SavedQuery.objects.create(name="matrix", sql="SELECT 1 AS one").pk,
        "calendars": calendar.pk,
        "sla-policies": SlaPolicyFactory(calendar=calendar).pk,
        "escalation-rules": rule.pk,
    }
    attachments = {
        facts.id: attachment_add(
            ticket=Ticket.objects.get(pk=facts.id), message=None, filename="a.txt", data=b"a"
        ).pk
        for facts in tickets.values()
    }
    return {
        "users": users,
        "tickets": tickets,
        "config": config,
        "queue": support.slug,
        "attachments": attachments,
        "article": _public_article(),
    }


def _public_article() -> str:
    from helpcenter.services import article_create

    return article_create(
        author=None, title="Matrix", body="Public.", status="published", visibility="public"
    ).slug


def reads(role, user, facts: Facts) -> bool:
    if role in LEADS:
        return True
    if role == Role.AGENT:
        return (
            facts.kind == QueueKind.SUPPORT
            or facts.assignee == user.username
            or user.username in facts.escalated_by
        )
    return facts.kind == QueueKind.ENGINEERING or facts.sent_to_engineering


def write_level(role, user, facts: Facts) -> str:
    """'all', 'notes' or 'none' on a ticket the user reads."""
    if role in LEADS:
        return "all"
    if role == Role.ENGINEER:
        return "all" if facts.kind == QueueKind.ENGINEERING else "notes"
    if facts.kind == QueueKind.ENGINEERING and facts.assignee != user.username:
        return "none"
    return "all"


# --- calling the API ------------------------------------------------------------------

# Bodies that pass validation, so that a refusal can only come from the rule. A write with
# no entry here is sent with {}: a refused caller must still get 403/404 (the rule is
# checked first), an allowed one gets anything but 401/403/404.
BODIES = {
    "analytics_query": [({"sql": "SELECT 1 AS one"}, "all")],
    "analytics_saved_queries_create": [({"name": "new", "sql": "SELECT 2 AS two"}, "all")],
    "tickets_partial_update": [({"tags": ["matrix"]}, "all")],
    # bytes: sent as message/rfc822 (see call).
    "inbound_email_create": [
        (b"From: a@m.test\r\nTo: support@desk.localhost\r\nSubject: s\r\n\r\nhi\r\n", "all")
    ],
    "tickets_messages_create": [
        ({"body": "internal", "public": False}, "notes"),
        ({"body": "public reply", "public": True}, "all"),
    ],
    # A new ticket must be one its creator may write: by queue kind.
    "articles_create": [({"title": "Matrix", "body": "Text."}, "all")],
    "articles_update": [({"title": "Matrix", "body": "Text."}, "all")],
    "articles_partial_update": [({"title": "Matrix again"}, "all")],
    "tickets_create": [
        ({"subject": "s", "description": "d", "requester": {"email": "n@m.test"}}, "support"),
        (
            {
                "subject": "s",
                "description": "d",
                "requester": {"email": "n@m.test"},
                "queue": "eng-payments",
            },
            "engineering",
        ),
    ],
}


def creates_in(role, kind: str) -> bool:
    return role in LEADS or kind == (
        QueueKind.ENGINEERING if role == Role.ENGINEER else QueueKind.SUPPORT
    )


def fill(path: str, desk, ticket_id: int | None = None, escalation_id: int | None = None) -> str:
    def value(match):
        name = match.group(1)
        if path.startswith("/api/v1/attachments"):
            return str(desk["attachments"][ticket_id])
        if path.startswith("/api/v1/tickets"):
            return str(ticket_id)
        if path.startswith("/api/v1/escalations"):
            return str(escalation_id)
        if path.startswith("/api/v1/articles"):
            return desk["article"]
        if name == "slug":
            return desk["queue"]
        resource = path.split("/")[3]
        if resource in desk["config"]:
            return str(desk["config"][resource])
        pytest.fail(f"no fixture object for {{{name}}} in {path}")

    return re.sub(r"\{(\w+)\}", value, path)


def call(client, method: str, url: str, body=None):
    """One request, rolled back: the desk stays the same for every caller."""
    with transaction.atomic():
        kwargs = {"format": "json"} if body is not None else {}
        if isinstance(body, bytes):  # a raw e-mail for the inbound door
            kwargs = {"content_type": "message/rfc822"}
        response = getattr(client, method.lower())(url, body, **kwargs)
        transaction.set_rollback(True)
    return response


def as_token(client, user, scopes):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, scopes)}")
    return client


# Every combination of these; each other scope alone, and all of a role's scopes together
# (every combination of all six would make a lead's run four times longer for nothing new).
COMBINED = (READ, WRITE, ADMIN, Scope.IMPORT)


def scope_combinations(role):
    allowed = ROLE_SCOPES[role]
    combined = [s for s in allowed if s in COMBINED]
    combos = [c for n in range(1, len(combined) + 1) for c in itertools.combinations(combined, n)]
    combos += [(s,) for s in allowed if s not in COMBINED]
    if tuple(allowed) not in combos:
        combos.append(tuple(allowed))
    return combos


def callers(api_client, role, user):
    """A browser session (the role's scopes), then a token per scope combination."""
    api_client.credentials()
    api_client.force_authenticate(user=None)
    api_client.force_login(user)
    yield ROLE_SCOPES[role], api_client
    api_client.logout()
    for scopes in scope_combinations(role):
        yield scopes, as_token(api_client, user, scopes)


def refused(response) -> bool:
    return response.status_code in (401, 403, 404)


def assert_error(response, status: int, context: str):
    assert response.status_code == status, f"{context}: {response.status_code} {response.content}"
    assert response.json()["error"]["type"] in ("permission_error", "not_found"), context


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[o[2] for o in OPERATIONS]
)
def test_operation_follows_the_table(api_client, desk, method, path, operation):
    family = family_of(path)
    writing = method != "GET"
    roles = family.write_roles if writing else family.read_roles
    needed = family.write_scope if writing else family.read_scope
    bodies = BODIES.get(operation, [({}, "all")]) if writing else [(None, "all")]
    tickets = desk["tickets"]
    escalations = {
        e.ticket_id: e.pk for e in Escalation.objects.order_by("pk")
    }  # one per escalated ticket in this desk

    # Nobody signed in: 401 everywhere, but for reads of what is public by design.
    anonymous = call(api_client, method, fill(path, desk, tickets["support"].id, 1))
    expected = 200 if family.public_read and not writing else 401
    assert anonymous.status_code == expected, (
        f"{operation} answered {anonymous.status_code} to nobody"
    )

    for role in ALL_ROLES:
        user = desk["users"][role]
        for scopes, client in callers(api_client, role, user):
            who = f"{operation} as {role} with {','.join(scopes)}"
            targets = _targets(path, family, tickets, escalations)
            if needed not in scopes or role not in roles:
                targets = targets[:1]  # refused before any ticket is looked at
            for facts, escalation_id in targets:
                url = fill(path, desk, facts.id if facts else None, escalation_id)
                for body, level_needed in bodies:
                    response = call(client, method, url, body)
                    context = f"{who} on {url} body={body}"
                    if role not in roles or needed not in scopes:
                        assert_error(response, 403, context)
                    elif facts is not None and not reads(role, user, facts):
                        assert_error(response, 404, context)
                    elif facts is not None and writing and family.ticket_scoped:
                        level = write_level(role, user, facts)
                        if level == "all" or (level == "notes" and level_needed == "notes"):
                            assert not refused(response), context
                        else:
                            assert_error(response, 403, context)
                    elif escalation_id is not None:
                        acknowledgeable = facts.sent_to_engineering
                        expected = (200,) if acknowledgeable else (409,)
                        assert response.status_code in expected, context
                    elif level_needed in (QueueKind.SUPPORT, QueueKind.ENGINEERING):
                        if creates_in(role, level_needed):
                            assert not refused(response), context
                        else:
                            assert_error(response, 403, context)
                    else:
                        assert not refused(response), context
                        if not writing:
                            _assert_list_is_visible(response, role, user, tickets, context)


def _targets(path, family, tickets, escalations):
    """(ticket facts, escalation id) pairs the operation is tried on."""
    if "{" not in path:
        return [(None, None)]
    if family.ticket_scoped:
        return [(facts, None) for facts in tickets.values()]
    if path.startswith("/api/v1/escalations"):
        by_id = {f.id: f for f in tickets.values()}
        return [(by_id[t], e) for t, e in escalations.items()]
    return [(None, None)]


def _assert_list_is_visible(response, role, user, tickets, context):
    """A list of tickets, or of things on tickets, shows only what the user may read."""
    if not response.get("Content-Type", "").startswith("application/json"):
        return  # a file (attachment download)
    if response.status_code != 200 or not isinstance(response.json(), dict):
        return
    results = response.json().get("results")
    if not results or not isinstance(results[0], dict):
        return
    visible = {f.id for f in tickets.values() if reads(role, user, f)}
    if "subject" in results[0]:  # tickets themselves: exactly the visible ones
        assert {r["id"] for r in results} == visible, context
    elif "ticket" in results[0]:
        assert {r["ticket"] for r in results} <= visible, context

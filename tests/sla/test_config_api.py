"""Calendars, SLA policies and escalation rules through the API: who may, what is valid."""

import pytest

from accounts.models import Role
from sla.models import Calendar, EscalationRule, SlaPolicy
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import CalendarFactory, SlaPolicyFactory
from tickets.models import QueueKind

pytestmark = pytest.mark.django_db

NY = {
    "name": "New York",
    "timezone": "America/New_York",
    "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    "holiday_country": "US",
    "holidays": [{"date": "2026-12-31", "name": "Year-end freeze"}],
}


def as_role(api_client, role, scopes=("tickets:read", "tickets:write", "admin")):
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(UserFactory(role=role), scopes)}"
    )
    return api_client


@pytest.fixture
def lead(api_client):
    return as_role(api_client, Role.LEAD)


def error(response):
    return response.json()["error"]


def test_lead_creates_reads_updates_and_deletes_a_calendar(
    lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        created = lead.post("/api/v1/calendars", NY, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["holiday_country"] == "US"
    assert body["hours"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}
    assert len(callbacks) == 1  # the recompute of open tickets, after commit (X4)
    url = f"/api/v1/calendars/{body['id']}"
    assert lead.get(url).json()["name"] == "New York"
    patched = lead.patch(url, {"always_open": True}, format="json")
    assert patched.status_code == 200
    assert patched.json()["always_open"] is True
    assert lead.delete(url).status_code == 204
    assert not Calendar.objects.exists()


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": None}, "timezone"),
        (
            {
                "hours": [
                    {"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "14:00"},
                ]
            },
            "hours[1]",
        ),
        ({"hours": [{"weekday": 0, "start": "25:00", "end": "26:00"}]}, "hours[0].start"),
        ({"hours": [{"weekday": 0, "start": "9am", "end": "17:00"}]}, "hours[0].start"),
        ({"hours": [{"weekday": 7, "start": "09:00", "end": "17:00"}]}, "hours[0].weekday"),
        ({"hours": []}, "hours"),  # SLA_SPEC case 24: not always open and no hours
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holidays": [{"date": "2026-13-45", "name": "Nope"}]}, "holidays[0].date"),
        ({"hours": "Mon-Fri"}, "hours"),
    ],
)
def test_invalid_calendar_is_400_and_nothing_is_saved(lead, changes, param):
    response = lead.post("/api/v1/calendars", {**NY, **changes}, format="json")
    assert response.status_code == 400
    assert error(response)["type"] == "invalid_request_error"
    assert error(response)["param"] == param
    assert not Calendar.objects.exists()


def test_overnight_and_24_00_are_accepted(lead):
    night = {
        "name": "Night",
        "timezone": "Europe/London",
        "hours": [
            {"weekday": 0, "start": "22:00", "end": "06:00"},
            {"weekday": 1, "start": "06:00", "end": "24:00"},
        ],
    }
    assert lead.post("/api/v1/calendars", night, format="json").status_code == 201


def test_calendar_in_use_cannot_be_deleted(lead):
    policy = SlaPolicyFactory()
    response = lead.delete(f"/api/v1/calendars/{policy.calendar_id}")
    assert response.status_code == 409
    assert error(response)["type"] == "conflict"
    assert Calendar.objects.filter(pk=policy.calendar_id).exists()


@pytest.mark.parametrize("role", [Role.AGENT, Role.ENGINEER])
def test_agents_and_engineers_cannot_manage_calendars(api_client, role):
    as_role(api_client, role, scopes=("tickets:read", "tickets:write"))
    assert api_client.post("/api/v1/calendars", NY, format="json").status_code == 403
    assert api_client.get("/api/v1/calendars").status_code == 403
    assert not Calendar.objects.exists()


def test_lead_token_without_admin_scope_can_read_but_not_write(api_client):
    as_role(api_client, Role.LEAD, scopes=("tickets:read",))
    assert api_client.get("/api/v1/calendars").status_code == 200
    assert api_client.post("/api/v1/calendars", NY, format="json").status_code == 403


def policy_body(calendar, **changes):
    return {
        "name": "Premium",
        "position": 10,
        "calendar": calendar.pk,
        "match": {"tiers": ["premium"], "priorities": ["high", "urgent"]},
        "targets": [
            {"priority": "high", "metric": "first_reply", "minutes": 60},
            {"priority": "high", "metric": "resolution", "minutes": 960, "business_hours": True},
            {"priority": "urgent", "metric": "first_reply", "minutes": 30, "business_hours": False},
        ],
        "warn_at_percent": 80,
        **changes,
    }


def test_policy_round_trip(lead):
    calendar = CalendarFactory()
    created = lead.post("/api/v1/sla-policies", policy_body(calendar), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["match"]["tiers"] == ["premium"]
    assert body["pause_on"] == ["pending", "on_hold"]  # the default
    assert len(body["targets"]) == 3
    url = f"/api/v1/sla-policies/{body['id']}"
    replaced = lead.patch(
        url,
        {"targets": [{"priority": "normal", "metric": "first_reply", "minutes": 240}]},
        format="json",
    )
    assert replaced.status_code == 200
    assert replaced.json()["targets"] == [
        {"priority": "normal", "metric": "first_reply", "minutes": 240, "business_hours": True}
    ]
    assert lead.delete(url).status_code == 204
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"warn_at_percent": 0}, "warn_at_percent"),
        ({"warn_at_percent": 100}, "warn_at_percent"),
        ({"pause_on": ["solved"]}, "pause_on"),
        ({"match": {"tiers": ["gold"]}}, "match.tiers"),
        ({"match": {"queues": ["no-such-queue"]}}, "match.queues"),
        ({"targets": [{"priority": "high", "metric": "first_reply", "minutes": -5}]}, "targets"),
        ({"targets": [{"priority": "high", "metric": "lunch", "minutes": 5}]}, "targets"),
        (
            {
                "targets": [
                    {"priority": "high", "metric": "first_reply", "minutes": 5},
                    {"priority": "high", "metric": "first_reply", "minutes": 9},
                ]
            },
            "targets[1]",
        ),
        ({"calendar": 999999}, "calendar"),
    ],
)
def test_invalid_policy_is_400(lead, changes, param):
    calendar = CalendarFactory()
    response = lead.post(
        "/api/v1/sla-policies", {**policy_body(calendar), **changes}, format="json"
    )
    assert response.status_code == 400
    assert error(response)["param"].startswith(param)
    assert not SlaPolicy.objects.exists()


def test_escalation_rules(lead):
    QueueFactory(slug="eng-payments", kind=QueueKind.ENGINEERING)
    rule = {
        "name": "Urgent breach to Engineering",
        "metric": "first_reply",
        "trigger": "breach",
        "after_minutes": 30,
        "priorities": ["urgent"],
        "action": "move_to_queue",
        "target_queue": "eng-payments",
        "position": 1,
    }
    created = lead.post("/api/v1/escalation-rules", rule, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["target_queue"] == "eng-payments"
    no_queue = lead.post(
        "/api/v1/escalation-rules", {**rule, "name": "x", "target_queue": None}, format="json"
    )
    assert no_queue.status_code == 400
    assert error(no_queue)["param"] == "target_queue"
    bad = lead.post(
        "/api/v1/escalation-rules", {**rule, "name": "y", "trigger": "later"}, format="json"
    )
    assert bad.status_code == 400
    assert EscalationRule.objects.count() == 1

"""POST /api/v1/calls and GET /api/v1/calls: idempotency, numbers, matching, threading,
what a call means for the SLA, visibility, and the call on the message."""

import pytest
from django.utils import timezone

from accounts.models import Role
from phone.models import Call
from phone.services import call_entry
from tests.factories import QueueFactory, UserFactory, make_token
from tickets import services
from tickets.models import (
    AuthorType,
    Message,
    QueueKind,
    Requester,
    RequesterPhone,
    Status,
    Ticket,
)

CARD = "4111 1111 1111 1111"


@pytest.fixture
def desk(db):
    return {
        "support": QueueFactory(slug="support", is_default=True),
        "eng": QueueFactory(slug="eng", kind=QueueKind.ENGINEERING),
        "agent": UserFactory(username="ann", role=Role.AGENT, first_name="Ann"),
    }


@pytest.fixture
def client(desk, api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(desk['agent'])}")
    return api_client


STARTED = timezone.now().replace(microsecond=0) - timezone.timedelta(minutes=10)


def call_body(**extra) -> dict:
    started = STARTED
    return {
        "call_id": "CA100",
        "direction": "inbound",
        "from": "(415) 555-0100",
        "to": "+1 212 555 0199",
        "started_at": started.isoformat(),
        "ended_at": (started + timezone.timedelta(minutes=4, seconds=10)).isoformat(),
        "outcome": "answered",
        "notes": f"Customer read out {CARD}, told them not to.",
        **extra,
    }


def post(client, body):
    return client.post("/api/v1/calls", body, format="json")


def test_an_unknown_caller_gets_a_requester_and_a_phone_ticket(client):
    response = post(client, call_body())
    assert response.status_code == 201, response.content
    call = response.json()
    assert (call["from"], call["to"]) == ("+14155550100", "+12125550199")
    assert call["agent"] == "ann"
    assert call["notes"] == "Customer read out 411111******1111, told them not to."
    assert call["recording_url"] is None
    ticket = Ticket.objects.select_related("requester").get(pk=call["ticket"])
    assert ticket.channel == "phone"
    assert ticket.requester.email == "+14155550100@phone.invalid"
    assert RequesterPhone.objects.get().number == "+14155550100"
    assert "4111111111111111" not in ticket.description.replace(" ", "")
    message = Message.objects.get(pk=call["message"])
    assert (message.author_type, message.public, message.channel) == ("agent", True, "phone")
    assert message.body == "Inbound call from +1 415-555-0100, answered by Ann (4 min)."
    assert message.is_reply  # an answered call is the agent's reply for the SLA
    assert Call.objects.get().notes == call["notes"]


def test_the_same_call_twice_is_one_call(client):
    first = post(client, call_body())
    again = post(client, call_body())
    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert again.json() == first.json()
    assert Call.objects.count() == 1
    assert Message.objects.count() == 1
    other = post(client, call_body(outcome="missed"))
    assert other.status_code == 409
    error = other.json()["error"]
    assert (error["type"], error["param"]) == ("idempotency_error", "call_id")


def test_a_known_number_threads_onto_the_most_recent_unsolved_ticket(client):
    older = services.ticket_create(
        actor=None, subject="Old", description="d", requester_email="jo@shop.test"
    )
    newer = services.ticket_create(
        actor=None, subject="New", description="d", requester_email="jo@shop.test"
    )
    solved = services.ticket_create(
        actor=None, subject="Done", description="d", requester_email="jo@shop.test"
    )
    services.ticket_update(ticket_id=solved.pk, actor=None, status=Status.SOLVED)
    RequesterPhone.objects.create(requester=newer.requester, number="+14155550100")
    response = post(client, call_body(outcome="missed", ended_at=None))
    assert response.status_code == 201
    assert response.json()["ticket"] == newer.pk
    message = Message.objects.get(pk=response.json()["message"])
    assert (message.author_type, message.public) == (AuthorType.REQUESTER, True)
    assert message.body == "Missed call from +1 415-555-0100."
    assert older.pk != newer.pk


def test_a_requester_may_have_several_numbers(client):
    ticket = services.ticket_create(
        actor=None, subject="Mobile", description="d", requester_email="jo@shop.test"
    )
    RequesterPhone.objects.create(requester=ticket.requester, number="+14155550100")
    RequesterPhone.objects.create(requester=ticket.requester, number="+442079460958")
    response = post(client, call_body(**{"from": "+44 20 7946 0958"}))
    assert response.json()["ticket"] == ticket.pk


def test_requester_given_by_email_is_matched_and_learns_the_number(client):
    ticket = services.ticket_create(
        actor=None, subject="By mail", description="d", requester_email="jo@shop.test"
    )
    response = post(client, call_body(requester={"email": "JO@shop.test"}))
    assert response.json()["ticket"] == ticket.pk
    assert RequesterPhone.objects.get().requester_id == ticket.requester_id
    new = post(
        client,
        call_body(
            call_id="CA2",
            requester={"email": "new@shop.test", "name": "N"},
            **{"from": "+1 415 555 0111"},
        ),
    )
    assert Requester.objects.get(email="new@shop.test").name == "N"
    assert new.json()["ticket"] != ticket.pk


def test_a_voicemail_reopens_a_pending_ticket(client):
    ticket = services.ticket_create(
        actor=None, subject="Pending", description="d", requester_email="jo@shop.test"
    )
    services.ticket_update(ticket_id=ticket.pk, actor=None, status=Status.PENDING)
    response = post(client, call_body(outcome="voicemail", ticket=ticket.pk))
    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert RequesterPhone.objects.get().requester_id == ticket.requester_id


def test_outbound_calls_use_the_called_number(client):
    response = post(
        client,
        call_body(direction="outbound", **{"from": "+1 212 555 0199", "to": "415 555 0100"}),
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["ticket"])
    assert ticket.requester.email == "+14155550100@phone.invalid"
    missed = post(client, call_body(call_id="CA3", direction="outbound", outcome="missed"))
    note = Message.objects.get(pk=missed.json()["message"])
    assert (note.author_type, note.public) == (AuthorType.AGENT, False)


@pytest.mark.parametrize(
    ("direction", "outcome", "author_type", "public"),
    [
        ("inbound", "answered", "agent", True),
        ("inbound", "missed", "requester", True),
        ("inbound", "voicemail", "requester", True),
        ("inbound", "callback_requested", "requester", True),
        ("outbound", "answered", "agent", True),
        ("outbound", "voicemail", "agent", True),
        ("outbound", "missed", "agent", False),
    ],
)
def test_what_each_call_means(direction, outcome, author_type, public):
    entry = call_entry(direction, outcome)
    assert (entry.author_type, entry.public) == (author_type, public)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"from": "not a number"}, "from"),
        ({"to": "12"}, "to"),
        ({"direction": "sideways"}, "direction"),
        ({"outcome": "exploded"}, "outcome"),
        ({"started_at": "2026-01-01T10:00:00"}, "started_at"),
        ({"started_at": "2999-01-01T10:00:00Z", "ended_at": None}, "started_at"),
        ({"ended_at": "2001-01-01T10:00:00Z"}, "ended_at"),
        ({"agent": "nobody"}, "agent"),
        ({"recording_url": "javascript:alert(1)"}, "recording_url"),
        ({"ticket": "7"}, "ticket"),
        ({"surprise": 1}, "surprise"),
        ({"call_id": ""}, "call_id"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(client, change, param):
    response = post(client, call_body(**change))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["param"] == param
    assert not Call.objects.exists()


def test_a_ticket_outside_visibility_is_404_and_read_only_is_403(client, desk):
    eng = services.ticket_create(
        actor=None, subject="Eng", description="d", requester_email="e@shop.test"
    )
    services.ticket_update(ticket_id=eng.pk, actor=None, queue=desk["eng"])
    assert post(client, call_body(ticket=eng.pk)).status_code == 404
    assert post(client, call_body(ticket=999_999)).status_code == 404
    services.ticket_update(ticket_id=eng.pk, actor=None, assignee=desk["agent"])
    assert post(client, call_body(ticket=eng.pk)).status_code == 201
    services.ticket_update(ticket_id=eng.pk, actor=None, assignee=None)
    # Readable (an escalation would make it so) is not enough: without write, 403 or 404.
    assert post(client, call_body(call_id="CA5", ticket=eng.pk)).status_code == 404


def test_threading_skips_tickets_the_caller_cannot_write(client, desk):
    eng = services.ticket_create(
        actor=None, subject="Eng", description="d", requester_email="jo@shop.test"
    )
    services.ticket_update(ticket_id=eng.pk, actor=None, queue=desk["eng"])
    RequesterPhone.objects.create(requester=eng.requester, number="+14155550100")
    response = post(client, call_body())
    assert response.status_code == 201
    assert response.json()["ticket"] != eng.pk  # a new support ticket instead
    assert Ticket.objects.get(pk=response.json()["ticket"]).requester_id == eng.requester_id


def test_an_engineer_must_name_the_ticket(desk, api_client):
    engineer = UserFactory(username="eve", role=Role.ENGINEER)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(engineer)}")
    response = post(api_client, call_body())
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_scopes(desk, api_client):
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(desk['agent'], ('tickets:read',))}"
    )
    assert post(api_client, call_body()).status_code == 403
    api_client.credentials()
    assert post(api_client, call_body()).status_code == 401


def test_the_call_shows_on_the_message_and_in_the_list(client, desk):
    call = post(client, call_body(recording_url="https://rec.example/CA100.mp3")).json()
    messages = client.get(f"/api/v1/tickets/{call['ticket']}/messages").json()["results"]
    on_message = messages[0]["call"]
    assert on_message["call_id"] == "CA100"
    assert on_message["from"] == "+14155550100"
    assert on_message["recording_url"] == "https://rec.example/CA100.mp3"
    assert "ticket" not in on_message
    assert messages[0]["channel"] == "phone"
    listed = client.get(f"/api/v1/calls?ticket={call['ticket']}").json()
    assert [c["call_id"] for c in listed["results"]] == ["CA100"]
    assert client.get("/api/v1/calls").json()["results"][0]["call_id"] == "CA100"
    assert client.get("/api/v1/calls?ticket=abc").status_code == 400
    assert client.get("/api/v1/calls?ticket=999999").status_code == 404


def test_the_list_shows_only_calls_on_visible_tickets(client, desk):
    eng = services.ticket_create(
        actor=None, subject="Eng", description="d", requester_email="e@shop.test"
    )
    lead = UserFactory(username="lee", role=Role.LEAD)
    services.ticket_update(ticket_id=eng.pk, actor=None, queue=desk["eng"])
    from phone.services import call_record

    call_record(
        actor=lead,
        call_id="CA-eng",
        direction="inbound",
        from_number="+14155550100",
        to_number="",
        started_at=timezone.now(),
        outcome="missed",
        ticket_id=eng.pk,
    )
    assert client.get("/api/v1/calls").json()["results"] == []
    assert client.get(f"/api/v1/calls?ticket={eng.pk}").status_code == 404

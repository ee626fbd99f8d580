"""The workspace's phone pages: "Log a call" on a ticket and "New ticket"."""

import pytest

from accounts.models import Role
from phone.models import Call
from tests.factories import QueueFactory, UserFactory
from tickets import services
from tickets.models import Message, QueueKind, Requester, RequesterPhone, Ticket


@pytest.fixture
def desk(db, client):
    services.queue_default_forget()
    support = QueueFactory(slug="support", name="Support", is_default=True)
    eng = QueueFactory(slug="eng", name="Engineering", kind=QueueKind.ENGINEERING)
    agent = UserFactory(username="ann", role=Role.AGENT)
    client.force_login(agent)
    ticket = services.ticket_create(
        actor=None, subject="Payout", description="d", requester_email="jo@shop.test"
    )
    return {"support": support, "eng": eng, "agent": agent, "ticket": ticket}


def test_log_a_call(client, desk):
    ticket = desk["ticket"]
    page = client.get(f"/tickets/{ticket.pk}/")
    assert b'id="log-call-form"' in page.content
    response = client.post(
        f"/tickets/{ticket.pk}/calls/",
        {
            "direction": "inbound",
            "outcome": "answered",
            "number": "415 555 0100",
            "minutes": "3",
            "notes": "Card 4111 1111 1111 1111 mentioned",
        },
    )
    assert response.status_code == 302
    call = Call.objects.get()
    assert (call.ticket_id, call.from_number, call.agent) == (
        ticket.pk,
        "+14155550100",
        desk["agent"],
    )
    assert call.notes == "Card 411111******1111 mentioned"
    assert (call.ended_at - call.started_at).total_seconds() == 180
    assert RequesterPhone.objects.get().requester_id == ticket.requester_id
    page = client.get(f"/tickets/{ticket.pk}/")
    assert b"Inbound call from +1 415-555-0100, answered" in page.content
    assert b"Call notes: Card 411111******1111 mentioned" in page.content
    assert b'value="+14155550100"' in page.content  # the number, next time


def test_log_a_call_with_a_bad_number_says_so(client, desk):
    response = client.post(
        f"/tickets/{desk['ticket'].pk}/calls/",
        {"direction": "inbound", "outcome": "missed", "number": "12"},
        follow=True,
    )
    assert b"not a valid phone number" in response.content
    assert not Call.objects.exists()


def test_log_a_call_follows_visibility(client, desk):
    services.ticket_update(ticket_id=desk["ticket"].pk, actor=None, queue=desk["eng"])
    response = client.post(
        f"/tickets/{desk['ticket'].pk}/calls/",
        {"direction": "inbound", "outcome": "missed", "number": "+14155550100"},
    )
    assert response.status_code == 404
    assert not Call.objects.exists()


def test_new_ticket_page(client, desk):
    page = client.get("/tickets/new/")
    assert page.status_code == 200
    assert b"New ticket" in page.content
    # An agent files into support queues only.
    assert b'value="support"' in page.content
    assert b'value="eng"' not in page.content


def new(client, **fields):
    data = {
        "channel": "phone",
        "subject": "Caller cannot log in",
        "description": "Locked out",
        "priority": "high",
        "queue": "support",
        **fields,
    }
    return client.post("/tickets/new/", data)


def test_new_ticket_for_a_known_number(client, desk):
    RequesterPhone.objects.create(requester=desk["ticket"].requester, number="+14155550100")
    response = new(client, phone="(415) 555-0100")
    assert response.status_code == 302
    ticket = Ticket.objects.latest("pk")
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert ticket.requester.email == "jo@shop.test"
    assert (ticket.channel, ticket.priority) == ("phone", "high")


def test_new_ticket_for_a_new_caller(client, desk):
    new(client, phone="+44 20 7946 0958", name="Sam")
    ticket = Ticket.objects.latest("pk")
    assert ticket.requester.email == "+442079460958@phone.invalid"
    assert ticket.requester.name == "Sam"
    assert RequesterPhone.objects.get(number="+442079460958").requester == ticket.requester


def test_new_ticket_for_a_walk_in_by_email(client, desk):
    new(client, channel="walk_in", email="new@shop.test", phone="415 555 0199")
    ticket = Ticket.objects.latest("pk")
    assert (ticket.channel, ticket.requester.email) == ("api", "new@shop.test")
    assert RequesterPhone.objects.get().number == "+14155550199"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, b"Give the customer&#x27;s e-mail or phone number."),
        ({"phone": "12"}, b"not a valid phone number"),
        ({"email": "x@y.test", "queue": "eng"}, b"Select a valid choice"),
        ({"email": "x@y.test", "subject": ""}, b"This field is required"),
    ],
)
def test_new_ticket_refusals(client, desk, fields, error):
    before = Ticket.objects.count()
    response = new(client, **fields)
    assert response.status_code == 200
    assert error in response.content
    assert Ticket.objects.count() == before
    assert not Requester.objects.filter(email="x@y.test").exists()


def test_nav_links_to_new_ticket(client, desk):
    assert b'href="/tickets/new/"' in client.get("/").content


def test_call_and_message_counts_stay_one_each(client, desk):
    for _ in range(2):
        client.post(
            f"/tickets/{desk['ticket'].pk}/calls/",
            {"direction": "outbound", "outcome": "missed", "number": "+14155550100"},
        )
    assert Call.objects.count() == 2  # two attempts are two calls
    notes = Message.objects.filter(ticket=desk["ticket"], public=False)
    assert notes.count() == 2

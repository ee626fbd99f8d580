"""The requester portal (DESIGN §9): e-mailed single-use sign-in links, own tickets only,
public messages only, reply and mark solved."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from csat.models import PortalSignInLink
from csat.portal import services as portal
from tests.factories import QueueFactory, UserFactory
from tickets import services
from tickets.models import AuthorType, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    QueueFactory(slug="support", is_default=True)
    agent = UserFactory(username="ann", role=Role.AGENT, email="ann.secret@desk.test")

    def ticket(email, subject):
        return services.ticket_create(
            actor=None, subject=subject, description="Help me", requester_email=email
        )

    mine = ticket("pat@merchant.test", "My payout is late")
    other = ticket("sam@other.test", "Sam's dispute")
    services.ticket_update(ticket_id=mine.pk, actor=agent, assignee=agent)
    services.ticket_add_message(ticket_id=mine.pk, actor=agent, body="We are on it, Pat.")
    services.ticket_add_message(
        ticket_id=mine.pk, actor=agent, body="INTERNAL: fraud check pending", public=False
    )
    return {"mine": mine, "other": other, "agent": agent}


@pytest.fixture
def queued(monkeypatch):
    """Requester ids whose sign-in link the request queued (the task's .delay, recorded)."""
    from csat.tasks import portal_send_sign_in_link_task

    calls: list[int] = []
    monkeypatch.setattr(portal_send_sign_in_link_task, "delay", calls.append)
    return calls


def _ask(client, email, ip="10.0.0.1"):
    return client.post("/help/tickets/", {"email": email}, REMOTE_ADDR=ip)


def _send_queued(queued):
    """What the worker does with each queued task."""
    from csat.tasks import portal_send_sign_in_link_task

    while queued:
        portal_send_sign_in_link_task.run(queued.pop(0))


def _link(message) -> str:
    return re.search(r"/help/tickets/sign-in/([^/\s]+)/", message.body).group(0)


def _signed_in(capture, queued, email="pat@merchant.test") -> Client:
    client = Client()
    with capture(execute=True):
        _ask(client, email)
    _send_queued(queued)
    client.post(_link(mail.outbox[-1]))
    return client


def test_known_and_unknown_addresses_get_the_same_page(
    desk, django_capture_on_commit_callbacks, queued
):
    with django_capture_on_commit_callbacks(execute=True):
        a = _ask(Client(), "pat@merchant.test")
    known = list(queued)
    with django_capture_on_commit_callbacks(execute=True):
        b = _ask(Client(), "nobody@nowhere.test")
    assert a.status_code == b.status_code == 200
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')
    assert strip.sub("", a.content.decode()) == strip.sub("", b.content.decode())
    # The work for a known address happens after the response, in a task.
    assert known == [desk["mine"].requester_id]
    assert queued == known
    assert not mail.outbox
    _send_queued(queued)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@merchant.test"]
    assert message.message()["Auto-Submitted"] == "auto-generated"


def test_the_link_signs_in_once_and_is_stored_hashed(
    desk, django_capture_on_commit_callbacks, queued
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, "pat@merchant.test")
    _send_queued(queued)
    link = _link(mail.outbox[0])
    raw = link.rstrip("/").rsplit("/", 1)[1]
    stored = PortalSignInLink.objects.get()
    assert stored.token_hash == portal.hash_token(raw)
    assert raw not in stored.token_hash
    # GET (a mail scanner) spends nothing.
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert b"My payout is late" in client.get("/help/tickets/").content
    # A second use, by anyone, fails.
    again = Client().post(link)
    assert again.status_code == 400
    assert b"expired or was already used" in again.content
    # Not a Django user: no agent page opens.
    assert client.get("/").status_code == 302


def test_the_link_expires_after_15_minutes(desk, django_capture_on_commit_callbacks, queued):
    with django_capture_on_commit_callbacks(execute=True):
        _ask(Client(), "pat@merchant.test")
    _send_queued(queued)
    link = _link(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        response = Client().post(link)
    assert response.status_code == 400
    assert PortalSignInLink.objects.get().used_at is None


def test_requests_are_rate_limited_per_address(desk, queued):
    client = Client()
    for _ in range(portal.PER_ADDRESS_PER_HOUR):
        assert _ask(client, "pat@merchant.test").status_code == 200
    response = _ask(client, "PAT@merchant.test", ip="10.0.0.2")
    assert response.status_code == 429
    assert b"Too many" in response.content


def test_requests_are_rate_limited_per_ip(desk, queued):
    client = Client()
    for i in range(portal.PER_IP_PER_HOUR):
        assert _ask(client, f"x{i}@spray.test", ip="10.9.9.9").status_code == 200
    assert _ask(client, "last@spray.test", ip="10.9.9.9").status_code == 429


def test_only_own_tickets_and_only_public_messages(
    desk, django_capture_on_commit_callbacks, queued
):
    client = _signed_in(django_capture_on_commit_callbacks, queued)
    listing = client.get("/help/tickets/").content.decode()
    assert "My payout is late" in listing
    assert "Sam" not in listing
    page = client.get(f"/help/tickets/{desk['mine'].pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "We are on it, Pat." in html
    assert "INTERNAL" not in html
    assert "fraud" not in html
    assert "ann.secret@desk.test" not in html
    assert ">ann<" not in html
    assert "ann " not in html
    assert "sla" not in html.lower().replace("class", "")
    assert client.get(f"/help/tickets/{desk['other'].pk}/").status_code == 404
    assert client.post(f"/help/tickets/{desk['other'].pk}/", {"body": "x"}).status_code == 404
    assert client.get("/help/tickets/999999/").status_code == 404


def test_signed_out_visitors_see_the_sign_in_form(desk):
    response = Client().get(f"/help/tickets/{desk['mine'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="email"' in html
    assert "My payout" not in html
    assert 'action="/help/tickets/"' in html


def test_reply_and_mark_solved(desk, django_capture_on_commit_callbacks, queued):
    client = _signed_in(django_capture_on_commit_callbacks, queued)
    url = f"/help/tickets/{desk['mine'].pk}/"
    assert client.post(url, {"action": "reply", "body": "Thanks, any update?"}).status_code == 302
    message = Message.objects.filter(ticket=desk["mine"]).latest("id")
    assert (message.author_type, message.public, message.channel, message.body) == (
        AuthorType.REQUESTER,
        True,
        "web",
        "Thanks, any update?",
    )
    assert client.post(url, {"action": "solve"}).status_code == 302
    assert Ticket.objects.get(pk=desk["mine"].pk).status == "solved"


def test_forms_need_csrf(desk, queued):
    response = Client(enforce_csrf_checks=True).post(
        "/help/tickets/", {"email": "pat@merchant.test"}
    )
    assert response.status_code == 403


def test_sign_out(desk, django_capture_on_commit_callbacks, queued):
    client = _signed_in(django_capture_on_commit_callbacks, queued)
    client.post("/help/tickets/sign-out/")
    assert b"My payout" not in client.get("/help/tickets/").content

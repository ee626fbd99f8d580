"""The contact form: one ticket per form even when sent twice; refusals store nothing;
suggestions while typing; deflection bookkeeping."""

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from helpcenter import contact as contact_module
from helpcenter.models import FormVisit
from tests.factories import QueueFactory
from tickets.models import Attachment, Channel, Ticket

from .factories import ArticleFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(rb'name="token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _queue(db):
    QueueFactory(slug="payments", is_default=True)


def open_form(client) -> str:
    response = client.get("/help/contact/")
    assert response.status_code == 200
    return TOKEN.search(response.content).group(1).decode()


def fields(token: str, **overrides) -> dict:
    data = {
        "token": token,
        "email": "ops@merchant.test",
        "name": "Olga Ops",
        "reason": "payouts",
        "subject": "Payout missing",
        "description": "Card 4242 4242 4242 4242 was charged but no payout.",
        "account_id": "acct_123",
        "request_id": "req_9f8e",
        "website": "",
    }
    data.update(overrides)
    return data


def test_a_submission_opens_one_web_ticket_with_its_reason(client):
    token = open_form(client)
    response = client.post("/help/contact/", fields(token))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.WEB
    assert ticket.contact_reason.slug == "payouts"
    assert ticket.requester.email == "ops@merchant.test"
    assert ticket.description.startswith("Account id: acct_123\nRequest id: req_9f8e\n\n")
    assert "4242 4242 4242 4242" not in ticket.description  # masked by ticket_create
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f"#{ticket.pk}".encode() in page.content


def test_sending_the_same_form_twice_opens_one_ticket(client):
    token = open_form(client)
    first = client.post("/help/contact/", fields(token))
    second = client.post("/help/contact/", fields(token, subject="Resent"))
    assert Ticket.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert client.get(second["Location"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_opens_one_ticket(client):
    QueueFactory(slug="payments", is_default=True)
    token = open_form(client)
    results = []

    def send():
        from django.test import Client

        try:
            results.append(Client().post("/help/contact/", fields(token)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [302] * 4
    assert Ticket.objects.count() == 1


def test_honeypot_creates_nothing(client):
    token = open_form(client)
    response = client.post("/help/contact/", fields(token, website="http://spam.test"))
    assert response.status_code == 400
    assert b"automated" in response.content
    assert Ticket.objects.count() == 0


def test_rate_limit_per_email_and_per_address(client, monkeypatch):
    monkeypatch.setattr(contact_module, "PER_HOUR", 2)
    for n in range(2):
        token = open_form(client)
        assert client.post("/help/contact/", fields(token, email=f"a{n}@m.test")).status_code == 302
    token = open_form(client)
    refused = client.post("/help/contact/", fields(token, email="new@m.test"))
    assert refused.status_code == 400  # the third from one address within the hour
    assert b"several messages" in refused.content
    assert Ticket.objects.count() == 2


def test_rate_limit_per_email_from_many_addresses(client, monkeypatch):
    monkeypatch.setattr(contact_module, "PER_HOUR", 1)
    token = open_form(client)
    assert client.post("/help/contact/", fields(token), REMOTE_ADDR="10.0.0.1").status_code == 302
    token = open_form(client)
    refused = client.post("/help/contact/", fields(token), REMOTE_ADDR="10.0.0.2")
    assert refused.status_code == 400
    assert Ticket.objects.count() == 1


def test_bad_attachments_create_nothing(client, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    token = open_form(client)
    big = SimpleUploadedFile("dump.bin", b"x" * 2048, content_type="application/octet-stream")
    response = client.post("/help/contact/", {**fields(token), "attachments": [big]})
    assert response.status_code == 400
    assert b"larger than" in response.content
    many = [SimpleUploadedFile(f"f{i}.txt", b"hi") for i in range(6)]
    response = client.post("/help/contact/", {**fields(token), "attachments": many})
    assert response.status_code == 400
    assert b"at most 5 files" in response.content
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_attachments_are_stored_on_the_ticket(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    token = open_form(client)
    shot = SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    assert (
        client.post("/help/contact/", {**fields(token), "attachments": [shot]}).status_code == 302
    )
    (attachment,) = Attachment.objects.all()
    assert attachment.ticket == Ticket.objects.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "screen.png",
        "image/png",
        8,
    )


def test_missing_fields_and_unknown_reason_are_explained(client):
    token = open_form(client)
    response = client.post(
        "/help/contact/", fields(token, email="nope", reason="bogus", subject="")
    )
    assert response.status_code == 400
    assert b"Choose one of the topics" in response.content
    assert b"valid email" in response.content
    assert Ticket.objects.count() == 0


def test_a_forged_token_is_refused_and_replaced(client):
    response = client.post("/help/contact/", fields("not-a-token"))
    assert response.status_code == 400
    assert b"expired" in response.content
    fresh = TOKEN.search(response.content).group(1).decode()
    assert client.post("/help/contact/", fields(fresh)).status_code == 302
    assert Ticket.objects.count() == 1


def test_suggestions_fragment_and_deflection_bookkeeping(client):
    ArticleFactory(slug="payout-timing", title="Payout timing and schedules")
    ArticleFactory(slug="secret", title="Payout internals", visibility="internal")
    token = open_form(client)
    fragment = client.get("/help/suggest/", {"q": "my payout is late", "token": token})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b"/help/articles/payout-timing/?from=" in fragment.content
    assert b"secret" not in fragment.content
    visit = FormVisit.objects.get()
    assert visit.suggestions_shown == 1
    link = re.search(rb'href="([^"]+)"', fragment.content).group(1).decode().replace("&amp;", "&")
    assert client.get(link).status_code == 200
    visit.refresh_from_db()
    assert visit.articles_opened == 1
    # Someone else opening the same link does not count on this visit.
    from django.test import Client

    Client().get(link)
    visit.refresh_from_db()
    assert visit.articles_opened == 1


def test_the_subject_input_asks_for_suggestions(client):
    page = client.get("/help/contact/").content.decode()
    assert 'hx-get="/help/suggest/"' in page
    assert 'name="website"' in page
    assert "payouts" in page  # the reasons come from ContactReason

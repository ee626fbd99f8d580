"""The three doors: SMTP (real conversations with smtplib), HTTP and the pipe. Each says yes
only once the message is committed, and "try later" when the database is unavailable."""

import io
import smtplib
import sys
from datetime import timedelta
from email.policy import SMTP

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError

from mail import inbound as mail_inbound
from mail import smtp as mail_smtp
from mail.models import Door, InboundEmail, InboundStatus
from mail.tasks import inbound_process_task, mail_reconcile_task
from tests.factories import UserFactory, make_token
from tests.mail.conftest import DESK, free_port, mime
from tickets.models import Ticket


@pytest.fixture
def no_broker(monkeypatch):
    """Tasks are not published: tests process what the doors stored themselves."""
    published = []
    monkeypatch.setattr(mail_inbound, "enqueue_process", published.append)
    return published


@pytest.fixture
def receiver(settings, no_broker):
    settings.SUPPORT_EMAIL_ALIASES = ["help@merchant-desk.test"]
    settings.EMAIL_MAX_BYTES = 20_000
    port = free_port()
    controller = mail_smtp.controller(host="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()
    controller.handler.close()


def _send(port: int, message, to=(DESK,)):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail("ann@merchant.test", list(to), message.as_bytes(policy=SMTP))


@pytest.mark.django_db(transaction=True)
def test_smtp_accepts_the_desk_its_tags_and_aliases_after_commit(receiver, no_broker, desk_queue):
    to = [DESK, "Support+Billing@Desk.Localhost", "HELP@merchant-desk.test"]
    assert _send(receiver, mime(), to=to) == {}
    inbound = InboundEmail.objects.get()
    assert inbound.door == Door.SMTP
    assert inbound.envelope_to == to
    assert no_broker == [inbound.pk]  # handed to processing after commit
    mail_inbound.inbound_process(inbound_id=inbound.pk)
    assert Ticket.objects.get().requester.email == "ann@merchant.test"


@pytest.mark.django_db(transaction=True)
def test_smtp_refuses_other_recipients_with_550(receiver):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(receiver, mime(), to=["someone@desk.localhost", "support@elsewhere.test"])
    assert {code for code, _ in refused.value.recipients.values()} == {550}
    # One good recipient among bad ones: accepted for the good one only.
    assert list(_send(receiver, mime(), to=[DESK, "x@desk.localhost"])) == ["x@desk.localhost"]
    assert InboundEmail.objects.get().envelope_to == [DESK]


@pytest.mark.django_db(transaction=True)
def test_smtp_refuses_oversized_messages_with_552(receiver):
    big = mime(body=("x" * 70 + "\n") * 500)
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE=... in MAIL FROM
        _send(receiver, big)
    assert refused.value.smtp_code == 552
    with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as client:  # no SIZE: at DATA
        client.ehlo()
        assert client.mail("ann@merchant.test")[0] == 250
        assert client.rcpt(DESK)[0] == 250
        code, _ = client.data(big.as_bytes(policy=SMTP))
    assert code == 552
    assert not InboundEmail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_smtp_answers_451_when_the_database_is_unavailable(receiver, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(mail_smtp, "inbound_store", down)
    with pytest.raises(smtplib.SMTPDataError) as error:
        _send(receiver, mime())
    assert error.value.smtp_code == 451


# --- HTTP ---------------------------------------------------------------------------------


def _post(api_client, raw: bytes, content_type="message/rfc822", role="lead", scopes=("email",)):
    token = make_token(UserFactory(role=role), scopes=scopes)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.post("/api/v1/inbound/email", raw, content_type=content_type)


@pytest.mark.django_db
def test_http_stores_and_answers_202(api_client, no_broker, django_capture_on_commit_callbacks):
    raw = mime().as_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api_client, raw)
    assert response.status_code == 202, response.content
    inbound = InboundEmail.objects.get()
    assert response.json() == {"id": inbound.pk, "status": "received"}
    assert inbound.door == Door.API
    assert no_broker == [inbound.pk]
    again = _post(api_client, raw)
    assert again.json() == {"id": inbound.pk, "status": "duplicate"}


@pytest.mark.django_db
def test_http_needs_the_email_scope(api_client):
    assert _post(api_client, mime().as_bytes(), scopes=("tickets:write",)).status_code == 403
    api_client.credentials()
    api_client.force_login(UserFactory(role="agent"))  # an agent's role has no email scope
    response = api_client.post("/api/v1/inbound/email", b"x", content_type="message/rfc822")
    assert response.status_code == 403


@pytest.mark.django_db
def test_http_refuses_other_content_types_and_oversized_or_empty_bodies(api_client, settings):
    response = _post(api_client, b'{"a": 1}', content_type="application/json")
    assert response.status_code == 415
    assert response.json()["error"]["type"] == "invalid_request_error"
    settings.EMAIL_MAX_BYTES = 2000
    response = _post(api_client, mime(body="x" * 5000).as_bytes())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert _post(api_client, b"").status_code == 400
    assert _post(api_client, b"\x00\x01 not mail").status_code == 400
    assert not InboundEmail.objects.exists()


@pytest.mark.django_db
def test_http_answers_503_when_the_database_is_unavailable(api_client, monkeypatch):
    from mail.api import views

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "inbound_store", down)
    response = _post(api_client, mime().as_bytes())
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "api_error"


# --- pipe ---------------------------------------------------------------------------------


def _pipe(monkeypatch, data: bytes, *args):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = io.StringIO()
    call_command("ingest_email", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_pipe_reads_stdin_or_a_file(monkeypatch, tmp_path, no_broker):
    assert "stored" in _pipe(monkeypatch, mime(body="one").as_bytes())
    path = tmp_path / "m.eml"
    path.write_bytes(mime(body="two").as_bytes())
    assert "stored" in _pipe(monkeypatch, b"", "--file", str(path))
    assert list(InboundEmail.objects.values_list("door", flat=True)) == [Door.PIPE] * 2


@pytest.mark.django_db
def test_pipe_exits_75_when_the_database_is_unavailable(monkeypatch):
    from mail.management.commands import ingest_email

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ingest_email, "inbound_store", down)
    with pytest.raises(SystemExit) as exit_:
        _pipe(monkeypatch, mime().as_bytes())
    assert exit_.value.code == 75


@pytest.mark.django_db
@pytest.mark.parametrize("data", [b"", b"\n\n", b"just some words\nno headers"])
def test_pipe_refuses_input_that_is_not_mail(monkeypatch, data):
    from django.core.management import CommandError

    with pytest.raises(CommandError) as error:
        _pipe(monkeypatch, data)
    assert error.value.returncode == 65
    assert not InboundEmail.objects.exists()


@pytest.mark.django_db
def test_pipe_reprocesses_failed_messages(
    monkeypatch, no_broker, django_capture_on_commit_callbacks
):
    failed = InboundEmail.objects.create(
        raw=b"x", sha256="0" * 64, door=Door.PIPE, status=InboundStatus.FAILED,
        received_at="2026-01-01T00:00:00Z", error="boom",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 message" in _pipe(monkeypatch, b"", "--reprocess-failed")
    failed.refresh_from_db()
    assert failed.status == InboundStatus.RECEIVED
    assert no_broker == [failed.pk]


# --- Redis down ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reconciliation_processes_what_no_task_picked_up(
    monkeypatch, desk_queue, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(inbound_process_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        stored = mail_inbound.inbound_store(raw=mime().as_bytes(), door=Door.API)
    stored.inbound.refresh_from_db()
    assert stored.inbound.status == InboundStatus.RECEIVED  # kept, not lost
    assert mail_reconcile_task() == 0  # too fresh: its task may still be on the way
    with time_machine.travel(stored.inbound.received_at + timedelta(minutes=1)):
        assert mail_reconcile_task() >= 1
    stored.inbound.refresh_from_db()
    assert stored.inbound.status == InboundStatus.PROCESSED
    assert stored.inbound.ticket is not None

"""Mail tests: MIME built with the standard library, real SMTP conversations (smtplib
against our receiver, our sender against an aiosmtpd sink), no sleeps."""

import secrets
import socket
import string
from email.message import EmailMessage as Mime

import pytest
from aiosmtpd.controller import Controller

from tests.factories import QueueFactory
from tickets.services import queue_default_forget

DESK = "support@desk.localhost"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_msgid() -> str:
    """Letters only: a digit run could look like a card number and be masked."""
    token = "".join(secrets.choice(string.ascii_lowercase) for _ in range(20))
    return f"<{token}@merchant.test>"


def mime(
    *,
    sender: str = "Ann Customer <ann@merchant.test>",
    to: str = DESK,
    subject: str = "Payout missing",
    body: str = "Our payout of Friday has not arrived.",
    cc: str | None = None,
    message_id: str | None = None,
    headers: dict | None = None,
) -> Mime:
    message = Mime()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id or new_msgid()
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


@pytest.fixture
def desk_queue(db):
    queue_default_forget()
    queue = QueueFactory(slug="support", is_default=True)
    yield queue
    queue_default_forget()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path


class Sink:
    """Collects what our sender delivers over real SMTP. `answer` makes it refuse."""

    def __init__(self):
        self.envelopes = []
        self.answer: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.answer:
            return self.answer
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink(settings):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield sink
    controller.stop()

"""Notifications and their e-mail copies (issue 9, item 7): written in one INSERT, sent to
a real SMTP server, marked sent only once the server accepted, never sent twice, retried
with backoff when the server is down or refuses, and marked as automatic mail."""

import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection
from django.utils import timezone

from accounts.models import Role
from sla.models import Escalation, Notification
from sla.notifications import notifications_claim, notifications_send, notify
from support_desk.email_url import email_config
from tests.factories import UserFactory
from tickets import services as tickets

pytestmark = pytest.mark.django_db


class Inbox:
    """aiosmtpd handler: keeps what it accepted; refuses recipients listed in `refuse`."""

    def __init__(self):
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield inbox
    controller.stop()


@pytest.fixture
def escalation():
    ticket = tickets.ticket_create(
        actor=None,
        subject="Chargeback storm",
        description="40 in an hour.",
        requester_email="risk@merchant.test",
    )
    return Escalation.objects.create(
        ticket=ticket, reason="first reply #1 breached: Tell the leads", fire_at=timezone.now()
    )


def test_notifications_are_written_in_one_insert(escalation, django_assert_num_queries):
    users = [UserFactory(role=Role.LEAD) for _ in range(6)]
    with django_assert_num_queries(1):
        notify(escalation=escalation, users=[*users, users[0]], text=escalation.reason)
    assert Notification.objects.filter(escalation=escalation).count() == 6
    # A retried firing adds nobody twice (the unique constraint, not a read first).
    notify(escalation=escalation, users=users, text=escalation.reason)
    assert Notification.objects.filter(escalation=escalation).count() == 6


def test_mail_is_marked_sent_only_after_the_server_accepted_it_and_never_twice(smtp, escalation):
    lead = UserFactory(role=Role.LEAD, email="lena@desk.test")
    notify(escalation=escalation, users=[lead], text=escalation.reason)
    note = Notification.objects.get()

    assert notifications_send() == 1
    assert notifications_send() == 0
    assert notifications_send(escalation_id=escalation.pk) == 0

    ((recipients, message),) = smtp.messages
    assert recipients == ["lena@desk.test"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == f"<notification-{note.pk}@127.0.0.1>"
    assert f"/tickets/{escalation.ticket_id}/" in message.get_payload()
    note.refresh_from_db()
    assert note.emailed_at is not None
    assert (note.email_attempts, note.email_error) == (1, "")


def test_server_down_leaves_mail_unsent_and_retries_later(settings, smtp, escalation):
    lead = UserFactory(role=Role.LEAD, email="lena@desk.test")
    notify(escalation=escalation, users=[lead], text=escalation.reason)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens: the connection is refused
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        assert notifications_send() == 0
    note = Notification.objects.get()
    assert note.emailed_at is None
    assert note.email_attempts == 1
    assert "ConnectionRefusedError" in note.email_error
    assert note.email_retry_at == start + timedelta(minutes=1)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert notifications_send() == 0  # backing off: not even tried
    assert Notification.objects.get().email_attempts == 1

    settings.EMAIL_PORT = working_port
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert notifications_send() == 1
    assert len(smtp.messages) == 1
    assert Notification.objects.get().emailed_at is not None


def test_a_refused_recipient_does_not_stop_the_others(smtp, escalation):
    refused = UserFactory(role=Role.LEAD, email="gone@desk.test")
    kept = UserFactory(role=Role.LEAD, email="here@desk.test")
    smtp.refuse.add("gone@desk.test")
    notify(escalation=escalation, users=[refused, kept], text=escalation.reason)

    assert notifications_send() == 1
    assert [recipients for recipients, _ in smtp.messages] == [["here@desk.test"]]
    unsent = Notification.objects.get(user=refused)
    assert unsent.emailed_at is None
    assert "SMTPRecipientsRefused" in unsent.email_error
    assert unsent.email_retry_at > timezone.now()


def test_two_mailers_never_claim_the_same_row(escalation):
    users = [UserFactory(role=Role.LEAD) for _ in range(3)]
    notify(escalation=escalation, users=users, text=escalation.reason)
    now = timezone.now()
    first = notifications_claim(now=now, limit=2)
    second = notifications_claim(now=now, limit=2)
    assert len(first) == 2
    assert len(second) == 1
    assert not set(first) & set(second)
    assert notifications_claim(now=now) == []
    # A mailer that died mid-batch: its lease runs out and the rows are sent by the next.
    assert len(notifications_claim(now=now + timedelta(minutes=11))) == 3


def test_users_without_an_address_are_not_claimed(escalation):
    notify(escalation=escalation, users=[UserFactory(email="")], text=escalation.reason)
    assert notifications_claim(now=timezone.now()) == []


def test_without_a_mail_server_mail_goes_to_files(settings, tmp_path, escalation):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "outbox")
    notify(escalation=escalation, users=[UserFactory(email="lena@desk.test")], text="x")
    assert notifications_send() == 1
    (written,) = (tmp_path / "outbox").iterdir()
    assert "Auto-Submitted: auto-generated" in written.read_text()


def test_connection_carries_the_configured_timeout(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = 7
    assert get_connection().timeout == 7


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://desk:p%40ss@mail.example.com:2525",
            {
                "host": "mail.example.com",
                "port": 2525,
                "user": "desk",
                "password": "p@ss",
                "use_tls": False,
                "use_ssl": False,
            },
        ),
        ("smtp+tls://mail.example.com", {"port": 587, "use_tls": True, "use_ssl": False}),
        ("smtps://u:p@mail.example.com", {"port": 465, "use_tls": False, "use_ssl": True}),
        ("smtp://mail.example.com", {"port": 25, "user": "", "password": ""}),
        ("file:///srv/mail", {"file_path": "/srv/mail"}),
    ],
)
def test_email_url_is_parsed(url, expected, tmp_path):
    config = email_config(url, default_file_path=tmp_path)
    for name, value in expected.items():
        assert getattr(config, name) == value


def test_no_email_url_means_files_under_var_mail(tmp_path):
    config = email_config("", default_file_path=tmp_path / "var/mail/outbox")
    assert config.backend == "django.core.mail.backends.filebased.EmailBackend"
    assert config.file_path == str(tmp_path / "var/mail/outbox")


@pytest.mark.parametrize(
    "url", ["smpt://mail.example.com", "smtp://", "smtp://host:port", "file://relative"]
)
def test_bad_email_url_is_refused(url, tmp_path):
    with pytest.raises(ImproperlyConfigured):
        email_config(url, default_file_path=tmp_path)

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tickets.models import Message, Queue, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_working_desk_once():
    call_command("seed_demo", tickets=12, stdout=None)
    assert Ticket.objects.count() == 12
    assert set(Queue.objects.values_list("slug", flat=True)) >= {
        "payments", "payouts", "disputes", "api-integrations", "eng-payments", "eng-platform"
    }  # fmt: skip
    for name in ("admin", "lead", "agent", "engineer"):
        assert User.objects.get(username=name).check_password("demo")
    assert Message.objects.exists()
    # every ticket has its history, starting with its creation
    assert TicketEvent.objects.filter(type="created").count() == 12

    call_command("seed_demo", tickets=12, if_empty=True)
    assert Ticket.objects.count() == 12


def test_seed_demo_refuses_production(monkeypatch):
    monkeypatch.setenv("DESK_ENV", "production")
    with pytest.raises(CommandError, match="never runs in production"):
        call_command("seed_demo", tickets=1)
    assert not User.objects.filter(username="admin").exists()


def test_seed_demo_rejects_negative_counts():
    with pytest.raises(CommandError, match="between 0"):
        call_command("seed_demo", tickets=-1)

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_creates_an_admin_who_can_sign_in(client, monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", "a long passphrase 42")
    call_command("create_admin", username="root", email="ops@desk.example")
    admin = User.objects.get(username="root")
    assert (admin.role, admin.is_staff, admin.is_superuser) == (Role.ADMIN, True, True)
    assert admin.email == "ops@desk.example"
    assert "Admin 'root' created" in capsys.readouterr().out
    signed_in = client.post("/login/", {"username": "root", "password": "a long passphrase 42"})
    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_refuses_a_second_admin_with_the_same_name_unless_told(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", "a long passphrase 42")
    call_command("create_admin", username="root", email="a@desk.example")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_admin", username="ROOT", email="b@desk.example")
    call_command("create_admin", username="root", email="b@desk.example", if_missing=True)
    assert User.objects.get().email == "a@desk.example"


def test_refuses_without_a_password_or_with_a_weak_one(monkeypatch):
    monkeypatch.delenv("DJANGO_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="DJANGO_ADMIN_PASSWORD"):
        call_command("create_admin", username="root", email="a@desk.example")
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", "root")
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_admin", username="root", email="a@desk.example")
    assert not User.objects.exists()

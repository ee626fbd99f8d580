"""Sign-in lock-out: per account and per client address, with a message saying why."""

import pytest

from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LOGIN_LOCKOUT_ACCOUNT_ATTEMPTS = 3
    settings.LOGIN_LOCKOUT_ADDRESS_ATTEMPTS = 6
    settings.LOGIN_LOCKOUT_SECONDS = 900


def sign_in(client, username, password, address="10.0.0.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_account_locks_after_its_limit_even_for_the_right_password(client):
    UserFactory(username="agent", role=Role.AGENT, password="right")
    for _ in range(3):
        wrong = sign_in(client, "agent", "guess")
        assert wrong.status_code == 200
        assert "Please enter a correct username and password" in wrong.text

    locked = sign_in(client, "agent", "right")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 1
    assert "Too many failed sign-in attempts for this account" in locked.text
    assert "try again in" in locked.text
    assert not signed_in(client)
    # The lock is on the account, whatever address (or letter case) the next try comes from.
    elsewhere = sign_in(client, "AGENT", "right", address="10.9.9.9")
    assert elsewhere.status_code == 429
    assert not signed_in(client)


def test_address_locks_after_its_limit_across_accounts(client):
    UserFactory(username="lead", role=Role.LEAD, password="right")
    for name in ("a", "b", "c", "d", "e", "f"):  # one guess each: no account reaches 3
        assert sign_in(client, name, "guess").status_code == 200

    locked = sign_in(client, "lead", "right")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts from your network address" in locked.text
    assert not signed_in(client)
    # Another address is not affected.
    assert sign_in(client, "lead", "right", address="10.0.0.2").status_code == 302
    assert signed_in(client)


def test_success_clears_the_accounts_failures(client):
    UserFactory(username="agent", role=Role.AGENT, password="right")
    for _ in range(2):
        sign_in(client, "agent", "guess")
    assert sign_in(client, "agent", "right").status_code == 302
    client.logout()
    for _ in range(3):
        assert sign_in(client, "agent", "guess").status_code == 200
    assert sign_in(client, "agent", "right").status_code == 429


def test_successful_sign_ins_do_not_use_up_an_address(client):
    UserFactory(username="agent", role=Role.AGENT, password="right")
    for _ in range(10):  # an office behind one address signs in all day
        assert sign_in(client, "agent", "right").status_code == 302
        client.logout()


def test_admin_sign_in_shares_the_lock_out(client):
    UserFactory(username="boss", role=Role.ADMIN, password="right", is_staff=True)
    for _ in range(3):
        sign_in(client, "boss", "guess", path="/admin/login/")
    locked = sign_in(client, "boss", "right", path="/admin/login/")
    assert "Too many failed sign-in attempts for this account" in locked.text
    assert not signed_in(client)
    # ... and counts towards the same lock as the desk's page.
    assert sign_in(client, "boss", "right").status_code == 429


def test_an_admin_can_lift_a_lock_out(client):
    from django.core.management import call_command

    UserFactory(username="agent", role=Role.AGENT, password="right")
    for _ in range(4):
        sign_in(client, "agent", "guess")
    assert sign_in(client, "agent", "right").status_code == 429
    call_command("unlock_sign_in", username="Agent")
    assert sign_in(client, "agent", "right").status_code == 302

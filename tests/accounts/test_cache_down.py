"""With Redis unreachable the API and the sign-in page keep answering (fail open, logged)."""

import socket
import time

import pytest

from accounts.models import Role
from tests.factories import UserFactory, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    return port


def test_api_answers_quickly_without_redis(api_client, cache_down, caplog):
    token = make_token(UserFactory(role=Role.AGENT), ("tickets:read",))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    started = time.monotonic()
    statuses = [api_client.get("/api/v1/tickets").status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert time.monotonic() - started < 3
    assert "API rate limit is off: the cache is unreachable" in caplog.text


def test_sign_in_works_without_redis(client, cache_down, caplog):
    UserFactory(username="agent", role=Role.AGENT, password="right")
    assert client.get("/login/").status_code == 200
    wrong = client.post("/login/", {"username": "agent", "password": "guess"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.text
    assert client.post("/login/", {"username": "agent", "password": "right"}).status_code == 302
    assert "_auth_user_id" in client.session
    assert "Sign-in lock-out is off: the cache is unreachable" in caplog.text


def test_healthz_reports_the_broker_down(client, cache_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")

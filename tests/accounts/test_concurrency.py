"""Limits hold under parallel clients: 16 threads against a real (threaded) server."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.models import Role
from tests.factories import UserFactory, make_token

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 16


def fire(url: str, count: int, **kwargs) -> list[int]:
    session_per_thread: dict = {}

    def one(_):
        import threading

        session = session_per_thread.setdefault(threading.get_ident(), requests.Session())
        return session.request(url=url, timeout=30, **kwargs).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(count)))


def test_rate_limit_is_exact_with_16_parallel_clients(live_server, monkeypatch):
    from accounts.throttling import TokenRateThrottle

    limit = 60
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": f"{limit}/hour"})
    token = make_token(UserFactory(role=Role.AGENT), ("tickets:read",))
    for _ in range(2):  # a second round only if the first straddled an hour boundary
        hour = int(time.time() // 3600)
        statuses = fire(
            live_server.url + "/api/v1/tickets",
            4 * limit,
            method="GET",
            headers={"Authorization": f"Bearer {token}"},
        )
        if int(time.time() // 3600) == hour:
            break
    assert set(statuses) == {200, 429}
    assert statuses.count(200) == limit  # SimpleRateThrottle let 196 of 240 through here


def test_parallel_guesses_get_no_more_tries_than_the_lock_out_allows(live_server, settings):
    settings.LOGIN_LOCKOUT_ACCOUNT_ATTEMPTS = 5
    UserFactory(username="agent", role=Role.AGENT, password="right")
    login = live_server.url + "/login/"

    def guess(_):
        with requests.Session() as session:
            session.get(login, timeout=30)
            return session.post(
                login,
                data={
                    "username": "agent",
                    "password": "guess",
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={"Referer": login},
                timeout=30,
            ).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(guess, range(2 * THREADS)))
    assert statuses.count(200) == 5  # passwords actually checked
    assert statuses.count(429) == 2 * THREADS - 5


def test_the_count_survives_redis_forgetting_its_scripts():
    from django.core.cache import cache

    from accounts.throttling import _count_script, count_in_window

    script = _count_script(cache)
    if script is None:
        pytest.skip("the cache is not Redis")
    assert count_in_window(cache=cache, key="flush-test", timeout=60) == 1
    script.registered_client.script_flush()  # as after a Redis restart
    assert count_in_window(cache=cache, key="flush-test", timeout=60) == 2
    assert 0 < script.registered_client.ttl(cache.make_and_validate_key("flush-test")) <= 60

"""Idempotency-Key on ticket creation: replays, mismatches and a real race over Postgres."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_token
from tickets.api.idempotency import idempotency_purge
from tickets.models import IdempotencyRecord, Ticket

BODY = {
    "subject": "Card declines with do_not_honor",
    "description": "Since 09:00 UTC every Visa card is declined.",
    "requester": {"email": "cto@shop.test"},
    "priority": "urgent",
}


def post(client, body, key):
    return client.post("/api/v1/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def client(api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token()}")
    return api_client


@pytest.mark.django_db
def test_repeat_returns_the_first_response(client):
    first = post(client, BODY, "order-42")
    again = post(client, BODY, "order-42")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_same_key_different_body_is_409(client):
    post(client, BODY, "order-42")
    other = post(client, {**BODY, "priority": "low"}, "order-42")
    assert other.status_code == 409
    assert other.json()["error"]["type"] == "idempotency_error"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(api_client):
    for _ in range(2):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(UserFactory())}")
        assert post(api_client, BODY, "shared-key").status_code == 201
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_a_rejected_request_does_not_burn_the_key(client):
    bad = post(client, {**BODY, "queue": "nope"}, "retry-me")
    assert bad.status_code == 400
    good = post(client, BODY, "retry-me")
    assert good.status_code == 201


@pytest.mark.django_db
def test_overlong_key_is_400(client):
    response = post(client, BODY, "k" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_records_older_than_a_day_are_purged(client):
    from datetime import timedelta

    from django.utils import timezone

    post(client, BODY, "old")
    assert idempotency_purge(now=timezone.now() + timedelta(hours=23)) == 0
    assert idempotency_purge(now=timezone.now() + timedelta(hours=25)) == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_thirty_simultaneous_requests_create_one_ticket():
    token = make_token()
    barrier = threading.Barrier(30)
    responses: list = [None] * 30

    def send(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            responses[index] = post(client, BODY, "race-1")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Ticket.objects.count() == 1
    assert {r.status_code for r in responses} == {201}
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["id"] == Ticket.objects.get().pk


def test_beat_purges_idempotency_records_hourly():
    import tickets.tasks  # noqa: F401  (registers the schedule)
    from support_desk.celery import app

    entry = app.conf.beat_schedule["tickets-idempotency-purge"]
    assert entry["task"] == "tickets.idempotency_purge"

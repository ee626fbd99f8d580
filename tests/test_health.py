import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["broker"]) == ("ok", "ok")
    assert body["sla"] == {
        "failing_recomputes": 0,
        "failing_tickets": [],
        "recompute_backlog": 0,
    }


def test_healthz_counts_changed_tickets_waiting_for_their_recompute(client):
    from sla import recompute_queue
    from tests.factories import TicketFactory

    for ticket in TicketFactory.create_batch(2):
        recompute_queue.announce(ticket.pk, queue_drain=lambda: None)  # no worker drains
    assert client.get("/healthz").json()["sla"]["recompute_backlog"] == 2


def test_healthz_names_the_failing_broker_with_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")

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
        "stale_tickets": 0,
    }


def test_healthz_counts_changed_tickets_waiting_for_their_recompute(client):
    from tests.factories import TicketFactory

    TicketFactory.create_batch(2, sla_stale=True)  # no worker has recomputed them
    TicketFactory(sla_stale=False)
    assert client.get("/healthz").json()["sla"]["stale_tickets"] == 2


def test_healthz_names_the_failing_broker_with_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")

"""The lead dashboard in Chromium: charts drawn, a CSV downloaded."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.dashboard.factories import SlaTimerFactory
from tests.factories import QueueFactory, TicketFactory, UserFactory


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_lead_sees_charts_and_downloads_a_csv(live_server, page, client):
    now = timezone.now()
    queue = QueueFactory(slug="payments", name="Payments")
    for i in range(12):
        ticket = TicketFactory(queue=queue, status="open", created_at=now - timedelta(days=i))
        outcome = now - timedelta(days=i % 6, hours=1)
        if i % 4:
            SlaTimerFactory(ticket=ticket, cycle=1, status="met", fulfilled_at=outcome)
        else:
            SlaTimerFactory(
                ticket=ticket, cycle=1, status="breached", breached_at=outcome, elapsed_seconds=5400
            )
    lead = UserFactory(username="lead", role=Role.LEAD)
    client.force_login(lead)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])

    page.goto(live_server.url + "/dashboard/")
    assert page.locator("h1").inner_text() == "SLA dashboard"
    page.wait_for_function("() => window.dashboardCharts && window.dashboardCharts['chart-trend']")
    drawn = page.evaluate(
        """() => Object.entries(window.dashboardCharts).map(([id, chart]) =>
            [id, chart.canvas.width, chart.canvas.height, chart.data.datasets.length])"""
    )
    assert {d[0] for d in drawn} >= {"chart-trend", "chart-sla-queue", "chart-backlog"}
    assert all(width > 0 and height > 0 and sets > 0 for _, width, height, sets in drawn)
    assert page.locator('[data-tile="compliance"] .dash-tile-value').inner_text() == "75.0%"
    page.screenshot(path="/tmp/dashboard_e2e.png", full_page=True)

    with page.expect_download() as info:
        page.locator("#table-sla_by_queue a.dash-csv").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    assert rows[0][:4] == ["Queue", "Met", "Breached", "Cancelled"]
    assert rows[1][:4] == ["Payments", "9", "3", "0"]

"""The dashboard's support figures: the same numbers as the API, CSV exports, the
contact-reason filter and a bounded number of queries."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from tests.factories import UserFactory

from .test_support_metrics import desk  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2025-03-03", "to": "2025-03-10"}


@pytest.fixture
def lead_client(db):
    client = Client()
    client.force_login(UserFactory(username="lead", role=Role.LEAD))
    return client


def _part(client, **params):
    return client.get(
        "/dashboard/", {**PERIOD, "part": "support", **params}, HTTP_HX_REQUEST="true"
    )


def test_the_page_loads_the_support_figures_beside_the_sla_tiles(lead_client):
    html = lead_client.get("/dashboard/", PERIOD).content.decode()
    assert 'id="support-figures"' in html
    assert "part=support" in html


def test_tiles_and_tables_show_the_api_figures(desk, lead_client):  # noqa: F811
    api = lead_client.get("/api/v1/metrics/support", PERIOD).json()["total"]
    response = _part(lead_client)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-tile="csat"' in html
    assert f"{api['csat_score'] * 100:.1f}%" in html
    assert f"{api['contact_rate_per_100_accounts']:.2f}" in html
    assert "previous period" in html
    assert 'name="reason"' in html


def test_csv_export_matches_the_api(desk, lead_client):  # noqa: F811
    api = lead_client.get("/api/v1/metrics/support", {**PERIOD, "group_by": "reason"}).json()
    response = lead_client.get(
        "/dashboard/", {**PERIOD, "format": "csv", "table": "support_by_reason"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["Reason", "Contacts"]
    by_label = {r[0]: r for r in rows[1:]}
    for group in api["groups"]:
        assert int(by_label[group["label"]][1]) == group["contacts"]
    assert int(by_label["All"][1]) == api["total"]["contacts"]
    day_rows = list(
        csv.reader(
            io.StringIO(
                lead_client.get(
                    "/dashboard/", {**PERIOD, "format": "csv", "table": "support_by_day"}
                ).content.decode()
            )
        )
    )
    assert "n/a" in {cell for row in day_rows for cell in row}  # the day without a denominator


def test_the_reason_filter(desk, lead_client):  # noqa: F811
    slug = desk["reasons"][0].slug
    api = lead_client.get("/api/v1/metrics/support", {**PERIOD, "reason": slug}).json()["total"]
    response = lead_client.get(
        "/dashboard/", {**PERIOD, "format": "csv", "table": "support_by_day", "reason": slug}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert int(rows[-1][1]) == api["contacts"]
    assert lead_client.get("/dashboard/", {**PERIOD, "reason": "nope"}).status_code == 400


def test_the_standalone_page_works_without_javascript(desk, lead_client):  # noqa: F811
    response = lead_client.get("/dashboard/", {**PERIOD, "part": "support"})
    assert response.status_code == 200
    assert b"<html" in response.content
    assert b'data-tile="contacts_per_10k_payments"' in response.content


def test_query_count_is_bounded_and_independent_of_data(lead_client, request):
    with CaptureQueriesContext(connection) as empty:
        assert _part(lead_client).status_code == 200
    request.getfixturevalue("desk")
    with CaptureQueriesContext(connection) as full:
        assert _part(lead_client).status_code == 200
    # Current and previous period: 3 statements each, plus the help center's figures for
    # both, the reason list, labels for reasons and agents, and the session.
    assert len(full) <= 22
    assert len(empty) <= len(full)


def test_agents_may_not_see_it(db):
    client = Client()
    client.force_login(UserFactory(username="a", role=Role.AGENT))
    assert _part(client).status_code == 403

"""/analytics/: the console for leads and admins, the audit log for admins, CSV."""

import csv
import io

import pytest

from analytics.demo import seed_saved_queries
from analytics.models import SavedQuery
from analytics.views import safe_cell

URL = "/analytics/"


def test_leads_see_the_editor_and_the_schema(client, lead):
    client.force_login(lead)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="an-sql"' in html
    assert "<code>tickets</code>" in html
    assert "elapsed_seconds" in html
    assert "Audit log" not in html  # admins only
    assert "<script>" not in html  # CSP: scripts come from static files


@pytest.mark.parametrize("method", ["get", "post"])
def test_agents_get_403(client, agent, method):
    client.force_login(agent)
    assert getattr(client, method)(URL, {"sql": "SELECT 1"}).status_code == 403


def test_run_shows_rows_duration_and_truncation(client, lead, settings):
    settings.ANALYTICS_MAX_ROWS = 3
    client.force_login(lead)
    response = client.post(
        URL, {"sql": "SELECT g AS n, g * 2 AS twice FROM generate_series(1, 9) g"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 rows" in html
    assert "truncated" in html
    assert " ms" in html
    assert 'id="an-data"' in html  # the chart's data, read by analytics.js


def test_errors_are_shown_escaped(client, lead):
    client.force_login(lead)
    response = client.post(URL, {"sql": "SELECT '<b>' FROM nowhere_view"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "no view" in html
    assert "nowhere_view" in html
    assert "<b>" not in html.split('id="an-sql"')[1].split("</textarea>")[0]


def test_csv_download_escapes_formulas(client, lead):
    client.force_login(lead)
    response = client.post(
        URL,
        {
            "sql": "SELECT '=1+2' AS a, '+x' AS b, '-3' AS c, '@SUM(A1)' AS d, 'ok' AS e, "
            "E'\\tx' AS f",
            "action": "csv",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["a", "b", "c", "d", "e", "f"]
    assert rows[1] == ["'=1+2", "'+x", "'-3", "'@SUM(A1)", "ok", "'\tx"]


def test_safe_cell():
    assert safe_cell(None) == ""
    assert safe_cell(-5) == "'-5"
    assert safe_cell("\rx") == "'\rx"
    assert safe_cell("a=b") == "a=b"


def test_saved_queries_with_parameters_and_the_demo_ones(client, lead):
    seed_saved_queries()
    seed_saved_queries()  # idempotent
    assert SavedQuery.objects.count() == 4
    client.force_login(lead)
    saved = SavedQuery.objects.get(name__startswith="Breaches by queue")
    page = client.get(URL, {"saved": saved.pk}).content.decode()
    assert 'name="p_days"' in page
    assert 'value="90"' in page
    response = client.post(URL, {"sql": saved.sql, "saved": saved.pk, "p_days": "90"})
    assert response.status_code == 200, response.content.decode()[-800:]
    assert "0 rows" in response.content.decode()
    for other in SavedQuery.objects.all():
        params = {f"p_{p['name']}": p.get("default", "") for p in other.parameters}
        answer = client.post(URL, {"sql": other.sql, "saved": other.pk, **params})
        assert answer.status_code == 200, other.name


def test_save_from_the_page(client, lead):
    client.force_login(lead)
    response = client.post(
        URL,
        {
            "action": "save",
            "name": "Mine",
            "sql": "SELECT count(*) FROM tickets WHERE created_at >= :since",
            "parameters": "since:date=2026-01-01",
        },
    )
    assert response.status_code == 302
    saved = SavedQuery.objects.get(name="Mine")
    assert saved.parameters == [{"name": "since", "type": "date", "default": "2026-01-01"}]
    assert saved.created_by == lead


def test_admins_see_the_audit_log(client, admin_user):
    client.force_login(admin_user)
    client.post(URL, {"sql": "SELECT 1 AS audited_one"})
    html = client.get(URL).content.decode()
    assert "Audit log" in html
    assert "audited_one" in html


def test_navigation_links_to_analytics_for_leads_only(client, lead, agent):
    client.force_login(lead)
    assert 'href="/analytics/"' in client.get("/").content.decode()
    client.force_login(agent)
    assert 'href="/analytics/"' not in client.get("/").content.decode()

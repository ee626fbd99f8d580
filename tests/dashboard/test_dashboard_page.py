"""/dashboard/: access, the figures it shows against raw rows, CSV exports, safety."""

import csv
import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine

from accounts.models import Role
from sla.models import SlaTimer
from tests.factories import QueueFactory, TicketFactory, UserFactory
from tickets.models import Message

from .conftest import NOW, PERIOD_END, PERIOD_START
from .factories import SlaTimerFactory
from .recompute import expected, percentile

pytestmark = pytest.mark.django_db
URL = "/dashboard/"
PERIOD = {"from": "2025-03-03", "to": "2025-03-10"}


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    with time_machine.travel(NOW, tick=False):
        yield client


class TableParser(HTMLParser):
    """Rows of every <section id="table-NAME"> table, as the user reads them."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and (attrs.get("id") or "").startswith("table-"):
            self._table = self.tables.setdefault(attrs["id"].removeprefix("table-"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "section":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def tile(response, name: str) -> str:
    match = re.search(
        rf'data-tile="{name}">.*?class="dash-tile-value">(.*?)</p>', response.content.decode(), re.S
    )
    assert match, name
    return match.group(1)


def tables_of(response) -> dict[str, list[list[str]]]:
    parser = TableParser()
    parser.feed(response.content.decode())
    return parser.tables


def csv_of(client, name: str, **params) -> list[list[str]]:
    response = client.get(URL, {**PERIOD, **params, "format": "csv", "table": name})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


class TestAccess:
    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=/dashboard/")

    @pytest.mark.parametrize("role", [Role.AGENT, Role.ENGINEER])
    def test_agents_and_engineers_get_403(self, client, role):
        client.force_login(UserFactory(role=role))
        assert client.get(URL).status_code == 403
        assert client.get(URL + "at-risk/").status_code == 403
        assert client.get(URL, {"format": "csv", "table": "breaches"}).status_code == 403

    @pytest.mark.parametrize("role", [Role.LEAD, Role.ADMIN])
    def test_leads_and_admins_see_it(self, client, role):
        client.force_login(UserFactory(role=role))
        response = client.get(URL)
        assert response.status_code == 200
        assert b"SLA dashboard" in response.content


def test_tiles_show_the_figures_of_the_raw_timers(desk, lead_client):
    response = lead_client.get(URL, PERIOD)
    assert response.status_code == 200
    total, _ = expected(PERIOD_START, PERIOD_END)
    assert tile(response, "compliance") == f"{total['compliance'] * 100:.1f}%"
    assert tile(response, "met") == str(total["met"])
    assert tile(response, "breached") == str(total["breached"])
    sla_by_queue = tables_of(response)["sla_by_queue"]
    payments = next(r for r in sla_by_queue if r[0] == "Payments")
    want, _ = expected(PERIOD_START, PERIOD_END, queue="payments")
    assert payments[1:4] == [str(want["met"]), str(want["breached"]), str(want["cancelled"])]
    assert payments[5:] == [
        f"{round(want[name], 2):g}"
        for name in (
            "first_reply_p50_minutes",
            "first_reply_p90_minutes",
            "resolution_p50_minutes",
            "resolution_p90_minutes",
        )
    ]
    assert tile(response, "first_reply") == (
        f"{round(total['first_reply_p50_minutes'], 2):g} / "
        f"{round(total['first_reply_p90_minutes'], 2):g} min"
    )
    refunds = next(r for r in sla_by_queue if r[0] == "Refunds")
    assert refunds[1:5] == ["0", "0", refunds[3], ""]  # only cancelled: no compliance


@pytest.mark.parametrize(
    "name",
    [
        "sla_by_metric",
        "sla_by_queue",
        "sla_by_priority",
        "sla_by_tier",
        "sla_by_policy",
        "sla_by_day",
        "breaches",
        "at_risk",
        "backlog",
        "created_solved",
        "escalations",
        "workload",
    ],
)
def test_each_csv_export_holds_exactly_the_rows_shown(activity, lead_client, name):
    shown = tables_of(lead_client.get(URL, PERIOD))[name]
    exported = csv_of(lead_client, name)
    assert exported == shown
    assert len(exported) > 1  # a header and at least one row of data


def test_breaches_list_the_timers_breached_in_the_period(desk, lead_client):
    rows = csv_of(lead_client, "breaches")
    breached = SlaTimer.objects.filter(
        status="breached", breached_at__gte=PERIOD_START, breached_at__lt=PERIOD_END
    ).order_by("-breached_at", "-id")
    assert 0 < breached.count() <= 50
    assert [r[0].split(" ")[0] for r in rows[1:]] == [f"#{t.ticket_id}" for t in breached]
    page = lead_client.get(URL, PERIOD).content.decode()
    assert f'href="/tickets/{breached[0].ticket_id}/"' in page


def test_at_risk_lists_running_timers_past_warning_soonest_first(lead_client):
    queue = QueueFactory(slug="payments", name="Payments")
    ticket = TicketFactory(queue=queue, subject="Card payouts stuck")
    soon, later = NOW + timedelta(minutes=5), NOW + timedelta(minutes=50)
    SlaTimerFactory(ticket=ticket, cycle=1, status="active", warning_at=NOW, due_at=later)
    SlaTimerFactory(
        ticket=ticket,
        cycle=2,
        metric="resolution",
        status="active",
        warning_at=NOW - timedelta(minutes=1),
        due_at=soon,
    )
    # Not at risk: warning still ahead, paused, already breached.
    SlaTimerFactory(ticket=ticket, cycle=3, status="active", warning_at=NOW + timedelta(1))
    SlaTimerFactory(ticket=ticket, cycle=4, status="paused", running=False, warning_at=NOW)
    SlaTimerFactory(ticket=ticket, cycle=5, status="breached", breached_at=NOW, warning_at=NOW)
    response = lead_client.get(URL + "at-risk/")
    assert response.status_code == 200
    rows = tables_of(response)["at_risk"]
    assert [(r[3], r[5]) for r in rows[1:]] == [
        ("resolution", soon.strftime("%Y-%m-%d %H:%M")),
        ("first_reply", later.strftime("%Y-%m-%d %H:%M")),
    ]
    assert 'hx-trigger="every 15s"' in response.content.decode()
    page = lead_client.get(URL)
    assert tables_of(page)["at_risk"] == rows
    assert tile(page, "at_risk") == "2"


def _bucket(age: timedelta) -> int:
    return sum(age >= timedelta(days=d) for d in (1, 3, 7, 30))


def test_backlog_counts_open_tickets_by_queue_and_age(activity, lead_client):
    from tickets.models import Ticket

    want: dict[str, list[int]] = {}
    for t in Ticket.objects.select_related("queue"):
        if t.status in ("new", "open", "pending", "on_hold"):
            want.setdefault(t.queue.name, [0] * 5)[_bucket(NOW - t.created_at)] += 1
    rows = csv_of(lead_client, "backlog")
    assert rows[0] == ["Queue", "< 1 day", "1-3 days", "3-7 days", "7-30 days", "30+ days", "Total"]
    got = {r[0]: [int(v) for v in r[1:6]] for r in rows[1:]}
    assert got == want
    assert sum(map(sum, want.values())) == 48  # 60 tickets, every 5th solved
    payments_only = csv_of(lead_client, "backlog", queue="payments")
    assert [r[0] for r in payments_only[1:]] == ["Payments"]


def test_created_vs_solved_per_day(activity, lead_client):
    from tickets.models import Ticket

    rows = csv_of(lead_client, "created_solved")
    assert [r[0] for r in rows[1:]] == [f"2025-03-0{d}" for d in range(3, 10)]
    for day, created, solved in rows[1:]:
        assert int(created) == sum(
            t.created_at.date().isoformat() == day for t in Ticket.objects.all()
        )
        assert int(solved) == sum(
            bool(t.solved_at) and t.solved_at.date().isoformat() == day
            for t in Ticket.objects.all()
        )
    assert sum(int(r[1]) for r in rows[1:]) > 0
    assert sum(int(r[2]) for r in rows[1:]) > 0


def test_escalations_to_engineering(activity, lead_client):
    from sla.models import Escalation

    raised = [
        e
        for e in Escalation.objects.select_related("to_queue")
        if e.to_queue.kind == "engineering" and PERIOD_START <= e.created_at < PERIOD_END
    ]
    ack = [
        (e.acknowledged_at - e.created_at).total_seconds() / 60 for e in raised if e.acknowledged_at
    ]
    still_open = Escalation.objects.filter(
        to_queue__kind="engineering", acknowledged_at__isnull=True
    ).count()
    rows = csv_of(lead_client, "escalations")
    assert rows[1] == [
        str(len(raised)),
        f"{round(percentile(ack, 0.5), 2):g}",
        f"{round(percentile(ack, 0.9), 2):g}",
        str(still_open),
    ]
    assert len(raised) > 5
    assert still_open > 0


def test_agent_workload(activity, lead_client):
    from tickets.models import Ticket

    rows = {r[0]: r[1:] for r in csv_of(lead_client, "workload")[1:]}
    for name, user in (("Alice Agent", activity["alice"]), ("bob", activity["bob"])):
        open_now = Ticket.objects.filter(
            assignee=user, status__in=["new", "open", "pending", "on_hold"]
        ).count()
        replies = Message.objects.filter(
            author=user,
            public=True,
            author_type="agent",
            created_at__gte=PERIOD_START,
            created_at__lt=PERIOD_END,
        ).count()
        assert rows[name] == [str(open_now), str(replies)]
        assert open_now
        assert replies
    assert set(rows) == {"Alice Agent", "bob"}


def test_filters_narrow_every_table(activity, lead_client):
    response = lead_client.get(URL, {**PERIOD, "queue": "refunds"})
    tables = tables_of(response)
    assert [r[0] for r in tables["backlog"][1:]] == ["Refunds"]
    assert tables["breaches"][1:] == []  # refunds has only cancelled timers
    assert tile(response, "compliance") == "\N{EN DASH}"


def test_user_text_is_escaped_in_the_page_and_defused_in_csv(lead_client):
    ticket = TicketFactory(subject='<script>alert("x")</script>')
    formula = TicketFactory(subject='=HYPERLINK("http://evil")', queue=ticket.queue)
    for t in (ticket, formula):
        SlaTimerFactory(ticket=t, cycle=1, status="breached", breached_at=NOW - timedelta(days=1))
    page = lead_client.get(URL).content.decode()
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page
    cells = [r[0] for r in csv_of(lead_client, "breaches", **{"from": "", "to": ""})[1:]]
    assert f'#{formula.pk} =HYPERLINK("http://evil")' in cells  # starts with "#": harmless
    rows = csv_of(lead_client, "backlog")
    assert rows[1][0] == ticket.queue.name


def test_csv_cells_that_start_like_a_formula_are_quoted(lead_client):
    QueueFactory(slug="formula", name="=1+2")
    TicketFactory(queue=QueueFactory(slug="formula"), status="open")
    rows = csv_of(lead_client, "backlog")
    assert rows[1][0] == "'=1+2"


@pytest.mark.parametrize(
    "params",
    [
        {"from": "soon"},
        {"from": "2025-03-10", "to": "2025-03-01"},
        {"priority": "critical"},
        {"queue": "nope"},
        {"policy": "x"},
        {"format": "csv", "table": "secrets"},
    ],
)
def test_bad_parameters_show_a_400_page(lead_client, params):
    response = lead_client.get(URL, params)
    assert response.status_code == 400
    assert 'class="dash-error"' in response.content.decode()
    assert lead_client.get(URL + "at-risk/", params).status_code in (200, 400)


def test_query_count_is_bounded_and_independent_of_data(lead_client, request):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as empty:
        assert lead_client.get(URL, PERIOD).status_code == 200
    request.getfixturevalue("activity")
    with CaptureQueriesContext(connection) as full:
        assert lead_client.get(URL, PERIOD).status_code == 200
    # One more with data: the names of the agents in the workload table. The navigation
    # bar's queue list (base.html) is one more, constant query.
    assert len(empty) <= len(full) <= 17


def test_workload_and_escalations_follow_ticket_filters(activity, lead_client):
    from sla.models import Escalation
    from tickets.models import Ticket

    alice = activity["alice"]
    rows = {r[0]: r[1:] for r in csv_of(lead_client, "workload", priority="urgent")[1:]}
    open_now = Ticket.objects.filter(
        assignee=alice, priority="urgent", status__in=["new", "open", "pending", "on_hold"]
    ).count()
    replies = Message.objects.filter(
        author=alice,
        ticket__priority="urgent",
        public=True,
        author_type="agent",
        created_at__gte=PERIOD_START,
        created_at__lt=PERIOD_END,
    ).count()
    assert rows.get("Alice Agent", ["0", "0"]) == [str(open_now), str(replies)]
    assert open_now + replies > 0
    escalations = csv_of(lead_client, "escalations", tier="premium")[1]
    raised = Escalation.objects.filter(
        to_queue__kind="engineering",
        ticket__organization__tier="premium",
        created_at__gte=PERIOD_START,
        created_at__lt=PERIOD_END,
    ).count()
    still_open = Escalation.objects.filter(
        to_queue__kind="engineering",
        ticket__organization__tier="premium",
        acknowledged_at__isnull=True,
    ).count()
    assert (escalations[0], escalations[3]) == (str(raised), str(still_open))
    assert raised > 0


def test_the_period_line_says_utc_and_shows_utc_for_a_lead_in_another_zone(client, lead):
    """Days are UTC days: a lead in New York sees the period's bounds in UTC, as labelled."""
    lead.timezone = "America/New_York"
    lead.save()
    client.force_login(lead)
    page = client.get(URL, PERIOD).content.decode()
    assert "Mon 3 Mar 2025 00:00 to Mon 10 Mar 2025 00:00 UTC" in page

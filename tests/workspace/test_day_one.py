"""What a new agent notices on the first day (issue 9, item 8): filters and search that
work from the form, escalated tickets that stay findable, notify-only firings that wait for
nobody, breached rows by how overdue they are, times in the agent's own zone, the demo
desk's history processed on time, and pages free of inline script."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Role, User
from sla.models import Escalation, Notification, SlaTimer
from tests.factories import QueueFactory, UserFactory, make_token
from tickets import services as tickets
from tickets.models import QueueKind, Ticket
from workspace.templatetags.workspace import format_minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments():
    return QueueFactory(slug="payments", name="Payments", kind=QueueKind.SUPPORT, is_default=True)


@pytest.fixture
def engineering():
    return QueueFactory(
        slug="eng-payments", name="Engineering — Payments", kind=QueueKind.ENGINEERING
    )


@pytest.fixture
def agent(client):
    user = UserFactory(username="alex", role=Role.AGENT)
    client.force_login(user)
    return user


def _slug(text: str) -> str:
    return re.sub(r"\W", "", text.lower())[:20]


def new_ticket(queue, subject="Payout po_77 missing", **kwargs):
    return tickets.ticket_create(
        actor=None,
        subject=subject,
        description="Our payout has not arrived.",
        requester_email=f"{_slug(subject)}@merchant.test",
        queue=queue,
        **kwargs,
    )


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', response.content.decode())]


# --- filters and search ---------------------------------------------------------------


def test_empty_filter_values_show_the_unsolved_list_without_an_error(client, agent, payments):
    """What the Filter button sends with nothing chosen."""
    waiting = new_ticket(payments, "Waiting for us")
    done = new_ticket(payments, "Already solved")
    tickets.ticket_update(ticket_id=done.pk, actor=agent, status="solved")
    response = client.get(
        "/queues/payments/?q=&status=&priority=&assignee=&tag=&sla=", HTTP_ACCEPT="text/html"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert row_ids(response) == [waiting.pk]
    assert "valid choice" not in html
    assert 'role="alert"' not in html
    # the same on My tickets, which also offers the queue filter
    tickets.ticket_update(ticket_id=waiting.pk, actor=agent, assignee=agent)
    assert row_ids(client.get("/?q=&status=&priority=&queue=&sla=")) == [waiting.pk]


def test_a_chosen_status_and_priority_filter_from_the_form(client, agent, payments):
    urgent = new_ticket(payments, "Urgent dispute", priority="urgent")
    new_ticket(payments, "Normal payout")
    solved = new_ticket(payments, "Solved refund")
    tickets.ticket_update(ticket_id=solved.pk, actor=agent, status="solved")
    assert row_ids(client.get("/queues/payments/?q=&status=&priority=urgent")) == [urgent.pk]
    assert row_ids(client.get("/queues/payments/?q=&status=solved&priority=")) == [solved.pk]
    assert row_ids(client.get("/queues/payments/?q=refund&status=solved")) == [solved.pk]


def test_a_bad_status_shows_a_clear_error_and_no_rows(client, agent, payments):
    new_ticket(payments, "Waiting for us")
    solved = new_ticket(payments, "Already solved")
    tickets.ticket_update(ticket_id=solved.pk, actor=agent, status="solved")
    response = client.get("/queues/payments/?status=exploded")
    html = response.content.decode()
    assert response.status_code == 200
    assert row_ids(response) == []  # never the unfiltered list
    expected = r'role="alert"><li>Status: “exploded” is not a status\. Use one of: new,'
    assert re.search(expected, html)
    assert "Fix the filter above" in html
    bad_time = client.get("/queues/payments/?created_after=yesterday")
    assert row_ids(bad_time) == []
    assert "Created after:" in bad_time.content.decode()


def test_the_api_ignores_empty_filters_and_still_refuses_bad_ones(api_client, payments):
    agent = UserFactory(role=Role.AGENT)
    ticket = new_ticket(payments)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(agent)}")
    listed = api_client.get("/api/v1/tickets?status=&priority=&q=")
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["results"]] == [ticket.pk]
    bad = api_client.get("/api/v1/tickets?status=exploded")
    assert bad.status_code == 400
    assert "exploded" in bad.content.decode()
    assert "status" in bad.content.decode()


def test_search_finds_an_escalated_ticket_for_its_assignee(client, agent, payments, engineering):
    from sla.services import escalation_create_manual

    mine = new_ticket(payments, "Webhook signatures fail")
    tickets.ticket_update(ticket_id=mine.pk, actor=None, assignee=agent)
    colleague = UserFactory(role=Role.AGENT)
    escalation_create_manual(
        ticket_id=mine.pk, actor=colleague, to_queue=engineering, impact="All webhooks 400"
    )
    assert Ticket.objects.get(pk=mine.pk).queue == engineering
    not_mine = tickets.ticket_create(
        actor=None,
        subject="Webhook retries for an engineering task",
        description="internal",
        requester_email="eng@desk.test",
        queue=engineering,
    )
    response = client.get("/search/?q=webhook")
    assert response.status_code == 200
    assert row_ids(response) == [mine.pk]  # every ticket the agent may read, no other
    assert not_mine.pk not in row_ids(client.get("/search/?q="))
    # from the topnav box on any page
    assert 'id="desk-search" name="q"' in client.get("/").content.decode()


def test_search_shows_every_status_and_filters_too(client, agent, payments):
    solved = new_ticket(payments, "Refund re_1 sent")
    tickets.ticket_update(ticket_id=solved.pk, actor=agent, status="solved")
    other = new_ticket(payments, "Refund re_2 pending", priority="high")
    assert set(row_ids(client.get("/search/?q=refund&status=&priority="))) == {solved.pk, other.pk}
    assert row_ids(client.get("/search/?q=refund&priority=high")) == [other.pk]
    assert row_ids(client.get("/search/?q=refund&status=bogus")) == []


def test_engineer_search_finds_escalated_support_tickets_only(client, payments, engineering):
    from sla.services import escalation_create_manual

    sent = new_ticket(payments, "Card auth timeouts")
    escalation_create_manual(
        ticket_id=sent.pk, actor=UserFactory(role=Role.AGENT), to_queue=engineering, impact="x"
    )
    quiet = new_ticket(payments, "Card declined question")
    client.force_login(UserFactory(role=Role.ENGINEER))
    found = row_ids(client.get("/search/?q=card"))
    assert sent.pk in found
    assert quiet.pk not in found


def test_my_tickets_keeps_an_assigned_ticket_moved_to_engineering(
    client, agent, payments, engineering
):
    ticket = new_ticket(payments, "Settlement file missing")
    tickets.ticket_update(ticket_id=ticket.pk, actor=None, assignee=agent)
    tickets.ticket_update(ticket_id=ticket.pk, actor=None, queue=engineering)
    assert row_ids(client.get("/")) == [ticket.pk]
    assert row_ids(client.get("/?q=settlement")) == [ticket.pk]


# --- escalations ----------------------------------------------------------------------


def test_a_notify_only_firing_is_not_awaiting_acknowledgement(client, payments, engineering):
    from sla.services import escalation_create_manual

    lead = UserFactory(username="lena", role=Role.LEAD)
    assignee = UserFactory(role=Role.AGENT)
    ticket = new_ticket(payments, "Slow first reply")
    tickets.ticket_update(ticket_id=ticket.pk, actor=None, assignee=assignee)
    notify_only = Escalation.objects.create(
        ticket=ticket, reason="first reply breached: tell the leads", fire_at=timezone.now()
    )
    Notification.objects.create(user=lead, ticket=ticket, escalation=notify_only, text="x")
    client.force_login(lead)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Notified lena (lead)" in html
    assert "Awaiting acknowledgement" not in html
    assert f"/escalations/{notify_only.pk}/acknowledge/" not in html
    awaiting = client.get("/escalations/").content.decode()
    assert f'data-escalation-id="{notify_only.pk}"' not in awaiting

    sent = escalation_create_manual(
        ticket_id=ticket.pk, actor=lead, to_queue=engineering, impact="Payouts stuck"
    )
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert html.count("Awaiting acknowledgement") == 1
    assert f"/escalations/{sent.pk}/acknowledge/" in html
    # the assignee reads the state but has no button: acknowledging is Engineering's job
    client.force_login(assignee)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Awaiting acknowledgement" in html
    assert f"/escalations/{sent.pk}/acknowledge/" not in html


# --- SLA order and badges -------------------------------------------------------------


def _timer(ticket, metric, *, breached_at=None, due_at, status="breached"):
    now = timezone.now()
    SlaTimer.objects.create(
        ticket=ticket,
        metric=metric,
        status=status,
        running=True,
        target_minutes=60,
        started_at=now - timedelta(days=1),
        due_at=due_at,
        breached_at=breached_at,
        computed_at=now,
    )
    # what the recompute stores: the earliest due time of a running timer
    Ticket.objects.filter(pk=ticket.pk).update(
        next_due_at=min(t.due_at for t in SlaTimer.objects.filter(ticket=ticket, running=True))
    )


def test_breached_rows_come_most_overdue_first_and_say_which_timer(client, agent, payments):
    now = timezone.now()
    # Overdue is counted from the deadline each breach was judged by (X5: due_at is never
    # after breached_at; an X2 breach, C, was due before the change that breached it).
    a = new_ticket(payments, "A breached three hours ago")
    _timer(a, "first_reply", breached_at=now - timedelta(hours=3), due_at=now - timedelta(hours=3))
    b = new_ticket(payments, "B breached two hours ago")
    _timer(b, "next_reply", breached_at=now - timedelta(hours=2), due_at=now - timedelta(hours=2))
    c = new_ticket(payments, "C due four hours ago, breached by a change an hour ago")
    _timer(c, "resolution", breached_at=now - timedelta(hours=1), due_at=now - timedelta(hours=4))
    d = new_ticket(payments, "D due in half an hour")
    _timer(d, "first_reply", due_at=now + timedelta(minutes=30), status="active")
    response = client.get("/queues/payments/")
    assert row_ids(response) == [c.pk, a.pk, b.pk, d.pk]
    html = response.content.decode()
    for ticket, label in ((a, "First reply"), (b, "Next reply"), (c, "Resolution")):
        row = re.search(rf'<tr data-ticket-id="{ticket.pk}".*?</tr>', html, re.S).group(0)
        assert f'<span class="sla-metric">{label}</span>' in row
        assert 'data-sla-status="breached"' in row
    row_d = re.search(rf'<tr data-ticket-id="{d.pk}".*?</tr>', html, re.S).group(0)
    assert '<span class="sla-metric">First reply</span>' in row_d


@given(st.integers(min_value=0, max_value=60 * 24 * 400))
def test_durations_read_as_hours_and_minutes(total):
    text = format_minutes(total)
    match = re.fullmatch(r"(?:(\d+) h)?(?: ?(\d+) min)?", text)
    assert match, text
    assert text
    hours, minutes = int(match.group(1) or 0), int(match.group(2) or 0)
    assert hours * 60 + minutes == total
    assert minutes < 60
    assert (match.group(2) is None) == (total >= 60 and total % 60 == 0)


def test_durations_examples():
    assert format_minutes(510) == "8 h 30 min"
    assert format_minutes(45) == "45 min"
    assert format_minutes(120) == "2 h"
    assert format_minutes(0) == "0 min"


def test_ticket_page_shows_business_targets_as_hours_and_minutes(client, agent, payments):
    from sla.services import ticket_sla_recompute
    from tests.sla.factories import SlaPolicyFactory

    SlaPolicyFactory(
        calendar__always_open=True,
        calendar__hours=[],
        calendar__timezone="UTC",
        calendar__holiday_country=None,
        targets=[("normal", "resolution", 510)],
    )
    ticket = new_ticket(payments)
    ticket_sla_recompute(ticket_id=ticket.pk)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "<dd>8 h 30 min" in html
    # The raw target (510 minutes) is not shown; the ticket's own id may contain "510".
    sla_part = html.split('aria-label="SLA"')[1].replace(str(ticket.pk), "#id")
    assert "510" not in re.sub(r'data-[a-z-]+="[^"]*"', "", sla_part)


# --- time zones -----------------------------------------------------------------------


def _message_at(ticket, when: datetime):
    tickets.ticket_add_message(
        ticket_id=ticket.pk,
        actor=None,
        body="Any news?",
        author_type="requester",
        created_at=when,
    )


def test_times_are_shown_in_the_users_zone_with_utc_on_hover(client, payments):
    ticket = new_ticket(payments, created_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    _message_at(ticket, datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    tokyo = UserFactory(role=Role.AGENT, timezone="Asia/Tokyo")
    client.force_login(tokyo)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert (
        '<time datetime="2026-01-05T10:00:00Z" title="2026-01-05 10:00 UTC">Jan 5, 19:00</time>'
        in html
    )
    # a user who chose nothing sees the desk's zone
    client.force_login(UserFactory(role=Role.AGENT))
    with_desk_zone = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'title="2026-01-05 10:00 UTC">Jan 5, 10:00</time>' in with_desk_zone


def test_the_desk_zone_is_the_default_and_the_api_stays_utc(client, api_client, payments, settings):
    settings.DESK_TIME_ZONE = "America/New_York"
    ticket = new_ticket(payments, created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    _message_at(ticket, datetime(2026, 7, 1, 12, 30, tzinfo=UTC))
    user = UserFactory(role=Role.AGENT)
    client.force_login(user)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'title="2026-07-01 12:30 UTC">Jul 1, 08:30</time>' in html
    client.force_login(UserFactory(role=Role.AGENT, timezone="Asia/Tokyo"))
    body = client.get(f"/api/v1/tickets/{ticket.pk}").json()  # a browser session on the API
    assert body["created_at"].startswith("2026-07-01T12:00:00")
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_profile_time_zone_change_persists(client, agent):
    page = client.get("/profile/")
    assert page.status_code == 200
    assert "The desk&#x27;s time zone (UTC)" in page.content.decode()
    response = client.post("/profile/", {"timezone": "Europe/Paris"})
    assert response.status_code == 302
    assert User.objects.get(pk=agent.pk).timezone == "Europe/Paris"
    followed = client.get("/profile/").content.decode()
    assert '<option value="Europe/Paris" selected>' in followed
    assert re.search(r"It is now <time[^>]*>\d\d:\d\d CES?T", followed)
    bad = client.post("/profile/", {"timezone": "Mars/Olympus_Mons"})
    assert "is not a time zone we know" in bad.content.decode()
    assert User.objects.get(pk=agent.pk).timezone == "Europe/Paris"
    client.post("/profile/", {"timezone": ""})
    assert User.objects.get(pk=agent.pk).timezone == ""


def test_profile_needs_sign_in(client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- page furniture -------------------------------------------------------------------


def test_favicon_is_linked_and_redirected(client, agent):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
    svg = (Path(settings.BASE_DIR) / "static" / "favicon.svg").read_text()
    assert svg.lstrip().startswith("<svg")
    assert "</svg>" in svg


def test_pages_have_a_skip_link_and_no_inline_script(client, agent, payments):
    ticket = new_ticket(payments)
    for url in ("/", "/queues/payments/", f"/tickets/{ticket.pk}/", "/search/?q=x", "/profile/"):
        html = client.get(url).content.decode()
        assert '<a class="skip-link" href="#main">Skip to content</a>' in html, url
        assert '<main id="main" tabindex="-1">' in html
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert " src=" in tag, (url, tag)  # no inline blocks: the CSP blocks them
        assert not re.search(r"\son[a-z]+=", html), url  # no inline event handlers
        assert 'hx-trigger="every 10s [' not in html  # trigger filters need eval


def test_the_refresh_returns_rows_with_ids_for_focus(client, agent, payments):
    ticket = new_ticket(payments)
    response = client.get("/queues/payments/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-rows")
    html = response.content.decode()
    assert "<html" not in html
    assert "<tbody" in html
    assert f'id="row-{ticket.pk}-link"' in html
    assert f'id="row-{ticket.pk}-check"' in html


def test_reply_and_properties_forms_have_unique_ids(client, agent, payments):
    ticket = new_ticket(payments)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'id="reply-body"' in html


# --- the demo desk --------------------------------------------------------------------


def test_seeded_escalations_were_processed_on_time():
    call_command("seed_demo", tickets=40, stdout=None)
    rule_firings = Escalation.objects.filter(rule__isnull=False)
    assert rule_firings.count() >= 10
    on_time = [e for e in rule_firings if not e.late]
    assert len(on_time) >= 0.9 * rule_firings.count()
    for escalation in on_time:
        assert (
            timedelta(0)
            <= escalation.created_at - escalation.fire_at
            < timedelta(seconds=settings.SLA_LATE_AFTER_SECONDS)
        )
    # their e-mails went out back then, so a fresh desk does not send hundreds at start-up
    old = Notification.objects.filter(
        escalation__isnull=False, created_at__lt=timezone.now() - timedelta(minutes=5)
    )
    assert old.exists()
    assert not old.filter(emailed_at__isnull=True).exists()
    assert User.objects.get(username="maria").timezone == "Europe/Lisbon"

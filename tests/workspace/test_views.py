"""The agent workspace as people use it: who sees what, urgency order, replies, notes,
changes, escalations, and no lost work."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from sla.models import Escalation
from tests.factories import QueueFactory, UserFactory
from tests.sla.factories import SlaPolicyFactory
from tickets import services as tickets
from tickets.models import EventType, Message, QueueKind, Ticket, TicketEvent
from workspace.models import Macro

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
    user = UserFactory(username="alex", role=Role.AGENT, first_name="Alex")
    client.force_login(user)
    return user


def new_ticket(queue, subject="Payout po_77 missing", minutes_ago=30, **kwargs):
    return tickets.ticket_create(
        actor=None,
        subject=subject,
        description="Our payout has **not** arrived.",
        requester_email=f"{subject[:10].replace(' ', '').lower()}@merchant.test",
        requester_name="Dana Merchant",
        queue=queue,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', response.content.decode())]


def test_every_page_needs_login(client, payments):
    for url in ("/", "/queues/payments/", "/tickets/1/", "/escalations/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_login_page_and_sign_in(client):
    UserFactory(username="agent", password="demo")
    page = client.get("/login/").content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    response = client.post("/login/", {"username": "agent", "password": "demo"})
    assert response.status_code == 302
    wrong = client.post("/login/", {"username": "agent", "password": "nope"})
    assert wrong.status_code == 200
    assert "correct username and password" in wrong.content.decode()


def test_queue_sorted_by_urgency_breached_first(client, agent, payments):
    from sla.services import ticket_sla_recompute

    SlaPolicyFactory(
        calendar__always_open=True,
        calendar__hours=[],
        calendar__timezone="UTC",
        calendar__holiday_country=None,
        targets=[("normal", "first_reply", 60), ("high", "first_reply", 30)],
    )
    later = new_ticket(payments, "Due in 50 minutes", minutes_ago=10)
    breached = new_ticket(payments, "Overdue refund", minutes_ago=90)
    soon = new_ticket(payments, "Due in 10 minutes", minutes_ago=20, priority="high")
    no_sla = new_ticket(payments, "Low priority", minutes_ago=5, priority="low")
    for ticket in (later, breached, soon, no_sla):
        ticket_sla_recompute(ticket_id=ticket.pk)

    response = client.get("/queues/payments/")
    assert row_ids(response) == [breached.pk, soon.pk, later.pk, no_sla.pk]
    html = response.content.decode()
    assert re.search(rf'data-ticket-id="{breached.pk}".*?data-sla-status="breached"', html, re.S)
    assert re.search(
        rf'data-ticket-id="{soon.pk}".*?data-sla-status="(active|warning)" data-due-at="[^"]+T',
        html,
        re.S,
    )


def test_queue_page_queries_do_not_grow_with_rows(
    client, agent, payments, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(5):
        new_ticket(payments, f"Ticket {i}")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/queues/payments/").status_code == 200
    for i in range(35):
        new_ticket(payments, f"More {i}")
    with django_assert_max_num_queries(len(few)):
        response = client.get("/queues/payments/")
    assert len(row_ids(response)) == 40


def test_filters_and_search(client, agent, payments):
    payout = new_ticket(payments, "Payout po_1 delayed", tags=["payouts"])
    dispute = new_ticket(payments, "Dispute dp_9 evidence", priority="urgent")
    tickets.ticket_add_message(ticket_id=dispute.pk, actor=agent, body="Bank reference XYZ123")
    assert row_ids(client.get("/queues/payments/?priority=urgent")) == [dispute.pk]
    assert row_ids(client.get("/queues/payments/?tag=payouts")) == [payout.pk]
    assert row_ids(client.get("/queues/payments/?q=xyz123")) == [dispute.pk]
    assert row_ids(client.get("/queues/payments/?q=po_1")) == [payout.pk]


def test_agents_do_not_see_engineering_queues_or_escalations(client, agent, engineering):
    forbidden = client.get("/queues/eng-payments/")
    assert forbidden.status_code == 403
    assert "another team" in forbidden.content.decode()
    assert client.get("/escalations/").status_code == 403
    assert client.get("/dashboard/").status_code == 403
    assert "eng-payments" not in client.get("/").content.decode()


def test_engineers_do_not_see_support_queues(client, payments, engineering):
    client.force_login(UserFactory(role=Role.ENGINEER))
    assert client.get("/queues/payments/").status_code == 403
    support_ticket = new_ticket(payments)
    # Outside the visibility rule a ticket does not exist for the user: 404, not 403.
    assert client.get(f"/tickets/{support_ticket.pk}/").status_code == 404
    assert client.get("/queues/eng-payments/").status_code == 200
    assert client.get("/escalations/").status_code == 200


def test_ticket_page_shows_conversation_notes_and_requester(client, agent, payments):
    ticket = new_ticket(payments)
    other = tickets.ticket_create(
        actor=None,
        subject="Second payout question",
        description="And another one.",
        requester_email=ticket.requester.email,
        queue=payments,
    )
    tickets.ticket_add_message(ticket_id=ticket.pk, actor=agent, body="Checking", public=False)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Our payout has <strong>not</strong> arrived." in html
    assert 'class="message internal-note"' in html
    assert "Internal note" in html
    assert (
        f"#{other.pk} Second payout question" in html or other.requester_id != ticket.requester_id
    )


def test_reply_and_note_through_the_service(client, agent, payments):
    ticket = new_ticket(payments)
    response = client.post(
        f"/tickets/{ticket.pk}/reply/",
        {
            "body": "We traced it.",
            "public": "true",
            "version": ticket.version,
            "then_status": "pending",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Reply sent." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    message = Message.objects.get(ticket=ticket)
    assert (message.public, message.author, message.body) == (True, agent, "We traced it.")
    client.post(
        f"/tickets/{ticket.pk}/reply/",
        {"body": "Bank says R03", "public": "false", "version": ticket.version},
    )
    assert Message.objects.filter(ticket=ticket, public=False).count() == 1


def test_user_text_is_escaped(client, agent, payments):
    ticket = new_ticket(payments, "<img src=x onerror=alert(1)>")
    tickets.ticket_add_message(
        ticket_id=ticket.pk,
        actor=None,
        body="<script>alert('x')</script> [link](javascript:alert(1))",
        author_type="requester",
    )
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "javascript:alert" not in html
    queue_html = client.get("/queues/payments/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in queue_html


def test_stale_reply_keeps_the_draft_and_shows_the_change(client, agent, payments):
    ticket = new_ticket(payments)
    rendered = client.get(f"/tickets/{ticket.pk}/").content.decode()
    version = int(re.search(r'name="version" value="(\d+)"', rendered).group(1))
    rendered_at = re.search(r'name="rendered_at" value="([^"]+)"', rendered).group(1)
    tickets.ticket_add_message(
        ticket_id=ticket.pk, actor=None, body="Actually it arrived!", author_type="requester"
    )
    response = client.post(
        f"/tickets/{ticket.pk}/reply/",
        {
            "body": "My long careful draft",
            "public": "true",
            "version": version,
            "rendered_at": rendered_at,
        },
    )
    html = response.content.decode()
    assert "changed while you were working" in html
    assert "customer message" in html
    assert "My long careful draft" in html
    assert not Message.objects.filter(body="My long careful draft").exists()
    fresh = int(re.search(r'name="version" value="(\d+)"', html).group(1))
    assert fresh == Ticket.objects.get(pk=ticket.pk).version


def test_update_validation_errors_show_beside_the_field(client, agent, payments):
    ticket = new_ticket(payments)
    response = client.post(
        f"/tickets/{ticket.pk}/update/",
        {"status": "exploded", "priority": "high", "queue": "payments", "version": ticket.version},
    )
    html = response.content.decode()
    assert 'class="error field-error"' in html
    assert "exploded is not one of the available choices" in html
    assert Ticket.objects.get(pk=ticket.pk).priority == "normal"


def test_update_changes_fields(client, agent, payments):
    ticket = new_ticket(payments)
    QueueFactory(slug="payouts", name="Payouts")
    client.post(
        f"/tickets/{ticket.pk}/update/",
        {
            "status": "open",
            "priority": "urgent",
            "queue": "payouts",
            "assignee": "alex",
            "tags": "bank, r03",
            "version": ticket.version,
        },
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.queue.slug, ticket.assignee) == (
        "open",
        "urgent",
        "payouts",
        agent,
    )
    assert ticket.tags == ["bank", "r03"]


def test_escalate_then_engineer_acknowledges(client, agent, payments, engineering):
    ticket = new_ticket(payments)
    bad = client.post(f"/tickets/{ticket.pk}/escalate/", {"to_queue": "eng-payments", "impact": ""})
    assert "This field is required." in bad.content.decode()
    assert not Escalation.objects.exists()
    client.post(
        f"/tickets/{ticket.pk}/escalate/",
        {
            "to_queue": "eng-payments",
            "impact": "All BE payouts fail",
            "steps": "Create payout",
            "account_ids": "acct_1, acct_2",
            "links": "https://logs.example/q?id=1",
        },
    )
    escalation = Escalation.objects.get()
    assert escalation.details["account_ids"] == ["acct_1", "acct_2"]
    assert Ticket.objects.get(pk=ticket.pk).queue == engineering
    assert "Awaiting acknowledgement" in client.get(f"/tickets/{ticket.pk}/").content.decode()

    engineer = UserFactory(role=Role.ENGINEER)
    client.force_login(engineer)
    assert f'data-escalation-id="{escalation.pk}"' in client.get("/escalations/").content.decode()
    client.post(f"/escalations/{escalation.pk}/acknowledge/", {"next": "/escalations/"})
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == engineer
    assert TicketEvent.objects.filter(
        ticket=ticket, type=EventType.ESCALATION_ACKNOWLEDGED
    ).exists()

    client.force_login(agent)
    assert "Acknowledged by" in client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_macro_fills_placeholders_without_template_rendering(client, agent, payments):
    ticket = new_ticket(payments)
    macro = Macro.objects.create(
        name="Hello",
        body="Hi {{ requester.first_name }}, ticket {{ ticket.id }}. {% now 'Y' %} {{ x.y }}",
    )
    text = client.get(f"/tickets/{ticket.pk}/macros/{macro.pk}/").content.decode()
    assert text == f"Hi Dana, ticket {ticket.pk}. {{% now 'Y' %}} {{{{ x.y }}}}"


def test_bulk_assign_and_status(client, agent, payments):
    first, second = new_ticket(payments, "One"), new_ticket(payments, "Two")
    response = client.post(
        "/bulk/",
        {
            "ticket": [first.pk, second.pk],
            "assignee": "alex",
            "status": "open",
            "next": "/queues/payments/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/queues/payments/"
    assert set(Ticket.objects.values_list("assignee__username", "status")) == {("alex", "open")}
    nothing = client.post("/bulk/", {"ticket": [first.pk], "next": "https://evil.example/"})
    assert nothing["Location"] == "/"


def test_engineers_see_only_escalations_sent_to_engineering(client, payments, engineering):
    from sla.services import escalation_create_manual

    agent = UserFactory(role=Role.AGENT)
    to_engineering = new_ticket(payments, "Webhooks failing")
    escalation_create_manual(
        ticket_id=to_engineering.pk, actor=agent, to_queue=engineering, impact="500s"
    )
    notify_only = new_ticket(payments, "Slow reply")
    Escalation.objects.create(
        ticket=notify_only, reason="first reply breached", fire_at=timezone.now()
    )
    client.force_login(UserFactory(role=Role.ENGINEER))
    html = client.get("/escalations/").content.decode()
    assert f'data-ticket-id="{to_engineering.pk}"' in html
    assert f'data-ticket-id="{notify_only.pk}"' not in html
    # A notify-only firing awaits nobody's acknowledgement, not even a lead's.
    client.force_login(UserFactory(role=Role.LEAD))
    html = client.get("/escalations/").content.decode()
    assert f'data-ticket-id="{to_engineering.pk}"' in html
    assert f'data-ticket-id="{notify_only.pk}"' not in html


def test_a_reply_whose_author_was_deleted_still_renders(client, agent, payments):
    ticket = new_ticket(payments)
    tickets.ticket_add_message(ticket_id=ticket.pk, actor=None, body="Imported reply")
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    assert "Imported reply" in response.content.decode()

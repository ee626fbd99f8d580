"""An agent works a ticket end to end in Chromium; an engineer acknowledges the escalation."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from sla.models import Escalation
from sla.services import ticket_sla_recompute
from tests.factories import QueueFactory, UserFactory
from tests.sla.factories import CalendarFactory, SlaPolicyFactory
from tickets import services as tickets
from tickets.models import Message, QueueKind, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)[:/]")


def desk():
    payments = QueueFactory(slug="payments", name="Payments", is_default=True)
    QueueFactory(slug="eng-payments", name="Engineering — Payments", kind=QueueKind.ENGINEERING)
    always = CalendarFactory(timezone="UTC", always_open=True, hours=[], holiday_country=None)
    SlaPolicyFactory(calendar=always, targets=[("normal", "first_reply", 60)])
    UserFactory(username="agent", role=Role.AGENT, password="demo")
    UserFactory(username="engineer", role=Role.ENGINEER, password="demo")
    created = {}
    for subject, minutes_ago in (("Due later", 5), ("Overdue payout", 90), ("Due soon", 50)):
        ticket = tickets.ticket_create(
            actor=None,
            subject=subject,
            description=f"{subject}: please help.",
            requester_email=f"{minutes_ago}@merchant.test",
            queue=payments,
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
        )
        ticket_sla_recompute(ticket_id=ticket.pk)
        created[subject] = ticket
    return created


@pytest.fixture
def browser_page(page):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
    yield page
    assert errors == []


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_agent_works_a_ticket_and_engineer_acknowledges(live_server, browser_page):
    page, base = browser_page, live_server.url
    created = desk()
    sign_in(page, base, "agent")

    page.goto(base + "/queues/payments/")
    ids = page.locator("#queue-rows tr[data-ticket-id]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.ticketId))"
    )
    assert ids == [created[s].pk for s in ("Overdue payout", "Due soon", "Due later")]
    overdue = page.locator(f'tr[data-ticket-id="{created["Overdue payout"].pk}"] [data-sla-status]')
    expect(overdue).to_have_attribute("data-sla-status", "breached")
    soon = page.locator(f'tr[data-ticket-id="{created["Due soon"].pk}"] [data-sla-status]')
    assert re.match(r"\d{4}-\d\d-\d\dT", soon.get_attribute("data-due-at"))
    first_text = soon.inner_text()
    page.wait_for_timeout(1500)
    assert soon.inner_text() != first_text  # counts down live
    assert soon.get_attribute("data-sla-status") == "warning"  # 50 of 60 minutes gone

    page.click(f"text=#{created['Overdue payout'].pk} Overdue payout")
    page.wait_for_url(re.compile(r"/tickets/\d+/$"))
    ticket_id = created["Overdue payout"].pk

    page.fill("textarea[name=body]", "We found the payout; it lands **tomorrow**.")
    page.click("#reply-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Reply sent.")
    expect(page.locator(".message.from-agent strong").last).to_be_visible()
    assert page.url.endswith(f"/tickets/{ticket_id}/")  # htmx: no navigation happened

    page.fill("textarea[name=body]", "Bank confirmed trace R03-778.")
    page.check("input[name=public][value=false]")
    page.click("#reply-form button[type=submit]")
    expect(page.locator(".message.internal-note")).to_contain_text("Bank confirmed trace")

    page.select_option("#update-form select[name=status]", "pending")
    page.click("#update-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Ticket updated.")
    expect(page.locator(".ticket-head .status")).to_have_text("Pending")

    page.click("text=Escalate to Engineering")
    page.select_option("#escalate-form select[name=to_queue]", "eng-payments")
    page.fill("#escalate-form textarea[name=impact]", "Payouts to BE accounts bounce")
    page.fill("#escalate-form input[name=account_ids]", "acct_42")
    page.click("#escalate-form button[type=submit]")
    expect(page.locator(".awaiting")).to_have_text("Awaiting acknowledgement")

    page.click("nav form button")  # sign out
    sign_in(page, base, "engineer")
    page.goto(base + "/escalations/")
    escalation = Escalation.objects.get(ticket_id=ticket_id)
    page.click(f'tr[data-escalation-id="{escalation.pk}"] button')
    expect(page.locator(".flash")).to_contain_text("acknowledged")

    page.click("nav form button")
    sign_in(page, base, "agent")
    page.goto(base + f"/tickets/{ticket_id}/")
    expect(page.locator(".acked")).to_contain_text("Acknowledged by engineer")

    ticket = Ticket.objects.get(pk=ticket_id)
    assert ticket.status == "pending"
    assert ticket.queue.slug == "eng-payments"
    assert Message.objects.filter(ticket=ticket, public=False).count() == 1
    page.screenshot(path="/tmp/workspace_e2e.png", full_page=True)

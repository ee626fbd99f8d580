"""An agent's first day in Chromium, from the keyboard: the filter form and search work,
`/` `j` `k` Enter and Ctrl+Enter do what the page says, focus survives the 10 s refresh,
and no page logs a console error (favicon and Content-Security-Policy included)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from sla.services import escalation_create_manual, ticket_sla_recompute
from tests.e2e.test_workspace import browser_page, sign_in  # noqa: F401 (fixture)
from tests.factories import QueueFactory, UserFactory
from tests.sla.factories import CalendarFactory, SlaPolicyFactory
from tickets import services as tickets
from tickets.models import Message, QueueKind

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def desk() -> dict:
    payments = QueueFactory(slug="payments", name="Payments", is_default=True)
    engineering = QueueFactory(
        slug="eng-payments", name="Engineering — Payments", kind=QueueKind.ENGINEERING
    )
    always = CalendarFactory(timezone="UTC", always_open=True, hours=[], holiday_country=None)
    SlaPolicyFactory(
        calendar=always, targets=[("normal", "first_reply", 60), ("high", "first_reply", 30)]
    )
    agent = UserFactory(username="agent", role=Role.AGENT, password="demo", timezone="Asia/Tokyo")
    UserFactory(username="engineer", role=Role.ENGINEER, password="demo")
    created = {}
    for subject, minutes_ago, priority in (
        ("Payout po_1 overdue", 90, "normal"),
        ("Refund re_2 due soon", 20, "high"),
        ("Payout po_3 later", 5, "normal"),
        ("Webhook signatures fail", 10, "normal"),
    ):
        ticket = tickets.ticket_create(
            actor=None,
            subject=subject,
            description=f"{subject}: please help.",
            requester_email=f"{minutes_ago}@merchant.test",
            queue=payments,
            priority=priority,
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
        )
        ticket_sla_recompute(ticket_id=ticket.pk)
        created[subject.split()[1]] = ticket
    webhook = created["signatures"]
    tickets.ticket_update(ticket_id=webhook.pk, actor=None, assignee=agent)
    escalation_create_manual(
        ticket_id=webhook.pk,
        actor=UserFactory(role=Role.AGENT),
        to_queue=engineering,
        impact="Every webhook is rejected",
    )
    return created


def rows(page) -> list[int]:
    return page.locator("#queue-rows tr[data-ticket-id]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.ticketId))"
    )


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_filters_search_and_keyboard(live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server.url
    created = desk()
    overdue, soon, later = created["po_1"], created["re_2"], created["po_3"]
    sign_in(page, base, "agent")
    favicon = page.request.get(base + "/favicon.ico")
    assert favicon.ok
    assert favicon.headers["content-type"].startswith("image/svg+xml")

    # The filter form as sent by the button: empty values mean "any".
    page.goto(base + "/queues/payments/")
    assert rows(page) == [overdue.pk, soon.pk, later.pk]
    page.select_option("#filter-priority", "high")
    page.click("#filter-submit")
    page.wait_for_url(re.compile(r"priority=high"))
    assert "status=&" in page.url  # the empty select is sent, and means "unsolved"
    assert rows(page) == [soon.pk]
    expect(page.locator(".filter-errors")).to_have_count(0)
    page.select_option("#filter-priority", "")
    page.fill("#filter-q", "payout")
    page.press("#filter-q", "Enter")
    page.wait_for_url(re.compile(r"q=payout"))
    assert rows(page) == [overdue.pk, later.pk]

    # "/" jumps to search, which finds the escalated ticket now in Engineering.
    page.goto(base + "/queues/payments/")
    page.keyboard.press("/")
    assert focused_id(page) == "desk-search"
    page.keyboard.type("webhook")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=webhook"))
    assert rows(page) == [created["signatures"].pk]
    expect(page.locator("#queue-rows")).to_contain_text("Engineering — Payments")

    # j/k move the selection; the badge names its timer.
    page.goto(base + "/queues/payments/")
    expect(page.locator(f"#row-{overdue.pk} .sla-metric")).to_have_text("First reply")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    selected = page.locator("#queue-rows tr.is-selected")
    expect(selected).to_have_count(1)
    expect(selected).to_have_attribute("data-ticket-id", str(soon.pk))
    assert focused_id(page) == f"row-{soon.pk}-link"

    # The 10 s refresh replaces the rows; focus and selection stay where they were.
    page.evaluate(
        "document.body.addEventListener('htmx:afterSwap', () => {"
        "  document.body.dataset.swapped = 'yes'; });"
        "document.getElementById('queue-rows').dataset.before = 'yes';"
    )
    # (a locator, not wait_for_function: that evaluates a string, which the CSP refuses)
    expect(page.locator("body[data-swapped]")).to_have_count(1, timeout=15_000)
    assert page.locator("#queue-rows[data-before]").count() == 0  # really swapped
    assert focused_id(page) == f"row-{soon.pk}-link"
    expect(page.locator("#queue-rows tr.is-selected")).to_have_attribute(
        "data-ticket-id", str(soon.pk)
    )
    page.keyboard.press("j")
    expect(page.locator("#queue-rows tr.is-selected")).to_have_attribute(
        "data-ticket-id", str(later.pk)
    )
    page.keyboard.press("k")

    # Enter opens the selected ticket; Ctrl+Enter sends the reply without leaving it.
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/tickets/{soon.pk}/$"))
    page.fill("#reply-body", "We have started the refund.")
    page.press("#reply-body", "Control+Enter")
    expect(page.locator(".flash")).to_contain_text("Reply sent.")
    expect(page.locator(".message.from-agent")).to_contain_text("We have started the refund.")
    assert page.url.endswith(f"/tickets/{soon.pk}/")
    assert Message.objects.filter(ticket=soon, body="We have started the refund.").exists()
    assert focused_id(page) == "reply-body"  # ready for the next one

    # Times in the agent's zone (Tokyo), UTC on hover.
    stamp = page.locator(".message.from-agent time").last
    assert stamp.get_attribute("title").endswith(" UTC")
    assert stamp.get_attribute("datetime").endswith("Z")

    # The skip link is the first stop of the keyboard and lands on the content.
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert focused_id(page) == "main"

    page.goto(base + f"/tickets/{soon.pk}/")
    page.screenshot(path="/tmp/keyboard_ticket.png", full_page=True)
    page.goto(base + "/queues/payments/")
    page.keyboard.press("j")
    page.screenshot(path="/tmp/keyboard_queue.png", full_page=True)

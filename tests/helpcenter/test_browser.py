"""In a real browser, under the CSP: the help center, live suggestions while typing the
subject, and a submission that shows its ticket number."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import QueueFactory
from tickets.models import Ticket

from .factories import ArticleFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)[:/]")
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_help_center_and_contact_form(live_server, page):
    QueueFactory(slug="payments", is_default=True)
    ArticleFactory(slug="payout-timing", title="Payout timing and schedules")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "favicon" not in msg.location.get("url", "")
            else None
        ),
    )
    page.context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
    page.context.add_init_script(RECORD_VIOLATIONS)

    page.goto(live_server.url + "/help/")
    page.fill("#hc-hero-q", "payuot")
    page.press("#hc-hero-q", "Enter")
    expect(page.locator(".hc-results a")).to_have_text("Payout timing and schedules")

    page.goto(live_server.url + "/help/contact/")
    page.fill("#id_email", "ops@merchant.test")
    page.select_option("#id_reason", "payouts")
    page.type("#id_subject", "payout late")  # htmx asks for suggestions while typing
    expect(page.locator("#suggestions a")).to_have_text("Payout timing and schedules")
    page.fill("#id_description", "Expected yesterday.")
    page.click("#contact-send")
    expect(page.locator("#ticket-number")).to_have_text(f"#{Ticket.objects.get().pk}")
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []

"""Every kind of page renders under the Content-Security-Policy with no violation and no
console error: sign-in, a queue, a ticket, the dashboard, the API docs and the admin."""

import re

import pytest

from accounts.models import Role
from tests.factories import QueueFactory, UserFactory
from tickets import services as tickets

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)[:/]")
# Recorded in the page itself, so a violation is caught even when the console says nothing.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_pages_pass_the_csp(live_server, page):
    payments = QueueFactory(slug="payments", name="Payments", is_default=True)
    ticket = tickets.ticket_create(
        actor=None,
        subject="Payout po_123 missing",
        description="Expected **Monday**.",
        requester_email="ops@merchant.test",
        queue=payments,
    )
    admin = UserFactory(
        username="admin", role=Role.ADMIN, password="demo", is_staff=True, is_superuser=True
    )
    errors: list[str] = []

    def on_console(msg) -> None:
        # The favicon is another change's business (issue 9, item 8); anything else counts.
        if msg.type == "error" and "favicon" not in msg.location.get("url", ""):
            errors.append(f"{msg.text} {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
    page.context.add_init_script(RECORD_VIOLATIONS)
    base = live_server.url

    def visit(path: str, ready: str) -> None:
        response = page.goto(base + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(ready)
        page.wait_for_timeout(300)  # late work: htmx init, charts, badges ticking
        assert page.evaluate("window.__cspViolations") == [], path
        assert errors == [], path

    visit("/login/", "form button[type=submit]")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    visit("/queues/payments/", f'tr[data-ticket-id="{ticket.pk}"]')
    visit(f"/tickets/{ticket.pk}/", "textarea[name=body]")
    visit("/dashboard/", "h1")
    visit("/api/v1/docs/", ".swagger-ui .info")
    visit("/admin/", "#content")
    visit(f"/admin/accounts/user/{admin.pk}/change/", "#user_form")

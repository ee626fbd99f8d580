"""Issue 12 end to end in Chromium, under the CSP: a visitor finds an article and votes; another
writes in through the contact form (live suggestions); the requester signs in to the portal
by e-mailed link, sees only their own request and replies; an agent solves it; the survey is
sent, opened (nothing recorded) and answered; the lead sees CSAT and contact rate move.

Screenshots of the key pages go to /tmp/journey/ (the e-mail is Django's locmem outbox: the
live server runs in this process)."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from csat import services as surveys
from csat.models import Survey, SurveyStatus
from helpcenter.models import ArticleVote
from tests.factories import QueueFactory, UserFactory
from tests.helpcenter.factories import ArticleFactory
from tickets import services as tickets
from tickets.models import EventType, Message, Status, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)[:/]")
SHOTS = Path("/tmp/journey")
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def new_page(browser, live_server):
    """Pages in separate browser contexts (separate cookies: separate people), each failing
    the test on a console error, a page error or a CSP violation."""
    contexts, errors = [], []

    def make():
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{page.url}: {msg.text}")
                if msg.type == "error"
                and "favicon" not in msg.location.get("url", "")
                # 404s we provoke on purpose are logged by Chromium as failed loads.
                and "404" not in msg.text
                else None
            ),
        )
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            assert page.evaluate("window.__cspViolations || []") == [], page.url
        context.close()
    assert errors == []


@pytest.fixture
def sign_in_link_sent_inline(monkeypatch):
    """The portal queues its sign-in e-mail as a Celery task after commit; here the task runs
    at once, in the live server's thread, as a worker would."""
    from csat.tasks import portal_send_sign_in_link_task

    monkeypatch.setattr(
        portal_send_sign_in_link_task,
        "delay",
        lambda requester_id: portal_send_sign_in_link_task.apply(args=[requester_id]),
    )


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def link_in(message, pattern: str) -> str:
    return re.search(pattern, message.body).group(0)


def load_denominators(lead) -> None:
    """Today's active accounts and payments, imported through the API as the business does."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(lead)
    today = timezone.now().date().isoformat()
    response = api.put(
        "/api/v1/metrics/denominators",
        {
            "rows": [
                {"date": today, "metric": "active_accounts", "segment": "all", "value": 200},
                {"date": today, "metric": "payments", "segment": "all", "value": 20_000},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content


def test_self_service_journey(live_server, new_page, settings, sign_in_link_sent_inline):
    settings.CSAT_DELAY_MINUTES = 0
    base = live_server.url
    settings.DESK_BASE_URL = base
    QueueFactory(slug="payments", name="Payments", is_default=True)
    ArticleFactory(
        slug="payout-timing",
        title="Payout timing and schedules",
        body="Payouts arrive **two business days** after the payment settles.",
        tags=["payouts"],
    )
    ArticleFactory(slug="dispute-evidence", title="Dispute evidence checklist", tags=["disputes"])
    UserFactory(username="agent", role=Role.AGENT, password="demo", email="ann@desk.test")
    lead = UserFactory(username="lead", role=Role.LEAD, password="demo")
    sams = tickets.ticket_create(
        actor=None,
        subject="Sam's chargeback",
        description="Private to Sam",
        requester_email="sam@other.test",
    )

    # 1. A visitor searches, reads the article and finds it helpful.
    reader = new_page()
    reader.goto(base + "/help/")
    reader.fill("#hc-hero-q", "payout")
    reader.press("#hc-hero-q", "Enter")
    expect(reader.locator(".hc-results a").first).to_have_text("Payout timing and schedules")
    shot(reader, "01-search")
    reader.locator(".hc-results a").first.click()
    expect(reader.locator("h1")).to_have_text("Payout timing and schedules")
    reader.click("#feedback button[value=yes]")
    expect(reader.locator(".hc-voted")).to_contain_text("Thanks for your feedback")
    expect(reader.locator("#feedback button[value=yes]")).to_have_attribute("aria-pressed", "true")
    shot(reader, "02-article-voted")
    assert list(ArticleVote.objects.values_list("article__slug", "helpful")) == [
        ("payout-timing", True)
    ]

    # 2. Another visitor writes in; suggestions appear while the subject is typed.
    pat = new_page()
    pat.goto(base + "/help/contact/")
    pat.fill("#id_email", "pat@merchant.test")
    pat.fill("#id_name", "Pat Doe")
    pat.select_option("#id_reason", "payouts")
    pat.type("#id_subject", "my payout is late")
    expect(pat.locator("#suggestions a").first).to_have_text("Payout timing and schedules")
    pat.fill("#id_description", "Expected on Monday, nothing yet.")
    shot(pat, "03-contact-suggestions")
    pat.click("#contact-send")
    ticket = Ticket.objects.select_related("contact_reason").get(
        requester__email="pat@merchant.test"
    )
    expect(pat.locator("#ticket-number")).to_have_text(f"#{ticket.pk}")
    assert (ticket.channel, ticket.contact_reason.slug) == ("web", "payouts")
    shot(pat, "04-contact-sent")

    # 3. The requester asks for a sign-in link, follows it, sees only their own request.
    pat.goto(base + "/help/tickets/")
    shot(pat, "05-portal-sign-in")
    pat.fill("input[name=email]", "pat@merchant.test")
    pat.click("form.portal-form button[type=submit]")
    expect(pat.locator("[role=status]")).to_contain_text("sign-in link is on its way")
    sign_in_mail = [m for m in mail.outbox if m.to == ["pat@merchant.test"]][-1]
    pat.goto(link_in(sign_in_mail, r"http://\S+/help/tickets/sign-in/[^/\s]+/"))
    pat.click("button:has-text('Continue')")
    pat.wait_for_url(base + "/help/tickets/")
    rows = pat.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ticket.subject)
    expect(pat.locator("main")).not_to_contain_text("Sam")
    shot(pat, "06-portal-list")
    assert pat.goto(base + f"/help/tickets/{sams.pk}/").status == 404
    pat.goto(base + f"/help/tickets/{ticket.pk}/")
    pat.fill("textarea[name=body]", "Any news? The bank says nothing arrived.")
    pat.click("button[value=reply]")
    expect(pat.locator(".portal-conversation li").last).to_contain_text("Any news?")
    shot(pat, "07-portal-replied")
    assert Message.objects.filter(ticket=ticket, author_type="requester").count() == 1

    # 4. The agent replies and solves it in the workspace.
    agent = new_page()
    sign_in(agent, base, "agent")
    agent.goto(base + f"/tickets/{ticket.pk}/")
    agent.fill("textarea[name=body]", "The payout landed this morning.")
    agent.click("#reply-form button[type=submit]")
    expect(agent.locator(".flash")).to_contain_text("Reply sent.")
    agent.select_option("#update-form select[name=status]", "solved")
    agent.click("#update-form button[type=submit]")
    expect(agent.locator(".ticket-head .status")).to_have_text("Solved")
    shot(agent, "08-workspace-solved")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED

    # The customer sees the answer from "Support", no agent's name or address.
    pat.goto(base + f"/help/tickets/{ticket.pk}/")
    expect(pat.locator(".portal-status")).to_have_text("Solved")
    expect(pat.locator(".portal-conversation li.agent")).to_contain_text("Support")
    expect(pat.locator("main")).not_to_contain_text("ann@desk.test")
    shot(pat, "08b-portal-solved")

    # 5. The survey is due at once (CSAT_DELAY_MINUTES=0); the beat sweep's work sends it.
    assert surveys.surveys_send_due() == 1
    survey_mail = [m for m in mail.outbox if m.subject.startswith("How did we do?")][-1]
    pat.goto(link_in(survey_mail, r"http://\S+/help/survey/[^/\s]+/"))
    expect(pat.locator("main")).to_contain_text(ticket.subject)
    shot(pat, "09-survey")
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.status, survey.rating, survey.responded_at) == (SurveyStatus.SENT, None, None)
    assert not ticket.events.filter(type=EventType.CSAT_RATED).exists()
    pat.check("input[name=rating][value='5']")
    pat.fill("textarea[name=comment]", "Quick and clear, thanks!")
    pat.click("form.portal-form button[type=submit]")
    expect(pat.locator(".ok")).to_contain_text("Your rating (5 of 5) was recorded")
    shot(pat, "10-survey-thanks")
    survey.refresh_from_db()
    assert (survey.status, survey.rating) == (SurveyStatus.ANSWERED, 5)
    assert survey.agent.username == "agent"

    # 6. The lead's dashboard shows it: 2 contacts today over 200 accounts and 20k payments.
    load_denominators(lead)
    boss = new_page()
    sign_in(boss, base, "lead")
    boss.goto(base + "/dashboard/")
    tile = boss.locator('[data-tile="csat"] .dash-tile-value')
    expect(tile).to_have_text("100.0%")
    values = {
        name: boss.locator(f'[data-tile="{name}"] .dash-tile-value').inner_text()
        for name in ("csat_response_rate", "contacts_per_100_accounts", "contacts_per_10k_payments")
    }
    assert values == {
        "csat_response_rate": "100.0%",
        "contacts_per_100_accounts": "1.00",
        "contacts_per_10k_payments": "1.00",
    }
    reason_rows = boss.locator("#table-support_by_reason tbody tr")
    expect(reason_rows.filter(has_text="Payouts")).to_contain_text("1")
    shot(boss, "11-dashboard")

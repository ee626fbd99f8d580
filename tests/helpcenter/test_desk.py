"""The knowledge base in the workspace, the ticket page's article links, and the
contact-reason filter of the queue pages and the API."""

import pytest

from accounts.models import Role
from helpcenter.models import Article
from tests.factories import QueueFactory, UserFactory, make_token
from tickets import services as tickets
from tickets.models import AuthorType, ContactReason

from .factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments():
    return QueueFactory(slug="payments", name="Payments", is_default=True)


@pytest.fixture
def agent(client):
    user = UserFactory(username="kb-agent", role=Role.AGENT)
    client.force_login(user)
    return user


def test_agents_create_and_edit_articles(client, agent):
    CategoryFactory(slug="payouts")
    page = client.get("/knowledge-base/")
    assert page.status_code == 200
    assert b'id="kb-new"' in page.content
    response = client.post(
        "/knowledge-base/new/",
        {
            "title": "Payout timing",
            "slug": "",
            "category": "payouts",
            "tags": "payouts, timing",
            "status": "draft",
            "visibility": "public",
            "body": "Payouts take **two** days.",
        },
    )
    assert response.status_code == 302
    article = Article.objects.get()
    assert (article.slug, article.tags, article.author) == (
        "payout-timing",
        ["payouts", "timing"],
        agent,
    )
    assert client.get("/help/articles/payout-timing/").status_code == 404  # still a draft
    edit = client.post(
        f"/knowledge-base/{article.pk}/",
        {
            "title": "Payout timing",
            "slug": "payout-timing",
            "category": "payouts",
            "tags": "payouts",
            "status": "published",
            "visibility": "public",
            "body": "Payouts take two days.",
        },
    )
    assert edit.status_code == 302
    assert client.get("/help/articles/payout-timing/").status_code == 200
    assert b"payout-timing" in client.get("/knowledge-base/?q=payout").content
    assert client.post(f"/knowledge-base/{article.pk}/delete/").status_code == 302
    assert not Article.objects.exists()


def test_engineers_read_but_do_not_write(client):
    article = ArticleFactory(title="Internal runbook", visibility="internal")
    client.force_login(UserFactory(role=Role.ENGINEER))
    assert client.get("/knowledge-base/").status_code == 200
    page = client.get(f"/knowledge-base/{article.pk}/")
    assert page.status_code == 200
    assert b"disabled" in page.content
    assert client.post(f"/knowledge-base/{article.pk}/", {"title": "x"}).status_code == 403
    assert client.get("/knowledge-base/new/").status_code == 403
    assert client.post(f"/knowledge-base/{article.pk}/delete/").status_code == 403


def test_create_article_from_a_ticket(client, agent, payments):
    ticket = tickets.ticket_create(
        actor=None,
        subject="Payout delayed after bank change",
        description="Where is my money?",
        requester_email="c@m.test",
    )
    tickets.ticket_add_message(ticket_id=ticket.pk, actor=agent, body="Payouts pause 3 days.")
    tickets.ticket_add_message(ticket_id=ticket.pk, actor=agent, body="SECRET", public=False)
    tickets.ticket_add_message(
        ticket_id=ticket.pk, actor=None, body="Thanks!", author_type=AuthorType.REQUESTER
    )
    page = client.get(f"/tickets/{ticket.pk}/")
    assert f"/tickets/{ticket.pk}/new-article/".encode() in page.content
    assert b'id="kb-find-q"' in page.content
    draft = client.get(f"/tickets/{ticket.pk}/new-article/").content.decode()
    assert 'value="Payout delayed after bank change"' in draft
    assert "Payouts pause 3 days." in draft
    assert "SECRET" not in draft
    assert "Thanks!" not in draft
    assert "Where is my money" not in draft


def test_article_links_for_replies(client, agent):
    ArticleFactory(slug="refunds", title="Refund timing")
    ArticleFactory(title="Refund internals", visibility="internal")
    ArticleFactory(title="Refund draft", status="draft")
    fragment = client.get("/knowledge-base/links/?q=refund", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html
    assert "/help/articles/refunds/" in html
    assert 'data-markdown="[Refund timing](' in html
    assert "Refund internals" in html
    assert "internal" in html
    assert "Refund draft" not in html
    page = client.get("/knowledge-base/links/?q=refund")  # without JavaScript: a page
    assert b"<html" in page.content
    assert b"Copy a link" in page.content


def test_queue_and_api_filter_by_contact_reason(client, agent, payments, api_client):
    payouts = ContactReason.objects.get(slug="payouts")
    with_reason = tickets.ticket_create(
        actor=None, subject="A", description="d", requester_email="a@m.test", contact_reason=payouts
    )
    without = tickets.ticket_create(
        actor=None, subject="B", description="d", requester_email="b@m.test"
    )
    html = client.get("/queues/payments/?contact_reason=payouts").content.decode()
    assert f'data-ticket-id="{with_reason.pk}"' in html
    assert f'data-ticket-id="{without.pk}"' not in html
    assert 'id="filter-contact-reason"' in html
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(UserFactory(role=Role.LEAD))}")
    ids = lambda q: [t["id"] for t in api_client.get(f"/api/v1/tickets?{q}").json()["results"]]  # noqa: E731
    assert ids("contact_reason=payouts") == [with_reason.pk]
    assert ids("contact_reason=none") == [without.pk]
    assert ids("contact_reason=nonexistent") == []


def test_navigation_shows_the_knowledge_base(client, agent):
    assert b'href="/knowledge-base/"' in client.get("/").content
    client.force_login(UserFactory(role=Role.ENGINEER))
    assert b'href="/knowledge-base/"' not in client.get("/").content

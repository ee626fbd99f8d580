"""The public help center as an attacker tries it (DESIGN §9): drafts and internal articles
by every path, markup in articles, search terms and the contact form, POSTs without CSRF,
forged tokens and odd input (never a 500), and nothing internal on a public page."""

import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from helpcenter.models import ArticleStatus, ArticleView, ArticleVote, FormVisit, Visibility
from tests.factories import QueueFactory, UserFactory
from tickets.models import Ticket

from .factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def articles(db):
    QueueFactory(slug="support", is_default=True)
    payouts = CategoryFactory(slug="payouts", name="Payouts")
    hidden = CategoryFactory(slug="runbooks", name="Runbooks")
    made = {
        "public": ArticleFactory(
            slug="payout-timing",
            title="Payout timing",
            body="Payouts take two days.",
            category=payouts,
        ),
        "draft": ArticleFactory(
            slug="payout-draft",
            title="Payout draftsecret",
            body="Payout unreleased draftsecret",
            status=ArticleStatus.DRAFT,
            category=payouts,
        ),
        "internal": ArticleFactory(
            slug="payout-runbook",
            title="Payout runbooksecret",
            body="Payout escalate to ann.secret@desk.test runbooksecret",
            visibility=Visibility.INTERNAL,
            category=hidden,
        ),
    }
    # Views make the hidden ones "popular", if anything leaked them.
    ArticleView.objects.bulk_create(
        ArticleView(article=made[key], visitor=uuid.uuid4(), at=timezone.now())
        for key in ("draft", "internal")
        for _ in range(5)
    )
    return made


def _public_html(client: Client) -> list[str]:
    urls = [
        "/help/",
        "/help/?q=payout",
        "/help/search/?q=payout",
        "/help/search/?q=unreleased",  # words only the hidden articles hold
        "/help/search/?q=escalate",
        "/help/search/?q=payuot",  # the typo fallback
        "/help/search/?q=runbooksecrit",
        "/help/suggest/?q=payout unreleased escalate",
        "/help/articles/payout-timing/",
        "/help/contact/",
        "/api/v1/articles",
        "/api/v1/articles?q=payout",
        "/api/v1/articles?status=draft",
        "/api/v1/articles?visibility=internal",
    ]
    pages = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.content.decode())
    return pages


def test_drafts_and_internal_articles_are_unreachable_by_every_path(articles):
    client = Client()
    for html in _public_html(client):
        for secret in (
            "draftsecret",
            "runbooksecret",
            "payout-draft",
            "payout-runbook",
            "Runbooks",
        ):
            assert secret not in html, secret
        assert "ann.secret@desk.test" not in html
    for slug in ("payout-draft", "payout-runbook"):
        assert client.get(f"/help/articles/{slug}/").status_code == 404
        assert client.post(f"/help/articles/{slug}/vote/", {"helpful": "yes"}).status_code == 404
        assert client.get(f"/api/v1/articles/{slug}").status_code == 404
    assert not ArticleVote.objects.exists()
    assert ArticleView.objects.filter(article__status=ArticleStatus.DRAFT).count() == 5


def test_a_missing_and_a_hidden_article_look_the_same(articles):
    client = Client()
    missing = client.get("/help/articles/no-such-thing/")
    hidden = client.get("/help/articles/payout-runbook/")
    assert missing.status_code == hidden.status_code == 404
    csrf = re.compile(r'"X-CSRFToken": "[^"]+"')
    assert csrf.sub("", missing.content.decode()) == csrf.sub("", hidden.content.decode())


def test_a_signed_in_agent_sees_no_more_on_the_public_pages(articles):
    client = Client()
    client.force_login(UserFactory(username="agent", role=Role.AGENT))
    for html in _public_html(client)[:10]:  # the pages; the API shows agents every article
        assert "runbooksecret" not in html
        assert "draftsecret" not in html
    assert client.get("/help/articles/payout-runbook/").status_code == 404


def test_markup_in_search_terms_is_shown_as_text(articles):
    for url in (
        f"/help/search/?q={SCRIPT}",
        f"/help/?q={SCRIPT}",
        '/help/search/?q="><img src=x onerror=alert(1)>',
        f"/help/suggest/?q={SCRIPT} payout",
    ):
        html = Client().get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "<img" not in html, url


def test_markup_in_article_titles_bodies_and_tags_is_inert(db):
    category = CategoryFactory(slug="evil", name=f"Evil {SCRIPT}")
    ArticleFactory(
        slug="evil",
        title=f"Payout {SCRIPT}",
        body=(
            f"Payout **bold** {SCRIPT} <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
            '<a href="data:text/html,hi">d</a> <iframe src="//evil.test"></iframe> '
            '<p style="color:red" onclick="alert(1)">styled</p>'
        ),
        tags=[SCRIPT],
        category=category,
    )
    for url in (
        "/help/",
        "/help/articles/evil/",
        "/help/search/?q=payout",
        "/help/search/?q=payuot",
        "/help/suggest/?q=payout",
    ):
        html = Client().get(url).content.decode()
        # Snippets show the Markdown source as escaped text; what matters is that no
        # element, attribute or link is made of it.
        for bad in (
            "<script>alert",
            "<img",
            'href="javascript',
            'href="data',
            "<iframe",
            'onclick="',
            'style="',
        ):
            assert bad not in html, (url, bad)


def test_a_search_snippet_cannot_smuggle_markup_through_the_highlighter(db):
    # The highlighter's sentinels are control characters; an article holding them can only
    # produce <mark>, never anything else.
    ArticleFactory(slug="s", title="Payout", body="payout \x02<b>bold</b>\x03 <script>x</script>")
    html = Client().get("/help/search/?q=payout").content.decode()
    assert "<b>" not in html
    assert "<script>x" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/help/search/?q=%00",
        "/help/search/?q=payout%00",
        "/help/?q=%00",
        "/help/suggest/?q=payout%00x",
        "/help/search/?q=%EF%BF%BF%ED%A0%80",
        "/help/search/?q=" + "(" * 300,
        "/help/search/?q=%26%7C%21%3A%2A",
        "/help/search/?q=-",
        "/help/search/?q=%22%22%22",
        "/help/search/?q=or%20or%20or",
        "/help/articles/payout-timing/?from=%00",
        "/help/articles/payout-timing/?from=" + "9" * 300,
        "/help/contact/sent/?token=%00",
        "/help/contact/sent/?token=" + "a" * 5000,
        "/help/suggest/?token=" + "a:b:c" * 50,
        "/api/v1/articles?q=%00",
        "/api/v1/articles?cursor=%00",
    ],
)
def test_odd_input_never_fails(articles, url):
    assert Client().get(url).status_code in (200, 400, 404), url


def test_every_public_post_needs_csrf(articles):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/help/contact/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    form = {
        "token": token,
        "email": "eve@evil.test",
        "reason": "other",
        "subject": "forged",
        "description": "forged",
    }
    assert client.post("/help/contact/", form).status_code == 403
    assert client.post("/help/articles/payout-timing/vote/", {"helpful": "no"}).status_code == 403
    assert not Ticket.objects.exists()
    assert not ArticleVote.objects.exists()
    assert FormVisit.objects.get().ticket_id is None


def test_markup_in_the_contact_form_is_escaped_when_the_form_comes_back(articles):
    client = Client()
    page = client.get("/help/contact/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    evil = f'"><svg onload=alert(1)>{SCRIPT}'
    response = client.post(
        "/help/contact/",
        {
            "token": token,
            "email": "not-an-address",  # refused, so the form comes back with what was typed
            "name": evil,
            "reason": "other",
            "subject": evil,
            "description": evil,
            "account_id": evil,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<svg" not in html
    assert "<script>alert" not in html
    assert not Ticket.objects.exists()


def test_the_confirmation_link_carries_only_the_signed_token(articles):
    client = Client()
    page = client.get("/help/contact/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/help/contact/",
        {
            "token": token,
            "email": "pat@merchant.test",
            "reason": "payouts",
            "subject": f"Payout {SCRIPT}",
            "description": "Late",
        },
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/help/contact/sent/?token=")
    sent = client.get(location).content.decode()
    assert "<script>alert" not in sent
    assert f"#{Ticket.objects.get().pk}" in sent
    # Another visitor's guess at a token shows nothing.
    assert Client().get("/help/contact/sent/?token=" + token[:-2] + "xx").status_code == 404


def test_a_forged_form_token_opens_no_ticket_for_a_chosen_visit(articles):
    from django.core import signing

    from helpcenter.contact import TOKEN_SALT

    victim = FormVisit.objects.create(visitor=uuid.uuid4(), started_at=timezone.now())
    forged = signing.dumps(str(victim.pk), salt="some-other-salt")
    form = {"token": forged, "email": "eve@evil.test", "reason": "other"}
    response = Client().post("/help/contact/", {**form, "subject": "x", "description": "y"})
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    assert FormVisit.objects.get(pk=victim.pk).ticket_id is None
    assert TOKEN_SALT != "some-other-salt"


def test_suggestion_counts_and_opened_articles_only_move_for_the_visit_owner(articles):
    owner = Client()
    page = owner.get("/help/contact/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    visit = FormVisit.objects.get()
    stranger = Client()
    stranger.get(f"/help/suggest/?q=payout&token={token}")
    stranger.get(f"/help/articles/payout-timing/?from={visit.pk}")
    visit.refresh_from_db()
    assert (visit.suggestions_shown, visit.articles_opened) == (0, 0)
    owner.get(f"/help/suggest/?q=payout&token={token}")
    owner.get(f"/help/articles/payout-timing/?from={visit.pk}")
    visit.refresh_from_db()
    assert (visit.suggestions_shown, visit.articles_opened) == (1, 1)


def test_votes_cannot_be_stuffed_from_one_browser(articles):
    client = Client()
    for answer in ("yes", "yes", "no", "yes", "maybe", ""):
        client.post("/help/articles/payout-timing/vote/", {"helpful": answer})
    assert list(ArticleVote.objects.values_list("helpful", flat=True)) == [True]
    # A forged visitor cookie is not ours: the vote counts for a fresh visitor, once.
    forged = Client()
    forged.cookies["hc_visitor"] = str(uuid.uuid4())
    forged.post("/help/articles/payout-timing/vote/", {"helpful": "no"})
    forged.post("/help/articles/payout-timing/vote/", {"helpful": "no"})
    assert ArticleVote.objects.count() == 2

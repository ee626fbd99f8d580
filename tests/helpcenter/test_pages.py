"""Public pages: no sign-in, nothing unpublished or internal by any path, votes one per
visitor (changeable), sanitised Markdown."""

import pytest

from helpcenter.markdown import render_markdown
from helpcenter.models import ArticleStatus, ArticleView, ArticleVote, Visibility

from .factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    payouts = CategoryFactory(slug="payouts", name="Payouts")
    return {
        "public": ArticleFactory(slug="payout-timing", title="Payout timing", category=payouts),
        "draft": ArticleFactory(
            slug="draft-one", title="Payout draft", status=ArticleStatus.DRAFT, category=payouts
        ),
        "internal": ArticleFactory(
            slug="internal-one",
            title="Payout internals",
            visibility=Visibility.INTERNAL,
            category=payouts,
        ),
    }


def test_home_lists_public_articles_only(client, articles, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get("/help/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Payout timing" in page
    assert "Payout draft" not in page
    assert "Payout internals" not in page
    assert "hc_visitor" in response.cookies


def test_search_pages(client, articles):
    for url in ("/help/search/?q=payout", "/help/?q=payout"):
        page = client.get(url).content.decode()
        assert "/help/articles/payout-timing/" in page
        assert "draft-one" not in page
        assert "internal-one" not in page
    typo = client.get("/help/search/?q=payuot").content.decode()
    assert "/help/articles/payout-timing/" in typo
    assert 'id="hc-typo"' in typo
    assert b"hc-no-results" in client.get("/help/search/?q=qqqzzz").content


def test_drafts_and_internal_articles_are_404_by_url(client, articles):
    assert client.get("/help/articles/payout-timing/").status_code == 200
    for slug in ("draft-one", "internal-one", "missing"):
        assert client.get(f"/help/articles/{slug}/").status_code == 404
        assert client.post(f"/help/articles/{slug}/vote/", {"helpful": "yes"}).status_code == 404


def test_article_views_are_recorded(client, articles):
    client.get("/help/articles/payout-timing/")
    client.get("/help/articles/payout-timing/")
    assert ArticleView.objects.filter(article=articles["public"]).count() == 2
    assert len(set(ArticleView.objects.values_list("visitor", flat=True))) == 1


def test_one_vote_per_visitor_and_it_can_change(client, articles):
    url = "/help/articles/payout-timing/vote/"
    client.get("/help/articles/payout-timing/")  # the visitor cookie
    assert client.post(url, {"helpful": "yes"}).status_code == 302
    assert client.post(url, {"helpful": "yes"}).status_code == 302
    assert list(ArticleVote.objects.values_list("helpful", flat=True)) == [True]
    client.post(url, {"helpful": "no"})
    assert list(ArticleVote.objects.values_list("helpful", flat=True)) == [False]
    page = client.get("/help/articles/payout-timing/?voted=1").content.decode()
    assert "not helpful" in page
    from django.test import Client

    Client().post(url, {"helpful": "yes"})  # another visitor
    assert ArticleVote.objects.count() == 2
    assert client.post(url, {"helpful": "maybe"}).status_code == 400


def test_votes_need_csrf(articles):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/help/articles/payout-timing/vote/", {"helpful": "yes"}).status_code == 403
    assert ArticleVote.objects.count() == 0


def test_a_tampered_visitor_cookie_is_replaced(client, articles):
    client.cookies["hc_visitor"] = "00000000-0000-0000-0000-000000000001"
    response = client.get("/help/articles/payout-timing/")
    assert response.cookies["hc_visitor"].value != "00000000-0000-0000-0000-000000000001"


def test_markdown_is_sanitised():
    html = render_markdown(
        "Hi <script>alert(1)</script> [click](javascript:alert(1)) "
        '<a href="https://x.test" onclick="evil()">x</a> <img src=x onerror=alert(1)> '
        "[docs](https://docs.test/a)\n\n```\n<b>code</b>\n```"
    )
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "javascript:" not in html
    assert "onclick" not in html
    assert "onerror" not in html
    assert '<a href="https://docs.test/a" rel="noopener nofollow">docs</a>' in html
    assert "&lt;b&gt;code&lt;/b&gt;" in html


def test_article_page_renders_markdown_safely(client):
    ArticleFactory(slug="x", body="**Bold** <script>alert(1)</script>")
    page = client.get("/help/articles/x/").content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<script>alert" not in page


def test_pages_never_fail_on_odd_input(client, articles):
    for url in (
        "/help/search/?q=%22",
        "/help/search/?q=" + "x" * 3000,
        "/help/articles/payout-timing/?from=not-a-uuid",
        "/help/suggest/?q=%00&token=junk",
        "/help/contact/sent/?token=junk",
    ):
        assert client.get(url).status_code in (200, 400, 404), url

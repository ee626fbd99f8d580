"""Search: the weighted document ranks title over tags over body; websearch syntax; the
trigram fallback for typos; only published public articles for the public."""

import pytest

from helpcenter import selectors
from helpcenter.models import ArticleStatus, Visibility

from .factories import ArticleFactory

pytestmark = pytest.mark.django_db


def slugs(text, **kwargs):
    return [h.article.slug for h in selectors.article_search(text, **kwargs)]


def test_title_outranks_tags_outranks_body():
    ArticleFactory(slug="in-body", title="Getting paid", body="When does a chargeback end?")
    ArticleFactory(slug="in-tags", title="Card issues", tags=["chargeback"], body="Read on.")
    ArticleFactory(slug="in-title", title="Chargeback basics", body="All you need.")
    ArticleFactory(slug="elsewhere", title="Webhooks", body="Signatures and retries.")
    assert slugs("chargeback") == ["in-title", "in-tags", "in-body"]


def test_stemming_finds_other_forms():
    ArticleFactory(slug="payouts", title="Payout schedules", body="Daily, weekly or monthly.")
    assert slugs("payouts") == ["payouts"]


def test_websearch_syntax_excludes_and_quotes():
    ArticleFactory(slug="timing", title="Payout timing", body="Payouts arrive in two days.")
    ArticleFactory(slug="failed", title="Failed payouts", body="A payout failed: bank closed.")
    ArticleFactory(slug="phrase", title="Bank details", body="Update the bank account number.")
    assert slugs("payout -failed") == ["timing"]
    assert set(slugs("payout")) == {"timing", "failed"}
    assert slugs('"bank account"') == ["phrase"]
    assert slugs("refund or webhook") == []


def test_typo_falls_back_to_trigrams():
    ArticleFactory(slug="payout-timing", title="Payout timing and schedules")
    ArticleFactory(slug="disputes", title="Dispute evidence and deadlines")
    hits = selectors.article_search("payuot")
    assert [h.article.slug for h in hits] == ["payout-timing"]
    assert hits[0].typo_match
    assert selectors.article_search("zzzzqqq") == []


def test_snippets_highlight_and_escape():
    ArticleFactory(title="Refunds", body="A refund <script>x()</script> takes 5 & more days.")
    (hit,) = selectors.article_search("refund")
    assert "<mark>refund</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&amp;" in hit.snippet


def test_the_public_finds_only_published_public_articles():
    ArticleFactory(slug="public", title="Refund timing")
    ArticleFactory(slug="draft", title="Refund draft", status=ArticleStatus.DRAFT)
    ArticleFactory(slug="internal", title="Refund internals", visibility=Visibility.INTERNAL)
    assert slugs("refund") == ["public"]
    assert slugs("refnd") == ["public"]  # the typo fallback too
    assert [a.slug for a in selectors.article_suggestions("refund please")] == ["public"]


def test_suggestions_read_a_sentence_and_stop_at_five():
    for n in range(7):
        ArticleFactory(title=f"Webhook topic {n}")
    found = selectors.article_suggestions("my webhook is not arriving")
    assert len(found) == 5


def test_hostile_queries_never_fail():
    ArticleFactory(title="Payout timing")
    for text in ['"', "-", "or", "!!!", "a & b | c", "'; drop table x; --", "x" * 5000, "\x00"]:
        selectors.article_search(text.replace("\x00", ""))

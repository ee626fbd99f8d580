"""The demo help center: searchable articles, nothing internal in public, figures alive."""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpcenter import selectors
from helpcenter.demo import seed_helpcenter
from helpcenter.models import Article, FormVisit

pytestmark = pytest.mark.django_db


def test_demo_articles_answer_merchant_questions():
    seed_helpcenter()
    seed_helpcenter()  # twice: nothing doubles
    assert Article.objects.count() == 14
    visits = FormVisit.objects.count()
    seed_helpcenter()
    assert FormVisit.objects.count() == visits

    def top(text):
        return selectors.article_search(text)[0].article.slug

    assert top("when will my payout arrive") == "payout-timing-and-schedules"
    assert top("payuot") == "payout-timing-and-schedules"
    assert top("webhook signature") == "webhook-signatures-and-retries"
    assert top("429") == "api-errors-402-and-429"
    assert top("idempotency") == "idempotency-keys"
    assert top("chargeback evidence") == "dispute-evidence-and-deadlines"
    assert "payout-investigation-runbook" not in {
        h.article.slug for h in selectors.article_search("payout")
    }
    now = timezone.now()
    figures = selectors.self_service_figures(start=now - timedelta(days=90), end=now)
    assert figures["form_visits"] > 300
    assert 0 < figures["deflection_rate"] < 0.5
    assert figures["article_views"] > figures["form_visits"]

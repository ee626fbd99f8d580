"""An article is often written from a ticket: a card number in it is masked when stored."""

import pytest

from helpcenter.models import Article
from helpcenter.services import article_create, article_update

pytestmark = pytest.mark.django_db


def test_card_numbers_in_articles_are_masked_when_stored():
    article = article_create(
        author=None, title="Refund to 4111 1111 1111 1111", body="Card 4242-4242-4242-4242."
    )
    article_update(article=article, body="Now 5555 5555 5555 4444, order 1234567890123")
    stored = Article.objects.get(pk=article.pk)
    assert stored.title == "Refund to 411111******1111"
    assert stored.body == "Now 555555******4444, order 1234567890123"

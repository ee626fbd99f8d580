"""Factories for the help center's tests."""

import factory
from django.utils import timezone

from helpcenter.models import Article, ArticleStatus, Category, Visibility


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    slug = factory.Sequence(lambda n: f"article-{n}")
    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Some helpful text."
    category = factory.SubFactory(CategoryFactory)
    tags = factory.LazyFunction(list)
    status = ArticleStatus.PUBLISHED
    visibility = Visibility.PUBLIC
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")

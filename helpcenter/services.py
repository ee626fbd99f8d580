"""Writes of the help center: articles, votes, views and contact-form visits.

The contact form itself (a ticket exactly once per form) lives in helpcenter/contact.py."""

import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from support_desk.errors import Conflict, InvalidRequest
from tickets.masking import mask_card_numbers

from .models import (
    Article,
    ArticleStatus,
    ArticleView,
    ArticleVote,
    Category,
    FormVisit,
    Visibility,
)

ARTICLE_FIELDS = ("slug", "title", "body", "category", "tags", "status", "visibility")


def _clean_tags(tags: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip().lower()
        if len(tag) > 50:
            raise InvalidRequest("A tag is at most 50 characters.", param="tags")
        if tag:
            seen[tag] = None
    return list(seen)


def _free_slug(title: str, *, exclude: int | None = None) -> str:
    base = slugify(title)[:100] or "article"
    slug, n = base, 1
    taken = Article.objects.exclude(pk=exclude) if exclude else Article.objects.all()
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _check(article: Article) -> None:
    if not article.title.strip():
        raise InvalidRequest("Give the article a title.", param="title")
    if not article.body.strip():
        raise InvalidRequest("Write the article's text.", param="body")
    if article.status not in ArticleStatus.values:
        raise InvalidRequest(f'"{article.status}" is not a status.', param="status")
    if article.visibility not in Visibility.values:
        raise InvalidRequest(f'"{article.visibility}" is not a visibility.', param="visibility")


def _save(article: Article, *, creating: bool) -> Article:
    # Articles are often written from tickets: a card number never reaches them either.
    article.title = mask_card_numbers(article.title)
    article.body = mask_card_numbers(article.body)
    try:
        with transaction.atomic():
            article.save(force_insert=creating)
    except IntegrityError:
        raise Conflict(
            f'Another article already has the slug "{article.slug}".', param="slug"
        ) from None
    # The generated search document is computed by PostgreSQL; read it back lazily.
    article.refresh_from_db(fields=["document"])
    return article


def article_create(
    *,
    author: User | None,
    title: str,
    body: str,
    slug: str = "",
    category: Category | None = None,
    tags: Sequence[str] = (),
    status: str = ArticleStatus.DRAFT,
    visibility: str = Visibility.PUBLIC,
) -> Article:
    now = timezone.now()
    article = Article(
        title=title.strip(),
        body=body,
        slug=slug or _free_slug(title),
        category=category,
        tags=_clean_tags(tags),
        status=status,
        visibility=visibility,
        author=author,
        created_at=now,
        updated_at=now,
    )
    _check(article)
    return _save(article, creating=True)


def article_update(*, article: Article, **changes) -> Article:
    unknown = set(changes) - set(ARTICLE_FIELDS)
    if unknown:
        raise InvalidRequest(f"Cannot change {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        if name == "tags":
            value = _clean_tags(value)
        elif name == "title":
            value = value.strip()
        elif name == "slug" and not value:
            value = _free_slug(changes.get("title", article.title), exclude=article.pk)
        setattr(article, name, value)
    article.updated_at = timezone.now()
    _check(article)
    return _save(article, creating=False)


def article_delete(*, article: Article) -> None:
    article.delete()


def article_vote(*, article: Article, visitor: uuid.UUID, helpful: bool) -> ArticleVote:
    """One vote per visitor per article; voting again replaces it (one upsert)."""
    now = timezone.now()
    vote, _ = ArticleVote.objects.update_or_create(
        article=article,
        visitor=visitor,
        defaults={"helpful": helpful, "updated_at": now},
        create_defaults={"helpful": helpful, "created_at": now, "updated_at": now},
    )
    return vote


def article_view_record(
    *, article: Article, visitor: uuid.UUID, from_visit: uuid.UUID | None = None
) -> None:
    """A public page view; opened from a contact form's suggestion, it also counts on that
    visit (only the visitor's own visit: a shared link must not count on someone else's)."""
    now = timezone.now()
    ArticleView.objects.create(article=article, visitor=visitor, at=now)
    if from_visit is not None:
        FormVisit.objects.filter(pk=from_visit, visitor=visitor).update(
            articles_opened=F("articles_opened") + 1
        )


def form_visit_start(*, visitor: uuid.UUID) -> FormVisit:
    return FormVisit.objects.create(visitor=visitor, started_at=timezone.now())


def form_visit_suggested(*, visit_id: uuid.UUID, visitor: uuid.UUID, count: int) -> None:
    if count:
        FormVisit.objects.filter(pk=visit_id, visitor=visitor, ticket__isnull=True).update(
            suggestions_shown=F("suggestions_shown") + count
        )

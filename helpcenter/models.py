"""The knowledge base and the self-service records (DESIGN §9).

An article's search document is a stored, weighted tsvector that PostgreSQL computes itself
(a generated column): title weight A, tags B, body C. Nothing in Python can forget to update
it, whichever path writes the row (service, admin, a bulk seed).
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, Q

# English stemming: "payouts" finds "payout", "disputed" finds "dispute".
SEARCH_CONFIG = "english"


class ImmutableTags(Func):
    """The tags as one text, through an IMMUTABLE SQL function created by the migration:
    PostgreSQL's own array_to_string is only STABLE, which a generated column refuses."""

    function = "helpcenter_tags_text"
    output_field = models.TextField()


class Category(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal (agents only)"


class Article(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    document = models.GeneratedField(
        expression=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector(ImmutableTags(F("tags")), weight="B", config=SEARCH_CONFIG)
        + SearchVector("body", weight="C", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["title"]
        indexes = [
            GinIndex(fields=["document"], name="article_document"),
            # What the public sees, newest first (the help center's front page).
            models.Index(
                fields=["-updated_at"],
                condition=Q(status="published", visibility="public"),
                name="article_public_recent",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED and self.visibility == Visibility.PUBLIC


class ArticleVote(models.Model):
    """ "Was this helpful?": one row per (article, visitor); voting again changes it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    visitor = models.UUIDField()
    helpful = models.BooleanField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "visitor"], name="article_vote_once")
        ]


class ArticleView(models.Model):
    """One public article page view (the self-service score's numerator)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="views")
    visitor = models.UUIDField()
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["at"], name="article_view_at")]


class FormVisit(models.Model):
    """One visit to the contact form: what we suggested, what was read, whether a ticket
    followed. It is deflected when an article was opened and no ticket came within 24 h
    (helpcenter/selectors.py). Its id is also the form's one-time token: the first
    submission sets `ticket`, a second one finds it and shows the same confirmation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visitor = models.UUIDField()
    started_at = models.DateTimeField()
    suggestions_shown = models.PositiveIntegerField(default=0)
    articles_opened = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["started_at"], name="form_visit_started")]

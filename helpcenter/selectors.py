"""Reads of the knowledge base: who sees which articles, search, and the self-service figures
the support dashboard shows (DESIGN §9)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
)
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User

from .models import SEARCH_CONFIG, Article, ArticleStatus, ArticleView, FormVisit, Visibility
from .typos import word_similarity

# A typo is forgiven when the query shares this much of a title word's trigrams
# ("payuot" ~ "payout" is 0.43; unrelated words are near 0).
TRIGRAM_THRESHOLD = 0.35
# The most published articles the typo fallback compares (newest first beyond that).
TYPO_MAX_ARTICLES = 5000
DEFLECTION_WINDOW = timedelta(hours=24)
MAX_QUERY_CHARS = 200


def public_articles() -> QuerySet[Article]:
    """What anyone on the internet may read: published and public, nothing else."""
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)


def articles_for(user: User | None) -> QuerySet[Article]:
    """Every article for the desk's people (drafts and internal ones included); the public
    ones for anybody else."""
    if user is not None and user.is_authenticated and user.is_active:
        return Article.objects.all()
    return public_articles()


def can_write_articles(user: User | None) -> bool:
    """Agents, leads and admins write the knowledge base; engineers only read it."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.works_support
    )


def article_public(slug: str) -> Article | None:
    return public_articles().select_related("category").filter(slug=slug).first()


@dataclass
class Hit:
    article: Article
    snippet: SafeString
    rank: float
    typo_match: bool = False


# Sentinels PostgreSQL wraps around matches; the text is escaped, then they become <mark>.
_START, _STOP = "\x02", "\x03"


def _highlight(raw: str) -> SafeString:
    text = escape(raw or "")
    return mark_safe(text.replace(_START, "<mark>").replace(_STOP, "</mark>"))


def clean_query(text: str | None) -> str:
    return (text or "").strip()[:MAX_QUERY_CHARS]


def article_search(
    text: str, *, base: QuerySet[Article] | None = None, limit: int = 20, snippets: bool = True
) -> list[Hit]:
    """Full-text search with PostgreSQL's websearch syntax ("payout -failed", "quoted
    phrases", or): ranked by ts_rank over the weighted document, so a match in the title
    outranks one in the tags, which outranks one in the body. When nothing matches (a typo),
    titles are compared by trigram word similarity instead."""
    text = clean_query(text)
    base = public_articles() if base is None else base
    if not text:
        return []
    query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
    qs = (
        base.filter(document=query)
        .annotate(rank=SearchRank(F("document"), query))
        .select_related("category")
        .order_by("-rank", "title", "id")
    )
    if snippets:
        qs = qs.annotate(
            snippet=SearchHeadline(
                "body",
                query,
                config=SEARCH_CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                max_words=30,
                min_words=12,
                max_fragments=2,
            )
        )
    hits = [
        Hit(a, _highlight(a.snippet) if snippets else mark_safe(""), a.rank) for a in qs[:limit]
    ]
    if hits:
        return hits
    return _typo_search(text, base=base, limit=limit)


def _typo_search(text: str, *, base: QuerySet[Article], limit: int) -> list[Hit]:
    """Titles whose words resemble the query's (helpcenter/typos.py). Only reached when
    full-text search found nothing; a help center's titles are few enough to compare here."""
    titles = base.order_by("-updated_at").values_list("id", "title")[:TYPO_MAX_ARTICLES]
    scored = sorted(
        ((word_similarity(text, title), title, pk) for pk, title in titles),
        key=lambda row: (-row[0], row[1], row[2]),
    )
    best = [(rank, pk) for rank, _, pk in scored if rank >= TRIGRAM_THRESHOLD][:limit]
    found = base.select_related("category").in_bulk([pk for _, pk in best])
    return [
        Hit(found[pk], _highlight(_lead(found[pk].body)), rank, typo_match=True)
        for rank, pk in best
        if pk in found
    ]


def _lead(body: str, words: int = 30) -> str:
    parts = (body or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def article_suggestions(text: str, *, limit: int = 5) -> list[Article]:
    """Up to `limit` published public articles for a contact form's subject."""
    text = clean_query(text)
    if len(text) < 3:
        return []
    # An "or" of the words: a subject is a sentence, not a search expression.
    words = " or ".join(w for w in text.replace('"', " ").split() if w.lower() != "or")
    hits = article_search(words, limit=limit, snippets=False)
    return [h.article for h in hits]


def popular_articles(*, limit: int = 8, days: int = 90) -> list[Article]:
    since = timezone.now() - timedelta(days=days)
    return list(
        public_articles()
        .annotate(recent_views=Count("views", filter=Q(views__at__gte=since)))
        .filter(recent_views__gt=0)
        .order_by("-recent_views", "title")[:limit]
    )


def recent_articles(*, limit: int = 8) -> list[Article]:
    return list(public_articles().order_by("-updated_at", "id")[:limit])


# --- self-service figures (the support dashboard reads these) ---------------------------


def deflected_visits(*, start: datetime, end: datetime, now: datetime | None = None):
    """Form visits started in [start, end) that opened an article and were followed by no
    ticket from the same visitor within 24 h. A visit younger than 24 h is not judged yet
    (it may still end in a ticket), so it is not deflected."""
    now = now or timezone.now()
    # submitted_at is set with the ticket (helpcenter/contact.py) and stays if that ticket
    # is later deleted: the visitor did write in.
    ticket_soon = FormVisit.objects.filter(
        visitor=OuterRef("visitor"),
        submitted_at__gte=OuterRef("started_at"),
        submitted_at__lt=OuterRef("started_at") + DEFLECTION_WINDOW,
    )
    return FormVisit.objects.filter(
        started_at__gte=start,
        started_at__lt=end,
        started_at__lte=now - DEFLECTION_WINDOW,
        articles_opened__gt=0,
    ).exclude(Exists(ticket_soon))


def self_service_figures(*, start: datetime, end: datetime, now: datetime | None = None) -> dict:
    """The help center's figures for [start, end):

    - form_visits: contact-form visits started in the period;
    - deflected: those of them that opened a suggested article and sent no ticket within
      24 h (see deflected_visits);
    - deflection_rate: deflected / form_visits (None without visits);
    - article_views: public article page views in the period;
    - tickets_created: contacts opened in the period, every channel, not counting tickets
      opened by robots or merged into another (DESIGN §9's contacts);
    - self_service_score: article_views / tickets_created (None without tickets).
    """
    visits = FormVisit.objects.filter(started_at__gte=start, started_at__lt=end).count()
    deflected = deflected_visits(start=start, end=end, now=now).count()
    views = ArticleView.objects.filter(at__gte=start, at__lt=end).count()
    tickets = _contacts(start, end).count()
    return _figures(visits, deflected, views, tickets)


def self_service_figures_by_day(
    *, start: datetime, end: datetime, now: datetime | None = None
) -> dict[date, dict]:
    """self_service_figures for every UTC day that [start, end) touches, in four grouped
    queries instead of four per day. A day's figures are those of its part of the period
    (the first and last day may be partial), so each equals
    self_service_figures(start=max(start, day), end=min(end, next day))."""

    def by_day(qs, column: str) -> dict[date, int]:
        rows = (
            qs.annotate(day=TruncDate(column, tzinfo=UTC))
            .values("day")
            # count(*), not count(id): tickets per day is then an index-only scan of the
            # contacts index (csat_ticket_contacts), which holds no id.
            .annotate(n=Count("*"))
            .values_list("day", "n")
        )
        return dict(rows)

    visits = by_day(
        FormVisit.objects.filter(started_at__gte=start, started_at__lt=end), "started_at"
    )
    deflected = by_day(deflected_visits(start=start, end=end, now=now), "started_at")
    views = by_day(ArticleView.objects.filter(at__gte=start, at__lt=end), "at")
    tickets = by_day(_contacts(start, end), "created_at")
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return {
        day: _figures(
            visits.get(day, 0), deflected.get(day, 0), views.get(day, 0), tickets.get(day, 0)
        )
        for day in days
    }


def _contacts(start: datetime, end: datetime):
    from tickets.models import Ticket

    return Ticket.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        opened_by_robot=False,
        merged_into__isnull=True,
    )


def _figures(visits: int, deflected: int, views: int, tickets: int) -> dict:
    return {
        "form_visits": visits,
        "deflected": deflected,
        "deflection_rate": deflected / visits if visits else None,
        "article_views": views,
        "tickets_created": tickets,
        "self_service_score": views / tickets if tickets else None,
    }

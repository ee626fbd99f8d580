"""The public help center (no sign-in): home, search, articles, votes, the contact form and
its suggestions. Every page works without JavaScript; htmx only adds live suggestions."""

import uuid
from urllib.parse import urlencode

from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.lockout import client_address
from support_desk.errors import ApplicationError

from . import selectors, services
from .contact import ContactForm, Refused, contact_submit, token_for, token_read
from .models import ArticleVote, Category, FormVisit
from .visitor import visitor_of, with_visitor


def _categories():
    public = selectors.public_articles().order_by("title")
    return (
        Category.objects.annotate(
            public_count=Count(
                "articles",
                filter=Q(articles__status="published", articles__visibility="public"),
            )
        )
        .filter(public_count__gt=0)
        .prefetch_related(Prefetch("articles", queryset=public, to_attr="public_articles"))
        .order_by("position", "name")
    )


def _search_context(request) -> dict:
    query = selectors.clean_query(request.GET.get("q"))
    hits = selectors.article_search(query) if query else []
    return {"query": query, "hits": hits, "typo": bool(hits) and hits[0].typo_match}


@require_GET
@with_visitor
def home(request):
    if request.GET.get("q", "").strip():
        return search(request)
    return render(
        request,
        "helpcenter/home.html",
        {
            "categories": _categories(),
            "popular": selectors.popular_articles(),
            "recent": selectors.recent_articles(),
            "query": "",
        },
    )


@require_GET
@with_visitor
def search(request):
    return render(request, "helpcenter/search.html", _search_context(request))


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@require_GET
@with_visitor
def article(request, slug: str):
    found = selectors.article_public(slug)
    if found is None:  # drafts and internal articles too: their existence is not disclosed
        raise Http404("No such article.")
    visitor = visitor_of(request)
    services.article_view_record(
        article=found, visitor=visitor, from_visit=_uuid(request.GET.get("from"))
    )
    vote = ArticleVote.objects.filter(article=found, visitor=visitor).first()
    related = (
        selectors.public_articles()
        .filter(category_id=found.category_id)
        .exclude(pk=found.pk)
        .order_by("title")[:5]
        if found.category_id
        else []
    )
    return render(
        request,
        "helpcenter/article.html",
        {"article": found, "vote": vote, "related": related, "thanks": "voted" in request.GET},
    )


@require_POST
@with_visitor
def article_vote(request, slug: str):
    found = selectors.article_public(slug)
    if found is None:
        raise Http404("No such article.")
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        return HttpResponseBadRequest("Answer yes or no.")
    services.article_vote(article=found, visitor=visitor_of(request), helpful=answer == "yes")
    return redirect(reverse("helpcenter:article", args=[found.slug]) + "?voted=1#feedback")


@require_GET
@with_visitor
def suggest(request):
    """The contact form's suggestions as an HTML fragment (htmx swaps it in)."""
    text = request.GET.get("q") or request.GET.get("subject") or ""
    articles = selectors.article_suggestions(text)
    visit_id = token_read(request.GET.get("token", ""))
    if visit_id is not None:
        services.form_visit_suggested(
            visit_id=visit_id, visitor=visitor_of(request), count=len(articles)
        )
    return render(
        request, "helpcenter/_suggestions.html", {"suggestions": articles, "visit_id": visit_id}
    )


@require_http_methods(["GET", "POST"])
@with_visitor
def contact(request):
    visitor = visitor_of(request)
    if request.method == "GET":
        visit = services.form_visit_start(visitor=visitor)
        form = ContactForm(initial={"token": token_for(visit)})
        return _contact_page(request, form, visit_id=visit.pk)
    form = ContactForm(request.POST, request.FILES)
    visit_id = form.visit_id()
    if not form.is_valid():
        return _contact_page(request, form, visit_id=visit_id, status=400)
    try:
        contact_submit(form=form, visitor=visitor, address=client_address(request))
    except Refused as refusal:
        return _contact_page(request, form, visit_id=visit_id, refusal=refusal.message, status=400)
    except ApplicationError as error:  # e.g. the desk's default queue changed meanwhile
        return _contact_page(request, form, visit_id=visit_id, refusal=error.message, status=409)
    sent = reverse("helpcenter:contact-sent")
    return redirect(f"{sent}?{urlencode({'token': request.POST.get('token', '')})}")


def _contact_page(request, form, *, visit_id, refusal: str = "", status: int = 200):
    if form.is_bound and visit_id is None:
        # An expired or forged token: a fresh one, so that sending again works.
        visit = services.form_visit_start(visitor=visitor_of(request))
        data = form.data.copy()
        data["token"] = token_for(visit)
        form.data, visit_id = data, visit.pk
    subject = form.data.get("subject", "") if form.is_bound else ""
    return render(
        request,
        "helpcenter/contact.html",
        {
            "form": form,
            "refusal": refusal,
            "visit_id": visit_id,
            "suggestions": selectors.article_suggestions(subject) if subject else [],
        },
        status=status,
    )


@require_GET
@with_visitor
def contact_sent(request):
    visit_id = token_read(request.GET.get("token", ""))
    visit = (
        FormVisit.objects.filter(pk=visit_id, ticket__isnull=False).first() if visit_id else None
    )
    if visit is None:
        raise Http404("No such message.")
    return render(request, "helpcenter/contact_sent.html", {"ticket_id": visit.ticket_id})

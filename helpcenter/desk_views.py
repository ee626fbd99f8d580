"""The knowledge base in the workspace: agents, leads and admins write articles (draft or
published, public or internal); engineers read them. Also "Create article from this
ticket" and the article links the ticket page inserts into a reply."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from support_desk.errors import ApplicationError, NotFound
from tickets import visibility
from tickets.models import AuthorType

from . import selectors, services
from .models import Article, ArticleStatus, Category, Visibility


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=120, required=False, help_text="Leave empty to make one from the title."
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("position", "name"),
        to_field_name="slug",
        required=False,
        empty_label="No category",
    )
    tags = forms.CharField(max_length=1000, required=False, help_text="Comma-separated")
    status = forms.ChoiceField(choices=ArticleStatus.choices, initial=ArticleStatus.DRAFT)
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18}), max_length=100_000, help_text="Markdown"
    )

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        if any(len(t) > 50 for t in tags):
            raise forms.ValidationError("A tag is at most 50 characters.")
        return tags


def _writer(request) -> None:
    if not selectors.can_write_articles(request.user):
        raise PermissionDenied("Only agents, leads and admins write knowledge-base articles.")


def _initial(article: Article) -> dict:
    return {
        "title": article.title,
        "slug": article.slug,
        "category": article.category.slug if article.category else None,
        "tags": ", ".join(article.tags),
        "status": article.status,
        "visibility": article.visibility,
        "body": article.body,
    }


@login_required
@require_GET
def article_list(request):
    query = selectors.clean_query(request.GET.get("q"))
    status = request.GET.get("status", "")
    base = selectors.articles_for(request.user)
    if status in ArticleStatus.values:
        base = base.filter(status=status)
    if query:
        hits = selectors.article_search(query, base=base, limit=100, snippets=False)
        articles = [h.article for h in hits]
    else:
        articles = list(base.select_related("category", "author").order_by("-updated_at")[:200])
    return render(
        request,
        "helpcenter/desk/list.html",
        {
            "articles": articles,
            "query": query,
            "status": status,
            "statuses": ArticleStatus.choices,
            "can_write": selectors.can_write_articles(request.user),
        },
    )


def _save(request, form: ArticleForm, article: Article | None):
    data = form.cleaned_data
    try:
        if article is None:
            article = services.article_create(author=request.user, **data)
        else:
            article = services.article_update(article=article, **data)
    except ApplicationError as error:
        form.add_error(error.param if error.param in form.fields else None, error.message)
        return None
    return article


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request):
    _writer(request)
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        article = _save(request, form, None)
        if article is not None:
            messages.success(request, f"Article “{article.title}” created.")
            return redirect("helpcenter:desk-article-edit", pk=article.pk)
    return render(request, "helpcenter/desk/edit.html", {"form": form, "article": None})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request, pk: int):
    article = get_object_or_404(selectors.articles_for(request.user), pk=pk)
    can_write = selectors.can_write_articles(request.user)
    if request.method == "POST":
        _writer(request)
        form = ArticleForm(request.POST)
        if form.is_valid() and _save(request, form, article) is not None:
            messages.success(request, "Article saved.")
            return redirect("helpcenter:desk-article-edit", pk=article.pk)
    else:
        form = ArticleForm(initial=_initial(article))
    if not can_write:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "helpcenter/desk/edit.html",
        {"form": form, "article": article, "can_write": can_write},
    )


@login_required
@require_POST
def article_remove(request, pk: int):
    _writer(request)
    article = get_object_or_404(Article, pk=pk)
    services.article_delete(article=article)
    messages.success(request, f"Article “{article.title}” deleted.")
    return redirect("helpcenter:desk-articles")


@login_required
@require_GET
def article_links(request):
    """Articles matching ?q= as links to paste into a reply (a fragment for the ticket
    page; a plain page without JavaScript). Internal ones link to the workspace."""
    query = selectors.clean_query(request.GET.get("q"))
    base = selectors.articles_for(request.user).filter(status=ArticleStatus.PUBLISHED)
    hits = selectors.article_search(query, base=base, limit=8, snippets=False) if query else []
    links = []
    for hit in hits:
        a = hit.article
        if a.is_public:
            url = settings.DESK_BASE_URL + reverse("helpcenter:article", args=[a.slug])
        else:
            url = settings.DESK_BASE_URL + reverse("helpcenter:desk-article-edit", args=[a.pk])
        links.append({"article": a, "url": url, "markdown": f"[{a.title}]({url})"})
    template = "helpcenter/desk/_links.html" if request.htmx else "helpcenter/desk/links_page.html"
    return render(request, template, {"links": links, "query": query})


@login_required
@require_GET
def article_from_ticket(request, pk: int):
    """The editor, prefilled from a ticket: its subject, and its public agent replies."""
    try:
        ticket = visibility.ticket_for(request.user, pk)
    except NotFound:
        raise Http404("No such ticket.") from None
    _writer(request)
    replies = ticket.messages.filter(public=True, author_type=AuthorType.AGENT).order_by(
        "created_at", "id"
    )
    body = "\n\n".join(m.body.strip() for m in replies if m.body.strip())
    form = ArticleForm(
        initial={
            "title": ticket.subject,
            "body": body,
            "status": ArticleStatus.DRAFT,
            "visibility": Visibility.PUBLIC,
        }
    )
    return render(
        request,
        "helpcenter/desk/edit.html",
        {"form": form, "article": None, "from_ticket": ticket},
    )

"""The help center's public pages under /help/ (the requester portal at /help/tickets/ is
csat's) and the knowledge-base pages of the workspace under /knowledge-base/."""

from django.urls import path

from . import desk_views, views

app_name = "helpcenter"

urlpatterns = [
    path("help/", views.home, name="home"),
    path("help/search/", views.search, name="search"),
    path("help/articles/<slug:slug>/", views.article, name="article"),
    path("help/articles/<slug:slug>/vote/", views.article_vote, name="article-vote"),
    path("help/contact/", views.contact, name="contact"),
    path("help/contact/sent/", views.contact_sent, name="contact-sent"),
    path("help/suggest/", views.suggest, name="suggest"),
    # The workspace (agents, leads, admins write; engineers read).
    path("knowledge-base/", desk_views.article_list, name="desk-articles"),
    path("knowledge-base/new/", desk_views.article_new, name="desk-article-new"),
    path("knowledge-base/<int:pk>/", desk_views.article_edit, name="desk-article-edit"),
    path("knowledge-base/<int:pk>/delete/", desk_views.article_remove, name="desk-article-delete"),
    path("knowledge-base/links/", desk_views.article_links, name="desk-article-links"),
    path(
        "tickets/<int:pk>/new-article/",
        desk_views.article_from_ticket,
        name="desk-article-from-ticket",
    ),
]

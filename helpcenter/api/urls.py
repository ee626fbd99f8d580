"""The helpcenter API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("articles", views.ArticleList.as_view(), name="article-list"),
    path("articles/<slug:slug>", views.ArticleDetail.as_view(), name="article-detail"),
]

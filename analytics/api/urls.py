"""The analytics API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("analytics/query", views.QueryView.as_view(), name="analytics-query"),
    path("analytics/saved-queries", views.SavedQueryList.as_view(), name="analytics-saved-list"),
    path(
        "analytics/saved-queries/<int:pk>",
        views.SavedQueryDetail.as_view(),
        name="analytics-saved-detail",
    ),
    path(
        "analytics/saved-queries/<int:pk>/run",
        views.SavedQueryRun.as_view(),
        name="analytics-saved-run",
    ),
]

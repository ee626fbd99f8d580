"""csat's public pages: the requester portal (help/tickets/...) and the survey page
(help/survey/<token>/). Helpcenter owns the rest of /help/ and never claims these paths."""

from django.urls import include, path

from . import views

app_name = "csat"

urlpatterns = [
    path("", include("csat.portal.urls")),
    path("help/survey/<str:token>/", views.survey, name="survey"),
]

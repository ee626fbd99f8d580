"""The csat API under /api/v1/."""

from django.urls import path

from .views import DenominatorsUpsert, SurveyList

urlpatterns = [
    path("csat", SurveyList.as_view(), name="csat-list"),
    path("metrics/denominators", DenominatorsUpsert.as_view(), name="metrics-denominators"),
]

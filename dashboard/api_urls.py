from django.urls import path

from .api import SlaMetricsView

urlpatterns = [
    path("metrics/sla", SlaMetricsView.as_view(), name="metrics-sla"),
]

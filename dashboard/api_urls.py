from django.urls import path

from .api import SlaMetricsView, SupportMetricsView

urlpatterns = [
    path("metrics/sla", SlaMetricsView.as_view(), name="metrics-sla"),
    path("metrics/support", SupportMetricsView.as_view(), name="metrics-support"),
]

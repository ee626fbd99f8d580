from django.urls import path

from . import views

urlpatterns = [
    path("calendars", views.CalendarList.as_view(), name="calendar-list"),
    path("calendars/<int:pk>", views.CalendarDetail.as_view(), name="calendar-detail"),
    path("sla-policies", views.PolicyList.as_view(), name="sla-policy-list"),
    path("sla-policies/<int:pk>", views.PolicyDetail.as_view(), name="sla-policy-detail"),
    path("escalation-rules", views.RuleList.as_view(), name="escalation-rule-list"),
    path("escalation-rules/<int:pk>", views.RuleDetail.as_view(), name="escalation-rule-detail"),
    path("sla/preview", views.SlaPreview.as_view(), name="sla-preview"),
]

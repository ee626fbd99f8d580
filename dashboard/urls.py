from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/at-risk/", views.at_risk, name="dashboard-at-risk"),
]

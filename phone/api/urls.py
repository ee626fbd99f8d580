"""The phone API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [path("calls", views.CallList.as_view(), name="call-list")]

"""The analytics pages."""

from django.urls import path

from . import views

urlpatterns = [path("analytics/", views.console, name="analytics")]

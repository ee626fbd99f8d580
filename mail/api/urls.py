"""The mail API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("inbound/email", views.InboundEmailView.as_view(), name="inbound-email"),
]

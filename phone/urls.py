"""The phone pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("tickets/new/", views.new_ticket, name="ticket-new"),
    path("tickets/<int:pk>/calls/", views.log_call, name="ticket-log-call"),
]

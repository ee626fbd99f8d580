"""The mail pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("tickets/<int:pk>/mail/resume/", views.resume_mail, name="mail-resume"),
]

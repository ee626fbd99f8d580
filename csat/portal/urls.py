from django.urls import path

from . import views

urlpatterns = [
    path("help/tickets/", views.ticket_list, name="portal-list"),
    path("help/tickets/sign-in/<str:token>/", views.sign_in, name="portal-sign-in"),
    path("help/tickets/sign-out/", views.sign_out, name="portal-sign-out"),
    path("help/tickets/<int:pk>/", views.ticket_detail, name="portal-ticket"),
]

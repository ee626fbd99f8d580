from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_tickets, name="my-tickets"),
    path("queues/<slug:slug>/", views.queue_view, name="queue"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket-reply"),
    path("tickets/<int:pk>/update/", views.ticket_update, name="ticket-update"),
    path("tickets/<int:pk>/escalate/", views.ticket_escalate, name="ticket-escalate"),
    path("tickets/<int:pk>/merge/", views.ticket_merge, name="ticket-merge"),
    path("tickets/<int:pk>/macros/<int:macro_id>/", views.macro_text, name="macro-text"),
    path("escalations/", views.escalations, name="escalations"),
    path(
        "escalations/<int:pk>/acknowledge/",
        views.escalation_acknowledge,
        name="escalation-acknowledge",
    ),
    path("bulk/", views.bulk_update, name="bulk-update"),
    path("search/", views.search, name="search"),
    path("profile/", views.profile, name="profile"),
    path("favicon.ico", views.favicon, name="favicon"),
]

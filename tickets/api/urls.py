from django.urls import path

from . import attachment_views, views

# Paths as DESIGN §5 spells them, without a trailing slash.
urlpatterns = [
    path("tickets", views.TicketList.as_view(), name="ticket-list"),
    path("tickets/<int:pk>", views.TicketDetail.as_view(), name="ticket-detail"),
    path("tickets/<int:pk>/messages", views.TicketMessages.as_view(), name="ticket-messages"),
    path("tickets/<int:pk>/events", views.TicketEvents.as_view(), name="ticket-events"),
    path("tickets/<int:pk>/merge", views.TicketMerge.as_view(), name="ticket-merge"),
    path(
        "attachments/<int:pk>",
        attachment_views.AttachmentDownload.as_view(),
        name="attachment-download",
    ),
    path("queues", views.QueueList.as_view(), name="queue-list"),
    path("queues/<slug:slug>", views.QueueDetail.as_view(), name="queue-detail"),
]

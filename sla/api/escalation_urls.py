from django.urls import path

from .escalation_views import EscalationAcknowledge, EscalationList, TicketSla

urlpatterns = [
    path("escalations", EscalationList.as_view(), name="escalation-list"),
    path(
        "escalations/<int:pk>/acknowledge",
        EscalationAcknowledge.as_view(),
        name="escalation-acknowledge",
    ),
    path("tickets/<int:pk>/sla", TicketSla.as_view(), name="ticket-sla"),
]

"""Customer satisfaction surveys after a solve, the requester portal and contact-rate
denominators (DESIGN §9)."""

from django.apps import AppConfig


class CsatConfig(AppConfig):
    name = "csat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets.subscribers import subscribe_events

        from .services import survey_on_ticket_event

        subscribe_events(survey_on_ticket_event)

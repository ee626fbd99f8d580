"""Inbound and outbound e-mail: SMTP receiver, inbound API, processing, replies (DESIGN §8)."""

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "mail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets.api.extensions import register_message_field
        from tickets.subscribers import subscribe_events

        from .api_fields import EMAIL_FIELD
        from .outbound import on_ticket_event

        register_message_field(EMAIL_FIELD)
        subscribe_events(on_ticket_event)

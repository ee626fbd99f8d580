"""Phone calls recorded against tickets (DESIGN §8)."""

from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "phone"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # tickets never imports phone (dependencies run one way): a message's `call` and
        # the move of calls on a merge are registered into tickets' hooks here.
        from django.db.models import Prefetch

        from tickets.api.extensions import MessageField, register_message_field
        from tickets.subscribers import subscribe_events

        from .api.serializers import MessageCallSerializer
        from .models import Call
        from .services import message_call, on_ticket_event

        def represent(message):
            call = message_call(message)
            return None if call is None else MessageCallSerializer(call).data

        register_message_field(
            MessageField(
                "call",
                prefetch=(Prefetch("call", queryset=Call.objects.select_related("agent")),),
                represent=represent,
            )
        )
        subscribe_events(on_ticket_event)

"""The message's `email` in the API (tickets/api/extensions.py), registered at start-up."""

from django.core.exceptions import ObjectDoesNotExist

from tickets.api.extensions import MessageField


def email_of(message) -> dict | None:
    try:
        meta = message.email_meta
    except ObjectDoesNotExist:
        return None
    if meta is None:
        return None
    return {
        "message_id": meta.rfc_message_id,
        "from": meta.from_address,
        "to": list(meta.to),
        "cc": list(meta.cc),
        "delivery_status": meta.delivery_status,
        "bounce_reason": meta.bounce_reason or None,
    }


EMAIL_FIELD = MessageField("email", prefetch=("email_meta",), represent=email_of)

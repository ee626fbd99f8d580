from mail.inbound import inbound_process, inbound_store
from mail.models import Door, InboundEmail


def deliver(message, *, door: str = Door.API, envelope_to=()) -> InboundEmail:
    """Store a message as a door would, then process it as the task would."""
    raw = message if isinstance(message, bytes) else message.as_bytes()
    stored = inbound_store(raw=raw, door=door, envelope_to=envelope_to)
    inbound_process(inbound_id=stored.inbound.pk)
    stored.inbound.refresh_from_db()
    return stored.inbound

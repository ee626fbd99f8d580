"""Reads for the mail app: health counts and the workspace's per-message e-mail details."""

from .models import DeliveryStatus, Direction, EmailMessage, InboundEmail, InboundStatus


def mail_failures() -> dict:
    """Counts for /healthz, each one served by a partial index (constant cost however much
    mail the desk keeps)."""
    outbound = EmailMessage.objects.filter(direction=Direction.OUT)
    return {
        "failed_inbound": InboundEmail.objects.filter(status=InboundStatus.FAILED).count(),
        "waiting_inbound": InboundEmail.objects.filter(status=InboundStatus.RECEIVED).count(),
        "failed_outbound": outbound.filter(delivery_status=DeliveryStatus.FAILED).count(),
        "retrying_outbound": outbound.filter(
            delivery_status=DeliveryStatus.QUEUED, attempts__gt=0
        ).count(),
    }


def first_inbound(ticket_id: int) -> EmailMessage | None:
    """The e-mail that opened a ticket (its description), if it came by e-mail."""
    return (
        EmailMessage.objects.filter(ticket_id=ticket_id, direction=Direction.IN, message=None)
        .order_by("created_at", "id")
        .first()
    )

"""Thin Celery tasks over mail.inbound and mail.outbound. The beat entry (mail.reconcile)
is in settings (CELERY_BEAT_SCHEDULE) with every other schedule."""

from celery import shared_task

from . import inbound, outbound


@shared_task(name="mail.process_inbound")
def inbound_process_task(inbound_id: int) -> bool:
    return inbound.inbound_process(inbound_id=inbound_id)


@shared_task(name="mail.send_outbound")
def outbound_send_task(email_id: int) -> bool:
    return outbound.outbound_send(email_id=email_id)


@shared_task(name="mail.reconcile")
def mail_reconcile_task() -> int:
    """What no task picked up: inbound mail still `received` (the broker was down when it
    arrived, or the database when the task ran) and outbound mail queued or due for a
    retry. Each is claimed before it is handled, so overlapping runs do no harm."""
    handled = 0
    for inbound_id in inbound.inbound_waiting():
        handled += inbound.inbound_process(inbound_id=inbound_id)
    for email_id in outbound.outbound_due():
        handled += outbound.outbound_send(email_id=email_id)
    return handled

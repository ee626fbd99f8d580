from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        # DESIGN §2: the tickets app announces changes to an explicit subscriber list;
        # sla is the one listener that recomputes timers.
        from tickets.subscribers import subscribe

        subscribe(enqueue_recompute)

        from tickets.visibility import register_reach

        from .api.ticket_fields import register
        from .visibility import escalation_reach

        register()
        register_reach(escalation_reach)


def enqueue_recompute(ticket_id: int) -> None:
    """After commit of any ticket change: queue its recompute for a worker (sla.
    recompute_queue: one Redis round trip, and one Celery task per burst of changes). If
    Redis is down this raises; the subscriber list logs it and the ticket stays marked
    stale for the reconciliation sweep (nothing is lost)."""
    from . import recompute_queue
    from .tasks import sla_drain_recomputes_task, sla_recompute_ticket_task

    if not recompute_queue.available():  # a cache without Redis: one task per change
        sla_recompute_ticket_task.delay(ticket_id)
        return
    recompute_queue.announce(ticket_id, queue_drain=sla_drain_recomputes_task.delay)

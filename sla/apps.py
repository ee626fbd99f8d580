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
    """After commit of any ticket change: wake the drain that recomputes stale tickets
    (sla.stale_drain; at most one Celery message per process every WAKE_INTERVAL). If the
    broker is down this raises; the subscriber list logs it, and the ticket, marked stale
    in its own transaction, is recomputed by the next drain or the reconciliation."""
    from . import stale_drain

    stale_drain.wake(_queue_drain)


def _queue_drain() -> None:
    # Looked up only when a wake-up is sent: resolving the Celery task (a proxy) costs
    # more than the wake-up check itself, on every ticket change.
    from .tasks import sla_drain_task

    sla_drain_task.delay()

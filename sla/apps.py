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
    """After commit of any ticket change: recompute its timers in a worker. If the broker
    is down this raises; the subscriber list logs it and the ticket stays marked stale for
    the reconciliation sweep (nothing is lost)."""
    from .tasks import sla_recompute_ticket_task

    sla_recompute_ticket_task.delay(ticket_id)

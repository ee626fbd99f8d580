"""Writes of SLA configuration. Every change recomputes open tickets in the background
(SLA_SPEC X4): the task marks them stale in one UPDATE and the reconciliation recomputes
them in batches; recorded outcomes are never re-judged (X3)."""

import logging

from django.db import transaction
from django.db.models import ProtectedError

from support_desk.errors import Conflict

from .models import Calendar, EscalationRule, SlaPolicy, SlaTarget

logger = logging.getLogger(__name__)


def _recompute_open_tickets_after_commit() -> None:
    def enqueue() -> None:
        from .tasks import sla_recompute_open_tickets_task

        try:
            sla_recompute_open_tickets_task.delay()
        except Exception:
            # Broker down: mark them stale now; the reconciliation sweep does the rest.
            from .services import open_tickets_mark_stale

            logger.warning("broker unavailable; open tickets marked stale for reconciliation")
            open_tickets_mark_stale()

    transaction.on_commit(enqueue)


@transaction.atomic
def calendar_save(*, calendar: Calendar | None = None, **fields) -> Calendar:
    calendar = calendar or Calendar()
    for name, value in fields.items():
        setattr(calendar, name, value)
    calendar.save()
    _recompute_open_tickets_after_commit()
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: Calendar) -> None:
    try:
        calendar.delete()
    except ProtectedError:
        raise Conflict(
            "Policies use this calendar; move them to another calendar first.",
            code="calendar_in_use",
        ) from None


@transaction.atomic
def policy_save(
    *,
    policy: SlaPolicy | None = None,
    targets: list[dict] | None = None,
    match: dict | None = None,
    **fields,
) -> SlaPolicy:
    policy = policy or SlaPolicy()
    for name, value in fields.items():
        setattr(policy, name, value)
    if match is not None:
        for key in ("priorities", "tiers", "channels", "queues"):
            setattr(policy, f"match_{key}", list(match.get(key) or []))
    policy.save()
    if targets is not None:
        policy.targets.all().delete()
        SlaTarget.objects.bulk_create(SlaTarget(policy=policy, **target) for target in targets)
    _recompute_open_tickets_after_commit()
    return policy


@transaction.atomic
def policy_delete(*, policy: SlaPolicy) -> None:
    policy.delete()
    _recompute_open_tickets_after_commit()


@transaction.atomic
def rule_save(*, rule: EscalationRule | None = None, **fields) -> EscalationRule:
    rule = rule or EscalationRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    _recompute_open_tickets_after_commit()
    return rule


@transaction.atomic
def rule_delete(*, rule: EscalationRule) -> None:
    try:
        rule.delete()
    except ProtectedError:
        raise Conflict(
            "This rule has fired on tickets and is kept for their history.", code="rule_in_use"
        ) from None
    _recompute_open_tickets_after_commit()

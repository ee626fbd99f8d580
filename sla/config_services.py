"""Writes of SLA configuration, for every writer (the API, the Django admin, commands).
Each save is validated here (sla.validation: the calendar builds, every target is
reachable) so no writer can store a configuration that stops SLA processing. Every change
recomputes open tickets in the background (SLA_SPEC X4): the task marks them stale in one
UPDATE and the reconciliation recomputes them in batches; recorded outcomes are never
re-judged (X3): every recompute hands the stored met, cancelled and breached rows to the
engine as the record, which keeps them as judged (sla.services._recorded)."""

import logging
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from support_desk.errors import Conflict, InvalidRequest

from .calendar import BusinessCalendar, CalendarSpecError
from .loading import calendar_from_model
from .models import Action, Calendar, EscalationRule, SlaPolicy, SlaTarget
from .validation import calendar_build, targets_check

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


CALENDAR_FIELDS = (
    "timezone",
    "always_open",
    "hours",
    "holiday_country",
    "holiday_subdivision",
    "holidays",
)


def _check_deferred_constraints() -> None:
    """Run the foreign-key checks PostgreSQL would otherwise defer to commit, so a row that
    gained a reference meanwhile (a rule firing during its deletion) raises here."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def calendar_check(calendar: Calendar) -> BusinessCalendar:
    """C1-C9 for the calendar's fields, and every target of the policies using it."""
    built = calendar_build({name: getattr(calendar, name) for name in CALENDAR_FIELDS})
    if calendar.pk is not None:
        for policy in SlaPolicy.objects.filter(calendar=calendar).prefetch_related("targets"):
            try:
                targets_check(
                    targets=_target_specs(policy.targets.all()),
                    calendar=built,
                    calendar_name=calendar.name,
                )
            except InvalidRequest as error:
                raise InvalidRequest(
                    f'Policy "{policy.name}" would break: {error.message}', param="hours"
                ) from None
    return built


@transaction.atomic
def calendar_save(*, calendar: Calendar | None = None, **fields) -> Calendar:
    calendar = calendar or Calendar()
    for name, value in fields.items():
        setattr(calendar, name, value)
    # Stored as validated, normalised: upper-case country, "" -> null.
    calendar.holiday_country = (calendar.holiday_country or "").upper() or None
    calendar.holiday_subdivision = calendar.holiday_subdivision or None
    calendar_check(calendar)
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


def _target_specs(targets: Iterable) -> list[dict]:
    return [
        {
            "priority": t["priority"] if isinstance(t, Mapping) else t.priority,
            "metric": t["metric"] if isinstance(t, Mapping) else t.metric,
            "minutes": t["minutes"] if isinstance(t, Mapping) else t.minutes,
            "business_hours": (
                t.get("business_hours", True) if isinstance(t, Mapping) else t.business_hours
            ),
        }
        for t in targets
    ]


def policy_check(*, calendar: Calendar, targets: Iterable) -> None:
    """Every target of a policy reachable on its calendar (InvalidRequest otherwise)."""
    try:
        built = calendar_from_model(calendar)
    except CalendarSpecError:
        # A calendar stored around these services: say which, rather than a 500.
        raise InvalidRequest(
            f'Calendar "{calendar.name}" is invalid; fix it first.', param="calendar"
        ) from None
    targets_check(targets=_target_specs(targets), calendar=built, calendar_name=calendar.name)


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
    if policy.calendar_id is None:
        raise InvalidRequest("A policy needs a calendar.", param="calendar")
    policy_check(
        calendar=policy.calendar,
        targets=targets if targets is not None else policy.targets.all() if policy.pk else [],
    )
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
    if rule.action == Action.MOVE_TO_QUEUE and rule.target_queue_id is None:
        raise InvalidRequest("move_to_queue needs a target_queue.", param="target_queue")
    rule.save()
    _recompute_open_tickets_after_commit()
    return rule


@transaction.atomic
def rule_delete(*, rule: EscalationRule) -> None:
    try:
        with transaction.atomic():
            rule.delete()
            _check_deferred_constraints()
    except (ProtectedError, IntegrityError):
        raise Conflict(
            "This rule has fired on tickets and is kept for their history.", code="rule_in_use"
        ) from None
    _recompute_open_tickets_after_commit()

"""What makes SLA configuration usable, checked once for every writer (the API, the Django
admin, seed commands): the config services call these before saving.

A calendar must be one the engine can build (C1-C9), and every business-hours target of a
policy must be reachable on its calendar: a target longer than the business time the
calendar offers would leave its timers without a due instant (a Monday-only calendar
cannot meet ten years of business minutes within the engine's ten-year search).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from support_desk.errors import InvalidRequest

from .calendar import SEARCH_DAYS, BusinessCalendar, CalendarSpecError

# The window a target must fit in, from today: a year shorter than the engine's search, so a
# timer that starts on any other date (holidays move) still finds its due instant.
REACHABLE_WITHIN = timedelta(days=SEARCH_DAYS - 366)


@dataclass(frozen=True)
class TargetSpec:
    priority: str
    metric: str
    minutes: int
    business_hours: bool = True


def calendar_build(spec: Mapping) -> BusinessCalendar:
    """The engine's calendar for these fields, or InvalidRequest naming the bad field."""
    try:
        return BusinessCalendar.from_spec(spec)
    except CalendarSpecError as error:
        raise InvalidRequest(error.message, param=error.param) from None


def business_minutes_available(calendar: BusinessCalendar) -> int:
    """Business minutes the calendar counts within REACHABLE_WITHIN from now."""
    now = timezone.now().replace(microsecond=0)
    return calendar.elapsed(now, now + REACHABLE_WITHIN) // 60


def targets_check(
    *,
    targets: Iterable[TargetSpec | Mapping],
    calendar: BusinessCalendar,
    calendar_name: str = "",
    param: str = "targets",
) -> None:
    """Refuse a target its calendar cannot meet (InvalidRequest naming the target)."""
    available: int | None = None
    for index, target in enumerate(targets):
        if isinstance(target, Mapping):
            target = TargetSpec(**{k: target[k] for k in target if k in TargetSpec.__annotations__})
        if not target.business_hours:
            continue  # real time always reaches its target (C8)
        if available is None:
            available = business_minutes_available(calendar)
        if target.minutes > available:
            years = REACHABLE_WITHIN.days // 365
            where = f'calendar "{calendar_name}"' if calendar_name else "this calendar"
            raise InvalidRequest(
                f"{target.minutes} business minutes for {target.priority} {target.metric} "
                f"cannot be met: {where} counts {available} business minutes in {years} "
                "years. Shorten the target, widen the hours, or count real time "
                "(business_hours: false).",
                param=f"{param}[{index}].minutes",
            )

"""Past days from roll-ups, the rest live: identical figures either way."""

from datetime import UTC, date, datetime, timedelta

import pytest

from dashboard.metrics import plan_sources, sla_summary
from dashboard.models import DailySlaRollup, RolledUpDay
from dashboard.params import Filters, Period
from dashboard.rollups import rollups_build, rollups_refresh
from dashboard.tasks import rollups_refresh_task
from sla.models import SlaTimer

from .conftest import NOW, PERIOD_END, PERIOD_START

ALL = ["day", "queue", "priority", "tier", "policy", "metric"]
pytestmark = pytest.mark.django_db


def _both(period, filters=None):
    filters = filters or Filters()
    rolled = sla_summary(period=period, filters=filters, group_bys=ALL, now=NOW)
    live = sla_summary(period=period, filters=filters, group_bys=ALL, now=NOW, use_rollups=False)
    return rolled, live


@pytest.mark.parametrize(
    "period",
    [
        Period(PERIOD_START, PERIOD_END),
        Period(PERIOD_START - timedelta(days=2), NOW + timedelta(hours=6)),  # today too
        Period(PERIOD_START + timedelta(hours=7), PERIOD_END - timedelta(hours=3)),  # cut days
    ],
)
def test_rolled_up_and_live_figures_are_identical(desk, period):
    rollups_refresh(now=NOW)
    assert RolledUpDay.objects.filter(day__lt=date(2025, 3, 10)).exists()
    assert not RolledUpDay.objects.filter(day__gte=date(2025, 3, 10)).exists()
    rolled_days, _ = plan_sources(period, now=NOW)
    assert rolled_days  # the roll-up path is really taken
    rolled, live = _both(period)
    assert rolled.total.met + rolled.total.breached > 20
    assert rolled == live


@pytest.mark.parametrize("filter_name", ["queue", "priority", "tier", "channel", "policy"])
def test_rolled_up_and_live_agree_under_filters(desk, filter_name):
    rollups_refresh(now=NOW)
    value = {
        "queue": desk["payments"],
        "priority": "urgent",
        "tier": "standard",
        "channel": "web",
        "policy": desk["gold"],
    }[filter_name]
    rolled, live = _both(Period(PERIOD_START, PERIOD_END), Filters(**{filter_name: value}))
    assert rolled.total.met + rolled.total.breached + rolled.total.cancelled > 0
    assert rolled == live


def test_rolled_up_days_are_read_from_the_rollup_table(desk):
    period = Period(PERIOD_START, PERIOD_END)
    before = sla_summary(period=period, filters=Filters(), now=NOW)
    rollups_build(first_day=date(2025, 3, 1), end_day=date(2025, 3, 10), now=NOW)
    SlaTimer.objects.all().delete()
    after = sla_summary(period=period, filters=Filters(), now=NOW)
    assert after.total == before.total
    live = sla_summary(period=period, filters=Filters(), now=NOW, use_rollups=False)
    assert live.total.met == 0


def test_days_without_marker_are_read_live(desk):
    """A day rolled up and then unmarked (or never rolled up) is computed from the timers."""
    rollups_build(first_day=date(2025, 3, 1), end_day=date(2025, 3, 10), now=NOW)
    RolledUpDay.objects.filter(day=date(2025, 3, 5)).delete()
    period = Period(PERIOD_START, PERIOD_END)
    rolled, windows = plan_sources(period, now=NOW)
    assert date(2025, 3, 5) not in rolled
    day5 = datetime(2025, 3, 5, tzinfo=UTC)
    assert (day5, day5 + timedelta(days=1)) in windows
    rolled_summary, live = _both(period)
    assert rolled_summary == live


def test_refresh_rebuilds_recent_days_and_catches_late_outcomes(desk):
    rollups_refresh(now=NOW)
    first = RolledUpDay.objects.order_by("day").first().day
    assert first == date(2025, 3, 1)  # the earliest outcome in the data set
    met_before = sla_summary(period=Period(PERIOD_START, PERIOD_END), filters=Filters(), now=NOW)
    late = SlaTimer.objects.filter(status="active").first()
    late.status, late.running, late.fulfilled_at = "met", False, datetime(2025, 3, 8, tzinfo=UTC)
    late.save()
    rollups_refresh(now=NOW)  # rebuilds the last REFRESH_DAYS days, 7-9 March
    after = sla_summary(period=Period(PERIOD_START, PERIOD_END), filters=Filters(), now=NOW)
    assert after.total.met == met_before.total.met + 1


def test_today_is_never_rolled_up(desk):
    with pytest.raises(ValueError, match="closed days"):
        rollups_build(first_day=date(2025, 3, 9), end_day=date(2025, 3, 11), now=NOW)


def test_celery_task_rolls_up_closed_days(desk, time_machine):
    time_machine.move_to(NOW, tick=False)
    written = rollups_refresh_task.apply().get()
    assert written == DailySlaRollup.objects.count() > 0
    assert max(RolledUpDay.objects.values_list("day", flat=True)) == date(2025, 3, 9)


def test_beat_schedules_the_refresh_task():
    from support_desk.celery import app

    app.loader.import_default_modules()  # what worker and beat do at start-up
    entry = app.conf.beat_schedule["dashboard-rollups-refresh"]
    assert entry["task"] == rollups_refresh_task.name
    assert entry["task"] in app.tasks

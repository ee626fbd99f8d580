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
    # Today (12:00) is rolled up to its last whole hour that ended SETTLE ago.
    assert RolledUpDay.objects.get(day=date(2025, 3, 10)).until == datetime(
        2025, 3, 10, 11, tzinfo=UTC
    )
    assert not RolledUpDay.objects.filter(day__gt=date(2025, 3, 10)).exists()
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


def test_today_is_never_rolled_up_whole(desk):
    with pytest.raises(ValueError, match="closed days"):
        rollups_build(first_day=date(2025, 3, 9), end_day=date(2025, 3, 11), now=NOW)


def test_celery_task_rolls_up_closed_days_and_today_to_its_last_hour(desk, time_machine):
    time_machine.move_to(NOW, tick=False)
    written = rollups_refresh_task.apply().get()
    assert written == DailySlaRollup.objects.count() > 0
    markers = list(RolledUpDay.objects.order_by("day"))
    assert [m.complete for m in markers] == [True] * (len(markers) - 1) + [False]
    assert (markers[-1].day, markers[-1].until) == (NOW.date(), NOW - timedelta(hours=1))


def _today_outcome(desk, at: datetime) -> SlaTimer:
    """An active timer of the desk, met at `at`."""
    timer = SlaTimer.objects.filter(status="active").first()
    timer.status, timer.running, timer.fulfilled_at = "met", False, at
    timer.save()
    return timer


def test_todays_rolled_up_hours_come_from_the_rollup_and_the_rest_live(desk):
    rollups_refresh(now=NOW)
    today = Period(PERIOD_END, PERIOD_END + timedelta(days=1))
    rolled_days, windows = plan_sources(today, now=NOW)
    assert rolled_days == [date(2025, 3, 10)]
    assert windows == [(datetime(2025, 3, 10, 11, tzinfo=UTC), today.end)]
    before = sla_summary(period=today, filters=Filters(), now=NOW)
    # Timers with an outcome before 11:00 today are gone: the roll-up still counts them.
    SlaTimer.objects.filter(
        fulfilled_at__lt=datetime(2025, 3, 10, 11, tzinfo=UTC), status="met"
    ).delete()
    assert sla_summary(period=today, filters=Filters(), now=NOW).total.met == before.total.met
    # One met at 11:30 is read live at once.
    _today_outcome(desk, datetime(2025, 3, 10, 11, 30, tzinfo=UTC))
    after = sla_summary(period=today, filters=Filters(), now=NOW)
    assert after.total.met == before.total.met + 1


def test_a_period_ending_inside_todays_rolled_up_span_reads_today_live(desk):
    rollups_refresh(now=NOW)
    period = Period(PERIOD_START, datetime(2025, 3, 10, 10, 30, tzinfo=UTC))
    rolled_days, windows = plan_sources(period, now=NOW)
    assert date(2025, 3, 10) not in rolled_days
    assert windows == [(PERIOD_END, period.end)]
    rolled, live = _both(period)
    assert rolled == live


def test_a_late_outcome_in_a_rolled_up_hour_is_counted_at_the_next_refresh(desk):
    rollups_refresh(now=NOW)
    today = Period(PERIOD_END, PERIOD_END + timedelta(days=1))
    before = sla_summary(period=today, filters=Filters(), now=NOW)
    _today_outcome(desk, datetime(2025, 3, 10, 10, 59, tzinfo=UTC))
    rollups_refresh(now=NOW + timedelta(minutes=10))
    assert sla_summary(period=today, filters=Filters(), now=NOW).total.met == before.total.met + 1


def test_yesterdays_partial_rollup_is_completed_the_next_day(desk):
    rollups_refresh(now=NOW)
    tomorrow = NOW + timedelta(days=1)
    _today_outcome(desk, datetime(2025, 3, 10, 23, 30, tzinfo=UTC))
    rollups_refresh(now=tomorrow)
    march_10 = RolledUpDay.objects.get(day=date(2025, 3, 10))
    assert march_10.complete
    assert RolledUpDay.objects.get(day=date(2025, 3, 11)).until == tomorrow - timedelta(hours=1)
    day = Period(PERIOD_END, PERIOD_END + timedelta(days=1))
    rolled = sla_summary(period=day, filters=Filters(), now=tomorrow)
    live = sla_summary(period=day, filters=Filters(), now=tomorrow, use_rollups=False)
    assert rolled == live


def test_just_after_midnight_today_has_an_empty_rollup_and_is_read_live(desk):
    just_after = datetime(2025, 3, 10, 0, 3, tzinfo=UTC)
    rollups_refresh(now=just_after)
    marker = RolledUpDay.objects.get(day=date(2025, 3, 10))
    assert marker.until == PERIOD_END  # nothing of today rolled up yet
    assert not DailySlaRollup.objects.filter(day=date(2025, 3, 10)).exists()
    assert RolledUpDay.objects.get(day=date(2025, 3, 9)).complete


def test_beat_schedules_the_refresh_task():
    from support_desk.celery import app

    app.loader.import_default_modules()  # what worker and beat do at start-up
    entry = app.conf.beat_schedule["dashboard-rollups-refresh"]
    assert entry["task"] == rollups_refresh_task.name
    assert entry["task"] in app.tasks

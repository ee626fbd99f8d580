"""self_service_figures (the dashboard's deflection rate and self-service score) against an
independent recomputation in SQL over the raw tables, and its batched per-day version against
one call per day."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from helpcenter.models import ArticleView, FormVisit
from helpcenter.selectors import self_service_figures, self_service_figures_by_day
from tests.factories import TicketFactory

from .factories import ArticleFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)

SQL = """
WITH v AS (
    SELECT * FROM helpcenter_formvisit WHERE started_at >= %(start)s AND started_at < %(end)s
)
SELECT
    (SELECT count(*) FROM v),
    (SELECT count(*) FROM v
      WHERE articles_opened > 0 AND started_at <= %(now)s - interval '24 hours'
        AND NOT EXISTS (
          SELECT 1 FROM helpcenter_formvisit w
          WHERE w.visitor = v.visitor AND w.submitted_at >= v.started_at
            AND w.submitted_at < v.started_at + interval '24 hours')),
    (SELECT count(*) FROM helpcenter_articleview WHERE at >= %(start)s AND at < %(end)s),
    (SELECT count(*) FROM tickets_ticket WHERE created_at >= %(start)s AND created_at < %(end)s
        AND NOT opened_by_robot AND merged_into_id IS NULL)
"""


def _desk(rng: random.Random):
    article = ArticleFactory()
    visitors = [uuid.uuid4() for _ in range(25)]
    tickets = []
    for _ in range(40):
        created = NOW - timedelta(days=rng.uniform(0, 20))
        tickets.append(TicketFactory(created_at=created, opened_by_robot=rng.random() < 0.1))
    for t in rng.sample(tickets, 3):
        t.merged_into = tickets[0]
        t.save(update_fields=["merged_into"])
    for _ in range(120):
        started = NOW - timedelta(days=rng.uniform(0, 20))
        submitted = rng.random() < 0.4
        FormVisit.objects.create(
            visitor=rng.choice(visitors),
            started_at=started,
            suggestions_shown=rng.randint(0, 5),
            articles_opened=rng.choice([0, 0, 1, 2]),
            ticket=rng.choice(tickets) if submitted else None,
            submitted_at=started + timedelta(hours=rng.uniform(0, 40)) if submitted else None,
        )
    ArticleView.objects.bulk_create(
        ArticleView(
            article=article,
            visitor=rng.choice(visitors),
            at=NOW - timedelta(days=rng.uniform(0, 20)),
        )
        for _ in range(300)
    )


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("seed", [1, 2])
def test_figures_match_sql(seed):
    _desk(random.Random(seed))
    for start, end in [
        (NOW - timedelta(days=30), NOW),
        (NOW - timedelta(days=7), NOW),
        (NOW - timedelta(days=14), NOW - timedelta(days=2)),
        (NOW - timedelta(hours=12), NOW + timedelta(days=1)),
    ]:
        with connection.cursor() as cursor:
            cursor.execute(SQL, {"start": start, "end": end, "now": NOW})
            visits, deflected, views, tickets = cursor.fetchone()
        figures = self_service_figures(start=start, end=end)
        assert figures == {
            "form_visits": visits,
            "deflected": deflected,
            "deflection_rate": deflected / visits if visits else None,
            "article_views": views,
            "tickets_created": tickets,
            "self_service_score": views / tickets if tickets else None,
        }, (start, end)
    assert self_service_figures(start=NOW - timedelta(days=30), end=NOW)["deflected"] > 0


def test_empty_period_gives_none_not_zero():
    start = datetime(2020, 1, 1, tzinfo=UTC)
    figures = self_service_figures(start=start, end=start + timedelta(days=1))
    assert figures["deflection_rate"] is None
    assert figures["self_service_score"] is None
    assert figures["form_visits"] == figures["tickets_created"] == 0


@time_machine.travel(NOW, tick=False)
def test_a_ticket_within_24_hours_undoes_the_deflection():
    visitor = uuid.uuid4()
    started = NOW - timedelta(days=3)
    FormVisit.objects.create(visitor=visitor, started_at=started, articles_opened=1)
    window = {"start": NOW - timedelta(days=7), "end": NOW}
    assert self_service_figures(**window)["deflected"] == 1
    # The same visitor comes back the next morning and writes in after all.
    FormVisit.objects.create(
        visitor=visitor,
        started_at=started + timedelta(hours=20),
        ticket=TicketFactory(created_at=started + timedelta(hours=21)),
        submitted_at=started + timedelta(hours=21),
    )
    assert self_service_figures(**window)["deflected"] == 0
    # A visit from yesterday evening is not judged yet.
    FormVisit.objects.create(
        visitor=uuid.uuid4(), started_at=NOW - timedelta(hours=5), articles_opened=2
    )
    assert self_service_figures(**window)["deflected"] == 0


def _day_parts(start: datetime, end: datetime):
    """Each UTC day's part of [start, end), as the per-day single calls see it."""
    day = datetime.combine(start.date(), datetime.min.time(), tzinfo=UTC)
    while day < end:
        yield day.date(), max(start, day), min(end, day + timedelta(days=1))
        day += timedelta(days=1)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("seed", [3, 4])
def test_the_batched_per_day_figures_equal_one_call_per_day(seed, django_assert_max_num_queries):
    _desk(random.Random(seed))
    for start, end in [
        (NOW - timedelta(days=21), NOW),  # from noon to noon: partial first and last days
        (datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
        (NOW - timedelta(hours=30), NOW + timedelta(hours=3)),
        (datetime(2026, 6, 20, 23, 59, tzinfo=UTC), datetime(2026, 6, 21, 0, 1, tzinfo=UTC)),
    ]:
        with django_assert_max_num_queries(4):
            batched = self_service_figures_by_day(start=start, end=end)
        expected = {
            day: self_service_figures(start=a, end=b) for day, a, b in _day_parts(start, end)
        }
        assert batched == expected, (start, end)
    month = self_service_figures_by_day(start=NOW - timedelta(days=20), end=NOW)
    assert sum(f["deflected"] for f in month.values()) > 0
    assert sum(f["article_views"] for f in month.values()) == 300


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_days_use_the_batched_figures(django_assert_max_num_queries):
    from dashboard.params import Period
    from dashboard.support_metrics import support_summary

    _desk(random.Random(5))
    period = Period(NOW - timedelta(days=10), NOW)
    with django_assert_max_num_queries(12):  # 3 support statements, 4 + 4 help-center ones
        summary = support_summary(period=period, group_bys=["day"])
    for figures, (_, a, b) in zip(
        summary.groups["day"], _day_parts(period.start, period.end), strict=True
    ):
        single = self_service_figures(start=a, end=b)
        assert figures.deflection_rate == single["deflection_rate"]
        assert figures.self_service_score == single["self_service_score"]

"""The percentiles sla_summary computes in Python are PostgreSQL's percentile_cont, to the
last bit: checked against PostgreSQL itself."""

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.metrics import percentile_cont, sla_summary
from dashboard.params import Filters, Period

from .conftest import NOW, PERIOD_END, PERIOD_START

pytestmark = pytest.mark.django_db


def _postgres(values: list[int], fractions: list[float]) -> list[float | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY e)"
            " FROM unnest(%s::int[]) AS u(e)",
            [fractions, values],
        )
        result = cursor.fetchone()[0]
    return result or [None] * len(fractions)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=2_000_000_000), max_size=60),
    fractions=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=4),
)
def test_same_value_as_postgres_percentile_cont(values, fractions):
    ours = [percentile_cont(sorted(values), f) for f in fractions]
    assert ours == _postgres(values, fractions)


def test_dashboard_fractions_on_ties_and_single_values():
    for values in ([7], [3, 3, 3, 9], [0, 1], list(range(10, 0, -1))):
        assert [percentile_cont(sorted(values), f) for f in (0.5, 0.9)] == _postgres(
            values, [0.5, 0.9]
        )


def test_counts_only_has_the_same_counts_and_no_percentiles(desk):
    period = Period(PERIOD_START, PERIOD_END)
    full = sla_summary(period=period, filters=Filters(), now=NOW)
    counts = sla_summary(period=period, filters=Filters(), now=NOW, counts_only=True)
    assert (counts.total.met, counts.total.breached, counts.total.cancelled) == (
        full.total.met,
        full.total.breached,
        full.total.cancelled,
    )
    assert full.total.first_reply_p50_minutes is not None
    assert counts.total.first_reply_p50_minutes is None
    assert counts.percentiles_for == []

"""Properties of business-time arithmetic, checked against a minute-by-minute reference on
the calendars of SLA_SPEC §9 around DST changes, holidays and overnight shifts."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import BusinessCalendar
from tests.sla.reference import Reference

WEEKDAYS = range(5)
CALENDARS = {
    "NY": BusinessCalendar(
        timezone="America/New_York",
        hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in WEEKDAYS],
        holiday_country="US",
    ),
    "LDN": BusinessCalendar(
        timezone="Europe/London",
        hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in WEEKDAYS],
        holiday_country="GB",
    ),
    "NY-SPLIT": BusinessCalendar(
        timezone="America/New_York",
        hours=[
            {"weekday": d, "start": s, "end": e}
            for d in WEEKDAYS
            for s, e in (("09:00", "12:00"), ("13:00", "17:00"))
        ],
        holiday_country="US",
    ),
    "NIGHT": BusinessCalendar(
        timezone="America/New_York",
        hours=[{"weekday": d, "start": "22:00", "end": "06:00"} for d in range(7)],
        holidays=[{"date": "2026-03-08", "name": "Closed"}],
    ),
    "LDN-NIGHT": BusinessCalendar(
        timezone="Europe/London",
        hours=[{"weekday": d, "start": "22:00", "end": "06:00"} for d in range(7)],
    ),
    "NY-SUNDAY-FOLD": BusinessCalendar(
        timezone="America/New_York",
        hours=[
            {"weekday": 6, "start": "01:30", "end": "09:00"},
            {"weekday": 2, "start": "00:00", "end": "24:00"},
        ],
    ),
    "24x7-LDN": BusinessCalendar(timezone="Europe/London", always_open=True),
}
REFERENCES = {name: Reference(cal) for name, cal in CALENDARS.items()}

# Around the 2026 DST changes (NY 03-08, 11-01; London 03-29, 10-25) and year-end holidays.
ANCHORS = [
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 3, 27, tzinfo=UTC),
    datetime(2026, 10, 23, tzinfo=UTC),
    datetime(2026, 10, 30, tzinfo=UTC),
    datetime(2026, 12, 23, tzinfo=UTC),
]
instants = st.builds(
    lambda anchor, minutes: anchor + timedelta(minutes=minutes),
    st.sampled_from(ANCHORS),
    st.integers(min_value=0, max_value=4 * 24 * 60),
)
names = st.sampled_from(sorted(CALENDARS))
PROPERTY = settings(max_examples=120, deadline=None)


@PROPERTY
@given(name=names, start=instants, minutes=st.integers(min_value=0, max_value=1500))
def test_add_matches_the_reference(name, start, minutes):
    assert CALENDARS[name].add(start, minutes * 60) == REFERENCES[name].add_minutes(start, minutes)


@PROPERTY
@given(name=names, start=instants, span=st.integers(min_value=0, max_value=3 * 24 * 60))
def test_elapsed_matches_the_reference(name, start, span):
    end = start + timedelta(minutes=span)
    assert CALENDARS[name].elapsed(start, end) == 60 * REFERENCES[name].elapsed_minutes(start, end)


@PROPERTY
@given(name=names, start=instants, seconds=st.integers(min_value=1, max_value=5 * 24 * 3600))
def test_adding_then_measuring_round_trips(name, start, seconds):
    cal = CALENDARS[name]
    assert cal.elapsed(start, cal.add(start, seconds)) == seconds


@PROPERTY
@given(
    name=names,
    start=instants,
    a=st.integers(min_value=0, max_value=10**6),
    b=st.integers(min_value=0, max_value=10**6),
)
def test_due_times_are_monotonic_in_the_target(name, start, a, b):
    cal = CALENDARS[name]
    low, high = sorted((a, b))
    assert cal.add(start, low) <= cal.add(start, high)


@PROPERTY
@given(name=names, a=instants, b=instants, c=instants)
def test_elapsed_is_additive(name, a, b, c):
    a, b, c = sorted((a, b, c))
    cal = CALENDARS[name]
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)


@pytest.mark.parametrize(
    ("name", "day", "hours"),
    [
        ("NIGHT", datetime(2026, 3, 7, 12, tzinfo=UTC), None),  # holiday closes 03-08's part
        ("LDN-NIGHT", datetime(2026, 3, 28, 12, tzinfo=UTC), 7),  # spring-forward night: 7 h
        ("LDN-NIGHT", datetime(2026, 10, 24, 12, tzinfo=UTC), 9),  # fall-back night: 9 h
    ],
)
def test_overnight_shift_lengths(name, day, hours):
    cal = CALENDARS[name]
    counted = cal.elapsed(day, day + timedelta(days=1))
    if hours is None:
        assert counted == 2 * 3600  # only 22:00-24:00 of the 7th; the 8th is a holiday
    else:
        assert counted == hours * 3600

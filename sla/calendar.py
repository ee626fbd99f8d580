"""Business-time arithmetic: pure functions of a calendar and real instants (SLA_SPEC §1-§2).

A calendar is a set of counting intervals per local date. Each date's intervals are resolved
once to real (UTC) instants, following C7 for DST: a local boundary is the earliest real
instant whose local clock reads at least that time on that date. Everything else (adding a
duration, measuring elapsed time, explaining a stretch) walks those per-date intervals, so
adding 30 business days looks at ~45 dates, never at minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

MINUTES_PER_DAY = 24 * 60
# A calendar that never opens would make `add` loop forever; ten years is "never".
SEARCH_DAYS = 3660
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class Unreachable(ValueError):
    """A target this calendar cannot meet within SEARCH_DAYS (too few business hours)."""


class CalendarSpecError(ValueError):
    def __init__(self, message: str, *, param: str):
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    counted: bool
    reason: str


class Basis(Protocol):
    def add(self, start: datetime, seconds: int) -> datetime: ...
    def elapsed(self, start: datetime, end: datetime) -> int: ...
    def next_counting_instant(self, at: datetime) -> datetime: ...
    def segments(self, start: datetime, end: datetime) -> list[Segment]: ...


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


class RealTime:
    """Every real second counts (a target with business_hours false, C8)."""

    def add(self, start: datetime, seconds: int) -> datetime:
        return start + timedelta(seconds=seconds)

    def elapsed(self, start: datetime, end: datetime) -> int:
        return max(0, _seconds(end - start))

    def next_counting_instant(self, at: datetime) -> datetime:
        return at

    def segments(self, start: datetime, end: datetime) -> list[Segment]:
        return [Segment(start, end, True, "real time")] if end > start else []


REAL_TIME = RealTime()


def parse_minutes(value: object, *, param: str, allow_24: bool) -> int:
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise CalendarSpecError(f'"{value}" is not a time; use "HH:MM" (00:00-23:59).', param=param)
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > MINUTES_PER_DAY or (minutes == MINUTES_PER_DAY and not allow_24):
        raise CalendarSpecError(
            f'"{value}" is not a valid time here; only an end may be "24:00".', param=param
        )
    return minutes


def resolve_local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """C7: the earliest real instant at which the local clock reads >= `minutes` on `day`."""
    if minutes >= MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), minutes - MINUTES_PER_DAY
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)  # exists (in a fold: its first occurrence)
    # In a spring-forward gap: the answer is the transition instant, between the two
    # readings of the wall time; find it by bisection on the UTC offset.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    low, high = min(low, high), max(low, high)
    after = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == after:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


class BusinessCalendar:
    """Weekly hours in an IANA zone, with public and custom holidays (C1-C9)."""

    def __init__(
        self,
        *,
        timezone: str,
        always_open: bool = False,
        hours: Sequence[Mapping] = (),
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        holidays: Sequence[Mapping] = (),
    ):
        self.tz = _zone(timezone)
        self.timezone = timezone
        self.always_open = bool(always_open)
        self.weekly = _weekly(hours or ())
        if not self.always_open and not any(self.weekly):
            raise CalendarSpecError(
                "A calendar needs business hours unless it is always open.", param="hours"
            )
        self._country = _country(holiday_country, holiday_subdivision)
        self._custom = _custom_holidays(holidays or ())
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @classmethod
    def from_spec(cls, spec: Mapping) -> BusinessCalendar:
        return cls(
            timezone=spec.get("timezone"),
            always_open=spec.get("always_open", False),
            hours=spec.get("hours") or (),
            holiday_country=spec.get("holiday_country") or None,
            holiday_subdivision=spec.get("holiday_subdivision") or None,
            holidays=spec.get("holidays") or (),
        )

    # -- the per-date intervals ------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        if day in self._custom:
            return self._custom[day]
        if self._country is not None:
            return self._country(day)
        return None

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The real instants that count on local date `day` (C3, C4, C7)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        if self.holiday_name(day):
            result: tuple = ()
        elif self.always_open:
            result = (
                (resolve_local(day, 0, self.tz), resolve_local(day, MINUTES_PER_DAY, self.tz)),
            )
        else:
            pieces = []
            for start, end in self.weekly[day.weekday()]:
                real_start = resolve_local(day, start, self.tz)
                real_end = resolve_local(day, end, self.tz)
                if real_end > real_start:
                    pieces.append((real_start, real_end))
            result = tuple(pieces)
        if len(self._days) > 20_000:
            self._days.clear()
        self._days[day] = result
        return result

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def _walk(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Counting intervals that end after `start`, clipped to begin at `start` or later."""
        day = self._local_date(start) - timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            for interval_start, interval_end in self.intervals(day):
                if interval_end > start:
                    yield max(interval_start, start), interval_end
            day += timedelta(days=1)

    # -- the Basis protocol ------------------------------------------------------------

    def add(self, start: datetime, seconds: int) -> datetime:
        remaining = timedelta(seconds=seconds)
        for interval_start, interval_end in self._walk(start):
            available = interval_end - interval_start
            if remaining <= available:
                return interval_start + remaining
            remaining -= available
        raise Unreachable("This calendar has too few business hours in the next ten years.")

    def elapsed(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        total = timedelta(0)
        day = self._local_date(start) - timedelta(days=1)
        last = self._local_date(end)
        while day <= last:
            for interval_start, interval_end in self.intervals(day):
                overlap = min(interval_end, end) - max(interval_start, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return _seconds(total)

    def next_counting_instant(self, at: datetime) -> datetime:
        return self.add(at, 0)

    def segments(self, start: datetime, end: datetime) -> list[Segment]:
        """Explain [start, end): what counted and, for what did not, why."""
        out: list[Segment] = []
        counted_reason = "always open" if self.always_open else "business hours"
        cursor = start
        day = self._local_date(start)
        while cursor < end:
            day_end = min(end, resolve_local(day, MINUTES_PER_DAY, self.tz))
            holiday = self.holiday_name(day)
            if holiday:
                _append(out, Segment(cursor, day_end, False, f"holiday: {holiday}"))
            else:
                for interval_start, interval_end in self.intervals(day):
                    s, e = max(interval_start, cursor), min(interval_end, end)
                    if e <= s:
                        continue
                    if s > cursor:
                        _append(out, Segment(cursor, s, False, "outside hours"))
                    _append(out, Segment(s, e, True, counted_reason))
                    cursor = e
                if day_end > cursor:
                    _append(out, Segment(cursor, day_end, False, "outside hours"))
            cursor = max(cursor, day_end)
            day += timedelta(days=1)
        return out


def _append(out: list[Segment], segment: Segment) -> None:
    if segment.end <= segment.start:
        return
    if (
        out
        and out[-1].end == segment.start
        and (out[-1].counted, out[-1].reason)
        == (
            segment.counted,
            segment.reason,
        )
    ):
        out[-1] = Segment(out[-1].start, segment.end, segment.counted, segment.reason)
    else:
        out.append(segment)


# -- validation and set-up -------------------------------------------------------------


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise CalendarSpecError("A time zone is required (an IANA name).", param="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarSpecError(
            f'"{name}" is not an IANA time zone (e.g. "America/New_York").', param="timezone"
        ) from None


def _weekly(hours: Sequence[Mapping]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Intervals per weekday in local minutes; an overnight interval (end not after start)
    is split at midnight and its second part belongs to the next weekday (C3)."""
    if not isinstance(hours, Sequence) or isinstance(hours, str):
        raise CalendarSpecError("hours must be a list of {weekday, start, end}.", param="hours")
    days: list[list[tuple[int, int, int]]] = [[] for _ in range(7)]
    for index, item in enumerate(hours):
        param = f"hours[{index}]"
        if not isinstance(item, Mapping):
            raise CalendarSpecError("Each entry needs weekday, start and end.", param=param)
        weekday = item.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise CalendarSpecError("weekday must be 0-6 (Monday = 0).", param=f"{param}.weekday")
        start = parse_minutes(item.get("start"), param=f"{param}.start", allow_24=False)
        end = parse_minutes(item.get("end"), param=f"{param}.end", allow_24=True)
        if end > start:
            days[weekday].append((start, end, index))
        else:
            days[weekday].append((start, MINUTES_PER_DAY, index))
            if end > 0:
                days[(weekday + 1) % 7].append((0, end, index))
    weekly = []
    for pieces in days:
        pieces.sort()
        merged: list[list[int]] = []
        for start, end, index in pieces:
            if merged and start < merged[-1][1]:
                raise CalendarSpecError(
                    "This interval overlaps another one on the same day.",
                    param=f"hours[{index}]",
                )
            if merged and start == merged[-1][1]:
                merged[-1][1] = end  # touching intervals merge (C2)
            else:
                merged.append([start, end])
        weekly.append(tuple((s, e) for s, e in merged))
    return tuple(weekly)


@lru_cache(maxsize=64)
def _country_years(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, observed=True)
    return {day: name for day, name in table.items() if day.year == year}


def _country(country: str | None, subdivision: str | None):
    if not country:
        if subdivision:
            raise CalendarSpecError(
                "A subdivision needs a holiday_country.", param="holiday_subdivision"
            )
        return None
    if not isinstance(country, str):
        raise CalendarSpecError("Use an ISO 3166 country code.", param="holiday_country")
    country = country.upper()
    try:
        _country_years(country, subdivision, 2026)
    except NotImplementedError:
        if subdivision and country in holidays_lib.list_supported_countries():
            raise CalendarSpecError(
                f'"{subdivision}" is not a subdivision of {country}.',
                param="holiday_subdivision",
            ) from None
        raise CalendarSpecError(
            f'"{country}" is not a country with known public holidays.', param="holiday_country"
        ) from None
    except (KeyError, ValueError, TypeError):
        raise CalendarSpecError(
            f'"{country}" is not a country with known public holidays.', param="holiday_country"
        ) from None
    return lambda day: _country_years(country, subdivision, day.year).get(day)


def _custom_holidays(items: Sequence[Mapping]) -> dict[date, str]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise CalendarSpecError("holidays must be a list of {date, name}.", param="holidays")
    out: dict[date, str] = {}
    for index, item in enumerate(items):
        param = f"holidays[{index}]"
        if not isinstance(item, Mapping):
            raise CalendarSpecError("Each holiday needs a date and a name.", param=param)
        value = item.get("date")
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        else:
            try:
                day = date.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                day = None
            if day is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                raise CalendarSpecError(
                    f'"{value}" is not a date; use "YYYY-MM-DD".', param=f"{param}.date"
                )
        name = item.get("name") or "Holiday"
        if not isinstance(name, str):
            raise CalendarSpecError("name must be text.", param=f"{param}.name")
        out[day] = name.strip()[:100] or "Holiday"
    return out

"""A slow, obviously-correct business-time reference: walk real minutes one by one.

Independent of sla.calendar's arithmetic: interval boundaries are found by scanning real
minutes for the first one whose local clock reads >= the boundary on that date (C7), and
holidays are looked up per local date (C4, C5)."""

from datetime import UTC, date, datetime, timedelta

from sla.calendar import BusinessCalendar

MINUTE = timedelta(minutes=1)


def _boundary(cal: BusinessCalendar, day: date, minutes: int) -> datetime:
    if minutes == 24 * 60:
        day, minutes = day + timedelta(days=1), 0
    t = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=16)
    while True:
        local = t.astimezone(cal.tz)
        if local.date() > day or (
            local.date() == day and local.hour * 60 + local.minute >= minutes
        ):
            return t
        t += MINUTE


def _spans(cal: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    if cal.holiday_name(day):
        return []
    if cal.always_open:
        return [(_boundary(cal, day, 0), _boundary(cal, day, 24 * 60))]
    return [(_boundary(cal, day, s), _boundary(cal, day, e)) for s, e in cal.weekly[day.weekday()]]


class Reference:
    def __init__(self, cal: BusinessCalendar):
        self.cal = cal
        self._days: dict[date, list] = {}

    def counts(self, t: datetime) -> bool:
        local_day = t.astimezone(self.cal.tz).date()
        for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
            if day not in self._days:
                self._days[day] = _spans(self.cal, day)
            if any(start <= t < end for start, end in self._days[day]):
                return True
        return False

    def elapsed_minutes(self, start: datetime, end: datetime) -> int:
        total, t = 0, start
        while t < end:
            total += self.counts(t)
            t += MINUTE
        return total

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        t, counted = start, 0
        while True:
            if self.counts(t):
                if counted == minutes:
                    return t
                counted += 1
                if counted == minutes:
                    return t + MINUTE
            t += MINUTE

"""Contact-rate denominators: daily figures imported from the business (DESIGN §9).

`denominators_upsert` validates every row first and writes nothing unless all are valid, then
upserts them in one statement (INSERT ... ON CONFLICT DO UPDATE), so sending the same rows
twice leaves the same table.
"""

from datetime import date

from django.db import transaction
from django.utils.dateparse import parse_date

from support_desk.errors import InvalidRequest
from tickets.models import Tier

from .models import Denominator, DenominatorMetric

SEGMENTS = ("all", *Tier.values)
MAX_ROWS = 10_000
MAX_VALUE = 10**15


def _row_error(index: int, field: str, message: str) -> InvalidRequest:
    param = f"rows[{index}].{field}" if field else f"rows[{index}]"
    return InvalidRequest(f"{param}: {message}", param=param)


def _clean_row(index: int, row) -> tuple[date, str, str, int]:
    if not isinstance(row, dict):
        raise _row_error(index, "", "Each row must be an object {date, metric, segment, value}.")
    unknown = sorted(set(row) - {"date", "metric", "segment", "value"})
    if unknown:
        raise _row_error(index, unknown[0], "Unknown field.")
    raw_date = row.get("date")
    day = None
    if isinstance(raw_date, str):
        try:
            day = parse_date(raw_date)
        except ValueError:
            day = None
    if day is None:
        raise _row_error(index, "date", "Must be a date, YYYY-MM-DD.")
    if not 1970 <= day.year <= 2999:
        raise _row_error(index, "date", "Must be between the years 1970 and 2999.")
    metric = row.get("metric")
    if metric not in DenominatorMetric.values:
        raise _row_error(index, "metric", f"Must be one of {', '.join(DenominatorMetric.values)}.")
    segment = row.get("segment", "all")
    if segment not in SEGMENTS:
        raise _row_error(index, "segment", f"Must be one of {', '.join(SEGMENTS)}.")
    value = row.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_VALUE:
        raise _row_error(index, "value", "Must be a whole number, 0 or more.")
    return day, metric, segment, value


def denominators_upsert(*, rows) -> dict:
    """Upsert the rows; a bad one raises InvalidRequest naming it (`rows[3].value`) and
    nothing is written. The last of two rows with the same key wins."""
    if not isinstance(rows, list):
        raise InvalidRequest('Send a list of rows, or {"rows": [...]}.', param="rows")
    if len(rows) > MAX_ROWS:
        raise InvalidRequest(f"At most {MAX_ROWS} rows per request.", param="rows")
    clean: dict[tuple[date, str, str], int] = {}
    for index, row in enumerate(rows):
        day, metric, segment, value = _clean_row(index, row)
        clean[(day, metric, segment)] = value
    with transaction.atomic():
        before = Denominator.objects.filter(date__in={k[0] for k in clean}).values_list(
            "date", "metric", "segment", "value"
        )
        existing = {(d, m, s): v for d, m, s, v in before}
        Denominator.objects.bulk_create(
            [Denominator(date=d, metric=m, segment=s, value=v) for (d, m, s), v in clean.items()],
            update_conflicts=True,
            unique_fields=["date", "metric", "segment"],
            update_fields=["value", "updated_at"],
        )
    created = sum(1 for key in clean if key not in existing)
    updated = sum(1 for key, v in clean.items() if key in existing and existing[key] != v)
    return {
        "received": len(rows),
        "created": created,
        "updated": updated,
        "unchanged": len(clean) - created - updated,
    }

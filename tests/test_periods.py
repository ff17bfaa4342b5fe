from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from broadsheet.periods import InvalidPeriod, containing, local_day, parse_day, parse_month, parse_week


def test_day_week_month_bounds_and_labels() -> None:
    assert parse_day("2026-08-21").label == "2026-08-21"
    assert parse_day("2026-08-21T10:00:00.000Z").start == date(2026, 8, 21)
    week = parse_week("2026-W34")
    assert (week.start, week.end, week.label) == (date(2026, 8, 17), date(2026, 8, 23), "2026-W34")
    month = parse_month("2024-02")
    assert (month.start, month.end, month.label) == (date(2024, 2, 1), date(2024, 2, 29), "2024-02")
    assert containing("week", date(2026, 1, 1)).label == "2026-W01"
    assert containing("week", date(2027, 1, 1)).label == "2026-W53"
    assert parse_month("2026-08").path == "/papers/month/2026-08"


@pytest.mark.parametrize(
    ("parse", "text"),
    [(parse_day, "2026-02-30"), (parse_day, "yesterday"), (parse_day, "2026-8-1x"), (parse_week, "2026-W54"),
     (parse_week, "2026-34"), (parse_month, "2026-13"), (parse_month, "'; DROP TABLE x")],
)  # fmt: skip
def test_invalid_periods_explain_the_expected_form(parse, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidPeriod, match="expected"):
        parse(text)


def test_day_boundary_is_new_york_time() -> None:
    ny = ZoneInfo("America/New_York")
    # 03:00 UTC on the 21st is still the evening of the 20th in New York.
    assert local_day(datetime(2026, 8, 21, 3, 0, tzinfo=UTC), ny) == date(2026, 8, 20)
    assert local_day(datetime(2026, 8, 21, 5, 0, tzinfo=UTC), ny) == date(2026, 8, 21)

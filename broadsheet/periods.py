"""Daily-Papers periods: a day (`2026-08-21`), an ISO week (`2026-W34`) or a month (`2026-08`).

Pure functions over dates. The day a timestamp belongs to is decided in the site's time
zone (America/New_York by default, the arXiv and Hugging Face convention).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["day", "week", "month"]
FIRST_YEAR, LAST_YEAR = 1991, 2200  # arXiv began in 1991; later years are typos or probes, never periods


class InvalidPeriod(ValueError):
    """A date, week or month string that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: Kind
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    @property
    def title(self) -> str:
        if self.kind == "day":
            return f"{self.start:%A}, {self.start.day} {self.start:%B %Y}"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({self.start.day} {self.start:%b} – {self.end.day} {self.end:%b})"
        return f"{self.start:%B %Y}"

    @property
    def path(self) -> str:
        return f"/papers/{'date' if self.kind == 'day' else self.kind}/{self.label}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def parse_day(text: str) -> Period:
    """`2026-08-21` (a full ISO datetime is accepted too, as Hugging Face's API does)."""
    value = text.strip()
    try:
        if len(value) > 10:
            return containing("day", datetime.fromisoformat(value.replace("Z", "+00:00")).date())
        return containing("day", date.fromisoformat(value))
    except InvalidPeriod:
        raise
    except ValueError:
        raise InvalidPeriod(f"invalid date {text[:40]!r}: expected YYYY-MM-DD, e.g. 2026-08-21") from None


def parse_week(text: str) -> Period:
    week = _matched(text, r"(\d{4})-W(\d{2})", "week", "YYYY-Www, e.g. 2026-W34")
    return _built("week", lambda: date.fromisocalendar(int(week[1]), int(week[2]), 1), text, "YYYY-Www")


def parse_month(text: str) -> Period:
    month = _matched(text, r"(\d{4})-(\d{2})", "month", "YYYY-MM, e.g. 2026-08")
    return _built("month", lambda: date(int(month[1]), int(month[2]), 1), text, "YYYY-MM")


def _matched(text: str, pattern: str, what: str, expected: str) -> re.Match[str]:
    match = re.fullmatch(pattern, text.strip())
    if not match:
        raise InvalidPeriod(f"invalid {what} {text[:40]!r}: expected {expected}")
    return match


def _built(kind: Kind, first_day: Callable[[], date], text: str, expected: str) -> Period:
    try:
        return containing(kind, first_day())
    except InvalidPeriod:
        raise
    except ValueError:
        raise InvalidPeriod(f"invalid {kind} {text[:40]!r}: expected {expected}") from None


PARSERS = {"day": parse_day, "week": parse_week, "month": parse_month}


def parse_date(text: str, what: str = "date") -> date:
    """A YYYY-MM-DD date within the years a paper can have (the one bound every date input goes through)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidPeriod(f"invalid {what} {text[:40]!r}: expected YYYY-MM-DD, e.g. 2026-08-21") from None
    return _bounded(day, what, text)


def _bounded(day: date, what: str, text: str) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidPeriod(f"invalid {what} {text[:40]!r}: years {FIRST_YEAR} to {LAST_YEAR} only")
    return day


def containing(kind: Kind, day: date) -> Period:
    """The period of the given kind that contains `day`."""
    _bounded(day, kind, day.isoformat())
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=6))
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The Daily-Papers day of an aware timestamp, in the site's time zone."""
    return moment.astimezone(zone).date()

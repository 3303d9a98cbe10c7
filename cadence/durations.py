"""Durations ("3 days", "2w", "1 month") and calendar arithmetic."""
from __future__ import annotations

import re
from datetime import date

from .model import Duration

_UNITS = {
    "d": "day", "day": "day", "days": "day",
    "w": "week", "week": "week", "weeks": "week",
    "m": "month", "month": "month", "months": "month",
    "y": "year", "year": "year", "years": "year",
}
MAX_DAYS = 36525  # 100 years: longer is a typo, and would run dates off the calendar
_PATTERN = re.compile(r"^\s*(\d+)\s*([A-Za-z]+)\s*$")


def parse_duration(text: object) -> Duration:
    """`N day(s)`, `N week(s)`, `N month(s)`, `N year(s)` or `Nd`, `Nw`, `Nm`, `Ny`.

    Raises ValueError with a message a person can act on.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError(f"expected a duration such as '3 days', got {text!r}")
    raw = str(text)
    match = _PATTERN.match(raw)
    if not match:
        if re.match(r"^\s*-", raw):
            raise ValueError(f"a duration cannot be negative: {raw!r}")
        raise ValueError(f"expected a duration such as '3 days' or '2w', got {raw!r}")
    if len(match.group(1)) > 6:  # no need to read a 5,000-digit number to know it is too long
        raise ValueError(f"a duration of more than 100 years: {raw[:40]!r}")
    count, unit = int(match.group(1)), _UNITS.get(match.group(2).lower())
    if unit is None:
        raise ValueError(
            f"unknown unit {match.group(2)!r} in {raw!r}: use days, weeks, months or years"
        )
    text_out = raw.strip()
    if count > {"day": MAX_DAYS, "week": MAX_DAYS // 7, "month": 1200, "year": 100}[unit]:
        raise ValueError(f"a duration of more than 100 years: {raw!r}")
    if unit == "day":
        return Duration(days=count, text=text_out)
    if unit == "week":
        return Duration(days=7 * count, text=text_out)
    if unit == "month":
        return Duration(months=count, text=text_out)
    return Duration(months=12 * count, text=text_out)



def parse_date(text: str) -> date:
    """An ISO 8601 date (`2026-11-22`); raises ValueError."""
    text = text.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    return date.fromisoformat(text)


def days_between(earlier: date, later: date) -> int:
    return later.toordinal() - earlier.toordinal()

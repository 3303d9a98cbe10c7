"""Ledger rows -> Contact values, with every bad cell reported at its line and column."""
from __future__ import annotations

import re
from datetime import date

from .model import (
    CHANNELS, EXIT_DATA, FIRST_YEAR, LAST_YEAR, STATUSES, Contact, Problem, channel_items,
    email_problem, shown,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})(?::\d{2})?$")
_MONTH_DAY = re.compile(r"^(?:--)?(\d{2})-(\d{2})$")
_SERIAL = re.compile(r"^\d{4,5}(?:[.,]\d+)?$")
_SLASHED = re.compile(r"^\d{1,4}[./]\d{1,2}[./]\d{1,4}$")


class CellError(ValueError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


_fromiso = date.fromisoformat




def _date(text: str, expected: str = "a date as YYYY-MM-DD") -> date:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
        try:
            day = _fromiso(text)  # the common case, without a regex
        except ValueError:
            pass
        else:
            if FIRST_YEAR <= day.year <= LAST_YEAR:
                return day
            raise CellError(f"date out of range: {text!r}",
                            f"dates run from {FIRST_YEAR} to {LAST_YEAR}")
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CellError(f"impossible date {text!r}") from None
    if _SERIAL.match(text):
        raise CellError(
            f"{text!r} looks like a spreadsheet serial number, not a date",
            "format the column as text or as a YYYY-MM-DD date before saving",
        )
    if _SLASHED.match(text):
        mark = next(c for c in text if not c.isdigit())
        parts = text.split(mark)
        if len(parts[0]) <= 2 and len(parts[2]) <= 2:  # 06.12.26: which century?
            raise CellError(f"ambiguous date {text!r}", "a two-digit year cannot be read: format "
                            "the column's dates with a four-digit year, e.g. 2026-11-22")
        first, second, third = (int(part) for part in parts)
        day_first, month_first = _real(third, second, first), _real(third, first, second)
        if len(parts[0]) == 4:  # 1985/03/14: year first, as ISO but for the marks
            if not _real(first, second, third):
                raise CellError(f"impossible date {text!r}")
            example, what = f"%Y{mark}%m{mark}%d", f"with {mark!r}"
            message = f"{text!r} is a date written {what}, not as YYYY-MM-DD"
        elif not (day_first or month_first):  # 32/01/2026, 13/13/2026
            raise CellError(f"impossible date {text!r}")
        elif len(parts[0]) <= 2 and day_first != month_first:  # 14.03.1985, 3/14/1985
            example, what = (f"%d{mark}%m{mark}%Y", "day first") if day_first else \
                (f"%m{mark}%d{mark}%Y", "month first")
            message = f"{text!r} is a date written {what}, not as YYYY-MM-DD"
        else:
            example = "%m/%d/%Y" if mark == "/" else f"%d{mark}%m{mark}%Y"
            message = f"ambiguous date {text!r}"
        raise CellError(
            message,
            "write dates as YYYY-MM-DD (ISO 8601), e.g. 2026-11-22, or keep the sheet's and "
            f"name its format in cadence.yaml: `ledger: {{dates: \"{example}\"}}`",
        )
    raise CellError(f"expected {expected}, got {text!r}")


def _real(year: int, month: int, day: int) -> bool:
    """Whether the year, month and day name a day of the calendar."""
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _callback(text: str) -> tuple:
    match = _DATETIME.match(text)
    if match:
        day = _date(match.group(1))
        hour, minute = int(match.group(2)), int(match.group(3))
        if hour > 23 or minute > 59:
            raise CellError(f"impossible time in {text!r}")
        return day, f"{hour:02d}:{minute:02d}"
    return _date(text), ""


def _birthday(text: str) -> tuple:
    match = _MONTH_DAY.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        try:
            date(2000, month, day)  # a leap year: 02-29 is a birthday too
        except ValueError:
            raise CellError(f"impossible birthday {text!r}") from None
        return month, day
    born = _date(text, "a birthday as YYYY-MM-DD or MM-DD")
    return born.month, born.day


def _channels(text: str, allow_all: bool) -> tuple:
    if text in CHANNELS:
        return (text,)
    items = channel_items(text)
    for item in items:
        if item == "all" and allow_all:
            continue
        if item not in CHANNELS:
            import difflib

            close = difflib.get_close_matches(item, CHANNELS, 1)
            known = ", ".join(CHANNELS + (("all",) if allow_all else ()))
            raise CellError(
                f"unknown channel {item!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                f"channels are {known}, separated by ';'",
            )
    return items


def _status(text: str) -> str:
    if text in STATUSES:
        return text
    status = text.lower()
    if status not in STATUSES:
        import difflib

        close = difflib.get_close_matches(status, STATUSES, 1)
        raise CellError(
            f"unknown status {text!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
            "statuses are " + ", ".join(STATUSES),
        )
    return status


def _count(text: str) -> int:
    whole = re.fullmatch(r"([0-9]+)[.,]0+", text)
    if whole:  # `3.0`, `3,0`: a number column saved by a spreadsheet or pandas
        text = whole.group(1)
    if not (text.isascii() and text.isdigit()):
        raise CellError(f"expected a whole number of touches, got {shown(text)}")
    if len(text) > 9:
        raise CellError(f"too many touches: {text[:20]}{'...' if len(text) > 20 else ''}",
                        "touches counts the touches made so far; clear the cell to have "
                        "cadence count them again from the journal")
    return int(text)


def _channel(text: str) -> str:
    if text in CHANNELS:
        return text
    return _channels(text, False)[0] if text else ""


def _email(text: str) -> str:
    problem = email_problem(text)
    if problem:
        raise CellError(problem, "one address a cell, such as ann@example.com")
    return text


# column -> (Contact field, parser)
_FIELDS = {
    "started": ("started", _date),
    "status": ("status", _status),
    "paused_until": ("paused_until", _date),
    "channels": ("channels", lambda t: _channels(t, False)),
    "optout": ("optout", lambda t: _channels(t, True)),
    "callback": ("callback", _callback),
    "birthday": ("birthday", _birthday),
    "last_reply": ("last_reply", _date),
    "touches": ("touches", _count),
    "last_touch": ("last_touch", _date),
    "last_channel": ("last_channel", _channel),
    "next_due": ("next_due", _date),
    "email": (None, _email),
}


def parse_contacts(ledger) -> tuple:
    """(contacts, problems) from a parsed LedgerFile; every cell checked, all problems kept."""
    problems = []
    contacts = []
    present = [(col, _FIELDS[col], {}) for col in ledger.columns if col in _FIELDS]
    lines = ledger.lines
    rows = ledger.rows
    for index in range(len(rows)):
        row = rows[index]
        fields = {}
        for column, (field, parse), seen in present:
            text = row.get(column)
            if not text:
                continue
            value = seen.get(text)  # a column's values repeat: each is parsed once
            if value is None:
                cell = text.strip()
                if not cell:
                    continue
                try:
                    value = seen[text] = parse(cell)
                except CellError as err:
                    problems.append(Problem(ledger.source(index, column), str(err), err.hint,
                                            EXIT_DATA))
                    continue
            if field == "callback":
                fields["callback"], fields["callback_time"] = value
            elif field is not None:
                fields[field] = value
        cid = row.get("id", "").strip()
        if "\n" in cid or "\r" in cid:  # the journal's rows are one line each: never found again
            problems.append(Problem(ledger.source(index, "id"), f"id {cid!r} holds a line break",
                                    "an id is one line: take the line break out", EXIT_DATA))
        contacts.append(Contact(
            id=cid, row=row, line=lines[index], index=index,
            playbook=row.get("playbook", "").strip(), last_step=row.get("last_step", "").strip(),
            **fields,
        ))
    return tuple(contacts), problems

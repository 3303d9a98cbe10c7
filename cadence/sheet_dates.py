"""Dates as a sheet writes them (`14.03.1975`, `3/14/1975`): the `dates:` setting of the
`ledger:` mapping, read and written digit by digit, never through the machine's locale."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Optional

_DIRECTIVES = {"%d": "d", "%-d": "d", "%m": "m", "%-m": "m", "%Y": "Y"}
_WORDS = (("yyyy", "%Y"), ("dd", "%d"), ("mm", "%m"), ("d", "%-d"), ("m", "%-m"))


@dataclass(frozen=True, slots=True)
class DateFormat:
    """How a sheet writes dates: `%d.%m.%Y` (or `dd.mm.yyyy`); `%-d` and `%-m` without a
    leading zero. Only digits: a month's name would depend on the spreadsheet's language."""

    pattern: str = "%Y-%m-%d"
    parts: tuple = ("%Y", "-", "%m", "-", "%d")

    @property
    def iso(self) -> bool:
        return self.pattern == "%Y-%m-%d"

    @property
    def shown(self) -> str:
        """The format as people read it: DD.MM.YYYY."""
        words = {"%d": "DD", "%-d": "D", "%m": "MM", "%-m": "M", "%Y": "YYYY"}
        return "".join(words.get(p, p) for p in self.parts)

    def parse(self, text: str) -> Optional[tuple]:
        """(year, month, day) of a cell written in this format, else None (never raises)."""
        match = _regex(self.parts).match(text)
        if match is None:
            return None
        values = dict(zip([_DIRECTIVES[p] for p in self.parts if p in _DIRECTIVES],
                          (int(g) for g in match.groups())))
        return values["Y"], values["m"], values["d"]

    def format(self, day: date) -> str:
        values = {"%d": f"{day.day:02d}", "%-d": str(day.day), "%m": f"{day.month:02d}",
                  "%-m": str(day.month), "%Y": f"{day.year:04d}"}
        return "".join(values.get(p, p) for p in self.parts)


ISO = DateFormat()


def _compiled_regex(parts: tuple):
    pieces = {"%d": r"(\d{1,2})", "%-d": r"(\d{1,2})", "%m": r"(\d{1,2})", "%-m": r"(\d{1,2})",
              "%Y": r"(\d{4})"}
    return re.compile("^" + "".join(pieces.get(p, re.escape(p)) for p in parts) + "$")


_REGEXES: dict = {}


def _regex(parts: tuple):
    found = _REGEXES.get(parts)
    if found is None:
        found = _REGEXES[parts] = _compiled_regex(parts)
    return found


_UNSEEN = ("Cc", "Cf", "Mn", "Me", "Zl", "Zp")  # controls, line breaks, marks one cannot see


def date_format(text: str) -> tuple:
    """(DateFormat, "") for a `dates:` setting, or (None, why not)."""
    pattern = text.strip()
    if "%" not in pattern:  # dd.mm.yyyy
        lowered, out, i = pattern.lower(), [], 0
        while i < len(lowered):
            for word, directive in _WORDS:
                if lowered.startswith(word, i):
                    out.append(directive)
                    i += len(word)
                    break
            else:
                out.append(pattern[i])
                i += 1
        parts = out
    else:
        parts = re.findall(r"%-?.|[^%]+", pattern)
    kinds = [_DIRECTIVES.get(p) for p in parts if p.startswith("%")]
    if None in kinds:
        bad = next(p for p in parts if p.startswith("%") and p not in _DIRECTIVES)
        return None, f"{bad!r} is not a date part cadence reads: use %d, %m and %Y"
    if sorted(kinds) != ["Y", "d", "m"]:
        return None, "a date format needs a day, a month and a year: %d, %m and %Y, once each"
    literals = "".join(p for p in parts if not p.startswith("%"))
    if any(unicodedata.category(ch) in _UNSEEN for ch in literals):
        # a line break in a cell cadence writes: a torn row; a zero-width, combining or bidi
        # mark: a date that looks like another (a no-break space is fine)
        shown = "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _UNSEEN else ch
                        for ch in repr(pattern))
        return None, f"the format {shown} has a line break, tab or other control or " \
            "invisible character between its parts"
    if any(ch.isalnum() for ch in literals):
        return None, f"the format {pattern!r} has letters or digits between its parts"
    if any(a.startswith("%") and b.startswith("%") for a, b in zip(parts, parts[1:])):
        return None, f"the format {pattern!r} needs a separator between its parts"
    joined = "".join(parts)
    return DateFormat(joined, tuple(parts)), ""


_ISO_CELL = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DOTTED = DateFormat("%d.%m.%Y", ("%d", ".", "%m", ".", "%Y"))
_TIME = re.compile(r"^(.*?)(?:[T ](\d{1,2}:\d{2}(?::\d{2})?))?$")
_SERIAL = re.compile(r"^\d{4,5}(?:[.,]\d+)?$")


def _clock(text: str) -> str:
    """A cell's time as cadence writes it (`14:30`): seconds dropped; midnight, which a
    spreadsheet adds to a date it exports as a date and time (`1975-03-14 00:00:00`), is none."""
    if not text:
        return ""
    hour, minute, *seconds = text.split(":")
    if int(hour) == 0 and int(minute) == 0 and not any(int(s) for s in seconds):
        return ""
    return f"{int(hour):02d}:{minute}"


def is_serial(text: str) -> bool:
    """A cell a spreadsheet wrote as its day number (`27468`), not as a date."""
    return _SERIAL.match(text) is not None


def read_cell(text: str, dates: DateFormat) -> tuple:
    """(ISO text, the shape of another format it is written in or "", error) of a date cell.

    The configured format first; then ISO, which is never ambiguous, and day.month.year with
    dots, which no spreadsheet writes in another order. A cell in none of them is left as it
    is for cadence.contacts to judge, but for a sheet whose dates are not ISO: its message
    (and the hint its reader adds) names the sheet's format."""
    match = _TIME.match(text)
    if match is None:  # a line break in the cell: no date; its column's reader says so
        return text, "", "" if dates.iso else f"expected a date as {dates.shown}, got {text!r}"
    head, clock = match.group(1), _clock(match.group(2) or "")
    tried = [(dates, "")] + [(f, f.shown) for f in (ISO, _DOTTED) if f.pattern != dates.pattern]
    for fmt, shape in tried:
        if fmt.iso:
            if _ISO_CELL.match(text):
                if shape:  # not the sheet's format: said once for the column, if a date
                    try:
                        date.fromisoformat(head)
                    except ValueError:
                        return "", "", f"impossible date {text!r}"
                return head + (f"T{clock}" if clock else ""), shape, ""
            continue
        ymd = fmt.parse(head)
        if ymd is None:
            continue
        try:
            date(*ymd)
        except ValueError:
            return "", "", f"impossible date {text!r}"
        return f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d}" + (f"T{clock}" if clock else ""), \
            shape, ""
    if dates.iso:
        return text, "", ""
    if is_serial(text):
        return "", "", f"{text!r} looks like a spreadsheet serial number, not a date"
    return "", "", f"expected a date as {dates.shown}, got {text!r}"


def day_first(text: str) -> Optional[date]:
    """The day a date written day first with dots means (`05.01.2027`, as a sheet in such a
    country writes it; no one writes month first with dots), or None."""
    ymd = _DOTTED.parse(text.strip())
    try:
        return date(*ymd) if ymd is not None else None
    except ValueError:
        return None

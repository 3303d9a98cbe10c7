"""The journal (history.csv): read its rows, fold each contact's rows into a Trail, format the
rows a command appends.

cadence only ever appends to the journal; it is the record of what happened. It is read whole
and by its dates, never by its row order: rows sorted by hand or merged from two machines mean
the same. The readers take the file's lines (bytes) from the caller, so that nothing here
opens a file.

Rows are split on commas unless they hold a quote; a quoted row (a note with a comma) goes to
the stdlib's csv reader. The journal is the largest file cadence reads (millions of rows at an
agency) and nearly every row is plain: the split reads it in two thirds of csv.reader's time
(docs/benchmarks.md) and keeps each row's line number for the messages.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from typing import Iterable, Iterator, Optional

from .model import (
    CHANNELS, EXIT_DATA, JOURNAL_COLUMNS, RULE_STEPS, Entry, Problem, Source, Trail,
)

EVENTS = ("touch", "skip", "reply", "status", "note")
_CHANNELS = frozenset(CHANNELS)
HEADER = ",".join(JOURNAL_COLUMNS)
WIDTH = len(JOURNAL_COLUMNS)
PER_WEEK_SPAN = 6  # days before a touch that the per-week cap can count with it


class NotAFold(ValueError):
    """Saved folds that are not what `save` writes (a cache entry from elsewhere)."""


# --- reading rows ---------------------------------------------------------------------------

def read_header(lines: Iterator[bytes], path: str, problems: list) -> Optional[tuple]:
    """(column names, lines read) of the journal's header, taken from `lines`; None when the
    journal is empty or its header unusable (then said in `problems`)."""
    number = 0
    for raw in lines:
        number += 1
        text = _decode(raw, path, number, problems)
        if text is None:
            return None
        if number == 1:
            text = text.lstrip("\ufeff")
        if text.strip():
            break
    else:
        return None
    if "\r" in text.rstrip("\r\n"):
        problems.append(_cr_only(path, number))
        return None
    try:
        names = [h.strip() for h in next(csv.reader([text.rstrip("\r\n")], strict=True))]
    except csv.Error as err:
        problems.append(Problem(Source(path, number), f"unreadable header: {err}", code=EXIT_DATA))
        return None
    missing = [c for c in JOURNAL_COLUMNS if c not in names]
    if missing:
        problems.append(Problem(
            Source(path, number, 1), "the journal's header lacks " + ", ".join(map(repr, missing)),
            f"the first line must be {HEADER}", EXIT_DATA))
        return None
    return tuple(names), number


def _records(lines: Iterable[bytes], path: str, problems: list, names=None,
             number: int = 0) -> Iterator[tuple]:
    """(line number, date, cells, kept) of every valid row, cells in JOURNAL_COLUMNS order;
    `kept` is what a fold keeps of the row: its text when splitting it on commas gives the
    cells back, else the cells as a tuple.

    The header comes first in `lines`, unless `names` (its columns) are given: then `lines`
    go on from line `number`. A row that cannot be read is reported in `problems` (with its
    line) and left out.
    """
    it = iter(lines)
    if names is None:
        found = read_header(it, path, problems)
        if found is None:
            return
        names, number = found
    order = None if list(names) == list(JOURNAL_COLUMNS) else [names.index(c) for c in JOURNAL_COLUMNS]
    width = len(names)
    days = {}  # date text -> date: a journal has few distinct days and many rows
    for raw in it:
        number += 1
        start = number
        if b'"' in raw:
            record = raw
            while record.count(b'"') % 2:  # a quoted cell goes on to the next line
                more = next(it, None)
                if more is None:
                    break
                number += 1
                record += more
            text = _decode(record, path, start, problems)
            if text is None:
                return
            try:
                cells = next(csv.reader([text], strict=True), [])
            except csv.Error as err:
                problems.append(Problem(Source(path, start), f"unreadable row: {err}",
                                        code=EXIT_DATA))
                continue
            kept = None
        else:
            text = _decode(raw, path, start, problems)
            if text is None:
                return
            kept = text.rstrip("\r\n")
            if "\r" in kept:
                problems.append(_cr_only(path, start))
                return
            cells = kept.split(",")
        if len(cells) != width:
            if not "".join(cells).strip():
                continue  # a blank line
            problems.append(Problem(Source(path, start, 1),
                                    f"row has {len(cells)} cells, the header has {width}",
                                    code=EXIT_DATA))
            continue
        if order is not None:
            cells, kept = [cells[i] for i in order], None
        day = days.get(cells[0])
        if day is None:
            day = _day(cells[0])
            if day is None:
                problems.append(Problem(Source(path, start, 1),
                                        f"expected a date as YYYY-MM-DD, got {cells[0].strip()!r}",
                                        code=EXIT_DATA))
                continue
            days[cells[0]] = day
        event = cells[2]
        if event not in EVENTS:
            event = cells[2] = event.strip()
            if event not in EVENTS:
                problems.append(Problem(Source(path, start), f"unknown event {event!r}",
                                        "events are " + ", ".join(EVENTS), EXIT_DATA))
                continue
        channel = cells[5]
        if channel and channel not in _CHANNELS:
            channel = cells[5] = channel.strip()
            if channel and channel not in _CHANNELS:
                problems.append(Problem(Source(path, start), f"unknown channel {channel!r}",
                                        "channels are " + ", ".join(CHANNELS), EXIT_DATA))
                continue
        if "\x00" in text:
            problems.append(Problem(Source(path, start), "NUL byte in the journal",
                                    "the file looks binary; restore it from a copy", EXIT_DATA))
            continue
        yield start, day, cells, kept if kept is not None else tuple(cells)


def _cr_only(path: str, number: int) -> Problem:
    return Problem(Source(path, number), "the journal's lines end with a lone CR",
                   "save it with LF or CRLF line endings", EXIT_DATA)


def _decode(raw: bytes, path: str, number: int, problems: list) -> Optional[str]:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(Source(path, number), "the journal is not UTF-8 text",
                                "save it as UTF-8", EXIT_DATA))
        return None


def _day(text: str) -> Optional[date]:
    text = text.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _entry(day: date, cells: list) -> Entry:
    return Entry(day, *(c.strip() for c in cells[1:]))


def read_rows(lines: Iterable[bytes], path: str, wanted=None) -> tuple:
    """({contact id: its rows, oldest first}, problems); with `wanted`, only those contacts.

    Rows of one day keep their order in the file: they were written in the order they
    happened.
    """
    problems = []
    found = {}
    for _, day, cells, _ in _records(lines, path, problems):
        cid = cells[1].strip()
        if wanted is None or cid in wanted:
            found.setdefault(cid, []).append(_entry(day, cells))
    return {cid: tuple(sorted(rows, key=lambda e: e.date)) for cid, rows in found.items()}, problems


def entries(lines: Iterable[bytes], path: str) -> Iterator[Entry]:
    """Every valid row, in the file's order (problems are `check`'s to report)."""
    for _, day, cells, _ in _records(lines, path, []):
        yield _entry(day, cells)


def parse_journal(text: str, path: str) -> tuple:
    """`read_rows` of a journal held as text (tests, small files)."""
    return read_rows(io.BytesIO(text.encode("utf-8")), path)


# --- a contact's rows folded into its Trail ---------------------------------------------------

class _Fold:
    """One contact's Trail while its rows are read, in any order."""

    __slots__ = ("touches", "last", "last_day", "dates", "step", "step_day", "replies",
                 "birthday", "callback", "no_reply")

    def __init__(self):
        self.touches = 0
        self.last = self.last_day = None  # the cells and date of the latest touch
        self.dates = []  # touch dates, trimmed now and then to the window of the latest
        self.step = self.step_day = None  # the latest touch or skip of a playbook step
        self.replies = set()
        self.birthday = self.callback = self.no_reply = None

    def state(self) -> list:
        """The fold as plain JSON values, to go on from later (cadence.cache)."""
        dates = self.dates
        if self.last is not None:
            floor = self.last_day.toordinal() - PER_WEEK_SPAN
            dates = [d for d in dates if d.toordinal() >= floor]
        return [self.touches, _iso(self.last_day), _plain(self.last), [d.isoformat() for d in dates],
                _iso(self.step_day), _plain(self.step), sorted(d.isoformat() for d in self.replies),
                _iso(self.birthday), _iso(self.callback), _iso(self.no_reply)]

    @classmethod
    def restore(cls, state: list) -> "_Fold":
        """A fold from `state()`; raises ValueError (or TypeError) on anything else."""
        made = cls()
        (touches, last_day, last, dates, step_day, step, replies, birthday, callback,
         no_reply) = state
        if not isinstance(touches, int) or touches < 0:
            raise NotAFold("touches")
        made.touches = touches
        made.last_day, made.last = _day_of(last_day), _kept(last)
        made.dates = [date.fromisoformat(d) for d in dates]
        made.step_day, made.step = _day_of(step_day), _kept(step)
        made.replies = {date.fromisoformat(d) for d in replies}
        made.birthday, made.callback = _day_of(birthday), _day_of(callback)
        made.no_reply = _day_of(no_reply)
        if (made.last is None) != (made.last_day is None) or (
                made.step is None) != (made.step_day is None):
            raise NotAFold("a row without its date")
        return made

    def trail(self, contact: str, shared: dict) -> Trail:
        """The Trail; `shared` holds one copy of each cell text and date that trails share
        (a book's contacts share a few steps, channels and days: memory)."""
        recent = ()
        if self.last is not None:
            floor = self.last_day.toordinal() - PER_WEEK_SPAN
            recent = tuple(sorted(shared.setdefault(d, d) for d in self.dates
                                  if d.toordinal() >= floor))
        return Trail(
            touches=self.touches, last=_entry_of(contact, self.last_day, self.last, shared),
            recent=recent, step=_entry_of(contact, self.step_day, self.step, shared),
            replies=frozenset(self.replies) if self.replies else _NO_REPLIES,
            birthday_done=self.birthday, callback_done=self.callback,
            no_reply_done=self.no_reply)


def _iso(day: Optional[date]):
    return day.isoformat() if day is not None else None


def _day_of(text) -> Optional[date]:
    return date.fromisoformat(text) if text is not None else None


def _plain(kept):
    return list(kept) if isinstance(kept, tuple) else kept


def _kept(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == WIDTH and all(isinstance(c, str) for c in value):
        return tuple(value)
    raise NotAFold("a row")


def save(folds: dict) -> dict:
    """The folds as plain JSON values (cadence.cache keeps them)."""
    return {cid: acc.state() for cid, acc in folds.items()}


def restore(saved) -> dict:
    """The folds `save` gave; raises ValueError or TypeError on anything else."""
    if not isinstance(saved, dict):
        raise NotAFold("folds")
    return {cid: _Fold.restore(state) for cid, state in saved.items() if isinstance(cid, str)}


def _cells(kept) -> tuple:
    """A row's cells from what a fold kept of it (`_records`)."""
    return tuple(kept.split(",")) if isinstance(kept, str) else kept


_NO_REPLIES = frozenset()


def _entry_of(contact: str, day: Optional[date], kept, shared: dict) -> Optional[Entry]:
    if kept is None:
        return None
    one = shared.setdefault
    c = _cells(kept)
    if " " in kept or "\t" in kept:
        c = [cell.strip() for cell in c]
    return Entry(one(day, day), contact, one(c[2], c[2]), one(c[3], c[3]), one(c[4], c[4]),
                 one(c[5], c[5]), one(c[6], c[6]), c[7])


def _later(a: Optional[date], b: date) -> date:
    return b if a is None or b > a else a


def fold(lines: Iterable[bytes], path: str) -> tuple:
    """({contact id: Trail}, problems) of a whole journal, read once, row by row."""
    folds = {}
    problems = fold_more(folds, lines, path)
    return trails(folds), problems


def fold_more(folds: dict, lines: Iterable[bytes], path: str, names=None, number: int = 0):
    """Fold more rows into `folds` ({contact id: _Fold}); returns the problems. `lines` begin
    with the header, or, with `names` (the header's columns), go on after line `number`."""
    problems = []
    _fold(folds, _records(lines, path, problems, names, number))
    return problems


def trails(folds: dict) -> dict:
    """{contact id: Trail} of the folds, which are emptied on the way (memory)."""
    shared, out = {}, {}
    while folds:
        cid, acc = folds.popitem()
        out[cid] = acc.trail(cid, shared)
    return out


def _fold(folds: dict, records) -> None:
    """Fold (line, date, cells, kept) records, in any order, into `folds`.

    Written as one loop, not a method call a row: the journal is the largest file cadence
    reads, and the call cost more than the rest of the work. The latest touch is the one with
    the latest date, and of one day's, the largest row: the rows' order never matters.
    """
    get = folds.get
    for _, day, cells, kept in records:
        cid = cells[1]
        acc = get(cid)
        if acc is None:
            cid = cells[1] = cid.strip()
            acc = get(cid)
            if acc is None:
                acc = folds[cid] = _Fold()
        event = cells[2]
        if event == "touch":
            acc.touches += 1
            dates = acc.dates
            dates.append(day)
            latest = acc.last_day
            if latest is None or day > latest or (day == latest and _cells(kept) > _cells(acc.last)):
                acc.last_day, acc.last = day, kept
            if len(dates) > 64:
                floor = acc.last_day.toordinal() - PER_WEEK_SPAN
                acc.dates = [d for d in dates if d.toordinal() >= floor]
        elif event == "reply":
            acc.replies.add(day)
            continue
        elif event != "skip":
            continue
        step = cells[4]
        if not step:
            continue  # a touch made by hand
        if step in RULE_STEPS:
            if step == "birthday":
                acc.birthday = _later(acc.birthday, day)
            elif step == "callback":
                acc.callback = _later(acc.callback, day)
            elif event == "skip":
                acc.no_reply = _later(acc.no_reply, day)
            continue
        latest = acc.step_day
        if latest is None or day > latest or (day == latest and _cells(kept) > _cells(acc.step)):
            acc.step_day, acc.step = day, kept


def trail_of(rows: Iterable[Entry]) -> Trail:
    """The Trail of one contact's rows (in any order)."""
    contact, records, folds = "", [], {}
    for e in rows:
        contact = e.contact
        cells = [e.date.isoformat(), e.contact, e.event, e.playbook, e.step, e.channel,
                 e.template, e.note]
        records.append((0, e.date, cells, tuple(cells)))
    _fold(folds, records)
    return folds[contact].trail(contact, {}) if contact in folds else Trail()

# --- writing ----------------------------------------------------------------------------------

def format_rows(entries, newline: str = "\n") -> str:
    """The journal lines for `entries`: one line each, no line breaks inside a cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    for e in entries:
        cells = [e.date.isoformat(), e.contact, e.event, e.playbook, e.step, e.channel,
                 e.template, e.note]
        writer.writerow([" ".join(str(c).split()) if ("\n" in str(c) or "\r" in str(c)) else c
                         for c in cells])
    return out.getvalue()

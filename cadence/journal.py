"""The journal (history.csv): its rows read, with every problem at its line, and the rows a
command appends formatted. cadence.trail folds the rows into what the engine reads.

cadence only ever appends to the journal; it is the record of what happened. The readers take
the file's lines (bytes) from the caller, so that nothing here opens a file.

The delimiter is the header line's (`,`, else `;` or a tab: a journal made beside a
spreadsheet's semicolon ledger is written like it, so that the same Excel opens it).
Rows are split on the delimiter unless they hold a quote; a quoted row (a note with a comma) goes to
the stdlib's csv reader. The journal is the largest file cadence reads (millions of rows at an
agency) and nearly every row is plain: the split reads it in two thirds of csv.reader's time
(docs/benchmarks.md) and keeps each row's line number for the messages.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Iterable, Iterator, Optional

from .model import (
    CHANNELS, count, EXIT_DATA, FIRST_YEAR, JOURNAL_COLUMNS, LAST_YEAR, Entry, Problem, Source,
)

EVENTS = ("touch", "skip", "reply", "status", "note", "undo", "sent", "bounce", "autoreply")
_CHANNELS = frozenset(CHANNELS)
HEADER = ",".join(JOURNAL_COLUMNS)
DELIMITERS = (",", ";", "\t")
WIDTH = len(JOURNAL_COLUMNS)
MISFITS_SHOWN = 10  # rows named one by one whose cells do not match the header; then a count


# --- reading rows ---------------------------------------------------------------------------

def delimiter_of(header: str) -> str:
    """The delimiter of a journal's header line: the first of DELIMITERS that splits it into
    the journal's columns (`,` when none does: the message names the columns it lacks)."""
    for delimiter in DELIMITERS:
        if "date" in [h.strip() for h in header.split(delimiter)]:
            return delimiter
    return ","


def read_header(lines: Iterator[bytes], path: str, problems: list) -> Optional[tuple]:
    """(column names, lines read, delimiter) of the journal's header, taken from `lines`; None
    when the journal is empty or its header unusable (then said in `problems`)."""
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
    delimiter = delimiter_of(text.rstrip("\r\n"))
    try:
        names = [h.strip() for h in next(csv.reader([text.rstrip("\r\n")], strict=True,
                                                    delimiter=delimiter))]
    except csv.Error as err:
        problems.append(Problem(Source(path, number), f"unreadable header: {err}", code=EXIT_DATA))
        return None
    missing = [c for c in JOURNAL_COLUMNS if c not in names]
    if missing:
        problems.append(Problem(
            Source(path, number, 1), "the journal's header lacks " + ", ".join(map(repr, missing)),
            f"the first line must be {HEADER}", EXIT_DATA))
        return None
    return tuple(names), number, delimiter


def records(lines: Iterable[bytes], path: str, problems: list, names=None,
             number: int = 0, delimiter: str = ",", only=None) -> Iterator[tuple]:
    """(line number, date, cells, kept) of every valid row, cells in JOURNAL_COLUMNS order;
    `kept` is what a fold keeps of the row: its text when splitting it on commas gives the
    cells back (a comma journal's), else the cells as a tuple.

    The header comes first in `lines`, unless `names` (its columns) are given: then `lines`
    go on from line `number`. A row that cannot be read is reported in `problems` (with its
    line) and left out. With `only` (a set of contact ids), a line that plainly names
    another contact (no quote, its contact cell readable) is passed over unread and
    unchecked: for reading a few contacts' rows of a journal already checked.
    """
    it = iter(lines)
    if names is None:
        found = read_header(it, path, problems)
        if found is None:
            return
        names, number, delimiter = found
    order = None if list(names) == list(JOURNAL_COLUMNS) else [names.index(c) for c in JOURNAL_COLUMNS]
    at = order or list(range(len(JOURNAL_COLUMNS)))  # where each of cadence's columns stands
    width = len(names)
    header_line, misfits = number, 0  # rows whose cells do not match the header: ten named
    days = {}  # date text -> date: a journal has few distinct days and many rows
    split = delimiter.encode("ascii") if only is not None and order is None else None
    for raw in it:
        number += 1
        start = number
        if split is not None and b'"' not in raw:
            parts = raw.split(split, 2)
            if len(parts) == 3:
                try:
                    if parts[1].decode("utf-8").strip() not in only:
                        continue
                except UnicodeDecodeError:
                    pass
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
                cells = next(csv.reader([text], strict=True, delimiter=delimiter), [])
            except csv.Error as err:
                problems.append(Problem(_place(path, start, text, _stray_quote(text, delimiter)),
                                        f"unreadable row: {err}", code=EXIT_DATA))
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
            cells = kept.split(delimiter)
            if delimiter != ",":
                kept = None
        if len(cells) != width:
            if not "".join(cells).strip():
                continue  # a blank line
            misfits += 1
            if misfits <= MISFITS_SHOWN:
                # named where the first cell too many begins, or where the missing ones would
                problems.append(Problem(_at(path, start, text, delimiter, width),
                                        f"row has {count(len(cells), 'cell')}, the header has "
                                        f"{width}", code=EXIT_DATA))
            continue
        if order is not None:
            cells, kept = [cells[i] for i in order], None
        day = days.get(cells[0])
        if day is None:
            day = _day(cells[0])
            if day is None:
                problems.append(Problem(_at(path, start, text, delimiter, at[0]),
                                        f"expected a date as YYYY-MM-DD, got {cells[0].strip()!r}",
                                        code=EXIT_DATA))
                continue
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                problems.append(Problem(_at(path, start, text, delimiter, at[0]),
                                        f"date out of range: {cells[0].strip()!r}",
                                        f"dates run from {FIRST_YEAR} to {LAST_YEAR}", EXIT_DATA))
                continue
            days[cells[0]] = day
        event = cells[2]
        if event not in EVENTS:
            event = cells[2] = event.strip()
            if event not in EVENTS:
                problems.append(Problem(_at(path, start, text, delimiter, at[2]),
                                        f"unknown event {event!r}",
                                        "events are " + ", ".join(EVENTS), EXIT_DATA))
                continue
        channel = cells[5]
        if channel and channel not in _CHANNELS:
            channel = cells[5] = channel.strip()
            if channel and channel not in _CHANNELS:
                problems.append(Problem(_at(path, start, text, delimiter, at[5]),
                                        f"unknown channel {channel!r}",
                                        "channels are " + ", ".join(CHANNELS), EXIT_DATA))
                continue
        if "\x00" in text:
            problems.append(Problem(_place(path, start, text, text.index("\x00")),
                                    "NUL byte in the journal",
                                    "the file looks binary; restore it from a copy", EXIT_DATA))
            continue
        yield start, day, cells, kept if kept is not None else tuple(cells)
    if misfits > MISFITS_SHOWN:
        problems.append(Problem(
            Source(path, header_line, 1), f"{misfits} rows have another number of cells "
            f"than the header's {width} columns (the first {MISFITS_SHOWN} are named)",
            "a column added to the header only? Remove it there, or give every row its cell",
            EXIT_DATA))


PAUSE_ENDED = "active again after a pause"  # how a `status` row of a pause that ran out begins
JUNK = "junk:"  # how the note of a reply found in the junk folder begins (SPEC section 10)
_NOTE_ID = re.compile(r"^(?:junk:\s*)?(<[^<>\s]+>)")
_ADDRESS = re.compile(r"\[address ([^\[\]\s]+)\]\s*$")


def note_id(note: str) -> str:
    """The Message-ID a mail row's note begins with (after `junk:`), "" when none."""
    found = _NOTE_ID.match(note.strip())
    return found.group(1) if found else ""


def bounced_address(note: str) -> str:
    """The address a `bounce` row's note ends with (`[address A]`), as it was written."""
    found = _ADDRESS.search(note)
    return found.group(1) if found else ""


def first_word(note: str) -> str:
    """A note's first word: the status a `status` row names ("won; wants a quote" -> won),
    the kind of row an `undo` row takes back."""
    return note.strip().split(" ", 1)[0].split(";", 1)[0].strip()


def _at(path: str, number: int, text: str, delimiter: str, j: int) -> Source:
    """Where cell j of a row (`text`, read from line `number` on) begins; past its last cell,
    where the record ends. A quoted cell may hold the delimiter and line breaks."""
    quoted, k, start = False, 0, 0
    for offset, ch in enumerate(text):
        if k == j:
            return _place(path, number, text, offset)
        if ch == '"' and (quoted or offset == start):
            # a quote opens a quoted cell only at the cell's start (as the csv reader reads
            # it); inside one, a doubled quote closes and opens again
            quoted = not quoted
        elif ch == delimiter and not quoted:
            k, start = k + 1, offset + 1
    return _place(path, number, text, len(text.rstrip("\r\n")))


def _stray_quote(text: str, delimiter: str) -> int:
    """The offset of what makes a quoted row unreadable: the text after a closing quote, or
    the quote never closed; 0 when neither is found."""
    quoted, i, n, opened = False, 0, len(text), 0
    while i < n:
        ch = text[i]
        if quoted:
            if ch == '"':
                if text[i + 1:i + 2] == '"':
                    i += 1  # an escaped quote
                else:
                    quoted = False
                    if i + 1 < n and text[i + 1] not in (delimiter, "\r", "\n"):
                        return i + 1
        elif ch == '"' and (i == 0 or text[i - 1] == delimiter):
            quoted, opened = True, i
        i += 1
    return opened if quoted else 0


def _place(path: str, number: int, text: str, offset: int) -> Source:
    """The line and column of `offset` in a record that begins on line `number`."""
    before = text[:offset]
    return Source(path, number + before.count("\n"), offset - (before.rfind("\n") + 1) + 1)


def _cr_only(path: str, number: int) -> Problem:
    return Problem(Source(path, number), "the journal's lines end with a lone CR",
                   "save it with LF or CRLF line endings", EXIT_DATA)


def _decode(raw: bytes, path: str, number: int, problems: list) -> Optional[str]:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[:err.start].decode("utf-8", "replace")
        problems.append(Problem(_place(path, number, before, len(before)),
                                "the journal is not UTF-8 text", "save it as UTF-8", EXIT_DATA))
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
    return Entry(day, cells[1].strip(), cells[2].strip(), cells[3].strip(), cells[4].strip(),
                 cells[5].strip(), cells[6].strip(), cells[7].strip())


def read_rows(lines: Iterable[bytes], path: str, wanted=None) -> tuple:
    """({contact id: its rows, oldest first}, problems); with `wanted`, only those contacts,
    and only their rows are checked (`records`' `only`: the journal was checked whole when
    the book was loaded).

    Rows of one day keep their order in the file: they were written in the order they
    happened.
    """
    problems = []
    found = {}
    only = set(wanted) if wanted is not None else None
    for _, day, cells, _ in records(lines, path, problems, only=only):
        cid = cells[1].strip()
        if wanted is None or cid in wanted:
            found.setdefault(cid, []).append(_entry(day, cells))
    return {cid: tuple(sorted(rows, key=lambda e: e.date)) for cid, rows in found.items()}, problems


def entries(lines: Iterable[bytes], path: str) -> Iterator[Entry]:
    """Every valid row, in the file's order (problems are `check`'s to report)."""
    for _, day, cells, _ in records(lines, path, []):
        yield _entry(day, cells)


def parse_journal(text: str, path: str) -> tuple:
    """`read_rows` of a journal held as text (tests, small files)."""
    return read_rows(io.BytesIO(text.encode("utf-8")), path)


# --- writing ----------------------------------------------------------------------------------

def format_rows(entries, newline: str = "\n", delimiter: str = ",",
                names=JOURNAL_COLUMNS) -> str:
    """The journal lines for `entries`: one line each, no line breaks inside a cell, the cells
    in the order of the journal's header `names` (a journal whose columns a spreadsheet
    moved, or that has one of the user's own, which a new row leaves empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline, delimiter=delimiter)
    same = tuple(names) == JOURNAL_COLUMNS
    for e in entries:
        cells = [e.date.isoformat(), e.contact, e.event, e.playbook, e.step, e.channel,
                 e.template, e.note]
        cells = [" ".join(str(c).split()) if ("\n" in str(c) or "\r" in str(c)) else c
                 for c in cells]
        if not same:
            by_name = dict(zip(JOURNAL_COLUMNS, cells))
            cells = [by_name.get(name, "") for name in names]
        writer.writerow(cells)
    return out.getvalue()

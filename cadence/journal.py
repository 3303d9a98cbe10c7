"""The journal (history.csv): read it, and format the rows a run appends.

cadence only ever appends to the journal; it is the record of what happened.
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from datetime import date
from typing import Optional

from .model import EXIT_DATA, JOURNAL_COLUMNS, Entry, Problem, Source

EVENTS = ("touch", "skip", "reply", "status", "note")
HEADER = ",".join(JOURNAL_COLUMNS)


def parse_journal(text: str, path: str, since=None) -> tuple:
    """(rows grouped by contact id in file order, problems); with `since`, only rows dated on
    or after it are kept."""
    problems = []
    by_contact = defaultdict(list)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return {}, problems
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as err:
        return {}, [Problem(Source(path, 1), f"unreadable header: {err}", code=EXIT_DATA)]
    missing = [c for c in JOURNAL_COLUMNS if c not in header]
    if missing:
        return {}, [Problem(
            Source(path, 1, 1), "the journal's header lacks " + ", ".join(map(repr, missing)),
            f"the first line must be {HEADER}", EXIT_DATA,
        )]
    index = [header.index(c) for c in JOURNAL_COLUMNS]
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            problems.append(Problem(Source(path, start), f"unreadable row: {err}", code=EXIT_DATA))
            break
        line = reader.line_num
        if not cells or not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(
                Source(path, start, 1),
                f"row has {len(cells)} cells, the header has {len(header)}", code=EXIT_DATA,
            ))
            continue
        values = [cells[i].strip() for i in index]
        try:
            day = date.fromisoformat(values[0])
        except ValueError:
            problems.append(Problem(
                Source(path, start, 1), f"expected a date as YYYY-MM-DD, got {values[0]!r}",
                code=EXIT_DATA,
            ))
            continue
        if values[2] not in EVENTS:
            problems.append(Problem(
                Source(path, start), f"unknown event {values[2]!r}",
                "events are " + ", ".join(EVENTS), EXIT_DATA,
            ))
            continue
        if since is None or day >= since:
            by_contact[values[1]].append(Entry(day, *values[1:]))
    return {cid: tuple(rows) for cid, rows in by_contact.items()}, problems


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


# --- reading only what the engine needs ---------------------------------------------------------

_CHUNK = 1 << 20
_SETTLED_RUN = 2000  # this many rows in a row older than the window: the rest is older still


_LINE_DATE = re.compile(rb"^(\d{4}-\d\d-\d\d),", re.M)


def _tail_lines(path: str, since: str, limit=None):
    """The journal's lines from the end back to where every row is older than `since`.

    The journal is appended day by day, so its dates rise through the file, but not strictly
    (a reply is dated when it came, a run appends it later): reading stops only after a
    block of at least `_SETTLED_RUN` rows that are all older. Returns (lines in file order,
    whole file read).
    """
    floor = since.encode("ascii")
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell() if limit is None else min(limit, handle.tell())
        pos = end
        pieces = []
        older = 0
        carry = b""
        done = False
        while pos > 0 and not done:
            size = min(_CHUNK, pos)
            pos -= size
            handle.seek(pos)
            block = handle.read(size) + carry
            # the block's first line may begin in the block before: it goes with that one
            cut = block.find(b"\n") + 1 if pos > 0 else 0
            carry, body = block[:cut], block[cut:]
            dates = _LINE_DATE.findall(body)
            lines = body.count(b"\n") + (body[-1:] != b"\n")
            if dates and len(dates) == lines and max(dates) < floor:
                older += len(dates)  # every row of the block is older: settled, if enough
                done = older >= _SETTLED_RUN
            else:
                older = 0
            pieces.append(body)
        whole = pos == 0 and not done
        data = b"".join(reversed(pieces)).split(b"\n")
        if data and data[-1] == b"":
            data.pop()
    return data, whole


def _rows(lines, path: str, first_line: int, problems: list):
    """Parse journal lines (without the header) into Entry values, fast for plain rows."""
    width = len(JOURNAL_COLUMNS)
    number = first_line - 1
    for line in lines:
        number += 1
        line = line.rstrip("\r")
        if not line or not line.strip():
            continue
        if '"' in line:
            try:
                cells = next(csv.reader([line], strict=True))
            except (csv.Error, StopIteration) as err:
                problems.append(Problem(Source(path, number), f"unreadable row: {err}",
                                        code=EXIT_DATA))
                continue
        else:
            cells = line.split(",")
        if len(cells) != width:
            problems.append(Problem(Source(path, number, 1),
                                    f"row has {len(cells)} cells, the header has {width}",
                                    code=EXIT_DATA))
            continue
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            problems.append(Problem(Source(path, number, 1),
                                    f"expected a date as YYYY-MM-DD, got {cells[0]!r}",
                                    code=EXIT_DATA))
            continue
        if cells[2] not in EVENTS:
            problems.append(Problem(Source(path, number), f"unknown event {cells[2]!r}",
                                    "events are " + ", ".join(EVENTS), EXIT_DATA))
            continue
        yield Entry(day, *cells[1:])


def read_window(path: str, since: dict, limit=None, name: str = "") -> tuple:
    """(rows grouped by contact, problems): for each contact, its rows dated on or after
    `since[contact]` (an ISO date), which is all the engine reads of it.

    The journal may hold years of touches; a morning's `due` reads only the tail that reaches
    back to the earliest of these dates, and parses only the rows it keeps. Problems in rows
    outside the window are not seen here (`check` reads the whole journal).
    """
    if not since:
        return {}, []
    earliest = min(since.values())
    raw, whole = _tail_lines(path, earliest, limit)
    if whole and raw:
        header = raw[0].decode("utf-8-sig", errors="replace").strip()
        if [c.strip() for c in header.split(",")] != list(JOURNAL_COLUMNS):
            rows, problems = parse_journal(b"\n".join(raw).decode("utf-8-sig", errors="replace"),
                                           name or path)
            return {cid: tuple(r for r in rows[cid] if r.date.isoformat() >= floor)
                    for cid, floor in since.items() if cid in rows}, problems
        raw = raw[1:]
    ids = {cid.encode("utf-8") for cid in since}
    # a row of a contact asked for, or one not shaped `date,id,...` (quoted, broken): the
    # parser judges those; the dates are checked below
    kept = [line for line in raw
            if line[11:line.find(b",", 11)] in ids or line[10:11] != b"," or line[11:12] == b'"']
    problems = []
    grouped = defaultdict(list)
    text = b"\n".join(kept).decode("utf-8", errors="replace")
    for entry in _rows(text.split("\n"), path, 0, problems):
        floor = since.get(entry.contact)
        if floor is not None and entry.date.isoformat() >= floor:
            grouped[entry.contact].append(entry)
    if problems:
        # the error path may read everything: a person needs the line numbers
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
        _, problems = parse_journal(data.decode("utf-8-sig", errors="replace"), name or path)
    return {cid: tuple(rows) for cid, rows in grouped.items()}, problems


def read_contacts(path: str, ids) -> dict:
    """Every journal row of the given contacts, oldest first: what a draft's `history` shows."""
    wanted = {cid.encode("utf-8") for cid in ids}
    if not wanted or not os.path.exists(path):
        return {}
    with open(path, "rb") as handle:
        lines = handle.read().split(b"\n")[1:]
    # a cheap test first: the id is the second cell of a plain row; quoted rows are parsed
    kept = [line for line in lines if line[11:line.find(b",", 11)] in wanted or b'"' in line]
    out = defaultdict(list)
    text = b"\n".join(kept).decode("utf-8", errors="replace")
    wanted_text = {cid for cid in ids}
    for entry in _rows(text.split("\n"), path, 2, []):
        if entry.contact in wanted_text:
            out[entry.contact].append(entry)
    return {cid: tuple(rows) for cid, rows in out.items()}


def lines_of(lines: dict, path: str, problems: Optional[list] = None) -> dict:
    """{contact id: its rows} from {contact id: its raw journal lines} (`cache.journal_lines`);
    a row whose contact is another is dropped (quoted rows are offered to every contact).
    Rows that do not parse go to `problems` (without their line numbers)."""
    out = {}
    for cid, raw in lines.items():
        text = b"\n".join(raw).decode("utf-8", errors="replace")
        found = [] if problems is None else problems
        rows = tuple(e for e in _rows(text.split("\n"), path, 2, found) if e.contact == cid)
        if rows:
            out[cid] = rows
    return out

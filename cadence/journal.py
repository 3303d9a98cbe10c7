"""The journal (history.csv): read it, and format the rows a run appends.

cadence only ever appends to the journal; it is the record of what happened.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

from .model import EXIT_DATA, JOURNAL_COLUMNS, Entry, Problem, Source

EVENTS = ("touch", "skip", "reply", "status", "note")
HEADER = ",".join(JOURNAL_COLUMNS)


def parse_journal(text: str, path: str) -> tuple:
    """(rows grouped by contact id in file order, problems)."""
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

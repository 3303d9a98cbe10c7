"""The user's own spreadsheet as it is: the `ledger:` mapping of cadence.yaml (hledger's CSV
rules are the model) turns the file's columns, dates and missing ids into the ledger that
SPEC section 2 describes, and turns what cadence writes back into the file's own terms.

The file itself (cadence.ledger) is read and written losslessly by its own columns; a SheetView
sits on it: canonical column names (`name`, `email`, ...), dates as ISO text, ids made for the
rows without one, the default playbook for rows without one. What a command writes goes through
`SheetView.to_file`: the file's header names and date format, and the made ids and playbooks
written once with the first write.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping, Optional

from .ledger_file import LedgerFile
from .sheet_dates import ISO, DateFormat, is_serial, read_cell
from .model import CHANNELS, EXIT_CONFIG, EXIT_DATA, STATUSES, Problem, Source, channel_items

# the ledger's columns that hold a date (`callback` a date and time, `birthday` also MM-DD)
DATE_COLUMNS = ("started", "paused_until", "callback", "birthday", "last_reply", "last_touch",
                "next_due")

@dataclass(frozen=True, slots=True)
class LedgerMap:
    """The `ledger:` mapping: which header holds each cadence column, the sheet's dates, the
    playbook of a row without one, and whether rows without an id get one made."""

    columns: tuple = ()  # ((cadence column, the sheet's header), ...)
    dates: DateFormat = ISO
    default_playbook: str = ""
    generate_ids: bool = False
    places: Mapping = field(default_factory=dict, compare=False)  # {key: Source} in the config

    def header_names(self) -> dict:
        """{the sheet's header: cadence column} of the mapped columns."""
        return {header: name for name, header in self.columns}


NO_MAP = LedgerMap()


# --- ids -----------------------------------------------------------------------------------------

def slug(text: str) -> str:
    """A readable id from a name: lower case, accents off Latin letters, other scripts kept,
    every run of anything else one `-` (`Åsa Öberg` -> `asa-oberg`)."""
    out = []
    for ch in text.strip().lower():
        base = unicodedata.normalize("NFKD", ch)[0]
        if base.isascii() and base.isalnum():
            out.append(base)
        elif ch.isalnum() and not ch.isascii():
            out.append(ch)
        else:
            out.append("-")
    return re.sub(r"-{2,}", "-", "".join(out)).strip("-")[:60].strip("-")


def id_base(row) -> str:
    """What a made id is made of: a slug of the name, else of the email's part before @, else
    `contact`."""
    return slug(row.get("name", "")) or slug(row.get("email", "").partition("@")[0]) \
        or "contact"


def make_ids(rows, taken) -> dict:
    """{row index: id} for the rows whose `id` is empty: a slug of the name, else of the
    email's part before @, else `contact`; `-2`, `-3`, ... in row order when one is taken. The
    same sheet always gets the same ids (a fresh download too)."""
    used = set(taken)
    made = {}
    for index, row in enumerate(rows):
        if row.get("id", "").strip():
            continue
        base = id_base(row)
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate)
        made[index] = candidate
    return made


# --- the view --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SheetView:
    """The ledger as cadence reads it (SPEC section 2) on the user's file as it is."""

    file: LedgerFile
    columns: tuple  # cadence's names, in the file's order
    rows: tuple  # {column: text}: dates as ISO, ids and default playbook filled in
    lmap: LedgerMap = NO_MAP
    to_header: Mapping = field(default_factory=dict)  # cadence column -> the file's header
    made_ids: Mapping = field(default_factory=dict)  # row index -> id made for it
    defaulted: frozenset = frozenset()  # rows given the default playbook

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def kind(self) -> str:
        return self.file.kind

    @property
    def lines(self) -> tuple:
        return self.file.lines

    def dialect(self) -> tuple:
        return self.file.dialect()

    def header(self, column: str) -> str:
        """The file's header of a cadence column."""
        return self.to_header.get(column, column)

    def source(self, index: int, column: Optional[str] = None) -> Source:
        return self.file.source(index, None if column is None else self.header(column))

    def made_alike(self) -> list:
        """The rows whose ids were made of one name, numbered in row order (`olena`,
        `olena-2`): [[row index, ...], ...], each of two rows or more."""
        groups = {}
        for index in sorted(self.made_ids):
            groups.setdefault(id_base(self.rows[index]), []).append(index)
        return [rows for rows in groups.values() if len(rows) > 1]

    def to_file(self, updates: Mapping) -> dict:
        """Cadence's updates ({row: {column: text}}) in the file's terms: its headers, its date
        format; with the made ids and default playbooks, written once, with the first write."""
        if not updates:
            return {}
        dates = self.lmap.dates
        out = {}
        extra = {i: {"id": made} for i, made in self.made_ids.items()}
        for i in self.defaulted:
            extra.setdefault(i, {})["playbook"] = self.lmap.default_playbook
        for i in sorted(set(updates) | set(extra)):
            cells = {**extra.get(i, {}), **updates.get(i, {})}
            out[i] = {self.header(c): (_format_cell(v, dates) if c in DATE_COLUMNS else v)
                      for c, v in cells.items()}
        return out


def header_of(lmap: LedgerMap):
    """How the ledger's reader takes the sheet's header under this mapping."""
    from .ledger_file import Header

    return Header({header: name for name, header in lmap.columns}, ids=not lmap.generate_ids,
                  own=bool(lmap.places))


def to_sheet(view: SheetView, cells: Mapping) -> dict:
    """One row's cells ({cadence column: text}) in the sheet's terms: its headers, its dates."""
    dates = view.lmap.dates
    return {view.header(c): (_format_cell(v, dates) if c in DATE_COLUMNS else v)
            for c, v in cells.items()}


def _format_cell(text: str, dates: DateFormat) -> str:
    """An ISO date (or date and time) that cadence writes, in the sheet's format."""
    if dates.iso or len(text) < 10:
        return text
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return text
    return dates.format(day) + (" " + text[11:] if len(text) > 11 else "")


def map_ledger(ledger: LedgerFile, lmap: LedgerMap = NO_MAP) -> tuple:
    """(SheetView, problems): the file read through the mapping; problems are the mapping's
    mistakes (a header the file lacks) and the warnings about its dates."""
    problems = []
    renames = {}
    place = lmap.places.get("columns")
    for name, header in lmap.columns:
        if header not in ledger.columns:
            problems.append(Problem(lmap.places.get(f"columns.{name}", place or Source("")),
                                    f"ledger column {name!r}: the ledger has no column "
                                    f"{header!r}", "its columns: " + ", ".join(ledger.columns),
                                    EXIT_CONFIG))
        elif name != header:
            if name in ledger.columns:
                problems.append(Problem(lmap.places.get(f"columns.{name}", place or Source("")),
                                        f"ledger column {name!r} is mapped to {header!r}, but "
                                        f"the ledger has a column {name!r} too",
                                        f"rename one of them, or map {name!r} to itself",
                                        EXIT_CONFIG))
            else:
                renames[header] = name
    columns = tuple(renames.get(c, c) for c in ledger.columns)
    if lmap.places:  # a sheet the `ledger:` mapping describes (a plain ledger's header
        #              checks say "unknown column" of such a header)
        problems += _renamed(ledger, columns, set(renames), lmap.dates)
    to_header = {name: header for header, name in renames.items()}
    rows = ledger.rows
    converted = {}
    for column in DATE_COLUMNS:
        if column in columns:
            change, found = _dates_of(ledger, to_header.get(column, column), column, lmap.dates)
            problems += found
            if change:
                converted[column] = change
    made = {}
    defaulted = frozenset()
    if lmap.generate_ids:
        taken = {r.get(to_header.get("id", "id"), "").strip() for r in rows}
        canonical = [{"name": r.get(to_header.get("name", "name"), ""),
                      "email": r.get(to_header.get("email", "email"), ""),
                      "id": r.get(to_header.get("id", "id"), "")} for r in rows]
        made = make_ids(canonical, taken - {""})
    if lmap.default_playbook:
        header = to_header.get("playbook", "playbook")
        defaulted = frozenset(i for i, r in enumerate(rows) if not r.get(header, "").strip())
    if renames or converted or made or defaulted:
        rows = tuple(_row(i, r, renames, converted, made, defaulted, lmap.default_playbook)
                     for i, r in enumerate(rows))
        if made and "id" not in columns:
            columns = ("id",) + columns
        if defaulted and "playbook" not in columns:
            columns = columns + ("playbook",)
    return SheetView(ledger, columns, rows, lmap, to_header, made, defaulted), problems


def _is_date(text: str, dates: DateFormat) -> bool:
    """A date cell, perhaps with a time after it (`2027-01-08T11:00`, `08.01.2027 11:00`)."""
    return any(not read_cell(part, dates)[2] for part in (text.split(" ")[0], text[:10]))


# cadence's columns that it writes, and how a cell of each looks: a header that names one of
# them in another case or spacing (`Status`, `Last Touch`), holding such cells only, is cadence's
# column renamed by hand (an Excel autocorrect), not the sheet's own
_LOOKS = {
    "status": lambda t, d: t.lower() in STATUSES,
    "optout": lambda t, d: all(c in CHANNELS + ("all",) for c in channel_items(t)),
    "channels": lambda t, d: all(c in CHANNELS for c in channel_items(t)),
    "last_channel": lambda t, d: t.lower() in CHANNELS,
    "touches": lambda t, d: t.isdigit(),
    "last_step": lambda t, d: re.fullmatch(r"[\w.-]+", t) is not None,  # a step's id
    **{c: _is_date for c in ("started", "paused_until", "callback", "last_reply", "last_touch",
                             "next_due")},
}
_BARE = {column.replace("_", ""): column for column in _LOOKS}  # `Opt-Out`, `LastTouch`


def _renamed(ledger: LedgerFile, columns: tuple, mapped: set, dates: DateFormat) -> list:
    """Errors for the sheet's headers that are one of cadence's written columns renamed: the
    column reads as the sheet's own, so the state it holds (a `won`, an agreed call-back) would
    be lost without a word, and the contact drafted again."""
    problems = []
    for header in ledger.columns:
        column = _BARE.get(re.sub(r"[\s_-]+", "", header.lower()), "")
        looks = _LOOKS.get(column)
        if looks is None or header == column or header in mapped or column in columns:
            continue
        filled = [(i, row[header].strip()) for i, row in enumerate(ledger.rows)
                  if row.get(header, "").strip()]
        if filled and all(looks(text, dates) for _, text in filled):
            problems.append(Problem(ledger.source(filled[0][0], header),
                                    f"column {header!r} holds cadence's {column!r} cells, but "
                                    f"its header is not {column!r}: the sheet's own column, "
                                    "which cadence would not read",
                                    f"rename the header back to {column!r}, or map it in "
                                    f"cadence.yaml: `ledger: {{columns: {{{column}: {header}}}}}`",
                                    EXIT_DATA))
    return problems


def _row(i, row, renames, converted, made, defaulted, playbook) -> dict:
    out = {renames.get(c, c): v for c, v in row.items()}
    for column, change in converted.items():
        value = out.get(column, "")
        if value in change:
            out[column] = change[value]
    if i in made:
        out = {"id": made[i], **{c: v for c, v in out.items() if c != "id"}}
    if i in defaulted:
        out["playbook"] = playbook
    return out


def _dates_of(ledger: LedgerFile, header: str, column: str, dates: DateFormat) -> tuple:
    """({cell text: ISO text} of a date column's cells that are not ISO, problems): cells in a
    format other than the configured one are counted and reported once for the column.

    Each distinct cell is judged once; the rows are walked again only when one is to be
    reported (most sheets: never)."""
    cells = [row.get(header, "") for row in ledger.rows]
    change, judged = {}, {}
    for text in set(cells):
        cell = text.strip()
        if not cell:
            continue
        if column == "birthday" and re.match(r"^(?:--)?\d{2}-\d{2}$", cell):
            iso, shape, error = cell, "", ""
        else:
            iso, shape, error = read_cell(cell, dates)
        if error:
            change[text] = ""
        elif iso != text:
            change[text] = iso
        if error or shape:
            judged[text] = (shape, error)
    if not judged:
        return change, []
    problems, other, first, total = [], {}, None, 0
    for index, text in enumerate(cells):
        if not text.strip():
            continue
        total += 1
        shape, error = judged.get(text, ("", ""))
        if error:
            hint = (f"format the column as text or as a {dates.shown} date before saving"
                    if is_serial(text.strip()) else
                    f"the ledger's dates are written as {dates.shown} "
                    "(`dates:` under `ledger:` in cadence.yaml)")
            problems.append(Problem(ledger.source(index, header), error, hint, EXIT_DATA))
        elif shape:
            other[shape] = other.get(shape, 0) + 1
            first = index if first is None else first
    if other:
        count = sum(other.values())
        hint = (f"cadence reads them, and writes the dates it changes as {dates.shown}"
                if not dates.iso else
                "cadence reads them as day.month.year; if the sheet writes dates so, set "
                "`dates: \"%d.%m.%Y\"` under `ledger:` in cadence.yaml")
        problems.append(Problem(ledger.source(first, header),
                                f"column {header!r}: {count} of {total} dates are written as "
                                f"{' or '.join(sorted(other))}, not as {dates.shown}", hint,
                                EXIT_DATA, warning=True))
    return change, problems


def read_ledger(config, data: bytes, playbooks, earlier=()) -> tuple:
    """(the sheet's view or None, contacts, problems) of the ledger's bytes, read through the
    book's `ledger:` mapping, with the warnings about the sheet as a whole. `earlier` are the
    playbooks' problems: a contact of a playbook that has one is not reported again."""
    from .contacts import parse_contacts
    from .ledger import parse_ledger

    lmap = config.sheet
    ledger, problems = parse_ledger(data, config.ledger, config.encoding, header=header_of(lmap),
                                    partial=True)
    if ledger is None:
        return None, (), problems
    broken = any(not p.warning for p in problems)  # rows left out: the cells of the others
    view, found = map_ledger(ledger, lmap)          # are still checked, then nothing is used
    problems.extend(found)
    contacts, found = parse_contacts(view)
    problems.extend(found)
    default = lmap.default_playbook
    # a playbook whose file has errors is not loaded: those errors say enough of it
    failed = {os.path.splitext(os.path.basename(p.source.path))[0] for p in earlier
              if not p.warning and p.source.path.endswith((".yaml", ".yml"))}
    if default and default not in playbooks and default not in failed:
        problems.append(Problem(lmap.places.get("default_playbook", Source(config.source)),
                                f"`default_playbook` names playbook {default!r}, which no file "
                                "has", "playbooks: " + (", ".join(sorted(playbooks)) or "(none)"), EXIT_CONFIG))
        return (None, (), problems) if broken else (view, contacts, problems)
    for index, contact in enumerate(contacts):
        if contact.playbook and contact.playbook not in playbooks and \
                contact.playbook not in failed:
            problems.append(Problem(
                view.source(index, "playbook"),
                f"contact {contact.id!r} follows playbook {contact.playbook!r}, which no file has",
                "playbooks: " + (", ".join(sorted(playbooks)) or "(none)"), EXIT_DATA))
    if broken:
        return None, (), problems
    if not any(not p.warning for p in problems):
        # a number in scientific notation has an `E+`: a ledger without one (most) is not
        # read again cell by cell (that took 3 s of a 100,000-contact morning)
        exponent = b"E+" in data or b"e+" in data
        problems.extend(sheet_warnings(view, contacts, playbooks, exponent))
    return view, contacts, problems


# --- what a sheet's cells say about it ---------------------------------------------------------

# what a spreadsheet shows for a long number (`4,67012E+11`, `1E+11`): the `+` is always
# there, which an id such as `1E5` lacks
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE]\+\d+$")


def sheet_warnings(view: SheetView, contacts, playbooks, exponent: bool = True) -> list:
    """Warnings about the sheet as a whole: no contact follows a playbook; numbers that a
    spreadsheet turned into scientific notation (their last digits are gone), by column."""
    warnings = []
    if contacts and not any(c.playbook for c in contacts):
        known = ", ".join(sorted(playbooks)) or "(none)"
        why = ("the ledger has no `playbook` column" if "playbook" not in view.columns
               else "every `playbook` cell is empty")
        warnings.append(Problem(Source(view.path, 1),
                                f"no contact follows a playbook: {why}, so nothing will ever "
                                "be due", f"name a playbook in each row's `playbook` column, "
                                f"or set `default_playbook:` under `ledger:` in cadence.yaml "
                                f"(playbooks: {known})", EXIT_DATA, warning=True))
    for column in view.file.columns if exponent else ():
        found = [i for i, row in enumerate(view.file.rows)
                 if _SCIENTIFIC.match(row.get(column, "").strip())]
        if found:
            first = found[0]
            sample = view.file.rows[first][column].strip()
            many = len(found) != 1
            warnings.append(Problem(
                view.file.source(first, column),
                f"column {column!r}: {len(found)} cell{'s' if many else ''} "
                f"({sample!r}{' and more' if many else ''}) look{'' if many else 's'} like a "
                "number a spreadsheet wrote in scientific notation: its last digits are lost",
                "format the column as text in the spreadsheet, type the numbers again, "
                "and save", EXIT_DATA, warning=True))
    return warnings



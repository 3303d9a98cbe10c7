"""`cadence add`: a contact appended to the ledger, in the ledger's own format."""
from __future__ import annotations

import re
from typing import List, Optional

import typer

from ..cli import (APP as app, QUIET, config, guarded, load_book, quiet, say, write_outside)
from ..helptext import CONTACTS
from ..model import (EXIT_CANTCREAT, EXIT_DATA, EXIT_USAGE, KNOWN_COLUMNS, Failure, Problem,
                     Source, id_key)

_NUMBERED = re.compile(r"^(\D*?)([0-9]{1,18})$")  # a count, not a 5,000-digit cell


@app.command(rich_help_panel=CONTACTS)
def add(
    name: str = typer.Option(..., "--name", help="The contact's name."),
    email: Optional[str] = typer.Option(None, "--email", help="Their email address."),
    phone: Optional[str] = typer.Option(None, "--phone", help="Their phone number."),
    playbook: Optional[str] = typer.Option(None, "--playbook", metavar="PLAYBOOK",
                                           help="The playbook to follow; the next `run` "
                                                "enrols them."),
    contact_id: Optional[str] = typer.Option(None, "--id", metavar="ID",
                                             help="The id (default: one made from the ledger's "
                                                  "ids or the name, printed)."),
    cells: Optional[List[str]] = typer.Argument(None, metavar="COLUMN=VALUE",
                                                help="Other cells, by the ledger's column names."),
    quiet_: bool = QUIET,
) -> None:
    """Add a contact at the end of the ledger, written in the ledger's own format (CSV: its
    delimiter, quoting, line endings, encoding; YAML: an item like the last, comments kept).

    Every cell is checked as the ledger's cells are. The next `run` enrols a contact with a
    playbook. The id made is printed (give --id to know it with --quiet).
    """
    quiet(quiet_)
    from ..actions import locked

    given = [("name", name, "--name"), ("email", email, "--email"), ("phone", phone, "--phone"),
             ("playbook", playbook, "--playbook"), ("id", contact_id, "--id")]
    with guarded():
        cfg = config()
        made, path, known, twin = locked(cfg, load_book,
                                         lambda loaded: _add(loaded, given, cells or []))
    import os

    follows = (playbook or "").strip() or cfg.sheet.default_playbook
    if known and follows and contact_id:  # a contact deleted and added back, by its id
        then = (f"; the journal has {known} row{'s' if known != 1 else ''} for it: the next "
                f"`cadence run` restores its state in {follows} from them, not a new start.")
    else:
        then = f"; the next `cadence run` enrols it in {follows}." if follows else "."
    say(f"Added {made} ({' '.join(name.split())}) to {os.path.basename(path)}" + then)
    if twin is not None:
        say(f"Note: {twin} has the same email; if it is the same person, each touch would go "
            f"twice (delete one row; `cadence check` warns of it as same-email).")


def _add(loaded, given, cells) -> tuple:
    from ..actions import write
    from ..ledger import LedgerWriteError, append_row

    view = loaded.ledger  # the sheet as cadence reads it (cadence.sheet): cadence's names
    ledger = view.file
    values, options = _cells(view, given, cells)
    book = loaded.book
    ids = [c.id for c in book.contacts]
    if "id" in values:
        keys = [id_key(i) for i in ids]
        if id_key(values["id"]) in keys:
            at = keys.index(id_key(values["id"]))
            same = "" if ids[at] == values["id"] else \
                f" as {ids[at]!r}, the same letters in another Unicode form"
            raise Failure(Problem(Source(options["id"]),
                                  f"id {values['id']!r} is already in the ledger{same} (line "
                                  f"{ledger.lines[at]})",
                                  "ids are unique; leave --id out and cadence makes one",
                                  EXIT_DATA))
    elif view.header("id") in ledger.columns or not view.lmap.generate_ids:
        values["id"] = new_id(values.get("name", ""), ids, values.get("email", ""),
                              book.trails)
        options["id"] = "--id"
    # else the sheet has no id column and cadence makes the ids as it reads (ledger: ids:
    # generate): the new row's id is the one made for it, read back below
    if values.get("playbook") and values["playbook"] not in book.playbooks:
        import difflib

        close = difflib.get_close_matches(values["playbook"], sorted(book.playbooks), 1)
        raise Failure(Problem(Source(options["playbook"]),
                              f"no playbook named {values['playbook']!r}",
                              (f"did you mean {close[0]!r}? " if close else "")
                              + "playbooks: " + ", ".join(sorted(book.playbooks)), EXIT_DATA))
    _check(view, values, options)
    from ..sheet import to_sheet

    try:
        data = append_row(ledger, to_sheet(view, values))
    except LedgerWriteError as err:
        raise Failure(Problem(Source(ledger.path), str(err), err.hint,
                              EXIT_CANTCREAT)) from None
    made = _proven(loaded, data, to_sheet(view, values))
    write(loaded, [], [], {}, write_outside(), ledger_after=data)
    trail = loaded.book.trails.get(made)
    address = values.get("email", "").strip().lower()
    twin = next((c.id for c in book.contacts
                 if address and c.row.get("email", "").strip().lower() == address), None)
    return made, ledger.path, trail.rows if trail is not None else 0, twin


def _cells(ledger, given, cells) -> tuple:
    """({column: text}, {column: the option or argument it came from}), every column one the
    ledger has, by cadence's name or the sheet's own header (a YAML ledger: also any column
    cadence knows). A date may be typed as the sheet writes them or as ISO."""
    import difflib

    from ..sheet import DATE_COLUMNS
    from ..sheet_dates import read_cell

    by_header = {ledger.header(c): c for c in ledger.columns}
    known = list(ledger.columns)
    if ledger.kind == "yaml":
        known += [c for c in KNOWN_COLUMNS if c not in known]
    values, options = {}, {}
    pairs = [(column, value, option) for column, value, option in given if value is not None]
    for cell in cells:
        column, equals, value = cell.partition("=")
        if not equals or not column.strip():
            raise Failure(Problem(Source(cell), f"expected COLUMN=VALUE, got {cell!r}",
                                  "e.g. company=\"Lind AB\" birthday=1980-06-14", EXIT_USAGE))
        column = column.strip()
        pairs.append((by_header.get(column, column), value, f"{column}="))
    for column, value, option in pairs:
        if column in options:
            raise Failure(Problem(Source(option), f"{column!r} is given twice "
                                  f"({options[column]} and {option})", code=EXIT_USAGE))
        if column not in known:
            close = difflib.get_close_matches(column, known, 1)
            raise Failure(Problem(
                Source(option), f"the ledger has no column {column!r}",
                (f"did you mean {close[0]!r}? " if close else "") + "cadence adds a contact's "
                "cells to the columns the ledger has; add the column in the spreadsheet first",
                EXIT_USAGE))
        text = " ".join(value.split()) if column in ("id", "name", "playbook") else value.strip()
        if column in ("id", "name") and not text:
            raise Failure(Problem(Source(option), f"the {column} is empty", code=EXIT_USAGE))
        if column in DATE_COLUMNS and text:
            iso, _, error = read_cell(text, ledger.lmap.dates)
            text = text if error else iso
        values[column], options[column] = text, option
    return values, options


def _check(ledger, values: dict, options: dict) -> None:
    """Each cell read as the ledger's cells are (cadence.contacts), its problems said with the
    option it came from: the same messages as for a cell in the file."""
    from ..contacts import parse_contacts

    row = {"id": "x", **values}  # a stand-in for an id cadence makes as it reads the sheet

    class _OneRow:
        columns = tuple(row)
        rows = (row,)
        lines = (0,)

        @staticmethod
        def source(index, column=None):
            return Source(options.get(column, "add"))

    _, problems = parse_contacts(_OneRow())
    if problems:
        from dataclasses import replace

        raise Failure([replace(p, code=EXIT_USAGE) for p in problems])


def _proven(loaded, data: bytes, cells: dict) -> str:
    """The new file read back: the rows it had, then the new one (a backstop); the new
    contact's id as cadence reads it."""
    from ..ledger import parse_ledger
    from ..sheet import header_of, map_ledger

    view = loaded.ledger
    ledger = view.file
    again, problems = parse_ledger(data, ledger.path, loaded.config.encoding,
                                   header=header_of(view.lmap))
    expected = tuple(ledger.rows) + ({c: cells.get(c, "") for c in ledger.columns},)
    if again is None or [p for p in problems if not p.warning] or \
            tuple({c: r.get(c, "") for c in ledger.columns} for r in again.rows) != expected:
        raise Failure(Problem(Source(ledger.path), "cannot add the contact: the ledger would "
                              "not read back as written", "a bug in cadence; nothing was written",
                              EXIT_CANTCREAT))
    mapped, _ = map_ledger(again, view.lmap)
    return mapped.rows[-1].get("id", "")


def _composed(name: str) -> str:
    """The name lower-cased and composed (NFC), with no combining mark left: `Åsa` typed with
    a combining ring, or Turkish `İ`, lower-cased to `i` and a dot above, make the ids they
    look like. (Made ids keep sheet.slug as it is: they are made again on every read of a
    sheet without ids, so they must never change.)"""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFC", name.lower())
                   if not unicodedata.combining(ch))


def new_id(name: str, taken, email: str = "", known=()) -> str:
    """An id that no contact has, nor the journal (`known`: a contact deleted from the sheet
    keeps its rows, and a new person must not take them over): the next number when every
    id of the ledger is a number after one prefix (`c038` -> `c039`, zeros kept), else the
    name made a slug as a made id is (cadence.sheet.slug: `Åsa Öberg` -> `asa-oberg`, `Борис`
    -> `борис`), else the email's part before @, else `contact`, with -2, -3 ... until it is
    free. Ids are compared as they look (id_key)."""
    from ..sheet import slug

    taken = set(taken)
    used = {id_key(i) for i in taken | set(known)}
    found = [_NUMBERED.match(i) for i in taken]
    if found and all(found) and len({m.group(1) for m in found}) == 1:
        prefix = found[0].group(1)
        width = max(len(m.group(2)) for m in found)
        number = max(int(m.group(2)) for m in found) + 1
        while id_key(f"{prefix}{number:0{width}d}") in used:
            number += 1
        return f"{prefix}{number:0{width}d}"
    base = slug(_composed(name)) or slug(email.partition("@")[0]) or "contact"
    made, n = base, 2
    while id_key(made) in used:
        made, n = f"{base}-{n}", n + 1
    return made

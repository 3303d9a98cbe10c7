"""What the commands that change a book share: a run's work, worked out before anything is
written, and the write in the SPEC's order (drafts, journal, ledger); a contact's next draft
for previews and checks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from . import engine
from .model import EXIT_CANTCREAT, EXIT_CONFIG, STATE_COLUMNS, Failure, Problem, Source

HORIZON = 400  # days to look ahead for a contact's next touch: past a yearly birthday


@dataclass(frozen=True, slots=True)
class Day:
    """What `run` will write for one day: every draft rendered, every row and cell known."""

    drafted: tuple  # (touch, path, bytes), by due date then contact
    entries: tuple  # journal rows, in ledger order
    updates: dict  # {row index: {column: text}}
    overview: tuple  # (path, bytes) of the day's index.md and calls.ics
    restored: int = 0  # rows whose state cells the journal gave back (SPEC section 9)


def prepare(loaded, day, renderer, history) -> Day:
    """Everything a run will write on `day`, computed and rendered before anything is written.

    `history(ids)` gives the journal rows of those contacts: a draft's `history` is the
    contact's whole record, read only for the contacts drafted today.
    """
    from .overview import CALENDAR, INDEX, calls_ics, day_items, index_md

    config, book = loaded.config, loaded.book
    folder = os.path.join(config.drafts, day.isoformat())
    outcomes = engine.run(book, day)
    touched = {o.contact for o in outcomes if o.touch is not None}
    past = history(touched) if touched else {}
    by_id = {c.id: c for c in book.contacts}
    drafted, entries, updates, problems = [], [], {}, []
    for contact, outcome in zip(book.contacts, outcomes):
        if outcome.touch is not None:
            # the contact's journal, oldest first, with the rows today's run adds before it
            rows = tuple(sorted(past.get(contact.id, ()) + tuple(
                e for e in outcome.entries if e.event != "touch"), key=lambda e: e.date))
            try:
                draft = renderer.draft(outcome.touch, contact,
                                       book.playbooks[outcome.touch.playbook], rows, day)
            except Failure as err:
                problems.extend(err.problems)  # reported with the others; nothing is written
                continue
            drafted.append((outcome.touch, os.path.join(folder, draft.name), draft.data))
        entries.extend(outcome.entries)
        if outcome.changes:
            updates[contact.index] = outcome.changes
    if problems:
        raise Failure(problems)
    drafted.sort(key=lambda item: (item[0].due, item[0].contact))
    overview = ()
    if drafted:
        # the day's touches from the journal too: a second run that day keeps the first's
        items = day_items(book.contacts, _earlier_today(book, day, by_id) + entries, day)
        overview = ((os.path.join(folder, INDEX), index_md(day, items)),)
        calendar = calls_ics(day, items, renderer.zone, renderer.tzid, renderer.domain)
        if calendar is not None:
            overview += ((os.path.join(folder, CALENDAR), calendar),)
    return Day(tuple(drafted), tuple(entries), updates, overview,
               sum(1 for o in outcomes if o.restored))


def _earlier_today(book, day, by_id) -> list:
    """The touches an earlier run made today, as their contacts' trails know them."""
    found = []
    for cid, trail in book.trails.items():
        if trail.last is not None and trail.last.date == day and cid in by_id:
            found.append(trail.last)
    return found


def _widen_once(ledger, updates: dict) -> dict:
    """When a CSV ledger must grow a column, it grows every state column it lacks at once, so
    that the one-time widening of SPEC section 2 happens one time, not once a command."""
    if ledger.kind != "csv" or not any(c not in ledger.columns
                                       for cells in updates.values() for c in cells):
        return updates
    first = next(iter(updates))
    cells = {c: updates[first].get(c, ledger.rows[first].get(c, ""))
             for c in STATE_COLUMNS if c not in ledger.columns}
    cells.update(updates[first])
    return {**updates, first: cells}


def places_outside(config, allowed=()) -> list:
    """Problems for each place cadence would write to (the ledger, the journal, the drafts)
    whose real location lies outside the book's folder, unless it lies in one of `allowed`
    (the user's own setting, never the book's: a book's cadence.yaml or a link in it is not
    trusted to send cadence's writes elsewhere)."""
    root = os.path.realpath(config.root)
    ok = [root] + [os.path.realpath(a) for a in allowed if a]
    problems = []
    for key in ("ledger", "history", "drafts"):
        path = getattr(config, key)
        if key == "drafts" and os.path.islink(path) and os.path.normpath(path) == os.path.join(
                config.root, "drafts"):
            continue  # the book's own drafts folder as a link: cadence.files refuses it, said so
        real = os.path.realpath(path)
        if any(os.path.commonpath([place, real]) == place for place in ok):
            continue
        where = config.places.get(key) or Source(getattr(config, key))
        shown = os.path.relpath(real, root)
        problems.append(Problem(
            where, f"`{key}` leads out of the book's folder, to {shown}: cadence writes only "
            "inside the book", "if that place is yours, allow it in your own environment "
            f"(not in the book): CADENCE_WRITE_OUTSIDE={real}", EXIT_CONFIG))
    return problems


def write(loaded, drafts, entries, updates, allowed=()) -> None:
    """Drafts, then the journal, then the ledger (SPEC section 8); only inside the book or
    the places the user allowed (`places_outside`)."""
    from .files import commit
    from .journal import HEADER, format_rows
    from .ledger import LedgerWriteError, dump_ledger

    config = loaded.config
    outside = places_outside(config, allowed)
    if outside:
        raise Failure(outside)
    after = None
    if updates:
        updates = _widen_once(loaded.ledger, updates)
        try:
            after = dump_ledger(loaded.ledger, updates)
        except LedgerWriteError as err:
            raise Failure(Problem(Source(config.ledger), str(err),
                                  "set `encoding:` to one that holds every character",
                                  EXIT_CANTCREAT)) from None
        if after == loaded.ledger_bytes:
            after = None
    journal = format_rows(entries).encode("utf-8") if entries else b""
    commit(config.root, drafts, config.history, journal, (HEADER + "\n").encode("utf-8"),
           config.ledger, loaded.ledger_bytes, after)


def state_changes(loaded, contact, st, day) -> dict:
    """The ledger cells a changed state writes, with the next touch worked out again."""
    book = loaded.book
    return engine.changes_of(contact, st, engine.upcoming(st, book.playbooks, day, book.condition))


def next_touch(book, contact, day) -> Optional[tuple]:
    """(touch, extra journal rows, day to render on) of a contact's next touch as of `day`, or
    None.

    A touch due today sees the journal rows today's run would add first (a reply acted on,
    a skipped step), so the preview is the draft `run` writes; a later one is rendered as of
    its own day. A paused contact's next touch is the first after the pause.
    """
    if contact.playbook not in book.playbooks:
        return None
    trail = book.trails.get(contact.id)
    state = engine.state_of(contact, trail, book.playbooks)
    today = engine.day(state, book.playbooks, day, book.condition)
    if today.touch is not None:
        return today.touch, tuple(e for e in today.entries if e.event != "touch"), day
    start = day
    if state.status == "paused" and state.paused_until is not None and state.paused_until > day:
        start = state.paused_until  # engine.plan stops at a pause; the contact resumes then
    touches = engine.plan(contact, trail, book.playbooks, start, HORIZON, book.condition)
    return (touches[0], (), touches[0].due) if touches else None

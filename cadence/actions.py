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
SKIPPED = ".skipped"  # the suffix of a draft `skip` set aside


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
        late = {(t.contact, t.step): t.overdue for t, _, _ in drafted}
        items = day_items(book.contacts, _earlier_today(book, day, by_id) + entries, day, late)
        overview = ((os.path.join(folder, INDEX), index_md(day, items, renderer.words)),)
        calendar = calls_ics(day, items, renderer.zone, renderer.tzid, renderer.domain,
                             renderer.words)
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


def write(loaded, drafts, entries, updates, allowed=(), moves=None, ledger_after=None) -> None:
    """Drafts, then the journal, then the ledger (SPEC section 8); only inside the book or
    the places the user allowed (`places_outside`). `moves` (a take-back's, maybe none) are
    drafts renamed or removed with the drafts (`commit.commit`); `ledger_after` is the ledger's new bytes when they are
    not cells changed in place (a row added)."""
    from .commit import commit
    from .journal import HEADER, format_rows
    from .places import places_outside
    from .ledger import LedgerWriteError, dump_ledger

    config = loaded.config
    outside = places_outside(config, allowed)
    if outside:
        raise Failure(outside)
    after = ledger_after
    if updates:
        updates = _widen_once(loaded.ledger, updates)
        try:
            after = dump_ledger(loaded.ledger, updates)
        except LedgerWriteError as err:
            raise Failure(Problem(Source(config.ledger), str(err), err.hint,
                                  EXIT_CANTCREAT)) from None
        if after == loaded.ledger_bytes:
            after = None
    delimiter, bom, newline, names = journal_dialect(config.history, loaded.ledger)
    journal = format_rows(entries, newline, delimiter, names).encode("utf-8") if entries else b""
    header = (bom + HEADER.replace(",", delimiter) + "\n").encode("utf-8")
    commit(config.root, drafts, config.history, journal, header,
           config.ledger, loaded.ledger_bytes, after, moves)


def journal_dialect(path: str, ledger) -> tuple:
    """(delimiter, BOM, line ending, column names) of the rows cadence appends to the
    journal: an existing journal's own (its header line's delimiter, line ending and order of
    columns: a journal saved on Windows keeps CRLF); a journal cadence starts takes the
    ledger's delimiter and BOM, so that the spreadsheet that saved the ledger opens the
    journal too, and LF."""
    from .journal import JOURNAL_COLUMNS, read_header

    seen = []  # the raw lines read_header takes, up to the header: its line ending

    def lines(handle):
        for raw in handle:
            seen.append(raw)
            yield raw

    try:
        with open(path, "rb") as handle:
            found = read_header(lines(handle), path, [])  # as the journal is read
    except OSError:
        found = None
    if found is not None:
        names, _, delimiter = found
        return delimiter, "", "\r\n" if seen[-1].endswith(b"\r\n") else "\n", names
    delimiter, _, bom = ledger.dialect()
    return delimiter, bom, "\n", JOURNAL_COLUMNS


def locked(config, load, work):
    """`work(loaded)` under the book's lock, after a dead run's rollback, on the book as it is
    then (`load(config)`): what every command that writes does."""
    from .commit import recover
    from .files import Lock

    with Lock(config.root):
        recover(config.root, config.history, config.ledger)
        return work(load(config))


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
    first = next((t for t, _ in engine.ahead(contact, trail, book.playbooks, start, HORIZON,
                                             book.condition) if t), None)
    return (first, (), first.made) if first else None


def update_one(config, load, contact_id, day, change, allowed=()) -> str:
    """Lock, load, let `change(loaded, contact, day)` say (journal rows, changed cells,
    message), write them; the message is returned. What `reply`, `log`, `mark`, `note` ...
    share."""
    def work(loaded):
        index, contact = loaded.contact(contact_id)
        entries, changes, message = change(loaded, contact, day)
        write(loaded, [], entries, {index: changes} if changes else {}, allowed)
        return message
    return locked(config, load, work)


# --- a contact's planned touches, by step ------------------------------------------------------

def planned(book, contact, day, step: str = ""):
    """The contact's first planned touch from `day` (the first of step `step` when given)
    within HORIZON days, or None; a paused contact's plan begins when the pause ends, a
    contact started ahead on its start."""
    if contact.playbook not in book.playbooks:
        return None
    trail = book.trails.get(contact.id)
    state = engine.state_of(contact, trail, book.playbooks)
    start = day
    if state.status == "paused" and state.paused_until is not None and state.paused_until > day:
        start = state.paused_until
    if state.started is not None and state.started > start:
        start = state.started  # a start typed ahead: nothing comes before it
    return next((touch for touch, _ in engine.ahead(contact, trail, book.playbooks, start,
                                                    HORIZON, book.condition)
                 if touch and (not step or touch.step == step)), None)


def step_touch(book, contact, step: str, day):
    """A touch of the playbook step `step` (a step id or `<phase>-<n>` of a periodic phase)
    made on `day`, by the channel the step may take; None when the playbook has no such step."""
    from .model import Touch
    from .steps import find_step, resolve_channel

    playbook = book.playbooks[contact.playbook]
    found = find_step(playbook, step)
    if found is None:
        return None
    pi, k = found
    phase = playbook.phases[pi]
    if phase.periodic:
        wanted, template = phase.channel, phase.templates[(k - 1) % len(phase.templates)]
    else:
        wanted, template = phase.steps[k].channel, phase.steps[k].template
    channel = resolve_channel(wanted, contact, playbook)[0]
    return Touch(contact.id, contact.name, playbook.name, phase.name, step, channel, template,
                 day, 0, "step")


def steps_of(playbook) -> list:
    """The names `--step` takes for a playbook, for a message that lists them."""
    names = [s.id for phase in playbook.phases for s in phase.steps]
    names += [f"{phase.name}-N" for phase in playbook.phases if phase.periodic]
    names += ["callback"] + (["no_reply"] if playbook.no_reply else []) \
        + (["birthday"] if playbook.birthday is not None else [])
    return names


# --- taking back: `undo`, and `skip` of a touch already drafted ---------------------------------

@dataclass(frozen=True, slots=True)
class TakeBack:
    """What taking rows back writes: every row and cell known before anything is written."""

    taken: dict  # {contact id: rows taken back}, in ledger order
    entries: tuple  # the undo rows (and the rows added with them)
    updates: dict  # {row index: {column: text}}
    drafts: tuple  # (path, bytes) of the days' overviews written again
    moves: tuple  # (path, new path or None): drafts renamed or removed
    marked: int = 0  # drafts of touches taken back that are there to rename or remove


def latest_run(loaded, rows) -> tuple:
    """(day, {contact id: rows}) of the latest `run` (cadence.takeback.latest_run): `rows` are
    every journal row, read once; only those after the run before the latest are kept."""
    from . import takeback
    from .trail import standing

    book = loaded.book
    floor = _run_before(book)
    window = {}
    for row in rows:
        # the run before's own day too: a skip of an ended phase may be dated before the step
        # it follows, on that day (takeback.latest_run tells the two runs' rows apart)
        if floor is None or row.date >= floor:
            window.setdefault(row.contact, []).append(row)
    rows = [r for cid in window for r in standing(window[cid]) if r.event != "undo"]
    day, taken = takeback.latest_run(rows, floor, book.playbooks)
    found = {}
    for row in sorted(taken, key=lambda r: (r.date, r.event != "status")):
        found.setdefault(row.contact, []).append(row)
    order = [c.id for c in book.contacts if c.id in found]  # a contact gone from the ledger
    return day, {cid: found[cid] for cid in order}  # keeps its rows: the ledger decides


def _run_before(book):
    """A day on or before that of the run before the latest: the latest day, before the
    latest, on which some contact's latest touch was made by a run. The journal's rows after
    it hold the latest run's."""
    from .takeback import by_hand

    touched = [t.last.date for t in book.trails.values() if t.last is not None and t.last.step]
    marks = touched + [t.step.date for t in book.trails.values() if t.step is not None
                       and t.step.event == "skip" and not by_hand(t.step)]
    if not marks:
        return None
    top = max(marks)
    return max((d for d in touched if d < top), default=None)


def take_back(loaded, groups: dict, day, renderer, history, text: str = "", extra=None,
              mark: str = "", set_aside=()) -> TakeBack:
    """`undo` rows for `groups` ({contact id: rows to take back}), the ledger's state cells as
    the journal then says them (cadence.takeback.restored, as of `day`), the drafts of the
    touches taken back removed (renamed with the suffix `mark`, when given) and their days'
    `index.md` and `calls.ics` written again (removed when nothing is left).

    `extra` ({contact id: rows}) are appended with the undo rows (a skip made by hand);
    `history(ids)` gives those contacts' journal rows. `set_aside` are the skips (rows of
    `groups`) that set a drafted touch's draft aside as `<draft>.skipped`: that file goes
    with them.
    """
    from .lookup import draft_name
    from .takeback import restored, undo_row
    from .trail import trail_of

    book, config = loaded.book, loaded.config
    extra = extra or {}
    by_id = {c.id: c for c in book.contacts}
    past = history(set(groups))
    entries, updates, moves, after = [], {}, [], {}
    for cid, rows in groups.items():
        contact = by_id[cid]
        added = [undo_row(r, text) for r in rows] + list(extra.get(cid, ()))
        after[cid] = trail_of(list(past.get(cid, ())) + added)
        entries.extend(added)
        changes = restored(contact, after[cid], rows, book.playbooks, day, book.condition)
        if changes:
            updates[contact.index] = changes
        for row in rows:
            if not row.step or row.event not in ("touch", "skip"):
                continue
            path = os.path.join(config.drafts, row.date.isoformat(),
                                draft_name(cid, row.step, row.channel))
            if row.event == "touch" and os.path.lexists(path):
                moves.append((path, path + mark if mark else None))
            elif row in set_aside and os.path.lexists(path + SKIPPED):
                # the draft a `skip` set aside: once the skip is taken back the touch is due
                # again, and `run` drafts it afresh (the touch the skip took back stays so)
                moves.append((path + SKIPPED, None))
    marked = len(moves)
    drafts = []
    days = sorted({r.date for rows in groups.values() for r in rows
                   if r.event == "touch" and r.step})
    for when in days:
        written, removed = _overview(book, after, when, config, renderer)
        drafts += written
        moves += removed
    return TakeBack(dict(groups), tuple(entries), updates, tuple(drafts), tuple(moves), marked)


def _overview(book, trails, when, config, renderer) -> tuple:
    """([(path, bytes)], [(path, None)]): a day's index.md and calls.ics as its touches then
    stand, written again, or removed when none is left; nothing for a day without a folder."""
    from .overview import CALENDAR, INDEX, calls_ics, day_items, index_md

    folder = os.path.join(config.drafts, when.isoformat())
    if not os.path.isdir(folder) or os.path.islink(folder):
        return [], []
    rows = []
    for contact in book.contacts:
        trail = trails.get(contact.id) or book.trails.get(contact.id)
        if trail is not None and trail.last is not None and trail.last.date == when:
            rows.append(trail.last)
    items = day_items(book.contacts, rows, when)
    index, calendar = os.path.join(folder, INDEX), os.path.join(folder, CALENDAR)
    if not items:
        return [], [(index, None), (calendar, None)]
    written = [(index, index_md(when, items, renderer.words))]
    ics = calls_ics(when, items, renderer.zone, renderer.tzid, renderer.domain, renderer.words)
    if ics is not None:
        return written + [(calendar, ics)], []
    return written, [(calendar, None)]

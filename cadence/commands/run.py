"""`cadence run`: render the due touches' drafts, append the journal, write the ledger."""
from __future__ import annotations

import os
from typing import Optional

import typer

from ..cli import QUIET, quiet, JSON, OPTIONS, TODAY, APP as app, config, emit_json, guarded, resolve_today, say, settle


def _relative(cfg, path: str) -> str:
    return os.path.relpath(path, cfg.root).replace(os.sep, "/")


def prepare(loaded, day, renderer):
    """Everything a run will write, computed and rendered before anything is written.

    Returns (drafted [(touch, path, bytes)], journal entries, ledger updates {index: cells},
    quiet {index: date} of the contacts the day leaves alone).
    """
    from .. import engine
    from ..book import full_history
    from ..model import Failure
    from ..parallel import map_split

    cfg, book = loaded.config, loaded.book
    folder = os.path.join(cfg.drafts, day.isoformat())
    drafted, entries, updates, problems, quiet = [], [], {}, [], {}

    def advance(contact):
        return engine.advance(contact, book.history.get(contact.id, ()), book.playbooks, day,
                              book.condition)

    def draft(contact, outcome, past):
        # the engine read only the journal's tail; a draft's `history` is the whole record
        history = past.get(contact.id, ()) + tuple(
            e for e in outcome.entries if e.event != "touch")
        return renderer.draft(outcome.touch, contact, book.playbooks[outcome.touch.playbook],
                              history, day)

    # A large day's contacts are worked out and drafted by two processes (cadence.parallel).
    contacts = list(book.contacts)
    if loaded.past is not None:  # every row of these contacts is at hand (the journal index)
        def both(contact):
            outcome = advance(contact)
            return outcome, (draft(contact, outcome, loaded.past) if outcome.touch else None)

        done = map_split(both, contacts)
        outcomes = [value[0] if kind == "ok" else None for kind, value in done]
        drafts = [(kind, value if kind == "failure" else value[1]) for kind, value in done]
    else:  # the whole journal is read once, for the contacts touched today
        outcomes = [advance(contact) for contact in contacts]
        touched = [c for c, o in zip(contacts, outcomes) if o.touch is not None]
        past = full_history(cfg, [c.id for c in touched]) if touched else {}
        jobs = [i for i, o in enumerate(outcomes) if o.touch is not None]
        drafts = [None] * len(contacts)
        for i, result in zip(jobs, map_split(lambda i: draft(contacts[i], outcomes[i], past),
                                             jobs)):
            drafts[i] = result
    for contact, outcome, result in zip(contacts, outcomes, drafts):
        if result is not None and result[0] == "failure":
            problems.extend(result[1])  # reported with the others; nothing is written
            continue
        if result is not None and result[1] is not None:
            drafted.append((outcome.touch, os.path.join(folder, result[1].name), result[1].data))
        entries.extend(outcome.entries)
        if outcome.changes:
            updates[contact.index] = outcome.changes
        if outcome.quiet is not None:
            quiet[contact.index] = outcome.quiet
    if problems:
        raise Failure(problems)
    drafted.sort(key=lambda item: (item[0].due, item[0].contact))
    return drafted, entries, updates, quiet


def overview(loaded, day, drafted, entries, renderer) -> list:
    """The day's index.md and calls.ics as [(path, bytes)]; nothing when nothing is drafted.

    They list the day's touches from the journal too, so a second run that day that drafts
    something new keeps the first run's drafts in them.
    """
    if not drafted:
        return []
    from ..overview import CALENDAR, INDEX, calls_ics, day_items, index_md

    book = loaded.book
    folder = os.path.join(loaded.config.drafts, day.isoformat())
    items = day_items(book.contacts, book.history, entries, day)
    files = [(os.path.join(folder, INDEX), index_md(day, items))]
    calendar = calls_ics(day, items, renderer.zone(), renderer.tz, renderer.domain)
    if calendar is not None:
        files.append((os.path.join(folder, CALENDAR), calendar))
    return files


def _widen_once(ledger, updates: dict) -> dict:
    """When a CSV ledger must grow a column, it grows every state column it lacks at once, so
    that the one-time widening of SPEC section 2 happens one time, not once a command."""
    from ..model import STATE_COLUMNS

    if ledger.kind != "csv" or not any(c not in ledger.columns
                                       for cells in updates.values() for c in cells):
        return updates
    first = next(iter(updates))
    cells = {c: updates[first].get(c, ledger.rows[first].get(c, ""))
             for c in STATE_COLUMNS if c not in ledger.columns}
    cells.update(updates[first])
    return {**updates, first: cells}


def write(loaded, drafts, entries, updates) -> bool:
    """Drafts, then the journal, then the ledger (SPEC section 8). True when the ledger's
    header is as it was (a new state column changes every row's text)."""
    from ..files import commit
    from ..journal import HEADER, format_rows
    from ..ledger import LedgerWriteError, dump_ledger
    from ..model import EXIT_CANTCREAT, Failure, Problem, Source

    cfg = loaded.config
    after = None
    if updates:
        updates = _widen_once(loaded.ledger, updates)
        try:
            after = dump_ledger(loaded.ledger, updates)
        except LedgerWriteError as err:
            raise Failure(Problem(Source(_relative(cfg, cfg.ledger)), str(err),
                                  "set `encoding:` to one that holds every character",
                                  EXIT_CANTCREAT)) from None
        if after == loaded.ledger_bytes:
            after = None
    journal = format_rows(entries).encode("utf-8") if entries else b""
    commit(cfg.root, drafts, cfg.history, journal, (HEADER + "\n").encode("utf-8"),
           cfg.ledger, loaded.ledger_bytes, after)
    return after is None or after.split(b"\n", 1)[0] == loaded.ledger_bytes.split(b"\n", 1)[0]


@app.command()
def run(
    today: Optional[str] = TODAY,
    as_json: bool = JSON,
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Show what would be done; write nothing."),
    quiet_: bool = QUIET,
) -> None:
    """Render today's drafts, append the journal and write the ledger back."""
    quiet(quiet_)
    from ..book import lazy_condition, load, remember_quiet, renderer_for
    from ..cache import journal_state, open_for
    from ..files import Lock, recover

    with guarded(as_json):
        cfg = config()
        day = resolve_today(today, cfg)
        renderer = renderer_for(cfg)
        if dry_run:
            loaded = load(cfg, renderer.check_expr, lazy_condition(cfg), today=day,
                          quiet_rows=True, drafts=True)
            settle()
            drafted, entries, updates, _ = prepare(loaded, day, renderer)
            extra = overview(loaded, day, drafted, entries, renderer)
        else:
            with Lock(cfg.root):
                recover(cfg.root)
                loaded = load(cfg, renderer.check_expr, lazy_condition(cfg), today=day,
                              quiet_rows=True, drafts=True)
                settle()
                drafted, entries, updates, still = prepare(loaded, day, renderer)
                extra = overview(loaded, day, drafted, entries, renderer)
                if write(loaded, [(path, data) for _, path, data in drafted] + extra, entries,
                         updates):
                    remember_quiet(loaded, day, still, journal_state(cfg.history), updates,
                                   save=False)
                book_cache = open_for(cfg)
                book_cache.journal_lines(cfg.history, ())  # the index takes in today's rows
                book_cache.save()
    if as_json:
        emit_json({"today": day.isoformat(), "drafted": [
            dict(t.as_json(), path=_relative(cfg, path)) for t, path, _ in drafted],
            "overview": [_relative(cfg, path) for path, _ in extra]})
        return
    if OPTIONS.quiet:
        return
    verb = "Would draft" if dry_run else "Drafted"
    say(f"{verb} {len(drafted)} touch{'es' if len(drafted) != 1 else ''} for {day}"
        + (f" in {_relative(cfg, os.path.join(cfg.drafts, day.isoformat()))}/" if drafted else "") + ".")
    for touch, path, _ in drafted:
        say(f"  {touch.channel:<9} {touch.contact:<10} {touch.step:<14} {_relative(cfg, path)}")
    skips = _count(sum(1 for e in entries if e.event == "skip"), "skip")
    rows, added = _count(len(updates), "row"), _count(len(entries), "row")
    if dry_run:
        say(f"Would append {added} to the journal ({skips}) and change {rows} of the ledger. "
            "Nothing written.")
    else:
        say(f"Journal: {added} appended ({skips}). Ledger: {rows} changed.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

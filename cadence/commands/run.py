"""`cadence run`: render the due touches' drafts, append the journal, write the ledger."""
from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Optional

import typer

from ..cli import (load_book, write_outside, QUIET, quiet, JSON, OPTIONS, TODAY, APP as app,
                   config, emit_json, guarded, near_the_clock, resolve_today, say)
from ..model import Failure, count
from ..helptext import DAILY

SKIPS_SHOWN = 20  # the skips a run lists, with their reasons; the journal holds the rest


def _relative(cfg, path: str) -> str:
    return os.path.relpath(path, cfg.root).replace(os.sep, "/")


@app.command(rich_help_panel=DAILY)
def run(
    today: Optional[str] = TODAY,
    as_json: bool = JSON,
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Show what would be done; write nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Run for a --today more than 7 days "
                             "from the clock's date (asked, in case the date is a typo)."),
    quiet_: bool = QUIET,
) -> None:
    """Render today's drafts, append the journal and write the ledger back.

    A --today more than 7 days away from the clock's date needs --yes (a typo would move
    contacts for the wrong day; `cadence undo` takes a run back).
    """
    quiet(quiet_)
    from ..actions import prepare, write
    from ..places import places_outside
    from ..book import read_history, renderer
    from ..commit import recover
    from ..files import Lock

    with guarded(as_json):
        cfg = config()
        day = resolve_today(today, cfg)
        if not dry_run:
            near_the_clock(today, day, cfg, yes)
        with nullcontext() if dry_run else Lock(cfg.root):  # a dry run only reads
            if not dry_run:
                recover(cfg.root, cfg.history, cfg.ledger)
            loaded = load_book(cfg)
            work = prepare(loaded, day, renderer(cfg, loaded.templates),
                           lambda ids: read_history(cfg, ids, loaded.ledger_bytes))
            if not dry_run:
                write(loaded, [(path, data) for _, path, data in work.drafted] + list(work.overview),
                      work.entries, work.updates, write_outside())
            elif places_outside(cfg, write_outside()):  # what the run itself would refuse
                raise Failure(places_outside(cfg, write_outside()))
    drafted, entries, updates, extra = work.drafted, work.entries, work.updates, work.overview
    if as_json:
        emit_json({"today": day.isoformat(), "drafted": [
            dict(t.as_json(), path=_relative(cfg, path)) for t, path, _ in drafted],
            "overview": [_relative(cfg, path) for path, _ in extra], "restored": work.restored})
        return
    if OPTIONS.quiet:
        return
    verb = "Would draft" if dry_run else "Drafted"
    say(f"{verb} {count(len(drafted), 'touch')} for {day}"
        + (f" in {_relative(cfg, os.path.join(cfg.drafts, day.isoformat()))}/" if drafted else "") + ".")
    width = max([10] + [len(t.contact) for t, _, _ in drafted])
    step_width = max([14] + [len(t.step) for t, _, _ in drafted])
    for touch, path, _ in drafted:
        say(f"  {touch.channel:<9} {touch.contact:<{width}} {touch.step:<{step_width}} "
            f"{_relative(cfg, path)}")
    skipped = [e for e in entries if e.event == "skip"]
    for e in skipped[:SKIPS_SHOWN]:  # a touch no channel reaches: the contact moves on unseen
        say(f"  {'skipped':<9} {e.contact:<{width}} {e.step:<{step_width}} {e.note}")
    if len(skipped) > SKIPS_SHOWN:
        say(f"  and {count(len(skipped) - SKIPS_SHOWN, 'more skip')} (the journal holds "
            "every reason)")
    skips = count(len(skipped), "skip")
    rows, added = count(len(updates), "row"), count(len(entries), "row")
    if dry_run:
        say(f"Would append {added} to the journal ({skips}) and change {rows} of the ledger. "
            "Nothing written.")
    else:
        say(f"Journal: {added} appended ({skips}). Ledger: {rows} changed.")
    if work.restored:
        say(f"{'Would restore' if dry_run else 'Restored'} the state cells of "
            f"{count(work.restored, 'row')} from the journal (the ledger had lost them).")
    enrolled = sum(1 for e in entries if e.event == "status" and e.note == "started")
    if enrolled:
        say(f"{'Would enrol' if dry_run else 'Enrolled'} {count(enrolled, 'contact')} today, "
            "day 0 of their playbooks, from which their steps count (`cadence plan ID` shows "
            "what comes).")
    contacts = loaded.book.contacts
    if contacts and not any(c.playbook for c in contacts):
        say("No contact follows a playbook, so nothing will ever be drafted "
            "(`cadence check` says more).")


"""`cadence undo [ID]`: take back the latest run, or a contact's latest touch or skip."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (APP as app, DRY_RUN, NOTE, OPTIONS, QUIET, TODAY, YES, config, guarded,
                   load_book, quiet, resolve_today, say, write_outside)
from ..helptext import CONTACTS
from ..model import EXIT_USAGE, Failure, Problem, Source

NOTHING = 1  # exit code: nothing to take back (as `render` with nothing planned)


@app.command(rich_help_panel=CONTACTS)
def undo(
    contact_id: Optional[str] = typer.Argument(None, metavar="ID",
                                               help="Take back this contact's latest touch or "
                                                    "skip instead of the latest run."),
    note: str = NOTE,
    today: Optional[str] = TODAY,
    yes: bool = YES,
    dry_run: bool = DRY_RUN,
    quiet_: bool = QUIET,
) -> None:
    """Take back the latest run (every touch, skip and enrolment it journaled), or with ID the
    contact's latest touch or skip.

    The journal gets an `undo` row for each row taken back (it is only appended to), the
    ledger's state cells become what the journal then says, and the drafts of the touches
    taken back are removed, their day's index.md and calls.ics written again. Taking back
    more than one contact asks for --yes.
    """
    quiet(quiet_)
    from ..actions import locked

    with guarded():
        cfg = config()
        day = resolve_today(today, cfg)
        if dry_run:
            back, run_day, stays = _work(load_book(cfg), contact_id, note, day, yes, dry_run)
        else:
            back, run_day, stays = locked(
                cfg, load_book, lambda loaded: _work(loaded, contact_id, note, day, yes, False))
    if OPTIONS.quiet:
        return
    if dry_run:
        _show(back, run_day, "Would take back")
        if stays:
            say(stays)
        say("Nothing written.")
        return
    if contact_id is not None:
        (cid, (row,)), = back.taken.items()
        say(f"{cid}: {row.event} {row.step or row.channel} of {row.date} taken back"
            + ((f"; its {'skipped ' if row.event == 'skip' else ''}draft removed.")
               if back.marked else "."))
        if stays:
            say(stays)
    else:
        touches = sum(1 for rows in back.taken.values() for r in rows if r.event == "touch")
        say(f"Took back {_count(sum(map(len, back.taken.values())), 'row')} of "
            f"{_count(len(back.taken), 'contact')}"
            + (f" (the run of {run_day})" if run_day else "") + f": {_count(touches, 'touch')}; "
            f"ledger: {_count(len(back.updates), 'row')} changed; drafts: {back.marked} removed.")
    if cfg.mail is not None and back.marked and any(
            r.event == "touch" and r.channel == "email" for rows in back.taken.values()
            for r in rows):
        say("If `cadence push` stored a copy in your mail program's drafts folder, it stays "
            "there: delete it, or it may still go out.")


def _work(loaded, contact_id, note, day, yes, dry_run) -> tuple:
    """(TakeBack, the run's day or None, what stays: a line or ""), written unless
    `dry_run`."""
    from ..actions import latest_run, take_back, write
    from ..book import journal_rows, read_history, renderer
    from ..takeback import by_hand, latest_act, set_aside as was_set_aside
    from ..trail import standing

    cfg = loaded.config
    history = lambda ids: read_history(cfg, ids, loaded.ledger_bytes)  # noqa: E731
    run_day, set_aside, stays = None, (), ""
    if contact_id is not None:
        index, contact = loaded.contact(contact_id)
        rows = [r for r in standing(history({contact.id}).get(contact.id, ()))
                if r.event != "undo"]
        act = latest_act(rows)
        if act is None:
            raise Failure(Problem(loaded.ledger.source(index), f"contact {contact.id!r} has no "
                                  "touch or skip to take back", code=NOTHING))
        groups = {contact.id: [act]}
        stays = _stays(contact.id, act, rows, loaded.book.trails.get(contact.id), contact,
                       loaded.book.playbooks)
        if by_hand(act):
            whole = read_history(cfg, {contact.id}, loaded.ledger_bytes, undone=True)
            set_aside = (act,) if was_set_aside(act, whole.get(contact.id, ())) else ()
    else:
        run_day, groups = latest_run(loaded, journal_rows(cfg, loaded.ledger_bytes))
        if not groups:
            raise Failure(Problem(Source(cfg.history), "the journal holds no run to take back",
                                  code=NOTHING))
    back = take_back(loaded, groups, day, renderer(cfg, loaded.templates), history,
                     text=note.strip(), set_aside=set_aside)
    if len(groups) > 1 and not yes and not dry_run:
        if not OPTIONS.quiet:
            _show(back, run_day, "Would take back")
        raise Failure(Problem(
            Source("undo"), f"the run of {run_day} touched {len(groups)} contacts: "
            "nothing was taken back", "add --yes to take all of it back (--dry-run shows it)",
            EXIT_USAGE))
    if not dry_run:
        write(loaded, list(back.drafts), back.entries, back.updates, write_outside(), back.moves)
    return back, run_day, stays


def _stays(cid: str, act, rows, trail, contact, playbooks) -> str:
    """What a person may have meant to take back and `undo` does not: a reply or a status set
    by hand since the touch or skip taken back (`reply ID --won` for the wrong contact)."""
    from ..engine import state_of
    from ..journal import first_word
    from ..takeback import run_made

    later = [(n, r) for n, r in enumerate(rows) if r.event in ("reply", "status")
             and r.date >= act.date and not run_made(r)]
    if not later:
        return ""
    _, latest = max(later, key=lambda item: (item[1].date, item[0]))  # of a day's, the last
    if latest.event == "status" and first_word(latest.note) == "active":
        return ""
    what = f"the reply of {latest.date}" if latest.event == "reply" else \
        f"the status {first_word(latest.note)!r} set on {latest.date}"
    status = state_of(contact, trail, playbooks).status or "active"
    way_back = "" if status == "active" else \
        f"; `cadence mark {cid} active` makes the contact active again"
    return f"{cid}: {what} stays: undo takes back touches and skips only{way_back}."


def _show(back, run_day, verb: str) -> None:
    rows = sum(map(len, back.taken.values()))
    say(f"{verb} {_count(rows, 'row')} of {_count(len(back.taken), 'contact')}"
        + (f", written by the run of {run_day}:" if run_day else ":"))
    width = max([10] + [len(cid) for cid in back.taken])  # ids longer than most widen it
    for cid, taken in back.taken.items():
        for r in taken:
            what = r.step or r.note
            say(f"  {cid:<{width}} {r.date}  {r.event:<6} {what}"
                + (f" ({r.channel})" if r.channel else ""))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else ('es' if noun.endswith('ch') else 's')}"

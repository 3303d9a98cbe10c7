"""`cadence note ID TEXT` and `cadence done ID`: notes in a contact's journal."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (APP as app, CONTACT, FAR, NOTE, ON, QUIET, TODAY, config, guarded, load_book,
                   near_the_clock, not_after, parse_on, quiet, resolve_today, say, write_outside)
from ..helptext import CONTACTS
from ..model import EXIT_USAGE, OPTED_IN, OPTED_OUT, Entry, Failure, Problem, Source

NOTHING = 1  # exit code: no touch to say done (as `render` with nothing planned)


def _update(contact_id: str, today_text: Optional[str], change, yes: bool,
            command: str) -> str:
    from ..actions import update_one

    cfg = config()
    day = resolve_today(today_text, cfg)
    near_the_clock(today_text, day, cfg, yes, f"`{command}` journals it on that day")
    return update_one(cfg, load_book, contact_id, day, change, write_outside())


@app.command(rich_help_panel=CONTACTS)
def note(contact_id: str = CONTACT,
         text: str = typer.Argument(..., metavar="TEXT",
                                    help="What to note (a topic, an agreement)."),
         on: Optional[str] = ON, today: Optional[str] = TODAY, yes: bool = FAR,
         quiet_: bool = QUIET) -> None:
    """Add a note to a contact's journal; call sheets show the latest notes as last topics."""
    quiet(quiet_)

    def change(loaded, contact, day):
        when = not_after(parse_on(on, day), day)
        words = " ".join(text.split())
        if not words:
            raise Failure(Problem(Source("TEXT"), "the note is empty",
                                  "write the note in quotes: cadence note ann \"wants a quote\"",
                                  EXIT_USAGE))
        if words.startswith((OPTED_OUT, OPTED_IN)):
            # only `cadence optout` says these words: the journal counts them (an opt-out
            # said again in a note would take a `--withdraw` more to take back)
            words = "said: " + words
        return ([Entry(when, contact.id, "note", contact.playbook, note=words)], {},
                f"{contact.id}: note on {when} added.")

    with guarded():
        say(_update(contact_id, today, change, yes, "note"))


@app.command(rich_help_panel=CONTACTS)
def done(contact_id: str = CONTACT, note: str = NOTE, on: Optional[str] = ON,
         today: Optional[str] = TODAY, yes: bool = FAR, quiet_: bool = QUIET) -> None:
    """Say the contact's latest touch happened as drafted, with a note for the next call sheet
    (`done: TEXT`); it is not counted a second time, as `log` would."""
    quiet(quiet_)

    def change(loaded, contact, day):
        when = not_after(parse_on(on, day), day)
        trail = loaded.book.trails.get(contact.id)
        last = trail.last if trail is not None else None
        if last is None:
            raise Failure(Problem(
                loaded.ledger.source(contact.index), f"contact {contact.id!r} has no touch to "
                "say done", "`cadence log` records a touch made by hand, `cadence note` a note",
                NOTHING))
        if when < last.date:
            raise Failure(Problem(Source("--on"), f"{when} is before the touch it says done "
                                  f"({last.step or last.channel} on {last.date})",
                                  "give the date it happened", EXIT_USAGE))
        words = " ".join(note.split())
        row = Entry(when, contact.id, "note", last.playbook, last.step, last.channel,
                    last.template, "done" + (f": {words}" if words else ""))
        what = last.step or last.channel
        return [row], {}, f"{contact.id}: {what} of {last.date} done."

    with guarded():
        say(_update(contact_id, today, change, yes, "done"))

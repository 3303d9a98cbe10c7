"""`cadence plan ID`: a contact's coming touches, if nobody replies."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (load_book, QUIET, quiet, JSON, OPTIONS, TODAY, APP as app, config, emit_json, guarded, resolve_today, say)
from ..model import count
from ..helptext import INSIGHT


@app.command(rich_help_panel=INSIGHT)
def plan(
    contact_id: str = typer.Argument(..., metavar="ID", help="The contact's id."),
    today: Optional[str] = TODAY,
    days: int = typer.Option(90, "--days", min=1, max=3660, metavar="N",
                              help="How many days ahead."),
    as_json: bool = JSON,
    quiet_: bool = QUIET,
) -> None:
    """Show a contact's coming touches from today, with dates, if nobody replies.

    Each touch is listed on the day it will be made: today for one already late, a later
    day for one that waits for a step before it.
    """
    quiet(quiet_)
    from .. import engine
    from ..why import nothing_planned

    with guarded(as_json):
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)
        _, contact = loaded.contact(contact_id)
        book = loaded.book
        touches = engine.plan(contact, book.trails.get(contact.id), book.playbooks, day,
                              days, book.condition)
        why = "" if touches else nothing_planned(book, contact, day)
    if as_json:
        document = {"contact": contact.id, "touches": [
            {"date": t.made.isoformat(), "step": t.step, "phase": t.phase,
             "channel": t.channel, "template": t.template, "reason": t.reason}
            for t in touches]}
        if why:
            document["why"] = why
        emit_json(document)
        return
    if OPTIONS.quiet:
        return
    if not touches:
        say(f"Nothing planned for {contact.id} in the {count(days, 'day')} from {day}: {why}.")
        return
    from ..terminal import table

    table(f"{contact.id} {contact.name}: {count(len(touches), 'touch')} "
          f"in {count(days, 'day')} from {day}",
          ["date", "step", "phase", "channel", "template", "reason", "moved by"],
          [[t.made.isoformat() + (f" {t.time}" if t.time else ""), t.step, t.phase,
            t.channel, t.template, t.detail or t.reason,
            "; ".join(x for x in (f"due {t.due}, {count(t.overdue, 'day')} late" if t.overdue else "",
                                  t.why) if x)] for t in touches])

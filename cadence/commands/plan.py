"""`cadence plan ID`: a contact's coming touches, if nobody replies."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import load_book, QUIET, quiet, JSON, OPTIONS, TODAY, APP as app, config, emit_json, guarded, resolve_today, say


@app.command()
def plan(
    contact_id: str = typer.Argument(..., metavar="ID", help="The contact's id."),
    today: Optional[str] = TODAY,
    days: int = typer.Option(90, "--days", min=1, max=3660, help="How many days ahead."),
    as_json: bool = JSON,
    quiet_: bool = QUIET,
) -> None:
    """Show a contact's coming touches from today, with dates, if nobody replies.

    A touch already late is listed on today, the day it will be made.
    """
    quiet(quiet_)
    from .. import engine

    with guarded(as_json):
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)
        _, contact = loaded.contact(contact_id)
        book = loaded.book
        touches = engine.plan(contact, book.trails.get(contact.id), book.playbooks, day,
                              days, book.condition)
    if as_json:
        emit_json({"contact": contact.id, "touches": [
            {"date": max(t.due, day).isoformat(), "step": t.step, "phase": t.phase,
             "channel": t.channel, "template": t.template, "reason": t.reason}
            for t in touches]})
        return
    if OPTIONS.quiet:
        return
    if not contact.playbook:
        say(f"{contact.id} follows no playbook: nothing planned.")
        return
    if not touches:
        say(f"Nothing planned for {contact.id} in the {days} days from {day}.")
        return
    from ..terminal import table

    table(f"{contact.id} {contact.name}: {len(touches)} touch{'es' if len(touches) != 1 else ''} "
          f"in {days} days from {day}",
          ["date", "step", "phase", "channel", "template", "reason", "moved by"],
          [[max(t.due, day).isoformat() + (f" {t.time}" if t.time else ""), t.step, t.phase,
            t.channel, t.template, t.detail or t.reason,
            "; ".join(x for x in (f"due {t.due}, {t.overdue} days late" if t.due < day else "",
                                  t.why) if x)] for t in touches])

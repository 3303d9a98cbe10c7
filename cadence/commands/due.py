"""`cadence due`: who to contact today, and how. Reads only."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (one_format, CSV, load_book, JSON, OPTIONS, QUIET, TODAY, APP as app, config, emit_json, guarded, quiet, resolve_today, say)
from ..model import count
from ..helptext import DAILY


def touch_row(t) -> list:
    what = t.template
    if t.reason != "step":
        what = f"{t.template} ({t.detail or t.reason})"
    when = t.due.isoformat() + (f" {t.time}" if t.time else "")
    return [when, t.overdue or "", t.contact, t.name, t.channel, t.step, what]


@app.command(rich_help_panel=DAILY)
def due(today: Optional[str] = TODAY, as_json: bool = JSON,
        as_csv: bool = CSV,
        quiet_: bool = QUIET) -> None:
    """List the touches due today: who, how, what, how late. Writes nothing."""
    quiet(quiet_)
    from .. import engine
    from ..mailacts import notices as notices_of

    with guarded(as_json):
        one_format(as_json, as_csv)
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)
        book = loaded.book
        touches = engine.due(book, day)
        notices = notices_of(book, day, cfg.mail is not None)
    if as_json:
        document = {"today": day.isoformat(), "due": [t.as_json() for t in touches]}
        if notices:
            document["notices"] = notices
        emit_json(document)
        return
    if as_csv:
        from ..export import to_csv

        fields = ["contact", "name", "playbook", "phase", "step", "channel", "template", "due",
                  "overdue", "reason"]
        typer.echo(to_csv(fields + ["time"], [[t.as_json()[f] for f in fields] + [t.time]
                                              for t in touches], *loaded.ledger.dialect()),
                   nl=False)
        return
    if OPTIONS.quiet:
        return
    if not touches:
        enrolled = any(c.playbook for c in book.contacts)
        say(f"Nothing due on {day}." if enrolled or not book.contacts else
            f"Nothing due on {day}: no contact follows a playbook (`cadence check` says more).")
    else:
        from ..terminal import table

        table(f"Due on {day}: {count(len(touches), 'touch')}",
              ["due", "late", "contact", "name", "channel", "step", "template"],
              [touch_row(t) for t in touches])
    waiting = sum(1 for c in book.contacts
                  if c.playbook and c.started is None and c.id not in book.trails)
    if waiting:
        say(f"New in the ledger: {count(waiting, 'contact')} with a playbook, not started yet; "
            f"`cadence run` enrols {'it' if waiting == 1 else 'them'}.")
    if notices:
        say("")
        say(f"Notices ({len(notices)}):")
        for notice in notices:
            say(f"  {notice['date']}  {notice['contact']}  {notice['text']}")

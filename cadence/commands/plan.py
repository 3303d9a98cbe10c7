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
        touches, skips = engine.foresee(contact, book.trails.get(contact.id), book.playbooks,
                                        day, days, book.condition)
        why = "" if touches else nothing_planned(book, contact, day)
    if as_json:
        document = {"contact": contact.id, "touches": [
            {"date": t.made.isoformat(), "step": t.step, "phase": t.phase,
             "channel": t.channel, "template": t.template, "reason": t.reason}
            for t in touches], "skips": [
            {"date": e.date.isoformat(), "step": e.step, "phase": _phase(book, e),
             "channel": e.channel, "template": e.template, "note": e.note} for e in skips]}
        if why:
            document["why"] = why
        emit_json(document)
        return
    if OPTIONS.quiet:
        return
    if not touches and not skips:
        say(f"Nothing planned for {contact.id} in the {count(days, 'day')} from {day}: {why}.")
        return
    from ..terminal import table

    rows = [(t.made, 1, [t.made.isoformat() + (f" {t.time}" if t.time else ""), t.step,
                         t.phase, t.channel, t.template, t.detail or t.reason,
                         "; ".join(x for x in (f"due {t.due}, {count(t.overdue, 'day')} late"
                                               if t.overdue else "", t.why) if x)])
            for t in touches]
    # a step passed over, on the day a run would journal it (before that day's touch), so
    # that no step goes unseen
    rows += [(e.date, 0, [e.date.isoformat(), e.step, _phase(book, e), e.channel, e.template,
                          f"skipped: {e.note}", ""]) for e in skips]
    skipped = f" ({count(len(skips), 'step')} skipped)" if skips else ""
    table(f"{contact.id} {contact.name}: {count(len(touches), 'touch')}{skipped} "
          f"in {count(days, 'day')} from {day}",
          ["date", "step", "phase", "channel", "template", "reason", "moved by"],
          [cells for _, _, cells in sorted(rows, key=lambda r: (r[0], r[1]))])
    if not touches:
        say(f"Nothing else planned: {why}.")


def _phase(book, entry) -> str:
    """The phase of a skipped step (a rule's touch has none)."""
    from ..steps import phase_of_step

    playbook = book.playbooks.get(entry.playbook)
    return (phase_of_step(playbook, entry.step) or "") if playbook is not None else ""

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

    with guarded(as_json):
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)
        _, contact = loaded.contact(contact_id)
        book = loaded.book
        touches = engine.plan(contact, book.trails.get(contact.id), book.playbooks, day,
                              days, book.condition)
        why = "" if touches else _why(book, contact, day, days)
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


def _why(book, contact, day, days: int) -> str:
    """Why a contact has nothing planned in the days shown, in words: its status (with the
    day the journal set it), an opt-out, a pause, a playbook with nothing left; and the next
    touch after those days, if any."""
    from .. import engine
    from ..actions import planned

    if not contact.playbook:
        return "not enrolled (no playbook)"
    trail = book.trails.get(contact.id)
    st = engine.state_of(contact, trail, book.playbooks)
    reason = ""
    if st.status in ("replied", "won", "lost", "unsubscribed", "stopped"):
        since = _since(trail, st.status, contact.playbook)
        reason = f"{st.status} on {since}" if since else f"status {st.status}"
    elif "all" in contact.optout:
        reason = "opted out of everything"
    elif st.status == "paused" and st.paused_until is None:
        reason = "paused with no end date (an empty paused_until)"
    elif st.status == "paused" and st.paused_until > day:
        reason = f"paused until {st.paused_until}"
    later = planned(book, contact, day)
    if later is not None:
        return "; ".join(filter(None, (reason, f"the next touch is on {later.due} "
                                               f"({later.step})")))
    if reason:
        return reason
    from ..steps import allowed

    playbook = book.playbooks.get(contact.playbook)
    left = f"the playbook {contact.playbook} has nothing left for it" + (
        f" (last step {st.last_step})" if st.last_step else "")
    if playbook is not None and not any(allowed(c, st.contact, playbook)
                                        for c in playbook.channels):
        left = (f"no channel of the playbook ({', '.join(playbook.channels)}) reaches them: "
                "check the ledger's email, phone, address, channels and optout")
    if st.last_reply is not None and (st.last_touch is None or st.last_reply >= st.last_touch):
        said = (f"replied on {st.last_reply} (the ledger's last_reply); the next run acts on it "
                "by the playbook's reply rule")
        rule = playbook.on_reply if playbook is not None else None
        if rule is None:
            return said
        if rule.action == "stop":
            return f"{said} (reply: stop)"
        if rule.action == "move":
            return f"{said} (reply: move {rule.playbook})"
        # continue or pause: the contact goes on in this playbook, which has no touch left
        what = f"pause {rule.duration.text}" if rule.action == "pause" else "continue"
        return f"{said} (reply: {what}), after which {left}"
    return left


def _since(trail, status: str, playbook: str):
    """The date of the journal row that set the status, when the journal has it."""
    if trail is None:
        return None
    from ..state import journal_status

    rows = [r for r in (trail.status, trail.reply) if r is not None]
    if not rows or journal_status(trail, playbook)[0] != status:
        return None
    return max(r.date for r in rows)

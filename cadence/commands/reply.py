"""Commands people type during the day: reply, log, mark, optout."""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional

import typer

from ..cli import load_book, write_outside, QUIET, quiet, TODAY, APP as app, config, guarded, parse_on, resolve_today, say
from ..actions import state_changes
from ..model import CHANNELS, EXIT_USAGE, Entry, Failure, Problem, Source

ON = typer.Option(None, "--on", help="The date it happened (YYYY-MM-DD); default: today.",
                  metavar="DATE")
NOTE = typer.Option("", "--note", help="A note for the journal (topics, agreements).")
ID = typer.Argument(..., metavar="ID", help="The contact's id.")


def _update(contact_id: str, today_text: Optional[str], change):
    """Lock, load, let `change(loaded, index, contact, today)` say what to write, write it."""
    from ..actions import write
    from ..files import Lock, recover

    cfg = config()
    day = resolve_today(today_text, cfg)
    with Lock(cfg.root):
        recover(cfg.root, cfg.history, cfg.ledger)
        loaded = load_book(cfg)
        index, contact = loaded.contact(contact_id)
        entries, changes, message = change(loaded, contact, day)
        write(loaded, [], entries, {index: changes} if changes else {}, write_outside())
    return message


def _channel(value: str, option: str = "--channel") -> str:
    channel = value.strip().lower()
    if channel not in CHANNELS:
        raise Failure(Problem(Source(option), f"unknown channel {value!r}",
                              "channels are " + ", ".join(CHANNELS), EXIT_USAGE))
    return channel


def _not_after(when, day, option: str = "--on"):
    """A date typed for something that happened: not after today (a typo would stop or
    suspend a contact)."""
    if when > day:
        raise Failure(Problem(Source(option), f"{when} is after today ({day})",
                              "give the date it happened", EXIT_USAGE))
    return when


@app.command()
def reply(contact_id: str = ID, on: Optional[str] = ON, note: str = NOTE,
          today: Optional[str] = TODAY, quiet_: bool = QUIET) -> None:
    """Record a contact's reply and act on it by the playbook's `reply` rule."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        when = _not_after(parse_on(on, day), day)
        book = loaded.book
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
        latest = max(when, contact.last_reply) if contact.last_reply else when
        st = replace(st, last_reply=latest)
        entries = ()
        if contact.playbook and contact.playbook in book.playbooks:
            st, entries = engine.act_on_reply(st, book.playbooks)
        if entries:
            entry = entries[0]
            entries = (entry._replace(note="; ".join(x for x in (entry.note, note) if x)),)
            message = f"{contact.id}: reply on {when} recorded; {entry.note}."
        else:
            entries = (Entry(when, contact.id, "note", contact.playbook,
                             note="; ".join(x for x in (f"reply on {when}", note) if x)),)
            message = f"{contact.id}: reply on {when} recorded."
        changes = state_changes(loaded, contact, st, day) if contact.playbook else {}
        if latest != contact.last_reply:
            changes["last_reply"] = latest.isoformat()
        return list(entries), changes, message

    with guarded():
        say(_update(contact_id, today, change))


@app.command()
def log(contact_id: str = ID, channel: str = typer.Option(..., "--channel", help="email, call, sms, messenger or letter."),
        on: Optional[str] = ON, note: str = NOTE, today: Optional[str] = TODAY, quiet_: bool = QUIET) -> None:
    """Record a touch made by hand; it counts for gaps and caps and resets periodic intervals."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        used = _channel(channel)
        when = _not_after(parse_on(on, day), day)
        book = loaded.book
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
        dates = tuple(sorted(st.touch_dates + (when,)))
        st = replace(st, touches=st.touches + 1, touch_dates=dates)
        if st.last_touch is None or when >= st.last_touch:
            st = replace(st, last_touch=when, last_channel=used, last_kind="manual", last_rule=-1)
        entry = Entry(when, contact.id, "touch", contact.playbook, channel=used, note=note)
        changes = engine.changes_of(contact, st, None)
        if contact.playbook and st.playbook in book.playbooks:
            changes = state_changes(loaded, contact, st, day)
        return [entry], changes, f"{contact.id}: {used} on {when} logged."

    with guarded():
        say(_update(contact_id, today, change))


MARKS = ("active", "won", "lost", "unsubscribed", "stopped")


@app.command()
def mark(contact_id: str = ID,
         status: str = typer.Argument(..., metavar="STATUS", help="won, lost, unsubscribed, stopped or active."),
         on: Optional[str] = ON, note: str = NOTE, today: Optional[str] = TODAY, quiet_: bool = QUIET) -> None:
    """Set a contact's status: won, lost, unsubscribed, stopped (or active again)."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        wanted = status.strip().lower()
        if wanted not in MARKS:
            raise Failure(Problem(Source("STATUS"), f"unknown status {status!r}",
                                  "use one of " + ", ".join(MARKS), EXIT_USAGE))
        when = _not_after(parse_on(on, day), day)
        book = loaded.book
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
        ends_pause = wanted == "active" and st.paused_until is not None and st.paused_until > day
        st = replace(st, status=wanted, paused_until=None if ends_pause else st.paused_until)
        entry = Entry(when, contact.id, "status", contact.playbook,
                      note="; ".join(x for x in (wanted, note) if x))
        changes = state_changes(loaded, contact, st, day) if contact.playbook else (
            {"status": wanted} if wanted != (contact.status or "active") else {})
        return [entry], changes, f"{contact.id}: {wanted}."

    with guarded():
        say(_update(contact_id, today, change))


@app.command()
def optout(contact_id: str = ID,
           channels: List[str] = typer.Argument(..., metavar="CHANNEL...", help="Channels never to use again, or `all`."),
           note: str = NOTE, today: Optional[str] = TODAY, quiet_: bool = QUIET) -> None:
    """Opt a contact out of some channels (their choice), or of everything with `all`."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        chosen = []
        for value in channels:
            item = value.strip().lower()
            chosen.append(item if item == "all" else _channel(item, "CHANNEL"))
        merged = list(contact.optout) + [c for c in chosen if c not in contact.optout]
        text = ";".join(merged)
        book = loaded.book
        new = replace(contact, optout=tuple(merged), row={**contact.row, "optout": text})
        st = engine.state_of(new, book.trails.get(contact.id), book.playbooks)
        changes = state_changes(loaded, contact, st, day) if contact.playbook else {}
        if text != contact.row.get("optout", ""):
            changes["optout"] = text
        entry = Entry(day, contact.id, "note", contact.playbook,
                      note="; ".join(x for x in ("opted out of " + ", ".join(chosen), note) if x))
        return [entry], changes, f"{contact.id}: opted out of {', '.join(chosen)}."

    with guarded():
        say(_update(contact_id, today, change))

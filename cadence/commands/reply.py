"""Commands people type during the day: reply (and the decision taken in it), log, mark,
pause, optout."""
from __future__ import annotations

from typing import List, Optional

import typer

from ..cli import (APP as app, CONTACT as ID, FAR, NOTE, ON, QUIET, TODAY, config, guarded,
                   load_book, near_the_clock, not_after, parse_date, parse_on, quiet,
                   resolve_today, say, write_outside)
from ..helptext import CONTACTS
from ..actions import state_changes
from ..model import (CHANNELS, EXIT_CONFIG, EXIT_DATA, EXIT_USAGE, OPTED_IN, OPTED_OUT, STATUSES,
                     Entry, Failure, Problem, Source)


def _update(contact_id: str, today_text: Optional[str], change, yes: bool, command: str):
    """Lock, load, let `change(loaded, contact, today)` say what to write, write it."""
    from ..actions import update_one

    cfg = config()
    day = resolve_today(today_text, cfg)
    near_the_clock(today_text, day, cfg, yes, f"`{command}` journals it on that day")
    return update_one(cfg, load_book, contact_id, day, change, write_outside())


def _channel(value: str, option: str = "--channel") -> str:
    channel = value.strip().lower()
    if channel not in CHANNELS:
        also = ", or all" if option == "CHANNEL" else ""  # optout's: every channel at once
        raise Failure(Problem(Source(option), f"unknown channel {value!r}",
                              "channels are " + ", ".join(CHANNELS) + also, EXIT_USAGE))
    return channel


def _changes(loaded, contact, st, day) -> dict:
    """The cells a new state writes: every state cell of an enrolled contact (next_due worked
    out again), the status alone of one that follows no playbook."""
    from .. import engine

    if st.playbook:
        return state_changes(loaded, contact, st, day)
    return {k: v for k, v in engine.changes_of(contact, st, None).items()
            if k in ("status", "paused_until")}


@app.command(rich_help_panel=CONTACTS)
def reply(contact_id: str = ID, on: Optional[str] = ON, note: str = NOTE,
          callback: Optional[str] = typer.Option(
              None, "--callback", metavar="DATE[THH:MM]",
              help="A call agreed in the reply, on that date (and time)."),
          pause: Optional[str] = typer.Option(
              None, "--pause", metavar="DURATION",
              help="Pause the contact this long from the reply (30d, 2 weeks, 3 months)."),
          move: Optional[str] = typer.Option(
              None, "--move", metavar="PLAYBOOK",
              help="Move the contact to this playbook, started on the reply's date."),
          won: bool = typer.Option(False, "--won", help="The reply won the deal."),
          lost: bool = typer.Option(False, "--lost", help="The reply lost it."),
          today: Optional[str] = TODAY, yes: bool = FAR, quiet_: bool = QUIET) -> None:
    """Record a contact's reply and act on it by the playbook's `reply` rule; then the decision
    taken in the reply, if one is given: a call-back, a pause, a move, won or lost."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        chosen = [name for name, given in (("--pause", pause is not None),
                                           ("--move", move is not None),
                                           ("--won", won), ("--lost", lost)) if given]
        if len(chosen) > 1:
            raise Failure(Problem(Source(chosen[1]),
                                  f"{chosen[0]} and {chosen[1]} contradict each other",
                                  "give one decision: --pause, --move, --won or --lost "
                                  "(--callback goes with any)", EXIT_USAGE))
        when = not_after(parse_on(on, day), day)
        book = loaded.book
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
        latest = max(when, st.last_reply) if st.last_reply else when  # a rebuilt row's too
        st = st._replace(last_reply=latest)
        entries = ()
        if contact.playbook and contact.playbook in book.playbooks:
            st, entries = engine.act_on_reply(st, book.playbooks)
        said = [f"{contact.id}: reply on {when} recorded"]
        if entries:
            entry = entries[0]
            entries = (entry._replace(note="; ".join(x for x in (entry.note, note) if x)),) \
                + entries[1:]
            said.append(entry.note)
        decided = ()
        if chosen:
            st, decided, words, rule = _decide(loaded, contact, st, chosen[0], when, day,
                                               pause=pause, move=move)
            if words:
                said.append(words)
            if entries and chosen[0] == "--move" and decided:
                # the rule's row says the move too: read back, it came before the start, even
                # to the playbook the contact followed (cadence.state.journal_status)
                first, _, rest = entries[0].note.partition("; ")
                entries = (entries[0]._replace(note="; ".join(
                    x for x in (f"{first} then {rule}", rest) if x)),) + entries[1:]
            if not entries:  # the reply is acted on, by the decision: never again by a run
                entries = (Entry(when, contact.id, "reply", contact.playbook,
                                 note="; ".join(x for x in (f"reply: {rule}", note) if x)),)
        if not entries:
            entries = (Entry(when, contact.id, "note", contact.playbook,
                             note="; ".join(x for x in (f"reply on {when}", note) if x)),)
        agreed = ""
        if callback is not None:
            st, agreed = _callback(contact, st, callback, when)
            _callback_drafted(loaded, st)
            decided += (Entry(when, contact.id, "note", st.playbook, note=f"callback {agreed}"),)
            said.append(f"call-back on {agreed}")
        changes = _changes(loaded, contact, st, day)
        if latest != contact.last_reply:
            changes["last_reply"] = latest.isoformat()
        if agreed and agreed != contact.row.get("callback", ""):
            changes["callback"] = agreed
        return list(entries + decided), changes, "; ".join(said) + "."

    with guarded():
        say(_update(contact_id, today, change, yes, "reply"))


def _decide(loaded, contact, st, decision: str, when, day, pause=None, move=None) -> tuple:
    """(state, journal rows, words, the words of a `reply` rule) of a reply's decision,
    taken after the reply rule. A status it sets is journaled today (`day`), when it is
    decided: a status set since the reply (`--on`) came before it; a move's start is the
    reply's date (SPEC 5)."""
    book = loaded.book
    if decision in ("--pause", "--move"):
        _not_revived(contact, st, decision)
    if decision in ("--won", "--lost"):
        word = decision[2:]
        return (st._replace(status=word, paused_until=None),
                (Entry(day, contact.id, "status", st.playbook, note=word),), word, word)
    if decision == "--pause":
        from ..durations import parse_duration
        from ..model import pause_end

        try:
            length = parse_duration(pause)
        except ValueError as err:
            raise Failure(Problem(Source("--pause"), str(err), code=EXIT_USAGE)) from None
        until = pause_end(length, when)
        if until <= when:
            raise Failure(Problem(Source("--pause"), f"a pause of {pause!r} ends when it begins",
                                  "give a length such as 30d or 2 weeks", EXIT_USAGE))
        words = f"paused until {until}"
        return (st._replace(status="paused", paused_until=until),
                (Entry(day, contact.id, "status", st.playbook, note=words),), words,
                f"pause until {until}")
    name = move.strip()
    if name not in book.playbooks:
        import difflib

        close = difflib.get_close_matches(name, sorted(book.playbooks), 1)
        raise Failure(Problem(Source("--move"), f"no playbook named {name!r}",
                              (f"did you mean {close[0]!r}? " if close else "")
                              + "playbooks: " + ", ".join(sorted(book.playbooks)), EXIT_DATA))
    if st.playbook == name and st.started == when and st.status == "active":
        return st, (), "", f"move to {name}"  # the reply rule moved it there already
    moved = st._replace(playbook=name, started=when, last_step="", step_date=None,
                        status="active", paused_until=None)
    return (moved, (Entry(when, contact.id, "status", name, note="started"),), f"moved to {name}",
            f"move to {name}")


def _not_revived(contact, st, what: str) -> None:
    """A pause or a move would make cadence write again to someone who said no (unsubscribed)
    or whom the user stopped: refused; `mark ID active` is the way back, said on purpose."""
    if st.status in ("unsubscribed", "stopped"):
        raise Failure(Problem(Source(what), f"{contact.id!r} is {st.status}: {what.lstrip('-')} "
                              "would start touching them again",
                              f"if they asked to hear from you, `cadence mark {contact.id} "
                              "active` first", EXIT_USAGE))


def _callback_drafted(loaded, st) -> None:
    """An agreed call needs the call sheet of its playbook's `callback` template: without one,
    every later `run` would stop at it (exit 78), so the reply is refused before it is written."""
    from ..lookup import template_file

    playbook = loaded.book.playbooks.get(st.playbook)
    if playbook is None or template_file(playbook.callback_template, "call", loaded.templates):
        return
    name = playbook.callback_template
    raise Failure(Problem(Source("--callback"),
                          f"playbook {st.playbook!r} has no call sheet for agreed calls: "
                          f"neither {name}.call.j2 nor {name}.j2 is among the templates",
                          f"add templates/{name}.call.j2 or {name}.j2 (`cadence init` writes "
                          "callback.j2, one to copy), then record the reply again", EXIT_CONFIG))


def _callback(contact, st, text: str, when) -> tuple:
    """(state with the call-back agreed, its text as the ledger holds it)."""
    from ..engine import honours_callback

    day_text, _, time_text = text.strip().replace(" ", "T", 1).partition("T")
    agreed = parse_date(day_text, "--callback")
    time = ""
    if time_text:
        hour, _, minute = time_text.partition(":")
        if not (hour.isdigit() and minute.isdigit() and len(minute) == 2 and len(hour) <= 2):
            raise Failure(Problem(Source("--callback"),
                                  f"expected DATE or DATETHH:MM, got {text!r}",
                                  "e.g. 2027-03-01 or 2027-03-01T10:00", EXIT_USAGE))
        if int(hour) > 23 or int(minute) > 59:
            raise Failure(Problem(Source("--callback"), f"impossible time in {text!r}",
                                  code=EXIT_USAGE))
        time = f"{int(hour):02d}:{minute}"
    if agreed < when:
        raise Failure(Problem(Source("--callback"), f"the call-back ({agreed}) is before the "
                              f"reply ({when})", "give the date the call was agreed for",
                              EXIT_USAGE))
    agreed_text = agreed.isoformat() + (f"T{time}" if time else "")
    new = contact._replace(callback=agreed, callback_time=time,
                           row={**contact.row, "callback": agreed_text})
    st = st._replace(contact=new)
    if not honours_callback(st):
        why = "opted out of calls" if {"call", "all"} & set(contact.optout) else f"is {st.status}"
        raise Failure(Problem(Source("--callback"),
                              f"{contact.id!r} {why}: no call is made for them",
                              "an agreed call is made whatever the status but unsubscribed or "
                              "stopped, unless the contact opted out of calls", EXIT_USAGE))
    if st.last_touch is not None and agreed <= st.last_touch:
        # SPEC 5.1: a call-back is made only if the latest touch is before its day
        hint = (f"last_touch {st.last_touch} is after the reply: if that date is a typo, "
                "correct it in the ledger" if st.last_touch > when else "agree a later day; "
                f"a call made today after the touch is logged with `cadence log {contact.id} "
                "--channel call`")
        raise Failure(Problem(Source("--callback"), f"the call-back ({agreed}) is not after the "
                              f"latest touch of {contact.id} ({st.last_touch}): such a call is "
                              "never made", hint, EXIT_USAGE))
    return st, agreed_text


@app.command(rich_help_panel=CONTACTS)
def log(contact_id: str = ID, channel: str = typer.Option(..., "--channel", help="email, call, sms, messenger or letter."),
        on: Optional[str] = ON, note: str = NOTE, today: Optional[str] = TODAY,
        yes: bool = FAR, quiet_: bool = QUIET) -> None:
    """Record a touch made by hand; it counts for gaps and caps and resets periodic intervals."""
    quiet(quiet_)
    from .. import engine

    from ..trail import last_of_a_day

    def change(loaded, contact, day):
        used = _channel(channel)
        when = not_after(parse_on(on, day), day)
        book = loaded.book
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
        dates = tuple(sorted(st.touch_dates + (when,)))
        st = st._replace(touches=st.touches + 1, touch_dates=dates)
        entry = Entry(when, contact.id, "touch", contact.playbook, channel=used, note=note)
        # of one day's touches, the last is the one the journal's fold takes (by hand after a
        # run's, then the larger row): the ledger says what a rebuild from the journal says
        trail = book.trails.get(contact.id)
        last = trail.last if trail is not None else None
        if st.last_touch is None or when > st.last_touch or (when == st.last_touch and (
                last is None or last.date != when or last_of_a_day(entry) > last_of_a_day(last))):
            st = st._replace(last_touch=when, last_channel=used, last_kind="manual", last_rule=-1)
        changes = engine.changes_of(contact, st, None)
        if contact.playbook and st.playbook in book.playbooks:
            changes = state_changes(loaded, contact, st, day)
        return [entry], changes, f"{contact.id}: {used} on {when} logged."

    with guarded():
        say(_update(contact_id, today, change, yes, "log"))


MARKS = STATUSES  # every status the ledger takes


@app.command(rich_help_panel=CONTACTS)
def mark(contact_id: str = ID,
         status: str = typer.Argument(..., metavar="STATUS",
                                      help="active, paused (with --until), replied, won, lost, "
                                           "unsubscribed or stopped."),
         until: Optional[str] = typer.Option(None, "--until", metavar="DATE",
                                             help="With `paused`: the day the pause ends."),
         on: Optional[str] = ON, note: str = NOTE, today: Optional[str] = TODAY, yes: bool = FAR,
         quiet_: bool = QUIET) -> None:
    """Set a contact's status: any the ledger takes (`paused` needs --until)."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        wanted = status.strip().lower()
        if wanted not in MARKS:
            raise Failure(Problem(Source("STATUS"), f"unknown status {status!r}",
                                  "use one of " + ", ".join(MARKS), EXIT_USAGE))
        when = not_after(parse_on(on, day), day)
        if wanted == "paused":
            if until is None:
                raise Failure(Problem(Source("--until"), "`paused` needs the day the pause ends",
                                      "add --until DATE (or use `cadence pause ID --until DATE`)",
                                      EXIT_USAGE))
            return _paused(loaded, contact, _until(until, day), when, day, note)
        if until is not None:
            raise Failure(Problem(Source("--until"), f"--until goes with `paused`, not {wanted!r}",
                                  code=EXIT_USAGE))
        book = loaded.book
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
        st = st._replace(status=wanted, paused_until=None)  # only a pause has a date
        entry = Entry(when, contact.id, "status", contact.playbook,
                      note="; ".join(x for x in (wanted, note) if x))
        return [entry], _changes(loaded, contact, st, day), f"{contact.id}: {wanted}."

    with guarded():
        say(_update(contact_id, today, change, yes, "mark"))


@app.command(rich_help_panel=CONTACTS)
def pause(contact_id: str = ID,
          until: str = typer.Option(..., "--until", metavar="DATE",
                                    help="The day the contact becomes active again."),
          note: str = NOTE, today: Optional[str] = TODAY, yes: bool = FAR,
          quiet_: bool = QUIET) -> None:
    """Pause a contact until a date: no touches before it (an agreed call-back still comes).
    `cadence mark ID active` ends a pause early."""
    quiet(quiet_)

    def change(loaded, contact, day):
        return _paused(loaded, contact, _until(until, day), day, day, note)

    with guarded():
        say(_update(contact_id, today, change, yes, "pause"))


def _until(text: str, day):
    until = parse_date(text, "--until")
    if until <= day:
        raise Failure(Problem(Source("--until"), f"{until} is not after today ({day})",
                              "a pause runs until a later day; `cadence mark ID active` ends one",
                              EXIT_USAGE))
    return until


def _paused(loaded, contact, until, when, day, note: str) -> tuple:
    from .. import engine

    book = loaded.book
    st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
    _not_revived(contact, st, "pause")
    st = st._replace(status="paused", paused_until=until)
    words = f"paused until {until}"
    entry = Entry(when, contact.id, "status", contact.playbook,
                  note="; ".join(x for x in (words, note) if x))
    return [entry], _changes(loaded, contact, st, day), f"{contact.id}: {words}."


@app.command(rich_help_panel=CONTACTS)
def optout(contact_id: str = ID,
           channels: List[str] = typer.Argument(..., metavar="CHANNEL...", help="Channels never to use again, or `all`."),
           withdraw: bool = typer.Option(False, "--withdraw",
                                         help="Take the opt-out of these channels back (the "
                                              "contact asked to hear from you again)."),
           note: str = NOTE, today: Optional[str] = TODAY, yes: bool = FAR,
          quiet_: bool = QUIET) -> None:
    """Opt a contact out of some channels (their choice), or of everything with `all`.

    The journal keeps it: a sheet downloaded again without it does not bring the channel
    back; only --withdraw does."""
    quiet(quiet_)
    from .. import engine

    def change(loaded, contact, day):
        chosen = []
        for value in channels:
            item = value.strip().lower()
            if item not in chosen:
                chosen.append(item if item == "all" else _channel(item, "CHANNEL"))
        book = loaded.book
        trail = book.trails.get(contact.id)
        journaled = set(trail.optout) if trail is not None else set()
        # a channel's word is journaled only when it changes what the journal says (its
        # words then alternate, and their counts say where they ended: trail._opted_out)
        if withdraw:
            merged = [c for c in contact.optout if c not in chosen]
            taken = [c for c in chosen if c in contact.optout]
            if not taken:
                return [], {}, (f"{contact.id}: not opted out of {', '.join(chosen)}; nothing "
                                "written.")
            said = f"{contact.id}: opted back in to {', '.join(taken)}."
            back = [c for c in taken if c in journaled]
            cell = [c for c in taken if c not in journaled]  # typed there, never journaled
            words = "; ".join(([OPTED_IN + ", ".join(back)] if back else [])
                              + ([f"optout cell: {', '.join(cell)} taken out"] if cell else []))
        else:
            merged = list(contact.optout) + [c for c in chosen if c not in contact.optout]
            fresh = [c for c in chosen if c not in journaled]
            # an opt-out typed in the cell alone is journaled, so that it outlives the sheet
            if not fresh:  # a second word would count as a second opt-out
                return [], {}, (f"{contact.id}: opted out of {', '.join(chosen)} already; "
                                "nothing written" + (" (`cadence note` records a note)."
                                                     if note else "."))
            said = f"{contact.id}: opted out of {', '.join(chosen)}."
            words = OPTED_OUT + ", ".join(fresh)
        text = ";".join(merged)
        new = contact._replace(optout=tuple(merged), row={**contact.row, "optout": text})
        st = engine.state_of(new, trail, book.playbooks)
        changes = state_changes(loaded, new, st, day) if contact.playbook else {}
        if text != contact.row.get("optout", ""):
            changes["optout"] = text
        entry = Entry(day, contact.id, "note", contact.playbook,
                      note="; ".join(x for x in (words, note) if x))
        return [entry], changes, said

    with guarded():
        say(_update(contact_id, today, change, yes, "optout"))

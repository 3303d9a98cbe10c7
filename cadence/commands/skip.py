"""`cadence skip ID`: not this touch; the contact moves on as if it had been skipped."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (APP as app, CONTACT, FAR, NOTE, QUIET, TODAY, config, guarded, load_book,
                   near_the_clock, quiet, resolve_today, say, write_outside)
from ..helptext import CONTACTS
from ..model import EXIT_USAGE, Entry, Failure, Problem, Source

NOTHING = 1  # exit code: the contact has no touch to skip (as `render`)


@app.command(rich_help_panel=CONTACTS)
def skip(
    contact_id: str = CONTACT,
    step: Optional[str] = typer.Option(None, "--step", metavar="STEP",
                                       help="Skip this step (or `callback`, `birthday`, "
                                            "`no_reply`) instead of the next touch."),
    note: str = NOTE,
    today: Optional[str] = TODAY,
    yes: bool = FAR,
    quiet_: bool = QUIET,
) -> None:
    """Skip a contact's next touch: the one due today (its draft, if `run` made it today, is
    renamed `<draft>.skipped` so that it is not sent), else the next planned one.

    The contact moves on as if the touch had been made: a step counts as done, a call-back or
    birthday greeting as dealt with; nothing is counted as a touch.
    """
    quiet(quiet_)
    from ..actions import locked

    with guarded():
        cfg = config()
        day = resolve_today(today, cfg)
        near_the_clock(today, day, cfg, yes, "`skip` journals it on that day")
        message = locked(cfg, load_book, lambda loaded: _skip(loaded, contact_id, step, note, day))
    say(message)


def _skip(loaded, contact_id: str, step: Optional[str], note: str, day) -> str:
    from .. import engine
    from ..actions import write
    from ..takeback import BY_HAND

    index, contact = loaded.contact(contact_id)
    book = loaded.book
    if not contact.playbook:
        raise Failure(Problem(loaded.ledger.source(index, "playbook"),
                              f"contact {contact.id!r} follows no playbook: nothing to skip",
                              "set the contact's `playbook` column", NOTHING))
    text = "; ".join(x for x in (BY_HAND, note.strip()) if x)
    if step is not None and not step.strip():
        raise Failure(Problem(Source("--step"), "empty: it names no step",
                              "name a step of the playbook (`cadence plan ID` lists them), or "
                              "leave --step out to skip the next touch", EXIT_USAGE))
    step = (step or "").strip()
    trail = book.trails.get(contact.id)
    last = trail.last if trail is not None else None
    if last is not None and last.date == day and last.step and \
            last.playbook == contact.playbook and step in ("", last.step):
        return _drafted(loaded, contact, last, text, day)
    st = engine.state_of(contact, trail, book.playbooks)
    result = engine.day(st, book.playbooks, day, book.condition, by_hand=(step, text))
    if result.skipped is not None:
        touch, entries, after = result.skipped, result.entries, result.state
        next_due = result.next_due
    else:
        touch = _target(loaded, index, contact, st, step, day)
        # the skip is dated the touch's own day (today when it is due or late): the contact
        # moves on as if the touch had been made then, and a periodic phase counts from it
        when = max(day, touch.made)
        entries = result.entries + (Entry(when, contact.id, "skip", touch.playbook, touch.step,
                                          touch.channel, touch.template, text),)
        after = engine.skipped(result.state, touch, when)
        next_due = engine.upcoming(after, book.playbooks, day, book.condition)
    changes = engine.changes_of(contact, after, next_due)
    write(loaded, [], list(entries), {index: changes} if changes else {}, write_outside())
    planned = f"; next touch on {next_due}" if next_due else "; nothing planned after it"
    # from where the day's own rows (steps skipped as their phase ended) left the contact
    passed = _passed(book.playbooks[contact.playbook], result.state, touch.step) \
        if step and result.skipped is None else ""
    # the day the touch was planned for, as the skip row is dated
    return (f"{contact.id}: {touch.step} ({touch.channel or 'no channel'}) of "
            f"{max(day, touch.made)} "
            f"skipped{passed}{planned}.")


def _passed(playbook, st, step: str) -> str:
    """The steps a `skip --step` jumps over without a row of their own, in words: the timed
    steps and periodic touches between where the contact stands and the step skipped."""
    from ..steps import cursor_of, find_step

    found = find_step(playbook, step)
    if found is None:
        return ""
    pi, k = found
    target = (pi, k - 1) if playbook.phases[pi].periodic else (pi, k)
    here = cursor_of(playbook, st.last_step, st.started, st.last_touch)
    names, total = [], 0  # the first six named, all counted (a jump to remind-900)
    for index, phase in enumerate(playbook.phases[here[0]:target[0] + 1], here[0]):
        first = here[1] if index == here[0] else 0
        if phase.periodic and index < target[0]:
            these = [f"the rest of phase {phase.name}"]
        elif phase.periodic:
            these = [f"{phase.name}-{n + 1}" for n in range(first, min(target[1], first + 6))]
            total += max(0, target[1] - first) - len(these)
        else:
            last = target[1] if index == target[0] else len(phase.steps)
            these = [s.id for s in phase.steps[first:last]]
        names, total = (names + these)[:6], total + len(these)
    if not names:
        return ""
    if total > 6:
        names = names[:5] + [f"{total - 5} more"]
    shown = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f", passing over {shown}"


def _drafted(loaded, contact, last, text: str, day) -> str:
    """Today's touch, drafted by `run`: taken back (an `undo` row), journaled as skipped, and
    its draft renamed `<draft>.skipped`."""
    from ..actions import SKIPPED, take_back, write
    from ..book import read_history, renderer
    from ..lookup import draft_name
    from ..takeback import BY_HAND

    cfg = loaded.config
    row = Entry(day, contact.id, "skip", last.playbook, last.step, last.channel, last.template,
                text)
    back = take_back(loaded, {contact.id: [last]}, day, renderer(cfg, loaded.templates),
                     lambda ids: read_history(cfg, ids, loaded.ledger_bytes),
                     text=BY_HAND, extra={contact.id: [row]}, mark=SKIPPED)
    write(loaded, list(back.drafts), back.entries, back.updates, write_outside(), back.moves)
    name = draft_name(contact.id, last.step, last.channel)
    return (f"{contact.id}: today's {last.step} ({last.channel}) skipped"
            + (f"; its draft is now {name}{SKIPPED}." if back.marked else "."))


def _target(loaded, index, contact, st, step: str, day):
    """The touch to skip when none is due today: the next planned one (of `step` when given),
    else a step of the playbook further on than the contact stands."""
    from ..actions import planned, step_touch, steps_of
    from ..steps import cursor_of
    from ..why import nothing_planned

    book = loaded.book
    touch = planned(book, contact, day, step)
    if touch is not None:
        return touch
    playbook = book.playbooks[contact.playbook]
    if not step:
        raise Failure(Problem(
            loaded.ledger.source(index, "status"),
            f"contact {contact.id!r} has no touch planned: {nothing_planned(book, contact, day)}",
            "--step STEP skips a step of the playbook further on", NOTHING))
    touch = step_touch(book, contact, step, day)
    if touch is None:
        if step in ("callback", "birthday", "no_reply"):
            raise Failure(Problem(Source("--step"), f"no {step} touch is planned for "
                                  f"{contact.id!r}", "`cadence plan ID` shows what is planned",
                                  NOTHING))
        import difflib

        names = steps_of(playbook)
        close = difflib.get_close_matches(step, names, 1)
        hint = (f"did you mean {close[0]!r}? " if close else "") + "steps: " + ", ".join(names)
        raise Failure(Problem(Source("--step"),
                              f"playbook {playbook.name!r} has no step {step!r}", hint,
                              EXIT_USAGE))
    here = cursor_of(playbook, st.last_step, st.started, st.last_touch)
    if cursor_of(playbook, step, st.started, st.last_touch) <= here:
        raise Failure(Problem(Source("--step"), f"{contact.id!r} has passed {step!r} already "
                              f"(last step {st.last_step!r})",
                              "skip a step the contact has not reached yet", EXIT_USAGE))
    return touch

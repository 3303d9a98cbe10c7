"""Taking back what the journal holds (SPEC section 9: `undo` is how a mistake is taken back):
which rows the latest `run` wrote, the `undo` rows that take rows back, and a contact's ledger
cells as the journal then says them.

Pure, like the engine it asks: rows and values in, rows and cells out.
"""
from __future__ import annotations

from datetime import date
from typing import Mapping, Optional

from .engine import changes_of, state_of, upcoming
from .journal import PAUSE_ENDED, first_word
from .model import Contact, Entry, Playbook, Trail
from .state import BY_HAND, SET_IN_THE_LEDGER
from .steps import cursor_of, find_step

STATE_CELLS = ("started", "status", "paused_until", "touches", "last_touch", "last_channel",
               "last_step", "next_due")


def by_hand(row: Entry) -> bool:
    return row.event == "skip" and row.note.startswith(BY_HAND)


def run_made(row: Entry) -> bool:
    """Could `run` have written this row? Its touches (a step: `log` writes none), skips (but
    a person's), enrolments, ended pauses and what it read in the ledger."""
    if row.event == "touch":
        return bool(row.step)
    if row.event == "skip":
        return not by_hand(row)
    if row.event == "status":
        return row.note == "started" or row.note.startswith(PAUSE_ENDED) \
            or row.note.endswith(SET_IN_THE_LEDGER)
    return row.event == "note" and row.note.endswith(SET_IN_THE_LEDGER)


def undo_row(row: Entry, text: str = "") -> Entry:
    """The `undo` row that takes `row` back: dated and named as the row, its note the event
    taken back (with the first word of a status or note row's note), then `; text`."""
    note = row.event if row.event in ("touch", "skip") else \
        " ".join(filter(None, (row.event, first_word(row.note))))
    return Entry(row.date, row.contact, "undo", row.playbook, row.step, row.channel,
                 row.template, note + (f"; {text}" if text else ""))


def set_aside(skip: Entry, rows) -> bool:
    """Did `skip` set a drafted touch's draft aside (`<draft>.skipped`)? `cadence skip` of a
    touch that day's run had drafted takes the touch back first: `rows` (the contact's
    journal, `undo` rows kept) then hold that touch's undo row, `undo_row(touch, BY_HAND)`."""
    return by_hand(skip) and undo_row(skip._replace(event="touch"), BY_HAND) in rows


def latest_run(rows, floor: Optional[date] = None,
               playbooks: Optional[Mapping[str, Playbook]] = None) -> tuple:
    """(day, rows) of the latest `run` among `rows` (rows that stand, dated after `floor`).

    A run dates its touches, enrolments, ended pauses and what it read in the ledger on its
    own day, and a skipped step on the day it would have been made (never after its own day).
    So the run's day is the latest date of such rows; its rows are those dated that day, the
    skips dated after the run before it, and, for each contact, the skips of steps that come
    after one of those in its playbook (a run moves a contact on, step by step; a step of an
    ended phase may be dated before the steps it follows). A move's start (dated as the reply,
    with its reply row) stays with the reply, which is not taken back. The journal is read by
    its dates and the playbooks' order: rows merged or sorted by hand give the same answer.
    """
    rows = list(rows)
    replied = {(r.contact, r.date) for r in rows if r.event == "reply"}
    made = [r for r in rows if run_made(r) and not (
        r.event == "status" and r.note == "started" and (r.contact, r.date) in replied)]
    dated = [r.date for r in made if _on_its_day(r)]
    if not dated and not any(r.event == "skip" for r in made):
        return None, []
    day = max(dated + [r.date for r in made if r.event == "skip"])
    before = max((d for d in dated if d < day), default=floor)
    taken = [r for r in made if (r.date == day and (_on_its_day(r) or r.event == "skip")) or (
        r.event == "skip" and r.date < day and (before is None or r.date > before))]
    if playbooks:
        taken += _further(made, taken, playbooks)
    return day, taken


def _further(made, taken, playbooks) -> list:
    """The skips, not yet in `taken`, of steps after one that `taken` holds for the same
    contact and playbook: the run made them on its way there."""
    def order(row):
        playbook = playbooks.get(row.playbook)
        return find_step(playbook, row.step) if playbook is not None and row.step else None

    first = {}
    for r in taken:
        at = order(r) if r.event in ("touch", "skip") else None
        key = (r.contact, r.playbook)
        if at is not None and (key not in first or at < first[key]):
            first[key] = at
    chosen = set(taken)
    return [r for r in made if r.event == "skip" and r not in chosen
            and (r.contact, r.playbook) in first and order(r) is not None
            and order(r) > first[(r.contact, r.playbook)]]


def _on_its_day(row: Entry) -> bool:
    """Is the row dated the day of the run that wrote it? All but skips and the start a run
    reads in the ledger (dated as that start)."""
    return row.event != "skip" and not (row.event == "status" and row.note.startswith(
        "started ") and row.note.endswith(SET_IN_THE_LEDGER))


def latest_act(rows) -> Optional[Entry]:
    """A contact's latest touch or skip among the rows that stand: by date; of one day's, what
    a person did (a skip by hand, a touch logged by hand: made after the day's run), then a
    run's touch, then a run's skip."""
    acts = [r for r in rows if r.event in ("touch", "skip")]
    if not acts:
        return None

    def rank(r) -> int:
        if by_hand(r):
            return 3
        if r.event == "touch":
            return 2 if not r.step else 1
        return 0

    return max(acts, key=lambda r: (r.date, rank(r), tuple(r[1:])))


def step_before(playbook: Playbook, step_id: str) -> str:
    """The step the contact stood on before `step_id`: the one before it in the playbook
    ("" before the first). Before a phase's first step comes the last of the phase before; a
    periodic phase's count is not known here, so its first touch stands for it (the
    journal's own latest step wins when it is further on)."""
    found = find_step(playbook, step_id)
    if found is None:
        return ""
    pi, k = found
    phase = playbook.phases[pi]
    if phase.periodic and k > 1:
        return f"{phase.name}-{k - 1}"
    if not phase.periodic and k > 0:
        return phase.steps[k - 1].id
    while pi > 0:
        pi -= 1
        before = playbook.phases[pi]
        if before.periodic:
            return f"{before.name}-1"
        if before.steps:
            return before.steps[-1].id
    return ""


def restored(contact: Contact, trail: Trail, undone, playbooks: Mapping[str, Playbook],
             today: date, condition=None) -> dict:
    """The state cells of `contact` that change once the `undone` rows are taken back: what
    the journal then says (`trail`, folded with the undo rows), the ledger's own values where
    the journal never held them (a ledger imported with its counts).

    - `touches` goes down by the touches taken back (0 is written empty);
    - `last_touch` and `last_channel` are the latest touch that stands, or the ledger's own
      when it is later and was not taken back; empty when neither is known;
    - `last_step` goes back to the step before the first one taken back, or the journal's
      latest step when that is further on; a skip by hand (which may have jumped ahead), to
      the journal's latest step;
    - `started` is the journal's earlier start of the playbook, or empty for a contact the
      taken-back run enrolled; a taken-back end of a pause makes the contact paused again;
    - `next_due` is worked out again as of `today`.
    """
    playbook = playbooks.get(contact.playbook)
    touches = [r for r in undone if r.event == "touch"]
    fields = {"touches": max(0, contact.touches - len(touches))}
    if touches:
        gone = {r.date for r in touches}
        latest = trail.last
        own = contact.last_touch
        if own is None or own in gone or (latest is not None and latest.date >= own):
            fields["last_touch"] = latest.date if latest is not None else None
            fields["last_channel"] = latest.channel if latest is not None else ""
    steps = [r for r in undone if r.event in ("touch", "skip") and playbook is not None
             and r.playbook == contact.playbook and find_step(playbook, r.step) is not None]
    if steps and contact.last_step in {r.step for r in steps}:
        first = min(steps, key=lambda r: cursor_of(playbook, r.step, contact.started,
                                                   contact.last_touch))
        fields["last_step"] = step_before(playbook, first.step)
        stood = trail.step  # the journal's latest step that stands, since the latest start
        if by_hand(first) and stood is not None and stood.playbook == contact.playbook and \
                (contact.started is None or stood.date >= contact.started) and \
                find_step(playbook, stood.step) is not None:
            # `skip --step` may have jumped ahead of the step before it: the contact goes
            # back to where the journal says it stood, the steps between still to come
            fields["last_step"] = stood.step
        elif by_hand(first) and (contact.last_touch is None or (
                trail.last is not None and trail.last.date == contact.last_touch)):
            # no step of this start in the journal, and the ledger's touches are the
            # journal's (none typed in from before): the contact stood before the first step
            fields["last_step"] = ""
    if any(r.event == "status" and first_word(r.note) == "started"
           and r.playbook == contact.playbook for r in undone):
        fields["started"] = dict(trail.started).get(contact.playbook)
    row = contact.row
    if contact.status == "active" and any(r.event == "status" and r.note.startswith(PAUSE_ENDED)
                                          for r in undone):
        fields["status"] = "paused"
        row = {**row, "status": "paused"}
    st = state_of(contact._replace(row=row, **fields), trail, playbooks)
    next_due = None
    if playbook is not None and st.started is not None:
        next_due = upcoming(st, playbooks, today, condition)
    changes = {k: v for k, v in changes_of(contact, st, next_due).items() if k in STATE_CELLS}
    if changes.get("touches") == "0":
        changes["touches"] = ""  # a touches of 0 is an empty cell (SPEC section 9)
    return changes

"""The scheduling engine: what is due, what `run` changes, what comes next.

Pure: it reads the frozen model and `today`, and returns values. No files, no clock, no YAML,
no Jinja (an `if` rule is tested through the `condition` the caller passes in).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Mapping, Optional

from .model import Book, Condition, Contact, Entry, Outcome, Playbook, Touch, Trail
from .candidates import (
    BIRTHDAY_WINDOW, ONE_DAY, Candidate, State, candidates, missed_birthday,
)
from .steps import phase_at, phase_of_step



def state_of(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook]) -> State:
    """A contact's state: its ledger row and what its journal rows say (SPEC sections 5, 8)."""
    trail = trail or NO_TRAIL
    last_row = trail.last
    touch_dates = trail.recent
    last_touch = contact.last_touch
    if last_touch is not None and last_touch not in touch_dates:
        touch_dates = tuple(sorted(touch_dates + (last_touch,)))
    playbook = playbooks.get(contact.playbook)
    kind, rule, phase = "", -1, ""
    if last_touch is not None:
        kind = "manual"
        if last_row is not None and last_row.date == last_touch:
            kind, rule, phase = _kind_of(last_row, playbook)
        if playbook is not None and not phase:
            phase = phase_at(playbook, contact.started, last_touch).name
    return State(
        contact=contact, playbook=contact.playbook, started=contact.started,
        status=contact.status or "active", paused_until=contact.paused_until,
        touches=max(contact.touches, 0), last_touch=last_touch,
        last_channel=contact.last_channel or (last_row.channel if last_row else ""),
        last_step=contact.last_step, last_kind=kind, last_rule=rule, last_phase=phase,
        last_reply=contact.last_reply, touch_dates=touch_dates,
        replies=trail.replies, birthday_done=trail.birthday_done,
        callback_done=trail.callback_done, no_reply_done=trail.no_reply_done,
    )


NO_TRAIL = Trail()


def _kind_of(row: Entry, playbook: Optional[Playbook]) -> tuple:
    """(kind, rule, phase) of a journal touch: a playbook step (and its phase), a rule (and
    which), or a person."""
    if row.step == "no_reply":
        rules = playbook.no_reply if playbook else ()
        matches = [i for i, r in enumerate(rules) if r.template == row.template]
        matches = matches or [i for i, r in enumerate(rules) if r.then == row.channel]
        # An unknown rule ends the ladder rather than starting it again.
        return "no_reply", (max(matches) if matches else len(rules)), ""
    if row.step in ("callback", "birthday"):
        return row.step, -1, ""
    phase = phase_of_step(playbook, row.step) if playbook is not None and row.step else None
    if phase:
        return "step", -1, phase
    return "manual", -1, ""


# --- one contact, one day --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Day:
    """What one day does to one contact: the touch, the journal rows, the state after."""

    touch: Optional[Touch]
    entries: tuple
    state: State
    next_due: Optional[date]


def _entry(st: State, today: date, event: str, cand: Optional[Candidate] = None,
           note: str = "", day: Optional[date] = None) -> Entry:
    return Entry(
        date=day or today, contact=st.contact.id, event=event, playbook=st.playbook,
        step=cand.step if cand else "", channel=cand.channel if cand else "",
        template=cand.template if cand else "", note=note,
    )


def act_on_reply(st: State, playbooks: Mapping[str, Playbook]) -> tuple:
    """A reply not yet acted on: apply the playbook's `reply` rule. Returns (state, entries)."""
    if st.last_reply is None or st.last_reply in st.replies or st.status not in ("active", "paused"):
        return st, ()
    if st.last_touch is not None and st.last_reply < st.last_touch:
        return st, ()
    rule = playbooks[st.playbook].on_reply
    acted_in = st.playbook
    when = st.last_reply
    st = replace(st, replies=st.replies | {when})
    if rule.action == "stop":
        st, note = replace(st, status="replied"), "reply: stop"
    elif rule.action == "pause":
        until = rule.duration.add(when)
        st, note = replace(st, status="paused", paused_until=until), f"reply: pause until {until}"
    elif rule.action == "move":
        st = replace(st, playbook=rule.playbook, started=when, last_step="", status="active")
        note = f"reply: move to {rule.playbook}"
    else:
        note = "reply: continue"
    entry = Entry(date=when, contact=st.contact.id, event="reply", playbook=acted_in, note=note)
    return st, (entry,)


def _to_touch(st: State, playbook: Playbook, cand: Candidate, today: date) -> Touch:
    return Touch(
        contact=st.contact.id, name=st.contact.name, playbook=playbook.name, phase=cand.phase,
        step=cand.step, channel=cand.channel, template=cand.template, due=cand.date,
        overdue=max(0, (today - cand.date).days), reason=cand.reason,
        number=st.touches + 1, why=cand.why, detail=cand.detail,
        time=st.contact.callback_time if cand.reason == "callback" else "",
    )


def _after_touch(st: State, cand: Candidate, today: date) -> State:
    changes = dict(
        touches=st.touches + 1, last_touch=today, last_channel=cand.channel,
        last_kind="step" if cand.reason == "step" else cand.reason, last_rule=cand.rule,
        last_phase=cand.phase, touch_dates=st.touch_dates + (today,),
    )
    if cand.reason == "step":
        changes["last_step"] = cand.step
    elif cand.reason == "birthday":
        changes["birthday_done"] = today
    elif cand.reason == "callback":
        changes["callback_done"] = today
    return replace(st, **changes)


def _after_skip(st: State, cand: Candidate, today: date) -> State:
    if cand.reason == "step":
        return replace(st, last_step=cand.step)
    if cand.reason == "birthday":
        return replace(st, birthday_done=today)
    if cand.reason == "callback":
        return replace(st, callback_done=today)
    return replace(st, no_reply_done=today)


def day(st: State, playbooks: Mapping[str, Playbook], today: date,
        condition: Optional[Condition] = None, want_next: bool = True) -> Day:
    """Everything that happens to one contact on `today`, as `run` would do it.

    `want_next=False` is for `due`, which shows only what is due today: no candidate that
    cannot come by today is worked out, and the next touch is not either (`next_due` is None).
    """
    entries = []
    if not st.playbook:
        return Day(None, (), st, st.contact.next_due)
    if st.started is None:
        st = replace(st, started=today)
    st, replied = act_on_reply(st, playbooks)
    entries.extend(replied)
    if st.status == "paused" and st.paused_until is not None and st.paused_until <= today:
        st = replace(st, status="active")
        entries.append(_entry(st, today, "status", note=f"active again after a pause until {st.paused_until}"))
    if st.status != "active" or "all" in st.contact.optout:
        return Day(None, tuple(entries), st, None)
    playbook = playbooks[st.playbook]
    missed = missed_birthday(playbook, st, today)
    if missed is not None:
        skip = Candidate("birthday", "birthday", phase_at(playbook, st.started, today).name,
                         "", playbook.birthday.template, today)
        # Dated when the window closed, so that it cannot count for this year's birthday.
        closed = missed + timedelta(days=BIRTHDAY_WINDOW)
        entries.append(_entry(st, today, "skip", skip, day=closed,
                              note=f"birthday {missed} not greeted within {BIRTHDAY_WINDOW} days"))
        st = _after_skip(st, skip, closed)
    touch = None
    for _ in range(64):  # each pass journals at least one skip; a playbook has few steps
        found, step_skips = candidates(st, playbook, today, condition,
                                       None if want_next else today)
        for skip in step_skips:
            entries.append(_entry(st, today, "skip", skip, note=skip.skip))
            st = _after_skip(st, skip, today)
        due_now = next((c for c in found if c.date <= today), None)
        if due_now is None:
            break
        if due_now.skip:
            entries.append(_entry(st, today, "skip", due_now, note=due_now.skip))
            st = _after_skip(st, due_now, today)
            continue
        touch = _to_touch(st, playbook, due_now, today)
        entries.append(_entry(st, today, "touch", due_now, note=due_now.detail))
        st = _after_touch(st, due_now, today)
        if due_now.reason == "no_reply":
            # the ladder stands where a later run reads it from the journal row, which names
            # the rule only by its template: the same answer today and tomorrow
            st = replace(st, last_rule=_kind_of(entries[-1], playbook)[1])
        break
    if not want_next:
        return Day(touch, tuple(entries), st, None)
    if touch is not None or entries:
        found, _ = candidates(st, playbook, today, condition)
    next_due = min((c.date for c in found if not c.skip), default=None)
    return Day(touch, tuple(entries), st, next_due)


# --- what `run` writes -----------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def changes_of(contact: Contact, after: State, next_due: Optional[date]) -> dict:
    """The ledger cells that differ, as text: only what the day changed."""
    before = {
        "playbook": contact.playbook, "started": contact.started,
        "status": contact.status or "active", "paused_until": contact.paused_until,
        "touches": contact.touches, "last_touch": contact.last_touch,
        "last_channel": contact.last_channel, "last_step": contact.last_step,
        "next_due": contact.next_due,
    }
    now = {
        "playbook": after.playbook, "started": after.started, "status": after.status,
        "paused_until": after.paused_until, "touches": after.touches,
        "last_touch": after.last_touch, "last_channel": after.last_channel,
        "last_step": after.last_step, "next_due": next_due,
    }
    return {key: _text(now[key]) for key in now if now[key] != before[key]}


def advance(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook],
            today: date, condition: Optional[Condition] = None) -> Outcome:
    """What `run` does to one contact today: its touch, journal rows and changed cells."""
    st = state_of(contact, trail, playbooks)
    result = day(st, playbooks, today, condition)
    if not st.playbook:
        return Outcome(contact.id)
    return Outcome(contact.id, result.touch, result.entries,
                   changes_of(contact, result.state, result.next_due))


def due(book: Book, today: date) -> list:
    """The touches due on `today`, sorted by date, then contact id."""
    touches = []
    for contact in book.contacts:
        if not contact.playbook or "all" in contact.optout:
            continue
        if contact.status not in ("active", "paused") or (
                contact.status == "paused" and (contact.paused_until is None
                                                or contact.paused_until > today)):
            continue  # nothing can be due, whatever its journal says
        st = state_of(contact, book.trails.get(contact.id), book.playbooks)
        touch = day(st, book.playbooks, today, book.condition, want_next=False).touch
        if touch is not None:
            touches.append(touch)
    touches.sort(key=lambda t: (t.due, t.contact))
    return touches


def run(book: Book, today: date) -> list:
    """Every contact's outcome for `today`, in ledger order."""
    return [advance(c, book.trails.get(c.id), book.playbooks, today, book.condition)
            for c in book.contacts]


def plan(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook],
         today: date, days: int = 90, condition: Optional[Condition] = None) -> list:
    """The contact's coming touches from `today` for `days` days, if nobody replies."""
    if not contact.playbook:
        return []
    st = state_of(contact, trail, playbooks)
    end = today + timedelta(days=days)
    current = today
    touches = []
    while current <= end:
        result = day(st, playbooks, current, condition)
        if result.touch is not None:
            touches.append(result.touch)
        st = result.state
        upcoming = result.next_due
        if upcoming is None and st.status == "paused" and st.paused_until is not None:
            upcoming = st.paused_until  # the contact resumes then
        if upcoming is None:
            break
        current = max(current + ONE_DAY, upcoming)
    return touches


def upcoming(st: State, playbooks: Mapping[str, Playbook], today: date,
             condition: Optional[Condition] = None) -> Optional[date]:
    """The date of the contact's next touch as things stand (on or before today when due)."""
    if not st.playbook or st.status != "active" or "all" in st.contact.optout:
        return None
    found, _ = candidates(st, playbooks[st.playbook], today, condition)
    return min((c.date for c in found if not c.skip), default=None)

"""The scheduling engine: what is due, what `run` changes, what comes next.

Pure: it reads the frozen model and `today`, and returns values. No files, no clock, no YAML,
no Jinja (an `if` rule is tested through the `condition` the caller passes in). A contact's
state comes from cadence.state (its ledger row and its journal), the candidates of SPEC
section 5 from cadence.candidates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping, Optional

from .candidates import (
    BIRTHDAY_WINDOW, NO_CALLBACK, ONE_DAY, Candidate, agreed_call, birthday_near, candidates,
    honours_callback, missed_birthday, void_callback,
)
from .ladder import named
from .model import (
    LAST_YEAR, Book, Condition, Contact, Entry, Outcome, Playbook, Touch, Trail, channel_items,
    pause_end,
)
from .state import PAUSE_ENDED, State, callback_text, kept_status, kind_of, state_of
from .steps import phase_at

__all__ = ["State", "state_of", "day", "advance", "due", "run", "plan", "foresee", "upcoming",
           "changes_of", "act_on_reply", "reply_decision", "honours_callback", "skipped",
           "void_callback", "ahead"]


@dataclass(frozen=True, slots=True)
class Day:
    """What one day does to one contact: the touch, the journal rows, the state after."""

    touch: Optional[Touch]
    entries: tuple
    state: State
    next_due: Optional[date]
    skipped: Optional[Touch] = None  # the touch a person skipped (`day(..., by_hand=...)`)
    wake: Optional[date] = None  # the next day anything happens: a touch, or a skip to journal


def _entry(st: State, today: date, event: str, cand: Optional[Candidate] = None,
           note: str = "", day: Optional[date] = None, playbook: str = "") -> Entry:
    return Entry(
        date=day or today, contact=st.contact.id, event=event, playbook=playbook or st.playbook,
        step=cand.step if cand else "", channel=cand.channel if cand else "",
        template=cand.template if cand else "", note=note,
    )


def act_on_reply(st: State, playbooks: Mapping[str, Playbook]) -> tuple:
    """A reply not yet acted on: apply the playbook's `reply` rule. Returns (state, entries);
    a move journals the new playbook's start too (SPEC section 9)."""
    when = st.last_reply
    if when is None or (st.last_touch is not None and when < st.last_touch):
        return st, ()
    acted_in = st.playbook
    st, note, started = reply_decision(st, playbooks, when)
    if not note:
        return st, ()
    entry = Entry(date=when, contact=st.contact.id, event="reply", playbook=acted_in, note=note)
    return st, (entry,) + started


def reply_decision(st: State, playbooks: Mapping[str, Playbook], when: date) -> tuple:
    """Act on a reply dated `when` by the playbook's `reply` rule (SPEC section 5): (state,
    what was decided as `reply: stop` ..., the rows of a move's start); (state, "", ()) when
    the reply is not acted on: one of that day was, or the status takes no replies."""
    if when in st.replies or st.status not in ("active", "paused") or st.playbook not in playbooks:
        return st, "", ()
    rule = playbooks[st.playbook].on_reply
    st = st._replace(replies=st.replies | {when})
    started = ()
    if rule.action == "stop":
        st, note = st._replace(status="replied"), "reply: stop"  # paused_until as it was
    elif rule.action == "pause":
        until = pause_end(rule.duration, when)
        st, note = st._replace(status="paused", paused_until=until), f"reply: pause until {until}"
    elif rule.action == "move":
        st = st._replace(playbook=rule.playbook, started=when, last_step="", step_date=None,
                         status="active", paused_until=None)
        note = f"reply: move to {rule.playbook}"
        started = (Entry(date=when, contact=st.contact.id, event="status", playbook=rule.playbook,
                         note="started"),)
    else:
        note = "reply: continue"
    return st, note, started


def _to_touch(st: State, playbook: Playbook, cand: Candidate, today: date) -> Touch:
    phase = cand.phase
    if cand.reason != "step":  # a rule's touch is made in the contact's phase when it is made
        phase = phase_at(playbook, st.started, max(cand.date, today)).name
    return Touch(
        contact=st.contact.id, name=st.contact.name, playbook=playbook.name, phase=phase,
        step=cand.step, channel=cand.channel, template=cand.template, due=cand.date,
        overdue=max(0, (today - cand.date).days), reason=cand.reason,
        number=st.touches + 1, why=cand.why, detail=cand.detail,
        time=st.contact.callback_time if cand.reason == "callback" else "",
    )


def _after_touch(st: State, cand: Candidate, today: date) -> State:
    dates = st.touch_dates
    if st.typed_touch is not None:  # the ledger no longer holds it: a later run cannot see it
        dates = tuple(d for d in dates if d != st.typed_touch)
    changes = dict(
        touches=st.touches + 1, last_touch=today, last_channel=cand.channel,
        last_kind="step" if cand.reason == "step" else cand.reason, last_rule=cand.rule,
        last_phase=cand.phase, touch_dates=dates + (today,) if not dates or dates[-1] <= today
        else tuple(sorted(dates + (today,))),  # a touch journaled ahead
        last_playbook=st.playbook, typed_touch=None,
        # a bounce before this touch says nothing of it unless its address is the cell's own
        bounced=st.bounced if st.bounced is not None and st.bounced >= today
        else st.address_bounced,
    )
    if cand.reason == "step":
        changes.update(last_step=cand.step, step_date=today, step_by_hand=False)
    elif cand.reason == "birthday":
        changes["birthday_done"] = today
    elif cand.reason == "callback":
        changes["callback_done"] = today
    return st._replace(**changes)


def skipped(st: State, touch, day: date) -> State:
    """The state after a person skips a touch (or candidate) on `day`: a step counts as done
    as if made then, a rule's touch (call-back, birthday, no_reply) as dealt with."""
    after = _after_skip(st, touch, day)
    return after._replace(step_by_hand=True) if touch.reason == "step" else after


def _after_skip(st: State, cand: Candidate, day: date) -> State:
    if cand.reason == "step":
        return st._replace(last_step=cand.step, step_date=day, step_by_hand=False)
    if cand.reason == "birthday":
        return st._replace(birthday_done=day)
    if cand.reason == "callback":
        return st._replace(callback_done=day)
    return st._replace(no_reply_done=day)


def day(st: State, playbooks: Mapping[str, Playbook], today: date,
        condition: Optional[Condition] = None, want_next: bool = True,
        by_hand: Optional[tuple] = None) -> Day:
    """Everything that happens to one contact on `today`, as `run` would do it.

    `want_next=False` is for `due`, which shows only what is due today: no candidate that
    cannot come by today is worked out, and the next touch is not either (`next_due` is None).
    `by_hand=(step, note)` is for `cadence skip`: no touch is made; the touch due today, if its
    step is `step` (any when empty), is journaled as a skip with `note` (`Day.skipped`).
    """
    entries = []
    if not st.playbook:
        return Day(None, (), st, st.contact.next_due)
    entries.extend(_entry(st, today, event, note=note, day=when)
                   for event, note, when in st.decisions)
    if st.started is None:  # enrolled today (SPEC section 9: a `started` row)
        st = st._replace(started=today)
        entries.append(_entry(st, today, "status", note="started"))
        kept = kept_status(st, today)
        if kept:
            entries.append(_entry(st, today, "status", note=kept))
    st, replied = act_on_reply(st, playbooks)
    entries.extend(replied)
    if st.status == "paused" and st.paused_until is not None and st.paused_until <= today:
        st = st._replace(status="active")
        entries.append(_entry(st, today, "status", note=f"{PAUSE_ENDED} until {st.paused_until}"))
    playbook = playbooks[st.playbook]
    active = st.status == "active" and "all" not in st.contact.optout
    if not active and not (honours_callback(st) and st.contact.callback is not None):
        return Day(None, tuple(entries), st, None)
    if active:
        missed = missed_birthday(playbook, st, today)
        if missed is not None:
            skip = Candidate("birthday", "birthday", phase_at(playbook, st.started, today).name,
                             "", playbook.birthday.template, today)
            # Dated when the window closed, so that it cannot count for this year's birthday.
            closed = missed + timedelta(days=BIRTHDAY_WINDOW)
            entries.append(_entry(st, today, "skip", skip, day=closed,
                                  note=f"birthday {missed} not greeted within {BIRTHDAY_WINDOW} days"))
            st = _after_skip(st, skip, closed)
    horizon = None if want_next else today
    touch = None
    for _ in range(256):  # each pass journals at least one skip; a playbook has few steps
        found, step_skips = _weighed(st, playbook, today, condition, horizon, active)
        for skip in step_skips:
            entries.append(_entry(st, today, "skip", skip, note=skip.skip, day=skip.date))
            st = _after_skip(st, skip, skip.date)
        if step_skips:
            # what comes next is worked out from the state after them, as a run on each
            # skip's own day would have it: the answer cannot depend on which days cron ran
            continue
        due_now = next((c for c in found if c.date <= today), None)
        if due_now is None:
            break
        if due_now.skip:
            entries.append(_entry(st, today, "skip", due_now, note=due_now.skip))
            st = _after_skip(st, due_now, today)
            continue
        if by_hand is not None:
            wanted, note = by_hand
            if not wanted or wanted == due_now.step:
                entries.append(_entry(st, today, "skip", due_now, note=note))
                st = skipped(st, due_now, today)
                passed = _to_touch(st, playbook, due_now, today)
                return Day(None, tuple(entries), st, _next(st, playbook, today, condition, active)
                           if want_next else None, passed)
            break
        touch = _to_touch(st, playbook, due_now, today)
        note = due_now.detail if due_now.reason != "no_reply" else named(
            due_now.detail, due_now.template, due_now.channel, due_now.rule, playbook.no_reply)
        entries.append(_entry(st, today, "touch", due_now, note=note))
        # a rule's touch is in the phase of the day it is made, as a later run reads it
        st = _after_touch(st, due_now._replace(phase=touch.phase), today)
        if due_now.reason == "no_reply":
            # the ladder stands where a later run reads it from the journal row (its
            # template, channel and note: ladder.rule_of): the same answer today and tomorrow
            st = st._replace(last_rule=kind_of(entries[-1], playbook)[1])
        break
    if not want_next:
        return Day(touch, tuple(entries), st, None)
    if touch is not None or entries:
        found, _ = _weighed(st, playbook, today, condition, None, active)
    next_due = min((c.date for c in found if not c.skip), default=None)
    return Day(touch, tuple(entries), st, next_due, wake=min((c.date for c in found),
                                                             default=None))


def _next(st, playbook, today, condition, active) -> Optional[date]:
    found, _ = _weighed(st, playbook, today, condition, None, active)
    return min((c.date for c in found if not c.skip), default=None)


def _weighed(st, playbook, today, condition, horizon, active) -> tuple:
    """The candidates of an active contact, or only the agreed call of one that is not."""
    if active:
        return candidates(st, playbook, today, condition, horizon)
    call = agreed_call(playbook, st, today, horizon)
    return (call,) if call is not None else (), []


# --- what `run` writes -----------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# the cells changes_of may write (plan writes them into the row an `if` rule reads)
WRITTEN = frozenset({"playbook", "started", "status", "paused_until", "touches", "last_touch",
                     "last_channel", "last_step", "last_reply", "next_due", "callback"})


def changes_of(contact: Contact, after: State, next_due: Optional[date]) -> dict:
    """The ledger cells that differ, as text: only what the day changed (or the journal
    restored)."""
    before = {
        "playbook": contact.playbook, "started": contact.started,
        "status": contact.status or "active", "paused_until": contact.paused_until,
        "touches": contact.touches, "last_touch": contact.last_touch,
        "last_channel": contact.last_channel, "last_step": contact.last_step,
        "last_reply": contact.last_reply, "next_due": contact.next_due,
    }
    if next_due is not None and next_due.year > LAST_YEAR:
        next_due = None  # past the dates cadence reads: nothing it can plan
    paused_until = after.paused_until
    if paused_until is not None and paused_until.year > LAST_YEAR:
        paused_until = date(LAST_YEAR, 12, 31)  # a pause past them: until their last day
    now = {
        "playbook": after.playbook, "started": after.started, "status": after.status,
        "paused_until": paused_until, "touches": after.touches,
        "last_touch": after.last_touch, "last_channel": after.last_channel,
        "last_step": after.last_step, "last_reply": after.last_reply, "next_due": next_due,
    }
    changes = {key: _text(now[key]) for key in now if now[key] != before[key]}
    if after.status_written and after.status == "active" and \
            not contact.row.get("status", "").strip():
        changes["status"] = "active"  # a rebuilt row says what the run that set it wrote
    agreed = callback_text(after.contact)
    if agreed != callback_text(contact):  # a call-back the journal restored
        changes["callback"] = agreed
    if contact.optout and "optout" in contact.row:
        cell = channel_items(contact.row["optout"])
        if "all" not in cell and any(c not in cell for c in contact.optout):
            changes["optout"] = ";".join(contact.optout)  # an opt-out the journal restored
    return changes


def advance(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook],
            today: date, condition: Optional[Condition] = None) -> Outcome:
    """What `run` does to one contact today: its touch, journal rows and changed cells."""
    st = state_of(contact, trail, playbooks)
    if not st.playbook:
        return Outcome(contact.id)
    result = day(st, playbooks, today, condition)
    return Outcome(contact.id, result.touch, result.entries,
                   changes_of(contact, result.state, result.next_due), st.restored)


def due(book: Book, today: date) -> list:
    """The touches due on `today`, sorted by date, then contact id."""
    touches = []
    for contact in book.contacts:
        if not _may_be_due(contact, today):
            continue
        st = state_of(contact, book.trails.get(contact.id), book.playbooks)
        touch = day(st, book.playbooks, today, book.condition, want_next=False).touch
        if touch is not None:
            touches.append(touch)
    touches.sort(key=lambda t: (t.due, t.contact))
    return touches


def _may_be_due(contact: Contact, today: date) -> bool:
    """False for a contact nothing can be due for today, whatever its journal says: no
    playbook, or a status typed in its row (which wins) that allows no touch and no call."""
    if not contact.playbook:
        return False
    if not contact.row.get("status", "").strip():
        return True  # the journal may say what the status is
    status = contact.status
    if status in NO_CALLBACK:
        return False
    if contact.callback is not None:
        return True
    if status == "paused":
        if "paused_until" not in contact.row:
            return True  # no such column: the journal's date holds (state.state_of)
        return contact.paused_until is not None and contact.paused_until <= today
    return status == "active"


def run(book: Book, today: date) -> list:
    """Every contact's outcome for `today`, in ledger order."""
    return [advance(c, book.trails.get(c.id), book.playbooks, today, book.condition)
            for c in book.contacts]


def plan(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook],
         today: date, days: int = 90, condition: Optional[Condition] = None) -> list:
    """The contact's coming touches in the `days` days from `today`, if nobody replies."""
    return [touch for touch, _ in ahead(contact, trail, playbooks, today, days, condition) if touch]


def foresee(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook],
            today: date, days: int = 90, condition: Optional[Condition] = None) -> tuple:
    """(touches, skips) of `plan`: the skips are the rows (Entry) that runs on those days
    would journal for steps passed over (a phase that ended first, no channel reaching)."""
    each = list(ahead(contact, trail, playbooks, today, days, condition))
    return [touch for touch, _ in each if touch], [e for _, skipped in each for e in skipped]


def ahead(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook],
          today: date, days: int = 90, condition: Optional[Condition] = None):
    """`foresee` as it goes, (touch or None, skips) a day: `skip` stops at the first touch."""
    if not contact.playbook:
        return
    st = state_of(contact, trail, playbooks)
    end = today + timedelta(days=days - 1)
    current = today
    # an `if` rule may read a cell a run writes (`touches`): it sees the row the runs left
    rewriting = {name for name, p in playbooks.items() if condition is not None and any(
        _reads_written(condition, rule.expr) for rule in p.ifs)}
    written = contact  # the row as the runs so far left it
    while current <= end:
        result = day(st, playbooks, current, condition)
        skips = [e for e in result.entries if e.event == "skip" and today <= e.date <= end]
        yield result.touch, skips
        st = result.state
        # the next day a run does anything: a touch, a skip (journaled on its day, as a run
        # every day would), or the end of a pause; every day where an `if` rule reads a cell
        # a run writes (a skip journaled on its day changes it before the next touch)
        wake = result.wake
        if st.playbook in rewriting:
            written = _written(written, st, result.next_due)
            st = st._replace(contact=st.contact._replace(row=written.row))
            wake = current + ONE_DAY
        if st.status == "paused" and st.paused_until is not None and st.paused_until > current:
            wake = st.paused_until if wake is None else min(wake, st.paused_until)
        if wake is None:
            break
        current = max(current + ONE_DAY, wake)


def _reads_written(condition: Condition, expr: str) -> bool:
    """Does an `if` rule read a cell a run writes? (`contact.age` does not: `plan` need not
    write each day's cells into the row it tests.)"""
    reads = getattr(condition, "reads", None)
    columns = reads(expr) if reads is not None else None
    return columns is None or not WRITTEN.isdisjoint(columns)


def _written(contact: Contact, st: State, next_due: Optional[date]) -> Contact:
    """The row `contact` once a run has written `st` and `next_due` into it."""
    changes = changes_of(contact, st, next_due)
    if not changes:
        return contact
    return contact._replace(
        row={**contact.row, **changes}, playbook=st.playbook, started=st.started,
        status=st.status, paused_until=st.paused_until, touches=st.touches,
        last_touch=st.last_touch, last_channel=st.last_channel, last_step=st.last_step,
        last_reply=st.last_reply, next_due=next_due)


def upcoming(st: State, playbooks: Mapping[str, Playbook], today: date,
             condition: Optional[Condition] = None) -> Optional[date]:
    """The date of the contact's next touch as things stand (on or before today when due);
    None for a contact not enrolled yet (its first `run` enrols it and works it out)."""
    if not st.playbook or st.playbook not in playbooks or st.started is None:
        return None
    active = st.status == "active" and "all" not in st.contact.optout
    if not active and not honours_callback(st):
        return None
    found, _ = _weighed(st, playbooks[st.playbook], today, condition, None, active)
    return min((c.date for c in found if not c.skip), default=None)

"""The scheduling engine: what is due, what `run` changes, what comes next.

Pure: it reads the frozen model and `today`, and returns values. No files, no clock, no YAML,
no Jinja (an `if` rule is tested through the `condition` the caller passes in).
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import replace
from datetime import date, timedelta
from typing import Mapping, Optional

from .model import (
    REACH, Book, Condition, Contact, Entry, Outcome, Phase, Playbook, Touch,
)
from .records import frozen

ONE_DAY = timedelta(days=1)
BIRTHDAY_WINDOW = 7  # days after a birthday in which a late greeting is still made


# --- the contact's state as the engine sees it -----------------------------------------------

@frozen(slots=True)
class State:
    """A contact's ledger fields plus what the engine needs from its journal rows."""

    contact: Contact
    playbook: str
    started: Optional[date]
    status: str
    paused_until: Optional[date]
    touches: int
    last_touch: Optional[date]
    last_channel: str
    last_step: str
    last_kind: str  # step | no_reply | callback | birthday | manual | "" (no touch yet)
    last_rule: int  # index of the no_reply rule that made the last touch, else -1
    last_phase: str
    last_reply: Optional[date]
    touch_dates: tuple  # sorted dates of every touch, for the per-week cap
    replies: frozenset  # reply dates already acted on
    birthday_done: Optional[date]  # latest birthday touch or skip
    callback_done: Optional[date]  # latest call-back touch or skip
    no_reply_done: Optional[date]  # latest skip of a no_reply touch


@frozen(slots=True)
class Candidate:
    """A touch the engine weighs: its kind, nominal date, date after the limits' moves."""

    reason: str
    step: str
    phase: str
    channel: str
    template: str
    date: date
    why: str = ""
    detail: str = ""
    rule: int = -1
    skip: str = ""  # why it cannot be made (no allowed channel), empty when it can


def _latest(a: Optional[date], b: Optional[date]) -> Optional[date]:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def state_of(contact: Contact, history: tuple, playbooks: Mapping[str, Playbook]) -> State:
    """Read a contact's state from its ledger row and its journal rows (oldest first)."""
    touch_dates = []
    last_row = None
    replies = set()
    birthday_done = callback_done = no_reply_done = None
    for row in history:
        if row.event == "touch":
            touch_dates.append(row.date)
            if last_row is None or row.date >= last_row.date:
                last_row = row
        elif row.event == "reply":
            replies.add(row.date)
        if row.event in ("touch", "skip"):
            if row.step == "birthday":
                birthday_done = _latest(birthday_done, row.date)
            elif row.step == "callback":
                callback_done = _latest(callback_done, row.date)
            elif row.step == "no_reply" and row.event == "skip":
                no_reply_done = _latest(no_reply_done, row.date)
    last_touch = contact.last_touch
    if last_touch is not None and last_touch not in touch_dates:
        touch_dates.append(last_touch)
    touch_dates.sort()
    playbook = playbooks.get(contact.playbook)
    kind, rule, phase = "", -1, ""
    if last_touch is not None:
        kind = "manual"
        if last_row is not None and last_row.date == last_touch:
            kind, rule = _kind_of(last_row, playbook)
        if playbook is not None:
            if kind == "step":
                phase = _phase_of_step(playbook, last_row.step) or ""
            if not phase:
                phase = phase_at(playbook, contact.started, last_touch).name
    return State(
        contact=contact, playbook=contact.playbook, started=contact.started,
        status=contact.status or "active", paused_until=contact.paused_until,
        touches=max(contact.touches, 0), last_touch=last_touch,
        last_channel=contact.last_channel or (last_row.channel if last_row else ""),
        last_step=contact.last_step, last_kind=kind, last_rule=rule, last_phase=phase,
        last_reply=contact.last_reply, touch_dates=tuple(touch_dates),
        replies=frozenset(replies), birthday_done=birthday_done,
        callback_done=callback_done, no_reply_done=no_reply_done,
    )


def _kind_of(row: Entry, playbook: Optional[Playbook]) -> tuple:
    """What made a journal touch: a playbook step, a rule (and which), or a person."""
    if row.step == "no_reply":
        rules = playbook.no_reply if playbook else ()
        matches = [i for i, r in enumerate(rules) if r.template == row.template]
        matches = matches or [i for i, r in enumerate(rules) if r.then == row.channel]
        # An unknown rule ends the ladder rather than starting it again.
        return "no_reply", (max(matches) if matches else len(rules))
    if row.step in ("callback", "birthday"):
        return row.step, -1
    if playbook is not None and row.step and _phase_of_step(playbook, row.step):
        return "step", -1
    return "manual", -1


_PERIODIC_ID = re.compile(r"^(.*)-(\d+)$")


def _phase_of_step(playbook: Playbook, step_id: str) -> Optional[str]:
    found = _find_step(playbook, step_id)
    return playbook.phases[found[0]].name if found else None


_INDEX: dict = {}  # id(playbook) -> (playbook, {step id: (phase index, step index)})


def _step_index(playbook: Playbook) -> dict:
    """Step ids of a playbook, built once: the engine looks steps up for every contact."""
    cached = _INDEX.get(id(playbook))
    if cached is None or cached[0] is not playbook:
        index = {step.id: (pi, si) for pi, phase in enumerate(playbook.phases)
                 for si, step in enumerate(phase.steps)}
        periodic = {phase.name: pi for pi, phase in enumerate(playbook.phases) if phase.periodic}
        cached = _INDEX[id(playbook)] = (playbook, index, periodic)
    return cached


def _find_step(playbook: Playbook, step_id: str) -> Optional[tuple]:
    """(phase index, step index) of a timed step, or (phase index, n) of a periodic touch."""
    _, index, periodic = _step_index(playbook)
    if step_id in index:
        return index[step_id]
    found = None
    match = _PERIODIC_ID.match(step_id or "")
    if match and match.group(1) in periodic and int(match.group(2)) >= 1:
        found = periodic[match.group(1)], int(match.group(2))
    index[step_id] = found  # periodic ids and unknown ones, looked up once a playbook
    return found


def _end(playbook: Playbook, pi: int, started: date) -> Optional[date]:
    phase = playbook.phases[pi]
    return phase.until.add(started) if phase.until is not None else None


def phase_at(playbook: Playbook, started: Optional[date], day: date) -> Phase:
    """The phase a date falls in: the first whose end is on or after it, else the last."""
    if started is not None:
        for pi, phase in enumerate(playbook.phases):
            end = _end(playbook, pi, started)
            if end is not None and day <= end:
                return phase
        return playbook.phases[-1]
    return playbook.phases[0]


# --- where a contact stands in its playbook --------------------------------------------------

def _nominal(playbook: Playbook, started: date):
    """Each step's date if every touch fell on its day: for reading a stale `last_step`."""
    prev = started
    for pi, phase in enumerate(playbook.phases):
        end = _end(playbook, pi, started)
        floor = _end(playbook, pi - 1, started) if pi else None
        if not phase.periodic:
            for si, step in enumerate(phase.steps):
                day = step.at.add(started) if step.at is not None else step.after.add(prev)
                if floor is not None:
                    day = max(day, floor)
                yield (pi, si + 1), day
                prev = day
        else:
            n = 0
            while True:
                day = phase.every.add(prev)
                if floor is not None:
                    day = max(day, floor)
                if (end is not None and day > end) or n > 400:
                    break
                n += 1
                yield (pi, n), day
                prev = day


def cursor_of(playbook: Playbook, last_step: str, started: Optional[date],
              last_touch: Optional[date]) -> tuple:
    """(phase index, k) of the next step: k is a step index, or touches made in a periodic phase.

    A `last_step` the playbook no longer has is read as the last step whose date falls on or
    before `last_touch`.
    """
    if not last_step:
        return (0, 0)
    found = _find_step(playbook, last_step)
    if found is not None:
        pi, k = found
        return (pi, k) if playbook.phases[pi].periodic else (pi, k + 1)
    cursor = (0, 0)
    if started is not None and last_touch is not None:
        for after, day in _nominal(playbook, started):
            if day > last_touch:
                break
            cursor = after
    return cursor


def is_stranded(contact: Contact, playbook: Playbook) -> bool:
    """Does the contact's `last_step` name a step its playbook no longer has?"""
    return bool(contact.last_step) and _find_step(playbook, contact.last_step) is None


# --- the moves of SPEC section 5 -------------------------------------------------------------

def _move(day: date, st: State, playbook: Playbook) -> tuple:
    """Move a date by the pause, min_gap, per-week cap and calendar; say why for people."""
    why = []
    if st.paused_until is not None and day < st.paused_until:
        day = st.paused_until
        why.append(f"paused until {st.paused_until}")
    limits = playbook.limits
    if st.last_touch is not None:
        floor = st.last_touch + ONE_DAY
        if limits.min_gap is not None:
            floor = max(floor, limits.min_gap.add(st.last_touch))
        if day < floor:
            day = floor
            why.append(f"min_gap {limits.min_gap} after {st.last_touch}" if limits.min_gap
                       else f"one touch a day after {st.last_touch}")
    if limits.per_week:
        dates = st.touch_dates
        moved = False
        while bisect_right(dates, day) - bisect_left(dates, day - 6 * ONE_DAY) >= limits.per_week:
            day += ONE_DAY
            moved = True
        if moved:
            why.append(f"per_week {limits.per_week}")
    calendar = playbook.calendar
    if calendar.business_days and not calendar.is_working(day):
        day = calendar.next_working(day)
        why.append("next working day")
    return day, "; ".join(why)


# --- channels --------------------------------------------------------------------------------

def _allowed(channel: str, contact: Contact, playbook: Optional[Playbook]) -> bool:
    if "all" in contact.optout or channel in contact.optout:
        return False
    if contact.channels and channel not in contact.channels:
        return False
    if playbook is not None and channel not in playbook.channels:
        return False
    return contact.reachable(channel)


def resolve_channel(wanted: str, contact: Contact, playbook: Playbook,
                    agreed: bool = False) -> tuple:
    """(channel, "") or ("", why not): the step's channel, else the first allowed fallback.

    An agreed call-back is not held to the playbook's channels: the contact asked for it.
    """
    if _allowed(wanted, contact, None if agreed else playbook):
        return wanted, ""
    for channel in contact.channels or playbook.channels:
        if _allowed(channel, contact, playbook):
            return channel, ""
    reasons = []
    if "all" in contact.optout:
        reasons.append("opted out of everything")
    elif wanted in contact.optout:
        reasons.append(f"opted out of {wanted}")
    elif contact.channels and wanted not in contact.channels:
        reasons.append(f"{wanted} is not among the contact's channels")
    elif not contact.reachable(wanted):
        reasons.append(f"no {REACH.get(wanted, wanted)} for {wanted}")
    return "", "no allowed channel: " + ("; ".join(reasons) or f"{wanted} not usable")


# --- candidates ------------------------------------------------------------------------------

def _step_candidate(playbook: Playbook, st: State, today: date, channel_of) -> tuple:
    """The next playbook step, and the steps to skip on the way (ended phases, no channel).

    Returns (candidate or None, [skipped candidates whose date has come]).
    """
    skips = []
    started = st.started
    pi, k = cursor_of(playbook, st.last_step, started, st.last_touch)
    # the previous touch, if it was made under this playbook (a move restarts the count)
    anchor = st.last_touch if st.last_touch is not None and st.last_touch >= started else started
    passed = None  # date of a step passed over that will only be skipped on that date
    pending = None  # the first such skip still to be journaled
    while pi < len(playbook.phases):
        phase = playbook.phases[pi]
        end = _end(playbook, pi, started)
        floor = _end(playbook, pi - 1, started) if pi else None
        if phase.periodic:
            n = k + 1
            nominal = phase.every.add(anchor)
            step_id = f"{phase.name}-{n}"
            template = phase.templates[(n - 1) % len(phase.templates)]
            wanted = phase.channel
            nxt = (pi, n)
        else:
            if k >= len(phase.steps):
                pi, k = pi + 1, 0
                continue
            step = phase.steps[k]
            nominal = step.at.add(started) if step.at is not None else step.after.add(anchor)
            step_id, template, wanted = step.id, step.template, step.channel
            nxt = (pi, k + 1) if k + 1 < len(phase.steps) else (pi + 1, 0)
        if floor is not None and nominal < floor:
            nominal = floor
        if passed is not None and nominal < passed:
            nominal = passed  # steps keep their order
        day, why = _move(nominal, st, playbook)
        channel, no_channel = channel_of(wanted)
        cand = Candidate("step", step_id, phase.name, channel, template, day, why,
                         skip=no_channel)
        ended = end is not None and end < max(today, day)
        if ended or no_channel:
            # A late contact skips the rest of an ended phase; a touch with no allowed
            # channel is skipped and the contact moves on.  A periodic phase keeps one
            # channel, so none of it can be made: it is journaled once, on entering it.
            real = (end < today) if ended else day <= today
            journaled = not phase.periodic or k == 0
            if real and journaled:
                note = f"phase {phase.name} ended on {end}" if ended else no_channel
                skips.append(replace(cand, date=today, skip=note))
            elif not ended:
                passed = day
                if journaled and pending is None:
                    pending = day  # its skip is journaled on that day
            pi, k = (pi + 1, 0) if phase.periodic else nxt
            continue
        return cand, skips
    if pending is not None:
        # the last steps have no allowed channel: their skip, on its day, is still to come
        return Candidate("step", "", "", "", "", pending, skip="no allowed channel"), skips
    return None, skips


def _no_reply_candidate(playbook: Playbook, st: State) -> Optional[Candidate]:
    if st.last_touch is None or st.last_kind not in ("step", "manual", "no_reply"):
        return None
    if st.last_reply is not None and st.last_reply >= st.last_touch:
        return None
    if st.no_reply_done is not None and st.no_reply_done >= st.last_touch:
        return None
    for i, rule in enumerate(playbook.no_reply):
        if i <= st.last_rule:
            continue  # a ladder climbs: a rule's touch is answered only by a later rule
        if rule.after and st.last_channel not in rule.after:
            continue
        if rule.phases and st.last_phase not in rule.phases:
            continue
        day, why = _move(rule.wait.add(st.last_touch), st, playbook)
        phase = phase_at(playbook, st.started, day).name
        channel, skip = resolve_channel(rule.then, st.contact, playbook)
        return Candidate("no_reply", "no_reply", phase, channel, rule.template, day, why,
                         detail=f"no reply since {st.last_touch} ({st.last_channel})",
                         rule=i, skip=skip)
    return None


def _callback_candidate(playbook: Playbook, st: State) -> Optional[Candidate]:
    agreed = st.contact.callback
    if agreed is None:
        return None
    if st.last_touch is not None and st.last_touch >= agreed:
        return None
    if st.callback_done is not None and st.callback_done >= agreed:
        return None
    channel, skip = resolve_channel("call", st.contact, playbook, agreed=True)
    time = st.contact.callback_time
    detail = f"call-back agreed for {agreed}" + (f" at {time}" if time else "")
    return Candidate("callback", "callback", phase_at(playbook, st.started, agreed).name,
                     channel, playbook.callback_template, agreed, detail=detail, skip=skip)


def birthday_on(month_day: tuple, year: int) -> date:
    """The birthday in a year; Feb 29 is Feb 28 in other years."""
    month, day = month_day
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return date(year, 2, 28)
    return date(year, month, day)


def _birthday_candidate(playbook: Playbook, st: State, today: date) -> Optional[Candidate]:
    rule, born = playbook.birthday, st.contact.birthday
    if rule is None or born is None:
        return None
    window = timedelta(days=BIRTHDAY_WINDOW)
    year = (today - window).year
    occurrence = birthday_on(born, year)
    if occurrence + window < today:
        occurrence = birthday_on(born, year + 1)
    for _ in range(3):
        done = st.birthday_done is not None and st.birthday_done >= occurrence
        if not done:
            day, why = _move(occurrence, st, playbook)
            if day <= occurrence + window:
                channel, skip = resolve_channel(rule.channel, st.contact, playbook)
                return Candidate("birthday", "birthday",
                                 phase_at(playbook, st.started, day).name, channel,
                                 rule.template, day, why, detail=f"birthday on {occurrence}",
                                 skip=skip)
        occurrence = birthday_on(born, occurrence.year + 1)
    return None


def _missed_birthday(playbook: Playbook, st: State, today: date) -> Optional[date]:
    """The latest birthday whose window closed without a greeting since enrolment."""
    if playbook.birthday is None or st.contact.birthday is None or st.started is None:
        return None
    window = timedelta(days=BIRTHDAY_WINDOW)
    year = today.year
    occurrence = birthday_on(st.contact.birthday, year)
    while occurrence + window >= today:  # a late-December birthday is still open in January
        year -= 1
        occurrence = birthday_on(st.contact.birthday, year)
    if occurrence + window < st.started:
        return None
    if occurrence < history_since(st.last_touch, st.last_reply, None, today):
        # settled: the run that made a later touch saw it; a contact never touched reads
        # only a week of journal, so its missed birthdays leave no row
        return None
    if st.birthday_done is not None and st.birthday_done >= occurrence:
        return None
    return occurrence


def history_since(last_touch: Optional[date], last_reply: Optional[date],
                  callback: Optional[date], today: date) -> date:
    """The earliest journal date the engine reads for a contact on `today`.

    The per-week cap reaches back 6 days before the latest touch; the rule rows, replies and
    call-backs that matter are dated after it. Everything older is settled, so `due` need not
    read years of journal.
    """
    since = today - timedelta(days=BIRTHDAY_WINDOW)
    if last_touch is not None:
        since = min(since, last_touch - timedelta(days=6))
        if last_reply is not None and last_reply >= last_touch:
            since = min(since, last_reply)
    else:
        for day in (last_reply, callback):
            if day is not None:
                since = min(since, day)
    return since


# --- one contact, one day --------------------------------------------------------------------

@frozen
class Day:
    """What one day does to one contact: the touch, the journal rows, the state after."""

    touch: Optional[Touch]
    entries: tuple
    state: State
    next_due: Optional[date]
    next_event: Optional[date] = None  # the first candidate's date, skips included


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


def _channel_chooser(st: State, playbook: Playbook, condition: Optional[Condition]):
    """Resolve a step's channel; the `if` rules are tested once, and only when needed."""
    override = []

    def choose(wanted: str) -> tuple:
        if not override:
            found = ""
            if condition is not None:
                for rule in playbook.ifs:
                    if condition(rule, st.contact):
                        found = rule.channel
                        break
            override.append(found)
        return resolve_channel(override[0] or wanted, st.contact, playbook)

    return choose


def candidates(st: State, playbook: Playbook, today: date,
               condition: Optional[Condition] = None) -> tuple:
    """The candidates in the SPEC's order, and the step skips whose day has come."""
    step, skips = _step_candidate(playbook, st, today, _channel_chooser(st, playbook, condition))
    found = (_callback_candidate(playbook, st), _no_reply_candidate(playbook, st),
             _birthday_candidate(playbook, st, today), step)
    return tuple(c for c in found if c is not None), skips


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

    `want_next=False` skips working out the next touch after a day that changed the contact
    (`due` does not show it); a day that left it alone has it for free.
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
    missed = _missed_birthday(playbook, st, today)
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
        found, step_skips = candidates(st, playbook, today, condition)
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
    if touch is not None or entries:
        if not want_next:
            return Day(touch, tuple(entries), st, None)
        found, _ = candidates(st, playbook, today, condition)
    upcoming = [c for c in found if not c.skip]
    next_due = min((c.date for c in upcoming), default=None)
    return Day(touch, tuple(entries), st, next_due, min((c.date for c in found), default=None))


QUIET_HORIZON = timedelta(days=366)


def quiet_until(result: Day, playbooks: Mapping[str, Playbook], today: date) -> date:
    """The first day on which `day` may do anything to this contact again.

    `result` is what `day` did on `today`; take the contact as it stands after it (the row with
    today's changes written, the journal with today's rows appended): `day` leaves it alone
    on `today` (a second run does nothing) and on every day up to the answer: no candidate
    comes due, no phase ends, no birthday window closes, no pause ends. `due` and `run` need
    not look at such a row again before then (`cadence.cache`). Never later than a year on,
    so that nothing is trusted for ever.
    """
    st = result.state
    bounds = [today + QUIET_HORIZON]
    if not st.playbook or st.status not in ("active", "paused") or (
            "all" in st.contact.optout and st.status != "paused"):
        return bounds[0]  # nothing ever happens to it while its row stays as it is
    if st.started is None:
        return today  # `run` enrols it
    for day in (result.next_event, st.paused_until, st.contact.callback, st.last_reply):
        if day is not None and day > today:
            bounds.append(day)
    if st.status != "active":
        return min(bounds)
    playbook = playbooks[st.playbook]
    for pi in range(len(playbook.phases)):
        end = _end(playbook, pi, st.started)
        if end is not None and end >= today:
            bounds.append(end + ONE_DAY)  # a late step of the ended phase is skipped then
    if playbook.birthday is not None and st.contact.birthday is not None:
        closes = timedelta(days=BIRTHDAY_WINDOW + 1)
        for year in (today.year - 1, today.year, today.year + 1):
            occurrence = birthday_on(st.contact.birthday, year)
            for day in (occurrence, occurrence + closes):
                if day > today:
                    bounds.append(day)
    return min(bounds)


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


def advance(contact: Contact, history: tuple, playbooks: Mapping[str, Playbook], today: date,
            condition: Optional[Condition] = None, want_next: bool = True) -> Outcome:
    """What `run` does to one contact today; `quiet` when it does nothing (see `quiet_until`)."""
    st = state_of(contact, history, playbooks)
    result = day(st, playbooks, today, condition, want_next)
    if not st.playbook:
        return Outcome(contact.id, quiet=today + QUIET_HORIZON)
    if (result.touch is not None or result.entries) and not want_next:
        return Outcome(contact.id, result.touch, result.entries)  # `due`: no cells, no quiet
    changes = changes_of(contact, result.state, result.next_due)
    quiet = None
    if want_next or (result.touch is None and not result.entries and not changes):
        # the row as it stands after today's changes: a second run today does nothing
        quiet = quiet_until(result, playbooks, today)
    return Outcome(contact.id, result.touch, result.entries, changes, quiet)


def due(book: Book, today: date, quiet: Optional[dict] = None) -> list:
    """The touches due on `today`, sorted by date, then contact id.

    With a `quiet` dict, also fills it with {row index: `quiet_until`} for each contact that
    today leaves alone.
    """
    touches = []
    for contact in book.contacts:
        if quiet is not None:
            outcome = advance(contact, book.history.get(contact.id, ()), book.playbooks, today,
                              book.condition, want_next=False)
            if outcome.quiet is not None:
                quiet[contact.index] = outcome.quiet
            if outcome.touch is not None:
                touches.append(outcome.touch)
            continue
        if not contact.playbook or "all" in contact.optout:
            continue
        if contact.status not in ("active", "paused") or (
                contact.status == "paused" and (contact.paused_until is None
                                                or contact.paused_until > today)):
            continue  # nothing can be due: `day` would say so after reading its journal
        st = state_of(contact, book.history.get(contact.id, ()), book.playbooks)
        touch = day(st, book.playbooks, today, book.condition, want_next=False).touch
        if touch is not None:
            touches.append(touch)
    touches.sort(key=lambda t: (t.due, t.contact))
    return touches


def run(book: Book, today: date) -> list:
    """Every contact's outcome for `today`, in ledger order."""
    return [
        advance(c, book.history.get(c.id, ()), book.playbooks, today, book.condition)
        for c in book.contacts
    ]


def plan(contact: Contact, history: tuple, playbooks: Mapping[str, Playbook], today: date,
         days: int = 90, condition: Optional[Condition] = None) -> list:
    """The contact's coming touches from `today` for `days` days, if nobody replies."""
    if not contact.playbook:
        return []
    st = state_of(contact, history, playbooks)
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

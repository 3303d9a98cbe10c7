"""The candidates of SPEC section 5: the touches the engine weighs for one contact on one day
(a call-back, a `no_reply` rule, a birthday, the next step), each dated and moved by the pause,
the limits and the calendar. Pure, like the engine that uses them."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from typing import NamedTuple, Optional

from .model import Condition, Playbook
from .ladder import fell_back
from .state import State
from .steps import birthday_on, cursor_of, phase_at, phase_end, resolve_channel

ONE_DAY = timedelta(days=1)
BIRTHDAY_WINDOW = 7  # days after a birthday in which a late greeting is still made


class Candidate(NamedTuple):
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


# --- the moves of SPEC section 5 -------------------------------------------------------------

def _move(day: date, st: State, playbook: Playbook) -> tuple:
    """Move a date by the pause, min_gap, per-week cap and calendar; say why for people."""
    why = []
    if st.paused_until is not None and day < st.paused_until:
        day = st.paused_until
        why.append(f"paused until {st.paused_until}")
    limits = playbook.limits
    # the latest touch the ledger or the journal knows (a sheet downloaded again may lag)
    latest = st.touch_dates[-1] if st.touch_dates else st.last_touch  # sorted, with last_touch
    if latest is not None:
        floor = latest + ONE_DAY
        if limits.min_gap is not None:
            floor = max(floor, limits.min_gap.add(latest))
        if day < floor:
            day = floor
            why.append(f"min_gap {limits.min_gap} after {latest}" if limits.min_gap
                       else f"one touch a day after {latest}")
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


# --- candidates ------------------------------------------------------------------------------

def _step_candidate(playbook: Playbook, st: State, today: date, channel_of,
                    horizon: Optional[date] = None) -> tuple:
    """The next playbook step, and the steps to skip on the way (ended phases, no channel).

    Returns (candidate or None, [skipped candidates whose date has come]). With a `horizon`,
    a step that cannot come by then is not worked out: None stands for it.
    """
    skips = []
    started = st.started
    pi, k = cursor_of(playbook, st.last_step, started, st.last_touch)
    # the previous touch, if it was made under this playbook since it started (a move
    # restarts the count from the new start)
    anchor = started
    if st.last_touch is not None and st.last_touch >= started and st.last_playbook in (
            "", st.playbook):
        anchor = st.last_touch
    # a periodic phase counts on from its latest occurrence, made or skipped; its first one
    # from the previous touch (SPEC 5.4), or from a step a person skipped since (as if made
    # then), not from one skipped for want of a channel
    latest = max(anchor, st.step_date) if st.step_date is not None else anchor
    # date of a step passed over that will only be skipped on that date; a step row dated
    # ahead of today (`skip` dates a touch skipped by hand the day it was planned for) holds
    # the steps after it back to that day, so that the journal's latest step is the furthest
    # one (on that day itself they are due as their own dates say)
    passed = st.step_date if st.step_date is not None and st.step_date > today else None
    pending = None  # the first such skip still to be journaled
    held = []  # indexes in `skips` of the skips that stand only if a later step comes today
    while pi < len(playbook.phases):
        phase = playbook.phases[pi]
        end = phase_end(playbook, pi, started)
        floor = phase_end(playbook, pi - 1, started) if pi else None
        if phase.periodic:
            n = k + 1
            nominal = phase.every.add(latest if k or st.step_by_hand else anchor)
            step_id = f"{phase.name}-{n}"
            template = phase.templates[(n - 1) % len(phase.templates)]
            wanted, fallback = phase.channel, phase.fallback
            nxt = (pi, n)
        else:
            if k >= len(phase.steps):
                pi, k = pi + 1, 0
                continue
            step = phase.steps[k]
            nominal = step.at.add(started) if step.at is not None else step.after.add(anchor)
            step_id, template, wanted = step.id, step.template, step.channel
            fallback = step.fallback if step.fallback is not None else phase.fallback
            nxt = (pi, k + 1) if k + 1 < len(phase.steps) else (pi + 1, 0)
        if floor is not None and nominal < floor:
            nominal = floor
        if passed is not None and nominal < passed:
            nominal = passed  # steps keep their order
        if horizon is not None and nominal > horizon and end is None:
            return None, _unheld(skips, held)  # moves only put it later; its phase never ends
        day, why = _move(nominal, st, playbook)
        if horizon is not None and day > horizon and end is not None and end >= day:
            # later than the horizon, within its phase: the steps after it come later still
            return None, _unheld(skips, held)
        channel, no_channel = channel_of(wanted, fallback)
        cand = Candidate("step", step_id, phase.name, channel, template, day, why,
                         skip=no_channel)
        ended = end is not None and end < max(today, day)
        if phase.periodic and no_channel and not ended:
            # Each occurrence with no allowed channel is skipped on its own day, and the next
            # counts from it: the phase goes on, and a channel that comes back is used from
            # the next occurrence on, not at once.
            if day <= today:
                skips.append(cand)
                latest, k = day, n
                continue
            passed = day
            if pending is None:
                pending = day  # its skip is journaled on that day
            pi, k = pi + 1, 0
            continue
        if ended or no_channel:
            # A late contact skips the rest of an ended phase (a periodic phase it never
            # entered, once); a timed step with no allowed channel is skipped and the contact
            # moves on.
            real = (end < today) if ended else day <= today
            journaled = not phase.periodic or k == 0
            if real and journaled:
                # dated the day the step would have been made (today at the latest), and not
                # before the step before it (an `at` step may fall before an `after` one, a
                # step skipped by hand is dated the day it was planned for), so that the
                # journal's latest step is the furthest one
                note = f"phase {phase.name} ended on {end}" if ended else no_channel
                low = skips[-1].date if skips else st.step_date
                when = min(day, today) if low is None else max(min(day, today), low)
                skips.append(cand._replace(date=when, skip=note))
            elif ended and journaled:
                # its date is past its phase's end, which is today or later: skipped today if
                # a step after it is made today (a later one of its phase, or the next phase's
                # first, which may come on the end day), so that steps stay in order and none
                # is left behind unjournaled
                held.append(len(skips))
                skips.append(cand._replace(date=today, skip=f"its day falls after phase "
                                                             f"{phase.name} ends on {end}"))
            elif not ended:
                passed = day
                if pending is None:
                    pending = day  # its skip is journaled on that day
            pi, k = (pi + 1, 0) if phase.periodic else nxt
            continue
        return cand, _unheld(skips, held) if cand.date > today else skips
    skips = _unheld(skips, held)
    if pending is not None:
        # the last steps have no allowed channel: their skip, on its day, is still to come
        return Candidate("step", "", "", "", "", pending, skip="no allowed channel"), skips
    return None, skips


def _unheld(skips: list, held: list) -> list:
    """`skips` without those that stand only if a later step is made today."""
    return [s for i, s in enumerate(skips) if i not in held] if held else skips


def _no_reply_candidate(playbook: Playbook, st: State,
                        horizon: Optional[date] = None) -> Optional[Candidate]:
    if st.last_touch is None:
        return None  # SPEC 5.2: any touch is answered (by a later rule than the one it made)
    if st.last_reply is not None and st.last_reply >= st.last_touch:
        return None
    if st.replies and max(st.replies) >= st.last_touch:
        return None  # a reply the journal holds answers it, whatever an older sheet says
    if st.no_reply_done is not None and st.no_reply_done > st.last_touch:
        # the rung for this touch was skipped: a rung comes a day or more after its touch,
        # and a touch made on the day of a skip still gets its own
        return None
    for i, rule in enumerate(playbook.no_reply):
        if i <= st.last_rule:
            continue  # a ladder climbs: a rule's touch is answered only by a later rule
        if rule.after and st.last_channel not in rule.after:
            continue
        if rule.phases and st.last_phase not in rule.phases:
            continue
        nominal = rule.wait.add(st.last_touch)
        detail = f"no reply since {st.last_touch} ({st.last_channel})"
        if st.last_channel == "email" and st.bounced is not None:
            # the email bounced: the next rung comes the day after (SPEC section 10); an email
            # drafted before sync saw the bounce went to the same dead address
            nominal = min(nominal, max(st.bounced, st.last_touch) + ONE_DAY)
            detail = (f"the email of {st.last_touch} bounced on {st.bounced}"
                      if st.bounced >= st.last_touch else f"the email of {st.last_touch} went "
                      f"to an address that bounced on {st.bounced}")
        if horizon is not None and nominal > horizon:
            return None
        day, why = _move(nominal, st, playbook)
        phase = phase_at(playbook, st.started, day).name
        channel, skip = resolve_channel(rule.then, st.contact, playbook, fallback=rule.fallback)
        if channel and channel != rule.then:
            # the note says so: which rule made the row is read from it (ladder.rule_of)
            detail += fell_back(channel, rule.then)
        return Candidate("no_reply", "no_reply", phase, channel, rule.template, day, why,
                         detail=detail, rule=i, skip=skip)
    return None


NO_CALLBACK = ("unsubscribed", "stopped")  # statuses for which no agreed call is made


def honours_callback(st: State) -> bool:
    """An agreed call is made whatever the status, but for an unsubscribed or stopped contact
    or one who opted out of calls (SPEC section 9)."""
    optout = st.contact.optout
    return st.status not in NO_CALLBACK and "all" not in optout and "call" not in optout


def void_callback(st: State, today: date) -> bool:
    """Is the agreed call (of today, the 6 days before or later) one that is never made? SPEC
    5.1 makes it only while the latest touch is before its day, and no call was made on or
    after it (a call agreed, or typed in, after that day's touch): `callback-passed`."""
    agreed, touched = st.contact.callback, st.last_touch
    if agreed is None or touched is None or agreed <= today - timedelta(days=7):
        return False
    # a call-back made, or skipped, on or after its day; or the call logged by hand
    done = (st.callback_done is not None and st.callback_done >= agreed) or \
        st.last_channel == "call"
    return touched >= agreed and not done and honours_callback(st)


def agreed_call(playbook: Playbook, st: State, today: date,
                horizon: Optional[date] = None) -> Optional[Candidate]:
    """The call agreed with the contact (the `callback` cell), made on its day whatever the
    status, but for an unsubscribed or stopped contact or one who opted out of calls (SPEC
    section 9); its channel falls back as any touch's when the contact has no phone."""
    agreed = st.contact.callback
    if agreed is None or (horizon is not None and agreed > horizon):
        return None
    if not honours_callback(st):
        return None
    if st.last_touch is not None and st.last_touch >= agreed:
        return None
    done = st.callback_done
    if done is not None and done >= agreed and (done == agreed or done <= today):
        # a call-back made or skipped on its day or later; a skip dated after today was made
        # ahead for a later date agreed before this one, which it does not cover (once
        # that date has come, the row reads as this call dealt with late: README "skip")
        return None
    channel, skip = resolve_channel("call", st.contact, playbook, agreed=True)
    time = st.contact.callback_time
    detail = f"call-back agreed for {agreed}" + (f" at {time}" if time else "")
    return Candidate("callback", "callback", phase_at(playbook, st.started, agreed).name,
                     channel, playbook.callback_template, agreed, detail=detail, skip=skip)


def birthday_near(born: tuple, today: date) -> date:
    """The birthday a greeting on `today` is for: this year's, or next year's once this one's
    week to greet it in is over."""
    window = timedelta(days=BIRTHDAY_WINDOW)
    occurrence = birthday_on(born, (today - window).year)
    if occurrence + window < today:
        occurrence = birthday_on(born, occurrence.year + 1)
    return occurrence


def _birthday_candidate(playbook: Playbook, st: State, today: date,
                        horizon: Optional[date] = None) -> Optional[Candidate]:
    rule, born = playbook.birthday, st.contact.birthday
    if rule is None or born is None:
        return None
    window = timedelta(days=BIRTHDAY_WINDOW)
    occurrence = birthday_near(born, today)
    for _ in range(3):
        if horizon is not None and occurrence > horizon:
            return None
        done = st.birthday_done is not None and st.birthday_done >= occurrence
        # a birthday whose week closed before the start (one set for a day to come) is not
        # the contact's yet, as `missed_birthday` does not count it either
        early = st.started is not None and occurrence + window < st.started
        if not done and not early:
            day, why = _move(occurrence, st, playbook)
            if day <= occurrence + window:
                channel, skip = resolve_channel(rule.channel, st.contact, playbook,
                                                fallback=rule.fallback)
                return Candidate("birthday", "birthday",
                                 phase_at(playbook, st.started, day).name, channel,
                                 rule.template, day, why, detail=f"birthday on {occurrence}",
                                 skip=skip)
        occurrence = birthday_on(born, occurrence.year + 1)
    return None


def missed_birthday(playbook: Playbook, st: State, today: date) -> Optional[date]:
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
    if st.birthday_done is not None and st.birthday_done >= occurrence:
        return None
    return occurrence


def _channel_chooser(st: State, playbook: Playbook, condition: Optional[Condition]):
    """Resolve a step's channel; the `if` rules are tested once, and only when needed."""
    override = []

    def choose(wanted: str, fallback: Optional[tuple] = None) -> tuple:
        if not override:
            found = ""
            if condition is not None:
                for rule in playbook.ifs:
                    if condition(rule, st.contact):
                        found = rule.channel
                        break
            override.append(found)
        if override[0] and override[0] != wanted and fallback is not None:
            fallback = (wanted,) + fallback  # an `if` rule's channel first, then the step's own
        return resolve_channel(override[0] or wanted, st.contact, playbook, fallback=fallback)

    return choose


def candidates(st: State, playbook: Playbook, today: date,
               condition: Optional[Condition] = None, horizon: Optional[date] = None) -> tuple:
    """The candidates in the SPEC's order, and the step skips whose day has come.

    With a `horizon`, only candidates that can come by then are worked out (`due` asks only
    what is due today): the moves of SPEC 5 only ever put a date later, so one whose date
    before them is after the horizon is left out, unworked.
    """
    step, skips = _step_candidate(playbook, st, today, _channel_chooser(st, playbook, condition),
                                  horizon)
    found = (agreed_call(playbook, st, today, horizon),
             _no_reply_candidate(playbook, st, horizon),
             _birthday_candidate(playbook, st, today, horizon), step)
    return tuple(c for c in found if c is not None), skips

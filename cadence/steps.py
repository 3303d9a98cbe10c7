"""Where a contact stands in its playbook: phases by date, the step after its last one, the
channel a touch can take. Pure, like the engine that uses it."""
from __future__ import annotations

from datetime import date
from typing import Optional

from .model import REACH, Contact, Phase, Playbook

def phase_of_step(playbook: Playbook, step_id: str) -> Optional[str]:
    found = find_step(playbook, step_id)
    return playbook.phases[found[0]].name if found else None


def find_step(playbook: Playbook, step_id: str) -> Optional[tuple]:
    """(phase index, step index) of a timed step, or (phase index, n) of a periodic touch
    (`<phase>-<n>`, n from 1)."""
    found = playbook.steps.get(step_id)
    if found is not None:
        return found
    name, _, n = step_id.rpartition("-")
    phase = playbook.periodic.get(name)
    # a number of thousands of digits is no touch's (and Python would refuse to read it)
    if phase is not None and n.isdigit() and n.isascii() and len(n) <= 18 and int(n) >= 1:
        return phase, int(n)
    return None


def phase_end(playbook: Playbook, pi: int, started: date) -> Optional[date]:
    phase = playbook.phases[pi]
    return phase.until.add(started) if phase.until is not None else None


def phase_at(playbook: Playbook, started: Optional[date], day: date) -> Phase:
    """The phase a date falls in: the first whose end is on or after it, else the last."""
    if started is not None:
        for pi, phase in enumerate(playbook.phases):
            end = phase_end(playbook, pi, started)
            if end is not None and day <= end:
                return phase
        return playbook.phases[-1]
    return playbook.phases[0]


# --- where a contact stands in its playbook --------------------------------------------------

def _nominal(playbook: Playbook, started: date):
    """Each step's date if every touch fell on its day: for reading a stale `last_step`."""
    prev = started
    for pi, phase in enumerate(playbook.phases):
        end = phase_end(playbook, pi, started)
        floor = phase_end(playbook, pi - 1, started) if pi else None
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
    found = find_step(playbook, last_step)
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


def step_at(playbook: Playbook, cursor: tuple) -> str:
    """The id of the step a cursor (cursor_of) stands after; "" before the first."""
    pi, k = cursor
    phase = playbook.phases[pi]
    if k < 1:
        return ""
    return f"{phase.name}-{k}" if phase.periodic else phase.steps[k - 1].id


def is_stranded(contact: Contact, playbook: Playbook) -> bool:
    """Does the contact's `last_step` name a step its playbook no longer has?"""
    return bool(contact.last_step) and find_step(playbook, contact.last_step) is None


def renumbered(playbook: Playbook, contact: Contact, made) -> tuple:
    """(journaled template, template now) when `made`, the journal's latest step of the
    contact and its `last_step`, was made with another template than the step of that id
    has now: a step added or removed before it renumbered the steps named `<phase>-<n>`."""
    if made is None or not made.template or made.playbook != contact.playbook or \
            made.step != contact.last_step:
        return ()
    found = find_step(playbook, made.step)
    if found is None or playbook.phases[found[0]].periodic:
        return ()  # a periodic phase's touches take its templates in turn
    now = playbook.phases[found[0]].steps[found[1]].template
    return (made.template, now) if now != made.template else ()


# --- channels --------------------------------------------------------------------------------

def allowed(channel: str, contact: Contact, playbook: Optional[Playbook]) -> bool:
    if "all" in contact.optout or channel in contact.optout:
        return False
    if contact.channels and channel not in contact.channels:
        return False
    if playbook is not None and channel not in playbook.channels:
        return False
    return contact.reachable(channel)


def resolve_channel(wanted: str, contact: Contact, playbook: Playbook,
                    agreed: bool = False, fallback: Optional[tuple] = None) -> tuple:
    """(channel, "") or ("", why not): the step's channel, else the first allowed fallback:
    those of `fallback` in order when the step or its phase names them (`()`: none, the
    touch is skipped), else the contact's channels, else the playbook's (SPEC 5).

    An agreed call-back is not held to the playbook's channels: the contact asked for it.
    """
    if allowed(wanted, contact, None if agreed else playbook):
        return wanted, ""
    others = fallback if fallback is not None else (contact.channels or playbook.channels)
    for channel in others:
        if allowed(channel, contact, playbook):
            return channel, ""
    reasons = []
    if "all" in contact.optout:
        reasons.append("opted out of everything")
    elif wanted in contact.optout:
        reasons.append(f"opted out of {wanted}")
    elif contact.channels and wanted not in contact.channels:
        reasons.append(f"{wanted} is not among the contact's channels")
    elif wanted in contact.unreachable:
        reasons.append(f"the {wanted} address bounced")
    elif not contact.reachable(wanted):
        reasons.append(f"no {REACH.get(wanted, wanted)} for {wanted}")
    if fallback is not None:
        reasons.append("no fallback" if not fallback else
                       "nor by " + " or ".join(fallback))
    return "", "no allowed channel: " + ("; ".join(reasons) or f"{wanted} not usable")


def birthday_on(month_day: tuple, year: int) -> date:
    """The birthday in a year; Feb 29 is Feb 28 in other years."""
    month, day = month_day
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return date(year, 2, 28)
    return date(year, month, day)

"""Forecast and statistics: the engine run forward over the whole ledger, the journal summed.

Pure: the parsed book and dates in, plain values out.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from . import engine, steps
from .model import CHANNELS
from .trail import standing

SLIP_DAYS = 30  # a periodic touch later than this has missed a month


@dataclass(frozen=True, slots=True)
class Forecast:
    today: date
    days: int
    per_day: tuple  # (date, Counter of channels), one per day from today
    backlog: tuple  # touches due today that are already late

    def as_json(self) -> dict:
        backlog = Counter(t.channel for t in self.backlog)
        return {
            "today": self.today.isoformat(), "days": self.days,
            "backlog": {"touches": len(self.backlog), "by_channel": _channels(backlog)},
            "per_day": [{"date": d.isoformat(), "by_channel": _channels(c), "total": sum(c.values())}
                        for d, c in self.per_day],
        }


def _channels(counter: Counter) -> dict:
    return {channel: counter.get(channel, 0) for channel in CHANNELS}


def forecast(book, today: date, days: int) -> Forecast:
    """Touches per day and channel for `days` days from today, if nobody replies."""
    per_day = {today + timedelta(days=i): Counter() for i in range(days)}
    backlog = []
    last = today + timedelta(days=days - 1)
    for contact in book.contacts:
        if not contact.playbook:
            continue
        touches = engine.plan(contact, book.trails.get(contact.id), book.playbooks, today,
                              days, book.condition)
        for touch in touches:
            made = touch.made
            if made > last:
                continue
            per_day[made][touch.channel] += 1
            if made == today and touch.overdue:
                backlog.append(touch)
    return Forecast(today, days, tuple(sorted(per_day.items())), tuple(backlog))


def stats(book, rows, today: date, since=None) -> dict:
    """What the journal says happened since `since`, and where the ledger stands today.

    `rows()` gives the journal's rows, in any order, each time it is called: they are read
    twice (the touches, then the touches of the contacts who replied), never all held.
    """
    touch_count, replies, undoing = 0, {}, set()
    by = {"channel": Counter(), "step": Counter(), "playbook": Counter()}

    def count(row, sign: int) -> None:
        nonlocal touch_count
        if since is not None and row.date < since:
            return
        if row.event == "touch":
            touch_count += sign
            by["channel"][row.channel] += sign
            by["step"][(row.playbook, row.step or "(by hand)")] += sign
            by["playbook"][row.playbook] += sign
        elif row.event == "reply":
            days = replies.setdefault(row.contact, [])
            if sign > 0:
                days.append(row.date)
            else:
                days.remove(row.date)

    for row in rows():
        count(row, 1)
        if row.event == "undo":
            undoing.add(row.contact)
    if undoing:  # what `undo` rows took back counts for nothing: taken out again
        whole = {}
        for row in rows():
            if row.contact in undoing:
                whole.setdefault(row.contact, []).append(row)
        for contact_rows in whole.values():
            kept = Counter(standing(contact_rows))
            for row in contact_rows:
                if kept[row]:
                    kept[row] -= 1
                else:
                    count(row, -1)
        for counter in by.values():
            for key in [key for key, n in counter.items() if n <= 0]:
                del counter[key]
        replies = {c: days for c, days in replies.items() if days}
    touched = {}  # the touches of contacts who replied (and that stand)
    if replies:
        for row in rows():
            if row.event == "touch" and row.contact in replies and row.contact not in undoing:
                touched.setdefault(row.contact, []).append(row)
        for contact_rows in (whole if undoing else {}).values():
            for row in standing(contact_rows):
                if row.event == "touch" and row.contact in replies:
                    touched.setdefault(row.contact, []).append(row)
    # a touch answered counts once, however many replies answer it (a reply recorded, then
    # its decision with a second `reply`; a thread of messages): a rate never passes 100%
    answered_touches = set()
    for contact, days in replies.items():
        for day in set(days):
            touch = _answered(touched.get(contact, ()), day)
            if touch is not None and (since is None or touch.date >= since):
                answered_touches.add(touch)
    answered = {"channel": Counter(), "step": Counter()}
    for touch in answered_touches:
        answered["channel"][touch.channel] += 1
        answered["step"][(touch.playbook, touch.step or "(by hand)")] += 1
    status, phase, won = Counter(), Counter(), Counter()
    slipped = []
    for contact in book.contacts:
        state = contact.status or "active"
        status[state] += 1
        playbook = book.playbooks.get(contact.playbook)
        if state == "won" and contact.playbook:
            won[contact.playbook] += 1
        if playbook is None or state != "active" or contact.started is None:
            continue
        phase[(contact.playbook, steps.phase_at(playbook, contact.started, today).name)] += 1
        outcome = engine.advance(contact, book.trails.get(contact.id), book.playbooks,
                                 today, book.condition)
        touch = outcome.touch
        current = playbook.phase(touch.phase) if touch else None
        if touch and touch.reason == "step" and current and current.periodic \
                and touch.overdue > SLIP_DAYS:
            slipped.append({"contact": contact.id, "name": contact.name,
                            "playbook": contact.playbook, "step": touch.step,
                            "due": touch.due.isoformat(), "overdue": touch.overdue,
                            "months": touch.overdue // SLIP_DAYS})
    return {
        "today": today.isoformat(), "since": since.isoformat() if since else None,
        "touches": touch_count, "replies": sum(len(set(d)) for d in replies.values()),
        "by_channel": _rates(by["channel"], answered["channel"], lambda k: {"channel": k}),
        "by_step": _rates(by["step"], answered["step"],
                          lambda k: {"playbook": k[0], "step": k[1]}),
        "by_playbook": [{"playbook": k, "touches": n} for k, n in sorted(by["playbook"].items())],
        "status": dict(sorted(status.items())),
        "phase": [{"playbook": k[0], "phase": k[1], "contacts": n} for k, n in sorted(phase.items())],
        "won": dict(sorted(won.items())),
        "slipped": sorted(slipped, key=lambda s: (-s["overdue"], s["contact"])),
    }


def _answered(rows, day: date):
    """The latest touch on or before a reply: the one the reply answers. Of one day's
    touches, one logged by hand (no step) comes after a run's, as a person logs it after the
    day's run (README "Semantics", as the journal's fold orders them), then the largest row:
    the rows' order never matters."""
    found = [row for row in rows if row.date <= day]
    return max(found, key=lambda row: (row.date, not row.step.strip(), row.step, row.channel,
                                       row.playbook, row.template, row.note), default=None)


def _rates(made: Counter, answered: Counter, label) -> list:
    out = []
    for key in sorted(made):
        replies = answered.get(key, 0)
        out.append({**label(key), "touches": made[key], "replies": replies,
                    "reply_rate": round(replies / made[key], 4) if made[key] else 0.0})
    return out

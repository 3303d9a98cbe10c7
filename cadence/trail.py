"""Each contact's journal rows folded into its Trail: what the engine reads of the journal.

A fold gives the same Trail for the same rows in any order: every field is a count, a set, or
the latest row by date with ties broken by the row's cells. That is what makes the journal's
row order never matter, and what lets a fold go on from a saved state (cadence.cache).
"""
from __future__ import annotations

from datetime import date
from typing import Iterable, Optional

from .journal import WIDTH, records
from .model import RULE_STEPS, Entry, Trail

PER_WEEK_SPAN = 6  # days before a touch that the per-week cap can count with it


class NotAFold(ValueError):
    """Saved folds that are not what `save` writes (a cache entry from elsewhere)."""


class _Fold:
    """One contact's Trail while its rows are read, in any order."""

    __slots__ = ("touches", "last", "last_day", "dates", "step", "step_day", "replies",
                 "birthday", "callback", "no_reply")

    def __init__(self):
        self.touches = 0
        self.last = self.last_day = None  # the cells and date of the latest touch
        self.dates = []  # touch dates, trimmed now and then to the window of the latest
        self.step = self.step_day = None  # the latest touch or skip of a playbook step
        self.replies = set()
        self.birthday = self.callback = self.no_reply = None

    def state(self) -> list:
        """The fold as plain JSON values, to go on from later (cadence.cache)."""
        dates = self.dates
        if self.last is not None:
            floor = self.last_day.toordinal() - PER_WEEK_SPAN
            dates = [d for d in dates if d.toordinal() >= floor]
        return [self.touches, _iso(self.last_day), _plain(self.last), [d.isoformat() for d in dates],
                _iso(self.step_day), _plain(self.step), sorted(d.isoformat() for d in self.replies),
                _iso(self.birthday), _iso(self.callback), _iso(self.no_reply)]

    @classmethod
    def restore(cls, state: list) -> "_Fold":
        """A fold from `state()`; raises ValueError (or TypeError) on anything else."""
        made = cls()
        (touches, last_day, last, dates, step_day, step, replies, birthday, callback,
         no_reply) = state
        if not isinstance(touches, int) or touches < 0:
            raise NotAFold("touches")
        made.touches = touches
        made.last_day, made.last = _day_of(last_day), _kept(last)
        made.dates = [date.fromisoformat(d) for d in dates]
        made.step_day, made.step = _day_of(step_day), _kept(step)
        made.replies = {date.fromisoformat(d) for d in replies}
        made.birthday, made.callback = _day_of(birthday), _day_of(callback)
        made.no_reply = _day_of(no_reply)
        if (made.last is None) != (made.last_day is None) or (
                made.step is None) != (made.step_day is None):
            raise NotAFold("a row without its date")
        return made

    def trail(self, contact: str, shared: dict) -> Trail:
        """The Trail; `shared` holds one copy of each cell text and date that trails share
        (a book's contacts share a few steps, channels and days: memory)."""
        recent = ()
        if self.last is not None:
            floor = self.last_day.toordinal() - PER_WEEK_SPAN
            recent = tuple(sorted(shared.setdefault(d, d) for d in self.dates
                                  if d.toordinal() >= floor))
        return Trail(
            touches=self.touches, last=_entry_of(contact, self.last_day, self.last, shared),
            recent=recent, step=_entry_of(contact, self.step_day, self.step, shared),
            replies=frozenset(self.replies) if self.replies else _NO_REPLIES,
            birthday_done=self.birthday, callback_done=self.callback,
            no_reply_done=self.no_reply)


def _iso(day: Optional[date]):
    return day.isoformat() if day is not None else None


def _day_of(text) -> Optional[date]:
    return date.fromisoformat(text) if text is not None else None


def _plain(kept):
    return list(kept) if isinstance(kept, tuple) else kept


def _kept(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == WIDTH and all(isinstance(c, str) for c in value):
        return tuple(value)
    raise NotAFold("a row")


def save(folds: dict) -> dict:
    """The folds as plain JSON values (cadence.cache keeps them)."""
    return {cid: acc.state() for cid, acc in folds.items()}


def restore(saved) -> dict:
    """The folds `save` gave; raises ValueError or TypeError on anything else."""
    if not isinstance(saved, dict):
        raise NotAFold("folds")
    return {cid: _Fold.restore(state) for cid, state in saved.items() if isinstance(cid, str)}


def _cells(kept) -> tuple:
    """A row's cells from what a fold kept of it (`_records`)."""
    return tuple(kept.split(",")) if isinstance(kept, str) else kept


_NO_REPLIES = frozenset()


def _entry_of(contact: str, day: Optional[date], kept, shared: dict) -> Optional[Entry]:
    if kept is None:
        return None
    one = shared.setdefault
    c = _cells(kept)
    if " " in kept or "\t" in kept:
        c = [cell.strip() for cell in c]
    return Entry(one(day, day), contact, one(c[2], c[2]), one(c[3], c[3]), one(c[4], c[4]),
                 one(c[5], c[5]), one(c[6], c[6]), c[7])


def _later(a: Optional[date], b: date) -> date:
    return b if a is None or b > a else a


def fold(lines: Iterable[bytes], path: str) -> tuple:
    """({contact id: Trail}, problems) of a whole journal, read once, row by row."""
    folds = {}
    problems = fold_more(folds, lines, path)
    return trails(folds), problems


def fold_more(folds: dict, lines: Iterable[bytes], path: str, names=None, number: int = 0):
    """Fold more rows into `folds` ({contact id: _Fold}); returns the problems. `lines` begin
    with the header, or, with `names` (the header's columns), go on after line `number`."""
    problems = []
    _fold(folds, records(lines, path, problems, names, number))
    return problems


def trails(folds: dict) -> dict:
    """{contact id: Trail} of the folds, which are emptied on the way (memory)."""
    shared, out = {}, {}
    while folds:
        cid, acc = folds.popitem()
        out[cid] = acc.trail(cid, shared)
    return out


def _fold(folds: dict, records) -> None:
    """Fold (line, date, cells, kept) records, in any order, into `folds`.

    Written as one loop, not a method call a row: the journal is the largest file cadence
    reads, and the call cost more than the rest of the work. The latest touch is the one with
    the latest date, and of one day's, the largest row: the rows' order never matters.
    """
    get = folds.get
    for _, day, cells, kept in records:
        cid = cells[1]
        acc = get(cid)
        if acc is None:
            cid = cells[1] = cid.strip()
            acc = get(cid)
            if acc is None:
                acc = folds[cid] = _Fold()
        event = cells[2]
        if event == "touch":
            acc.touches += 1
            dates = acc.dates
            dates.append(day)
            latest = acc.last_day
            if latest is None or day > latest or (day == latest and _cells(kept) > _cells(acc.last)):
                acc.last_day, acc.last = day, kept
            if len(dates) > 64:
                floor = acc.last_day.toordinal() - PER_WEEK_SPAN
                acc.dates = [d for d in dates if d.toordinal() >= floor]
        elif event == "reply":
            acc.replies.add(day)
            continue
        elif event != "skip":
            continue
        step = cells[4]
        if not step:
            continue  # a touch made by hand
        if step in RULE_STEPS:
            if step == "birthday":
                acc.birthday = _later(acc.birthday, day)
            elif step == "callback":
                acc.callback = _later(acc.callback, day)
            elif event == "skip":
                acc.no_reply = _later(acc.no_reply, day)
            continue
        latest = acc.step_day
        if latest is None or day > latest or (day == latest and _cells(kept) > _cells(acc.step)):
            acc.step_day, acc.step = day, kept


def trail_of(rows: Iterable[Entry]) -> Trail:
    """The Trail of one contact's rows (in any order)."""
    contact, records, folds = "", [], {}
    for e in rows:
        contact = e.contact
        cells = [e.date.isoformat(), e.contact, e.event, e.playbook, e.step, e.channel,
                 e.template, e.note]
        records.append((0, e.date, cells, tuple(cells)))
    _fold(folds, records)
    return folds[contact].trail(contact, {}) if contact in folds else Trail()

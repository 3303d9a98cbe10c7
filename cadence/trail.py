"""Each contact's journal rows folded into its Trail: what the engine reads of the journal.

A fold gives the same Trail for the same rows in any order: every field is a count, a set, or
the latest row by date with ties broken by the row's cells. That is what makes the journal's
row order never matter, and what lets a fold go on from a saved state (cadence.cache).

Longer than most: the fold's fields, its loop over the rows, and its saving and restoring for
the cache must agree field by field, and they stand together so that they do.
"""
from __future__ import annotations

from datetime import date
from typing import Callable, Iterable, Optional

from .journal import JUNK, PAUSE_ENDED, WIDTH, bounced_address, first_word, note_id, records
from .addresses import address_key, key_of
from .model import CHANNELS, OPTED_IN, OPTED_OUT, RULE_STEPS, Entry, Trail

PER_WEEK_SPAN = 6  # days before a touch that the per-week cap can count with it
DRAFTED_SPAN = 14  # days a drafted email not seen sent is noticed (SPEC section 10)
SENT_SPAN = 30  # days before the latest `sent` row that its kin are kept
JUNK_SPAN = 7  # days a reply found in junk is noticed by `due`


class NotAFold(ValueError):
    """Saved folds that are not what `save` writes (a cache entry from elsewhere)."""


class _Fold:
    """One contact's Trail while its rows are read, in any order.

    Rows are kept as what `journal.records` gives (their text, or their cells), each with its
    date: the latest touch, playbook step, status row, reply row and call-back note.
    """

    __slots__ = ("rows", "touches", "first", "last_day", "last", "dates", "step_day", "step",
                 "replies", "birthday", "callback", "no_reply", "status_day", "status",
                 "reply_day", "reply", "noted_day", "noted", "reply_noted", "started", "undo",
                 "bounced", "drafted", "sent", "answered", "junk", "steps", "status_more",
                 "noted_more", "reply_noted_day", "optouts")

    def __init__(self):
        self.rows = self.touches = 0
        self.first = None  # the earliest touch's date
        self.last = self.last_day = None  # the latest touch
        self.dates = []  # touch dates, trimmed now and then to the window of the latest
        self.step = self.step_day = None  # the latest touch or skip of a playbook step
        self.replies = set()
        self.birthday = self.callback = self.no_reply = None
        self.status = self.status_day = None  # the latest `status` row but for `started`
        # the other rows of the latest day of status rows, and of call-back notes: of one
        # day's rows the journal cannot say which came last (the user's hand, SPEC 9)
        self.status_more, self.noted_more = [], []
        self.reply = self.reply_day = None  # the latest `reply` row
        self.noted = self.noted_day = None  # the latest `note` row "callback D ..."
        # the day of the latest `note` rows "last_reply D ..." or "reply on D", and their Ds
        self.reply_noted_day, self.reply_noted = None, []
        self.started = {}  # playbook -> the latest date it was started on
        self.undo = False  # an `undo` row: the rows must be read again whole (`refold`)
        self.bounced = {}  # address -> the latest date it bounced
        self.drafted = []  # (date, playbook, step) of drafted emails, trimmed to DRAFTED_SPAN
        self.sent = {}  # Message-ID key -> date it was seen sent, trimmed to SENT_SPAN
        self.answered = None  # the latest reply, autoreply or bounce
        self.junk = []  # (date, note) of replies found in junk, trimmed to JUNK_SPAN
        # playbook -> (date, row) of its latest step row, made once a second playbook shows
        # (a `move`): most contacts follow one, and `step` says all there is
        self.steps = None
        self.optouts = {}  # channel -> (opt-outs, withdrawals) the journal holds of it

    def state(self) -> list:
        """The fold as plain JSON values, to go on from later (cadence.cache)."""
        dates = self.dates
        if self.last is not None:
            floor = self.last_day.toordinal() - PER_WEEK_SPAN
            dates = [d for d in dates if d.toordinal() >= floor]
        return [self.rows, self.touches, _iso(self.first), _iso(self.last_day), _plain(self.last),
                [d.isoformat() for d in dates], _iso(self.step_day), _plain(self.step),
                sorted(d.isoformat() for d in self.replies), _iso(self.birthday),
                _iso(self.callback), _iso(self.no_reply), _iso(self.status_day),
                _plain(self.status), _iso(self.reply_day), _plain(self.reply),
                _iso(self.noted_day), _plain(self.noted), _iso(self.reply_noted_day),
                sorted((p, d.isoformat()) for p, d in self.started.items()), self.undo,
                sorted((a, d.isoformat()) for a, d in self.bounced.items()),
                sorted((d.isoformat(), p, s) for d, p, s in _recent(self.drafted, DRAFTED_SPAN)),
                sorted((k, d.isoformat()) for k, d in _recent_keys(self.sent).items())
                if self.sent else [], _iso(self.answered),
                sorted((d.isoformat(), n) for d, n in _recent(self.junk, JUNK_SPAN)),
                sorted([p, d.isoformat(), _plain(k)] for p, (d, k) in (self.steps or {}).items()),
                sorted({d.isoformat() for d in self.reply_noted}),
                [_plain(k) for k in _others(self.status_more, self.status)],
                [_plain(k) for k in _others(self.noted_more, self.noted)],
                # None when there are none: most contacts, and no list each to read (memory)
                sorted([c, o, i] for c, (o, i) in self.optouts.items())
                if self.optouts else None]

    @classmethod
    def restore(cls, state: list) -> "_Fold":
        """A fold from `state()`; raises NotAFold (or TypeError) on anything else."""
        made = cls()
        (rows, touches, first, last_day, last, dates, step_day, step, replies, birthday,
         callback, no_reply, status_day, status, reply_day, reply, noted_day, noted,
         reply_noted_day, started, undo, bounced, drafted, sent, answered, junk, steps,
         reply_noted, status_more, noted_more, optouts) = state
        for count in (rows, touches):
            if not isinstance(count, int) or count < 0:
                raise NotAFold("a count")
        made.rows, made.touches, made.first = rows, touches, _day_of(first)
        made.last_day, made.last = _day_of(last_day), _kept(last)
        made.dates = [date.fromisoformat(d) for d in dates]
        made.step_day, made.step = _day_of(step_day), _kept(step)
        made.replies = {date.fromisoformat(d) for d in replies}
        made.birthday, made.callback = _day_of(birthday), _day_of(callback)
        made.no_reply = _day_of(no_reply)
        made.status_day, made.status = _day_of(status_day), _kept(status)
        made.reply_day, made.reply = _day_of(reply_day), _kept(reply)
        made.noted_day, made.noted = _day_of(noted_day), _kept(noted)
        made.reply_noted_day = _day_of(reply_noted_day)
        made.reply_noted = [date.fromisoformat(d) for d in reply_noted]
        made.status_more = [_kept(k) for k in status_more]
        made.noted_more = [_kept(k) for k in noted_more]
        if (made.status_more and made.status is None) or (made.noted_more and made.noted is None) \
                or (made.reply_noted_day is None) != (not made.reply_noted):
            raise NotAFold("rows of a day without its day")
        made.started = {str(p): date.fromisoformat(d) for p, d in started}
        made.undo = bool(undo)
        made.bounced = {str(a): date.fromisoformat(d) for a, d in bounced}
        made.drafted = [(date.fromisoformat(d), str(p), str(s)) for d, p, s in drafted]
        made.sent = {str(k): date.fromisoformat(d) for k, d in sent}
        made.answered = _day_of(answered)
        made.junk = [(date.fromisoformat(d), str(n)) for d, n in junk]
        made.steps = {str(p): (date.fromisoformat(d), _kept(k)) for p, d, k in steps} or None
        made.optouts = {_opt_channel(c): (_count(o), _count(i)) for c, o, i in optouts or ()}
        for day, row in ((made.last_day, made.last), (made.step_day, made.step),
                         (made.status_day, made.status), (made.reply_day, made.reply),
                         (made.noted_day, made.noted)):
            if (day is None) != (row is None):
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
            rows=self.rows, touches=self.touches, first_touch=self.first,
            last=_entry_of(contact, self.last_day, self.last, shared), recent=recent,
            step=_entry_of(contact, self.step_day, self.step, shared),
            other_steps=tuple(_entry_of(contact, d, k, shared) for p, (d, k)
                              in sorted((self.steps or {}).items())
                              if self.step is None or p != _cells(self.step)[3].strip()),
            replies=frozenset(self.replies) if self.replies else _NO_REPLIES,
            birthday_done=self.birthday, callback_done=self.callback,
            no_reply_done=self.no_reply,
            status=_entry_of(contact, self.status_day, self.status, shared),
            reply=_entry_of(contact, self.reply_day, self.reply, shared),
            callback_noted=_entry_of(contact, self.noted_day, self.noted, shared),
            status_more=tuple(_entry_of(contact, self.status_day, k, shared)
                              for k in _others(self.status_more, self.status)),
            callback_more=tuple(_entry_of(contact, self.noted_day, k, shared)
                                for k in _others(self.noted_more, self.noted)),
            reply_noted_day=self.reply_noted_day, reply_noted=tuple(sorted(set(self.reply_noted))),
            started=tuple(sorted(self.started.items())),
            bounced=tuple(sorted(self.bounced.items())) if self.bounced else (),
            drafted=tuple(sorted(_recent(self.drafted, DRAFTED_SPAN))) if self.drafted else (),
            sent=frozenset(_recent_keys(self.sent)) if self.sent else _NO_REPLIES,
            answered=self.answered,
            junk=tuple(sorted(_recent(self.junk, JUNK_SPAN))) if self.junk else (),
            optout=_opted_out(self.optouts.items()) if self.optouts else ())


def _opted_out(words) -> tuple:
    """The channels opted out of, of (channel, (opt-outs, withdrawals)): those with more
    opt-outs than withdrawals. `cadence optout` says a channel's word only when it changes
    it (out when not out, back in when out), so the words alternate and their counts say
    where they ended, whatever their dates and order."""
    return tuple(sorted(channel for channel, (outs, ins) in words if outs > ins))


def _opt_channel(value) -> str:
    if value not in OPT_CHANNELS:
        raise NotAFold("a channel")
    return value


def _count(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise NotAFold("a count")
    return value


OPT_CHANNELS = frozenset(CHANNELS + ("all",))


def _saved_trail(contact: str, state: list, shared: dict, days: dict) -> Trail:
    """The Trail of a fold saved by `_Fold.state`, made straight from the saved values: what
    `_Fold.restore(state).trail(contact, shared)` gives, without the fold in between (most
    contacts of a morning have no new row, and restoring their folds took a second of a
    100,000-contact `due`). Raises NotAFold (or TypeError, ValueError) on anything else.

    `days` holds one date for each ISO text (memory, and each text is parsed once)."""
    (rows, touches, first, last_day, last, dates, step_day, step, replies, birthday,
     callback, no_reply, status_day, status, reply_day, reply, noted_day, noted,
     reply_noted_day, started, undo, bounced, drafted, sent, answered, junk, steps,
     reply_noted, status_more, noted_more, optouts) = state

    def day(text):
        if text is None:
            return None
        found = days.get(text)
        if found is None:
            found = days[text] = date.fromisoformat(text)
        return found

    def entry(on, kept):
        if (on is None) != (kept is None):
            raise NotAFold("a row without its date")
        return _entry_of(contact, day(on), _kept(kept), shared) if kept is not None else None

    for count in (rows, touches):
        if not isinstance(count, int) or count < 0:
            raise NotAFold("a count")

    def one(text):
        return shared.setdefault(text, text)

    last_entry = entry(last_day, last)
    # most contacts' latest touch is their latest step: one Entry for both (memory)
    step_entry = last_entry if step == last and step_day == last_day else entry(step_day, step)
    others = ()
    if steps:
        current = None if step is None else _cells(_kept(step))[3].strip()
        others = tuple(entry(d, k) for p, d, k in sorted(steps) if p != current)
    return Trail(
        rows=rows, touches=touches, first_touch=day(first), last=last_entry,
        recent=tuple(sorted(day(d) for d in dates)) if last is not None else (),
        step=step_entry, other_steps=others,
        replies=frozenset(day(d) for d in replies) if replies else _NO_REPLIES,
        birthday_done=day(birthday), callback_done=day(callback), no_reply_done=day(no_reply),
        status=entry(status_day, status), reply=entry(reply_day, reply),
        callback_noted=entry(noted_day, noted),
        status_more=tuple(entry(status_day, k) for k in status_more) if status_more else (),
        callback_more=tuple(entry(noted_day, k) for k in noted_more) if noted_more else (),
        reply_noted_day=day(reply_noted_day),
        reply_noted=tuple(day(d) for d in reply_noted) if reply_noted else (),
        started=tuple(sorted((one(str(p)), day(d)) for p, d in started)),
        bounced=tuple(sorted((str(a), day(d)) for a, d in bounced)) if bounced else (),
        drafted=tuple(sorted((day(d), one(str(p)), one(str(s))) for d, p, s in drafted))
        if drafted else (),
        sent=frozenset(str(k) for k, _ in sent) if sent else _NO_REPLIES,
        answered=day(answered),
        junk=tuple(sorted((day(d), str(n)) for d, n in junk)) if junk else (),
        optout=_opted_out((_opt_channel(c), (_count(o), _count(i))) for c, o, i in optouts)
        if optouts else ())


def _recent(items: list, span: int) -> list:
    """The (date, ...) items within `span` days of the latest of them."""
    if not items:
        return items
    floor = max(item[0] for item in items).toordinal() - span
    return [item for item in items if item[0].toordinal() >= floor]


def _recent_keys(sent: dict) -> dict:
    """The keys seen sent within SENT_SPAN days of the latest: the same whatever order the
    rows came in, as every key trimmed on the way is older than that."""
    floor = max(sent.values()).toordinal() - SENT_SPAN
    return {key: day for key, day in sent.items() if day.toordinal() >= floor}


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


def save(folds: dict, saved: Optional[dict] = None) -> dict:
    """The folds as plain JSON values (cadence.cache keeps them), with the `saved` ones that
    no row changed."""
    out = dict(saved or {})
    out.update((cid, acc.state()) for cid, acc in folds.items())
    return out


def saved_folds(saved) -> dict:
    """The saved folds as `save` gave them, checked for shape; raises NotAFold on anything
    else. Each is read into a Trail (`trails`) or a fold (`_fold`) when it is needed."""
    if not isinstance(saved, dict) or not all(
            isinstance(cid, str) and isinstance(state, list) and len(state) == _STATE_WIDTH
            for cid, state in saved.items()):
        raise NotAFold("folds")
    return saved


_STATE_WIDTH = 31  # the values of `_Fold.state`
_STATE_UNDO = 20  # where `_Fold.state` keeps `undo`


def _cells(kept) -> tuple:
    """A row's cells from what a fold kept of it (`_records`)."""
    return tuple(kept.split(",")) if isinstance(kept, str) else kept


def last_of_a_day(entry) -> tuple:
    """`_by_hand_last` of a row not yet written (`cadence log`): the larger one is the day's
    last touch, as the journal's fold will take it."""
    return _by_hand_last((entry.date.isoformat(), entry.contact, entry.event, entry.playbook,
                          entry.step, entry.channel, entry.template, entry.note))


def _by_hand_last(kept) -> tuple:
    """The order of one day's touches: a touch logged by hand (no step) after a run's, as a
    person logs it after the day's run (`takeback.latest_act`), then the larger row."""
    cells = _cells(kept)
    return not cells[4].strip(), cells


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


def fold(lines: Callable[[], Iterable[bytes]], path: str) -> tuple:
    """({contact id: Trail}, problems) of a whole journal; `lines()` gives its lines, each
    time it is called. Read once, row by row, and again for the contacts with `undo` rows."""
    folds = {}
    problems = fold_more(folds, lines(), path)
    again = undone(folds)
    if again and not problems:
        from .journal import read_rows

        rows, problems = read_rows(lines(), path, again)
        refold(folds, rows)
    return trails(folds), problems


def fold_more(folds: dict, lines: Iterable[bytes], path: str, names=None, number: int = 0,
              delimiter: str = ",", saved: Optional[dict] = None):
    """Fold more rows into `folds` ({contact id: _Fold}); returns the problems. `lines` begin
    with the header, or, with `names` (the header's columns), go on after line `number`.
    A contact of `saved` (`saved_folds`) that has a row goes on from its saved fold, which
    moves from `saved` to `folds`."""
    problems = []
    _fold(folds, records(lines, path, problems, names, number, delimiter), saved)
    return problems


def trails(folds: dict, saved: Optional[dict] = None) -> dict:
    """{contact id: Trail} of the folds and the `saved` ones, which are emptied on the way
    (memory)."""
    shared, days, out = {}, {}, {}
    while saved:
        cid, state = saved.popitem()
        out[cid] = _saved_trail(cid, state, shared, days)
    while folds:
        cid, acc = folds.popitem()
        out[cid] = acc.trail(cid, shared)
    return out


def _fold(folds: dict, records, saved: Optional[dict] = None) -> None:
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
                state = saved.pop(cid, None) if saved else None
                acc = folds[cid] = _Fold() if state is None else _Fold.restore(state)
        acc.rows += 1
        event = cells[2]
        if event == "touch":
            acc.touches += 1
            dates = acc.dates
            dates.append(day)
            latest = acc.last_day
            if latest is None or day > latest or (day == latest and _by_hand_last(kept)
                                                   > _by_hand_last(acc.last)):
                acc.last_day, acc.last = day, kept
            if acc.first is None or day < acc.first:
                acc.first = day
            channel = cells[5]
            if (channel == "email" or channel.strip() == "email") and cells[4].strip():
                _drafted(acc, day, cells)
            if len(dates) > 64:
                floor = acc.last_day.toordinal() - PER_WEEK_SPAN
                acc.dates = [d for d in dates if d.toordinal() >= floor]
        elif event == "skip":
            pass
        else:
            _other(acc, day, event, cells, kept)
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
        playbook = cells[3].strip()
        if acc.steps is None and latest is not None and \
                _cells(acc.step)[3].strip() != playbook:
            acc.steps = {_cells(acc.step)[3].strip(): (latest, acc.step)}
        if latest is None or day > latest or (day == latest and _cells(kept) > _cells(acc.step)):
            acc.step_day, acc.step = day, kept
        if acc.steps is not None:
            held = acc.steps.get(playbook)
            if held is None or _newer(day, kept, *held):
                acc.steps[playbook] = (day, kept)


def _drafted(acc: _Fold, day: date, cells: list) -> None:
    """An email touch of a playbook step: an email cadence drafted."""
    acc.drafted.append((day, cells[3].strip(), cells[4].strip()))
    if len(acc.drafted) > 16:
        acc.drafted = _recent(acc.drafted, DRAFTED_SPAN)


def _other(acc: _Fold, day: date, event: str, cells: list, kept) -> None:
    """The rows other than touches and skips: few, so a call each."""
    if event == "reply":
        acc.replies.add(day)
        acc.answered = _later(acc.answered, day)
        note = cells[7].strip()
        # the decision on a reply (`reply: stop`, ...); a reply `sync` found says the message
        if note.startswith("reply:") and _newer(day, kept, acc.reply_day, acc.reply):
            acc.reply_day, acc.reply = day, kept
        elif note.startswith(JUNK):
            acc.junk.append((day, note))
            if len(acc.junk) > 16:
                acc.junk = _recent(acc.junk, JUNK_SPAN)
    elif event in ("autoreply", "bounce", "sent"):
        note = cells[7].strip()
        if event == "sent":
            key = key_of(note_id(note))
            if key:
                acc.sent[key] = _later(acc.sent.get(key), day)
                if len(acc.sent) > 64:
                    acc.sent = _recent_keys(acc.sent)
            return
        acc.answered = _later(acc.answered, day)
        address = bounced_address(note) if event == "bounce" else ""
        if address:
            address = address_key(address)
            acc.bounced[address] = _later(acc.bounced.get(address), day)
    elif event == "status":
        if first_word(cells[7]) == "started":
            playbook = cells[3].strip()
            acc.started[playbook] = _later(acc.started.get(playbook), day)
        elif acc.status is None or day > acc.status_day:
            acc.status_day, acc.status, acc.status_more = day, kept, []
        elif day == acc.status_day:
            if (_rank(cells[7]), _cells(kept)) > (_rank(_cells(acc.status)[7]), _cells(acc.status)):
                acc.status, kept = kept, acc.status
            acc.status_more.append(kept)
    elif event == "note":
        note = cells[7].strip()
        if note.startswith("callback "):
            if acc.noted is None or day > acc.noted_day:
                acc.noted_day, acc.noted, acc.noted_more = day, kept, []
            elif day == acc.noted_day:
                if _cells(kept) > _cells(acc.noted):
                    acc.noted, kept = kept, acc.noted
                acc.noted_more.append(kept)
        elif note.startswith((OPTED_OUT, OPTED_IN)):
            out = note.startswith(OPTED_OUT)
            said = note[len(OPTED_OUT if out else OPTED_IN):].split(";", 1)[0]
            for channel in said.split(","):
                channel = channel.strip().lower()
                if channel not in OPT_CHANNELS:
                    continue  # a note of the user's own that begins so
                outs, ins = acc.optouts.get(channel, (0, 0))
                acc.optouts[channel] = (outs + out, ins + (not out))
        elif note.startswith(("last_reply ", "reply on ")):
            # a reply typed in the ledger, or one `cadence reply` recorded without a rule to
            # act on it ("reply on D": a won contact answered): the journal knows of it
            noted = _day_in(note[len("reply "):] if note.startswith("reply on ") else note)
            if noted is not None:
                if acc.reply_noted_day is None or day > acc.reply_noted_day:
                    acc.reply_noted_day, acc.reply_noted = day, [noted]
                elif day == acc.reply_noted_day:
                    acc.reply_noted.append(noted)
    elif event == "undo":
        acc.undo = True


def _others(rows: list, held) -> list:
    """The rows of a day besides the one `held`, once each, in the order of their cells."""
    seen, out = {_cells(held)} if held is not None else set(), []
    for kept in sorted(rows, key=_cells):
        if _cells(kept) not in seen:
            seen.add(_cells(kept))
            out.append(kept)
    return out


def _rank(note: str) -> int:
    """The order of one day's status rows: what a run read in the ledger (set in the ledger)
    comes first, a pause a run ended next, a status a person set (mark, reply) last."""
    note = note.strip()
    if note.endswith("(set in the ledger)"):
        return 0
    if note.startswith(PAUSE_ENDED):
        return 1
    return 2


def _newer(day: date, kept, latest: Optional[date], held) -> bool:
    """Is this row later than the one held: by date, then (same day) by its cells?"""
    return latest is None or day > latest or (day == latest and _cells(kept) > _cells(held))


def _day_in(note: str) -> Optional[date]:
    """The date after a note's first word ("last_reply 2026-11-20 (set in the ledger)")."""
    parts = note.split()
    if len(parts) < 2:
        return None
    try:
        return date.fromisoformat(parts[1][:10])
    except ValueError:
        return None


def trail_of(rows: Iterable[Entry]) -> Trail:
    """The Trail of one contact's rows (in any order), `undo` rows applied."""
    rows = list(rows)
    if not rows:
        return Trail()
    contact = rows[0].contact
    return _fold_of(rows).trail(contact, {})


def _fold_of(rows: list) -> _Fold:
    """The fold of one contact's rows with every `undo` row applied (`standing`)."""
    records = []
    for e in standing(rows):
        cells = [e.date.isoformat(), e.contact, e.event, e.playbook, e.step, e.channel,
                 e.template, e.note]
        records.append((0, e.date, cells, tuple(cells)))
    folds = {}
    _fold(folds, records)
    fold = next(iter(folds.values()), _Fold())
    fold.undo = False  # applied
    return fold


def standing(rows) -> list:
    """One contact's rows (in any order) but those its `undo` rows take back; the `undo` rows
    themselves stay.

    An `undo` row takes back the latest row of its date, playbook and step whose event its
    note's first word names (a touch unless it says otherwise); a second word names the first
    word of that row's note (`status started`, `note callback`), so that of one day's status
    rows the right one goes. An undo whose second word matches no row takes back the latest
    row of its event, as one without it does. The count of undos and rows decides, never
    their order.
    """
    rows = list(rows)
    named, plain = {}, {}
    for e in rows:
        if e.event == "undo":
            words = e.note.split(";", 1)[0].split()
            key = (e.date, e.playbook, e.step, words[0] if words else "touch")
            if len(words) > 1:
                named[key + (words[1],)] = named.get(key + (words[1],), 0) + 1
            else:
                plain[key] = plain.get(key, 0) + 1
    if not named and not plain:
        return rows
    order = sorted(range(len(rows)), key=lambda i: _sort_key(rows[i]), reverse=True)
    taken = set()
    if named:
        for i in order:  # the latest of equal rows goes first
            e = rows[i]
            key = (e.date, e.playbook, e.step, e.event, first_word(e.note))
            if e.event != "undo" and named.get(key):
                named[key] -= 1
                taken.add(i)
        for key, left in named.items():
            if left:
                plain[key[:4]] = plain.get(key[:4], 0) + left
    for i in order:
        e = rows[i]
        key = (e.date, e.playbook, e.step, e.event)
        if i not in taken and e.event != "undo" and plain.get(key):
            plain[key] -= 1
            taken.add(i)
    return [e for i, e in enumerate(rows) if i not in taken]


def _sort_key(e: Entry) -> tuple:
    return (e.date, e.contact, e.event, e.playbook, e.step, e.channel, e.template, e.note)


def undone(folds: dict, saved: Optional[dict] = None) -> set:
    """The contacts whose rows include an `undo` row: `refold` reads them again whole."""
    again = {cid for cid, acc in folds.items() if acc.undo}
    return again | {cid for cid, state in (saved or {}).items() if state[_STATE_UNDO]}


def refold(folds: dict, rows: dict, saved: Optional[dict] = None) -> None:
    """Replace the folds of the contacts in `rows` ({contact id: all its rows}) by folds of
    their whole rows, `undo` rows applied."""
    for cid, contact_rows in rows.items():
        if saved:
            saved.pop(cid, None)
        folds[cid] = _fold_of(list(contact_rows))

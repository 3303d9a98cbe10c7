"""A contact's state: its ledger row and its journal, as SPEC section 9 reads them together.

The ledger is the user's spreadsheet, and users overwrite it (a fresh download, a save that
drops columns); the journal is cadence's own record. So:

- a row whose state cells are empty while the journal holds rows for its id is rebuilt from
  the journal, never enrolled afresh;
- a step the journal shows done since the latest start is never drafted again, whatever the
  ledger's `last_step` says;
- a status, last_reply or callback cell the user typed, that differs from what the journal
  says, is the user's decision: it wins, and `run` journals it.

Pure, like the engine that reads the State.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Mapping, NamedTuple, Optional

from .journal import PAUSE_ENDED, first_word
from .ladder import rule_of
from .addresses import address_key
from .model import STATUSES, Contact, Entry, Playbook, Trail
from .steps import cursor_of, find_step, phase_at, phase_of_step, step_at

SET_IN_THE_LEDGER = "(set in the ledger)"
GUESSED_START = "(the day before the first touch)"  # a rebuilt row's start, the journal lacking one
BY_HAND = "skipped by hand"  # the note of a `cadence skip` row: a person's, not a run's


class State(NamedTuple):
    """A contact's ledger fields (or their rebuilt values) plus what the engine needs from its
    journal rows."""

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
    step_date: Optional[date] = None  # the date of `last_step`'s touch or skip, when known
    last_playbook: str = ""  # the playbook the last touch was made under, when known
    restored: bool = False  # state cells rebuilt from the journal
    decisions: tuple = ()  # (event, note, date or None: today) rows the user's hand asks for
    # the latest bounce of the contact's `email`, or of any address after the latest touch
    bounced: Optional[date] = None  # (SPEC 10: it brings the `no_reply` rung forward)
    step_by_hand: bool = False  # `last_step` was skipped by a person (`cadence skip`)
    # the ledger's `last_touch` when the journal lacks it (typed in, or from before cadence):
    # it counts for the per-week cap until a newer touch takes its place in the ledger
    typed_touch: Optional[date] = None
    address_bounced: Optional[date] = None  # the latest bounce of the `email` cell's address
    status_day: Optional[date] = None  # the date of the latest `status` or `reply` row
    status_written: bool = False  # a rebuilt row's `active` is written, as the run that set it did


NO_TRAIL = Trail()


def state_of(contact: Contact, trail: Optional[Trail], playbooks: Mapping[str, Playbook]) -> State:
    """A contact's state: its ledger row and what its journal rows say (SPEC sections 5, 9)."""
    trail = trail or NO_TRAIL
    playbook = playbooks.get(contact.playbook)
    status, paused_until = journal_status(trail, contact.playbook)
    said_reply = reply_said(trail)
    journal_reply = max(said_reply) if said_reply else None
    rebuild = (not contact.touches and contact.last_touch is None and not contact.last_step
               and trail.rows > 0)
    typed_status = bool(contact.row.get("status", "").strip())
    written = False  # a rebuilt `active` the ledger held in words, not as an empty cell
    if rebuild:
        started = dict(trail.started).get(contact.playbook) or contact.started or (
            trail.first_touch - timedelta(days=1) if trail.first_touch else None)
        touches, last_touch = trail.touches, trail.last.date if trail.last else None
        last_channel, last_step = (trail.last.channel if trail.last else ""), ""
        if not typed_status and status:
            now_status, now_until = status, paused_until or contact.paused_until
            said = trail.status  # "active again after a pause", `mark ID active`: a run wrote it
            written = status == "active" and said is not None and \
                first_word(said.note) == "active" and said.playbook == contact.playbook and \
                (trail.reply is None or said.date >= trail.reply.date) and \
                said.date >= dict(trail.started).get(contact.playbook, said.date)
        else:
            now_status, now_until = contact.status or "active", contact.paused_until
        last_reply = contact.last_reply or journal_reply
        if contact.callback is None and trail.callback_noted is not None:
            contact = _with_callback(contact, _noted_callback(trail.callback_noted))
    else:
        started, touches, last_touch = contact.started, max(contact.touches, 0), contact.last_touch
        last_channel, last_step = contact.last_channel, contact.last_step
        # an empty status is active (SPEC 2): only a rebuilt row takes the journal's (SPEC 9)
        now_status, now_until = contact.status or "active", contact.paused_until
        last_reply = contact.last_reply
    if now_status == "paused" == status and now_until is None and (
            rebuild or "paused_until" not in contact.row):
        # a pause typed as the journal says it, its date lost with the state cells or never
        # in the ledger (no such column): the journal's date holds
        now_until = paused_until
    last_row = trail.last
    if last_row is not None and not last_channel and last_row.date == last_touch:
        last_channel = last_row.channel
    step_row = trail.step
    if step_row is not None and step_row.playbook != contact.playbook:
        step_row = next((e for e in trail.other_steps if e.playbook == contact.playbook), None)
    last_step, step_date = _furthest_step(playbook, contact.playbook, started, last_step,
                                          last_touch, step_row)
    step_by_hand = step_date is not None and step_row.step == last_step and \
        step_row.event == "skip" and step_row.note.startswith(BY_HAND)
    touch_dates, typed_touch = trail.recent, None
    if last_touch is not None and last_touch not in touch_dates:
        touch_dates, typed_touch = tuple(sorted(touch_dates + (last_touch,))), last_touch
    bounced = address_bounced = _bounced(contact, trail) if trail.bounced else None
    if bounced is not None:  # email reaches the contact again once its `email` cell changes
        contact = contact._replace(unreachable=contact.unreachable + ("email",))
    if trail.bounced and last_touch is not None:
        # a bounce after the latest touch answers it, whatever address the cell holds now:
        # that email never arrived (SPEC 10: the rung comes the day after the bounce)
        after = max((day for _, day in trail.bounced if day >= last_touch), default=None)
        if after is not None and (bounced is None or after > bounced):
            bounced = after
    kind, rule, phase, last_playbook = "", -1, "", contact.playbook
    if last_touch is not None:
        kind = "manual"
        if last_row is not None and last_row.date == last_touch:
            kind, rule, phase = kind_of(last_row, playbook)
            last_playbook = last_row.playbook or contact.playbook
        if playbook is not None and not phase:
            phase = phase_at(playbook, started, last_touch).name
    decisions = _decisions(contact, trail, status, said_reply, typed_status,
                           (paused_until, now_until))
    if started is not None and contact.playbook not in dict(trail.started) and (
            rebuild or started == contact.started):
        # a start typed in the ledger (or made before the journal kept starts), or a rebuilt
        # row's guess: journaled once, dated as the start, so that the journal alone can say
        # it again
        said = SET_IN_THE_LEDGER if started == contact.started else GUESSED_START
        decisions += (("status", f"started {said}", started),)
    restored = rebuild and (started != contact.started or touches != contact.touches
                            or last_touch != contact.last_touch or bool(last_step)
                            or now_status != (contact.status or "active")
                            or last_reply != contact.last_reply)
    return State(
        contact=contact, playbook=contact.playbook, started=started, status=now_status,
        paused_until=now_until, touches=touches, last_touch=last_touch,
        last_channel=last_channel, last_step=last_step, last_kind=kind, last_rule=rule,
        last_phase=phase, last_reply=last_reply, touch_dates=touch_dates,
        replies=trail.replies, birthday_done=trail.birthday_done,
        callback_done=trail.callback_done, no_reply_done=trail.no_reply_done,
        step_date=step_date, last_playbook=last_playbook, restored=restored,
        decisions=decisions, bounced=bounced, step_by_hand=step_by_hand, typed_touch=typed_touch,
        address_bounced=address_bounced, status_written=written, status_day=max(
            (row.date for row in (trail.status, trail.reply) if row is not None), default=None),
    )


def kept_status(st: State, today: date) -> str:
    """The note of a status decided before the start (a `mark` before the first run, or the
    start's run undone since), said again after the `started` row: the journal, read by its
    dates (SPEC 9), would read the start as active. "" when there is nothing to say again: the
    status is active, the rows of the day say it already, or the pause ends today."""
    if st.status == "active" or st.status_day is None or st.status_day >= today or any(
            event == "status" for event, _, _ in st.decisions):
        return ""
    if st.status == "paused" and st.paused_until is not None and st.paused_until <= today:
        return ""
    until = f" until {st.paused_until}" if st.status == "paused" and st.paused_until else ""
    return f"{st.status}{until} {SET_IN_THE_LEDGER}"


def _bounced(contact: Contact, trail: Trail) -> Optional[date]:
    """The latest bounce of the address in the contact's `email` cell, if it bounced."""
    email = contact.row.get("email", "").strip()
    return dict(trail.bounced).get(address_key(email)) if email else None


def _furthest_step(playbook: Optional[Playbook], name: str, started: Optional[date],
                   last_step: str, last_touch: Optional[date], row: Optional[Entry]) -> tuple:
    """(last_step, its date when the journal knows it): the ledger's, or the journal's latest
    step of this playbook since `started` when that one is further on. A step the journal
    shows done is never drafted again, whatever the ledger says."""
    if row is None or playbook is None or row.playbook != name or (
            started is not None and row.date < started):
        return last_step, None
    step = row.step
    if find_step(playbook, step) is None:
        # a step the playbook no longer has (it was edited since) is read as SPEC 5 reads a
        # stale `last_step`: the last step of the playbook dated on or before that row's day
        step = step_at(playbook, cursor_of(playbook, step, started, row.date))
        if not step:
            return last_step, None
    if not last_step:
        return step, row.date
    ledger = cursor_of(playbook, last_step, started, last_touch)
    journal = cursor_of(playbook, step, started, last_touch)
    if journal > ledger:
        return step, row.date
    return last_step, row.date if step == last_step else None


def kind_of(row: Entry, playbook: Optional[Playbook]) -> tuple:
    """(kind, rule, phase) of a journal touch: a playbook step (and its phase), a rule (and
    which), or a person."""
    if row.step == "no_reply":
        return "no_reply", rule_of(row, playbook.no_reply) if playbook is not None else 0, ""
    if row.step in ("callback", "birthday"):
        return row.step, -1, ""
    phase = phase_of_step(playbook, row.step) if playbook is not None and row.step else None
    if phase:
        return "step", -1, phase
    return "manual", -1, ""


# --- what the journal says of a contact's status -------------------------------------------------

def journal_status(trail: Trail, playbook: str) -> tuple:
    """(status, paused until) by the latest `status` or `reply` row, or the playbook's latest
    start (active again); of one day's, a status row wins over a reply (the decision on a
    reply is taken after it), and both over a start but for the rows a move left behind. A
    `reply: continue` row, and the rows written before the contact moved to this playbook,
    say nothing of the status. (None, None) with none of them."""
    status, reply = trail.status, trail.reply
    started = dict(trail.started).get(playbook)
    if reply is not None and (reply.note.startswith("reply: continue") or (
            started is not None and reply.date <= started and (
                _moved_from(trail, reply, playbook, started)
                or "move to " in reply.note.partition(";")[0]))):
        # `continue` leaves the status as it was (SPEC 5); a reply in another playbook, on or
        # before this one's start, was decided in that one, and so was one that moved the
        # contact (`reply --move`, a `move` rule), even to the playbook it followed
        reply = None
    if started is not None and all(row is None or row.date < started or _moved_from(
            trail, row, playbook, started) for row in (status, reply)):
        # the start (a move's, too) comes after them
        return "active", _until_left(trail, status, playbook, started)
    if status is not None and (reply is None or status.date >= reply.date):
        word = first_word(status.note)
        if word == "paused":
            return "paused", _date_after(status.note, "until")
        if word in ("started", "active"):
            # a pause that ran out leaves its date in the row: "active again after a pause
            # until D"; `mark ID active` (a note may follow) clears it
            return "active", _date_after(status.note, "until") \
                if status.note.startswith(PAUSE_ENDED) else None
        return (word, None) if word in STATUSES else (None, None)
    if reply is not None:
        note = reply.note
        if note.startswith("reply: stop"):
            # the rule leaves paused_until as it was: the latest pause's, if one came before
            return "replied", _until_left(trail, status, playbook, started)
        if note.startswith("reply: pause"):
            return "paused", _date_after(note, "until")
        return "active", None  # continue, or a move to another playbook
    return None, None


def _until_left(trail: Trail, row: Optional[Entry], playbook: str,
                started: Optional[date]) -> Optional[date]:
    """The `paused_until` the status row `row` leaves in the ledger: a pause's date, or one
    that ran out; a move since clears it, and a pause that ran out keeps its date past a
    start of the same playbook (one typed ahead)."""
    if row is None:
        return None
    if started is not None and (row.date < started or _moved_from(trail, row, playbook, started)):
        moved = row.playbook != playbook or any(
            other != playbook and row.date <= day <= started for other, day in trail.started) \
            or (trail.reply is not None and trail.reply.date == started)  # a move's day
        return _date_after(row.note, "until") if row.note.startswith(PAUSE_ENDED) and \
            not moved else None
    if first_word(row.note) == "paused" or row.note.startswith(PAUSE_ENDED):
        return _date_after(row.note, "until")
    return None


def _moved_from(trail: Trail, row: Entry, playbook: str, started: date) -> bool:
    """Whether `row`, of another playbook, was written before the contact moved to
    `playbook` on `started`, whatever its date: that playbook started before this one (a
    reply of an earlier day, `--on`, moved the contact after a status set since). Without
    a start of its own, a row of another playbook dated on or before `started`."""
    if row.playbook == playbook:
        return False
    return dict(trail.started).get(row.playbook, row.date) <= started


def _date_after(note: str, word: str) -> Optional[date]:
    parts = note.replace(";", " ").split()
    for i, part in enumerate(parts[:-1]):
        if part == word:
            try:
                return date.fromisoformat(parts[i + 1][:10])
            except ValueError:
                return None
    return None


_NO_DATES = frozenset()


def reply_said(trail: Trail) -> frozenset:
    """The last_reply the journal says: the date of its latest reply, or what the latest
    `note` row "last_reply D" (a date typed in the ledger) or "reply on D" says, whichever row
    is later; of one day's rows, each of theirs (the journal cannot say which came last)."""
    latest = max(trail.replies) if trail.replies else None
    day = trail.reply_noted_day
    if day is None or (latest is not None and latest > day):
        return frozenset((latest,)) if latest is not None else _NO_DATES
    return frozenset(trail.reply_noted + ((latest,) if latest == day else ()))


def _decisions(contact: Contact, trail: Trail, status: Optional[str], replies: frozenset,
               typed_status: bool, until: tuple) -> tuple:
    """The rows the user's hand asks for: a status, last_reply or callback cell typed in the
    ledger that differs from what the journal says (SPEC section 9), and a pause's date typed
    over the one the journal holds (`until`: the journal's, the row's). Of one day's rows, the
    journal says each: a value a row of the latest day holds is not journaled again (a status
    typed on the day of a `mark`, a call-back on the day of `reply --callback`)."""
    found = []
    said, typed = until
    pause = contact.status == "paused"
    if typed_status and (contact.status != (status or "active") or (
            pause and status == "paused" and typed != said)) and not any(
            _says(journal_status(trail._replace(status=row), contact.playbook),
                  contact.status, typed) for row in trail.status_more):
        when = f" until {typed}" if pause and typed else ""
        found.append(("status", f"{contact.status}{when} {SET_IN_THE_LEDGER}", None))
    if contact.last_reply is not None and contact.last_reply not in replies:
        found.append(("note", f"last_reply {contact.last_reply} {SET_IN_THE_LEDGER}", None))
    agreed = callback_text(contact)
    if agreed and agreed not in {_noted_callback(row)
                                 for row in (trail.callback_noted,) + trail.callback_more}:
        found.append(("note", f"callback {agreed} {SET_IN_THE_LEDGER}", None))
    return tuple(found)


def _says(said: tuple, status: str, until: Optional[date]) -> bool:
    """Does the journal's (status, paused until) say this status (and a pause's date)?"""
    return said[0] == status and (status != "paused" or said[1] == until)


def callback_text(contact: Contact) -> str:
    """The agreed call-back as the journal writes it: `2027-03-01` or `2027-03-01T10:00`."""
    if contact.callback is None:
        return ""
    return contact.callback.isoformat() + (f"T{contact.callback_time}" if contact.callback_time else "")


def _with_callback(contact: Contact, text: str) -> Contact:
    """The contact with the call-back the journal noted (`2027-03-01` or `2027-03-01T10:00`):
    an empty cell of a row being rebuilt is restored, not a decision (SPEC section 9)."""
    day_text, _, time = text.partition("T")
    try:
        agreed = date.fromisoformat(day_text)
    except ValueError:
        return contact
    return contact._replace(callback=agreed, callback_time=time,
                            row={**contact.row, "callback": text})


def _noted_callback(row: Optional[Entry]) -> str:
    return row.note.split()[1] if row is not None and len(row.note.split()) > 1 else ""

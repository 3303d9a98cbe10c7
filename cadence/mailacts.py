"""What `sync` writes for what the mailbox showed (SPEC section 10), and what `due` notices of it:
the journal rows, the ledger cells they change, and the lines people read. Pure: the book and
the findings in, values out.

A reply acts as `cadence reply` does, by the playbook's `reply` rule, even when it is dated
before the last touch (it crossed it). Its decision is journaled as a `status` row (`replied`,
`paused until D`; dated as the reply, or the day of the sync when a later status row stands)
or a move's `started` row beside the `reply` row that holds the message, so that every reply
is one `reply` row, as `stats` counts them.
"""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

from . import engine
from .journal import note_id
from .trail import trail_of
from .addresses import address_key
from .model import Entry

EVENT_ORDER = ("sent", "autoreply", "reply", "bounce")
BY_MAIL = "(a reply by email)"
NOT_SENT_AFTER = 2  # days after its day that a drafted email not seen sent is noticed
NOT_SENT_UNTIL = 14  # days after which it is not any more
JUNK_DAYS = 7  # days a reply found in junk is noticed by `due`
AHEAD_NAMES = 5  # the contacts the "left for a later sync" line names; the rest are counted


class Synced(NamedTuple):
    """A sync's work, worked out before anything is written."""

    found: tuple  # Found, by date, contact, event
    names: dict  # {contact id: name}
    entries: tuple  # journal rows, in ledger order
    updates: dict  # {row index: {column: text}}
    later: int  # messages dated after today, left for a later sync
    undated: int  # messages with no usable date at all
    in_junk: tuple  # (date, contact, message id) of journaled replies still in the junk folder
    # (reply's date, contact, the touch drafted before it was found: Entry) of replies that
    # came after a run had drafted the contact's latest touch, which may still go out
    crossed: tuple = ()
    ahead: tuple = ()  # (date, contact) of the messages left for later: whose, and when

    def found_json(self) -> list:
        return [{"contact": f.contact, "event": f.event, "date": f.day.isoformat(),
                 "folder": f.role, "message_id": f.message.id, "subject": f.message.subject}
                for f in self.found]

    def counts(self) -> list:
        """replies, of them in junk, auto-replies, bounces, sent: the summary's one row."""
        kinds = [f.event for f in self.found]
        return [kinds.count("reply"), sum(1 for f in self.found if f.event == "reply" and f.junk),
                kinds.count("autoreply"), kinds.count("bounce"), kinds.count("sent")]

    def found_rows(self) -> list:
        return [[f.day.isoformat(), f.contact, self.names.get(f.contact, ""),
                 f.event, f.role, f.message.subject] for f in self.found]

    def junk_lines(self) -> list:
        """What each sync says loudly while a reply sits in the junk folder."""
        return [f"warning: {junk_text(self.names.get(cid) or cid, day)}"
                for day, cid, _ in self.in_junk]

    def crossed_lines(self) -> list:
        """What each such reply asks of people: the draft made before it was known."""
        return [f"warning: {self.names.get(cid) or cid} replied ({day}); the {touch.step} "
                f"{touch.channel} of {touch.date}, drafted before sync found the reply, may "
                f"still go out: if it has not, take it back with `cadence undo {cid}`"
                + (" and delete any copy in your drafts folder" if touch.channel == "email"
                   else "")
                for day, cid, touch in self.crossed]

    def dated_lines(self) -> list:
        """The findings dated otherwise than by their Date header, and what was left."""
        lines = [f"{f.contact}: {f.message.id} has no usable Date header; dated "
                 f"{f.day} by {'the server (INTERNALDATE)' if f.message.dated_by == 'internaldate' else 'its file time'}"
                 for f in self.found if f.message.dated_by]
        if self.later:
            lines.append(f"{self.later} message{'s' if self.later != 1 else ''} dated after today "
                         f"left for a later sync{self._ahead_words()}.")
        return lines

    def _ahead_words(self) -> str:
        """Whom the messages left for later concern (a reply from them, a copy sent to them, a
        bounce of one) and when, in a line however many there are."""
        if not self.ahead:
            return ""
        whose = sorted({self.names.get(cid) or cid for _, cid in self.ahead})
        if len(whose) > AHEAD_NAMES + 1:  # "and 1 other" would take the name's place
            whose = whose[:AHEAD_NAMES] + [f"{len(whose) - AHEAD_NAMES} others"]
        shown = ", ".join(whose[:-1]) + " and " + whose[-1] if len(whose) > 1 else whose[0]
        first, last = min(d for d, _ in self.ahead), max(d for d, _ in self.ahead)
        days = first.isoformat() if first == last else f"{first} to {last}"
        return f" (about {shown}, dated {days}: a clock ahead of yours?)"


def junk_text(name: str, day: date, seen: bool = True) -> str:
    """What to do about a reply in the junk folder: as `sync` sees it there now, or (`due`,
    which does not read the mailbox) as the journal says it went there."""
    where = "is in" if seen else "went to"
    move = "move it" if seen else "if it is still there, move it"
    return (f"a reply from {name} {where} your junk folder ({day}): {move} to the inbox, "
            "and tell your mail program it is not spam")


def synced(book, weighed, junk_before: tuple, junk_ids: set, today: date,
           history=None) -> Synced:
    """The rows and cells for the findings `weighed` (mailmatch.weigh); `junk_before` are the
    junk replies the journal held ((contact, date, id)), `junk_ids` what the junk folder holds
    now; `history(ids)` gives those contacts' journal rows, every one (for an email sent
    after `undo` took it back, whose touch is journaled again)."""
    ids = {c.id for c in book.contacts}
    # a contact no longer in the ledger: its mail is left alone, as a stranger's (SPEC 10)
    found = tuple(f for f in weighed.found if f.contact in ids)
    by_contact = {}
    for finding in found:
        by_contact.setdefault(finding.contact, []).append(finding)
    entries, updates, stopped = [], {}, set()
    for contact in book.contacts:
        finds = by_contact.pop(contact.id, None)
        if finds:
            rows, changes, acted = _effects(book, contact, finds, today, history)
            if acted:
                stopped.add(contact.id)
            entries.extend(rows)
            if changes:
                updates[contact.index] = changes
    names = {c.id: c.name for c in book.contacts}
    junk = {(day, cid, mid) for cid, day, mid in junk_before}
    junk |= {(f.day, f.contact, f.message.id) for f in found if f.event == "reply" and f.junk}
    in_junk = tuple(sorted(item for item in junk if item[2] in junk_ids and item[1] in names))
    return Synced(found, names, tuple(entries), updates, len(weighed.later),
                  len(weighed.undated), in_junk, _crossed(book, found, stopped, today),
                  tuple(item for item in weighed.ahead if item[1] in names))


CROSSED_DAYS = 1  # a touch drafted this many days before the sync may still wait to go out


def _crossed(book, found: tuple, stopped: set, today: date) -> tuple:
    """The replies of this sync from contacts whose latest touch of a playbook was drafted
    today or yesterday and, for an email, was not seen gone out (its copy in the sent folder,
    a reply to it), when the reply stops, pauses or moves the contact (`stopped`) or that
    touch is a `no_reply` rung: the run that drafted it did not know of the reply (it came
    after the morning's `sync && run`), and the draft may still wait to go out."""
    from .addresses import key_of

    # seen gone out: a copy in the sent folder, or a reply that answers it
    sent = {key_of(f.message.id) for f in found if f.event == "sent"}
    sent.update(ref for f in found if f.event == "reply" for ref in f.message.refs)
    first = {}
    for f in found:
        if f.event == "reply":
            first[f.contact] = min(first.get(f.contact, f.day), f.day)
    out = []
    for cid, day in first.items():
        trail = book.trails.get(cid)
        touch = trail.last if trail is not None else None
        if touch is None or not touch.step or \
                not 0 <= (today - touch.date).days <= CROSSED_DAYS or \
                (cid not in stopped and touch.step != "no_reply"):
            continue
        if touch.channel == "email":
            from .emails import message_key  # the email package only when a draft is weighed

            key = message_key(cid, touch.playbook, touch.step, touch.date)
            if key in sent or key in trail.sent:
                continue
        out.append((day, cid, touch))
    return tuple(sorted(out))


def _effects(book, contact, finds: list, today: date, history=None) -> tuple:
    """(journal rows, ledger cells, whether a reply stopped, paused or moved the contact) of
    one contact's findings, oldest first."""
    again = [f.touch_again() for f in finds if f.sent_after_undo]
    if again and history is not None:
        # the email went out: its touch counts again, and the contact's state is the one
        # its journal then says (SPEC 9's rebuild, from its rows and this touch)
        rows_now = list(history({contact.id}).get(contact.id, ())) + again
        cleared = contact._replace(touches=0, last_touch=None, last_step="")
        st = engine.state_of(cleared, trail_of(rows_now), book.playbooks)
    else:
        st = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
    rows, acted = [], False
    email = address_key(contact.row.get("email", ""))
    for finding in sorted(finds, key=lambda f: (f.day, EVENT_ORDER.index(f.event), f.message.id)):
        acted_in = st.playbook or contact.playbook
        if finding.sent_after_undo:
            rows.append(finding.touch_again())
        rows.append(finding.entry(acted_in))
        if finding.event == "reply":
            before = st.last_reply
            latest = finding.day if before is None else max(before, finding.day)
            st = st._replace(last_reply=latest)
            if before is not None and finding.day < before:
                continue  # found late, older than a reply decided on: journaled, no decision
            st, decided, started = engine.reply_decision(st, book.playbooks, finding.day)
            acted = acted or decided.startswith(("reply: stop", "reply: pause", "reply: move"))
            # dated as the reply, unless the journal holds a status or reply row of a later
            # day (a pause a run ended since): then on the day it is decided, as `cadence
            # reply --on` decides, so that a row rebuilt from the journal reads it (SPEC 9)
            later = st.status_day is not None and st.status_day > finding.day
            rows.extend(_decision_rows(contact.id, acted_in, today if later else finding.day,
                                       decided) + started)
        elif finding.event == "bounce" and finding.address == email:
            unreachable = st.contact.unreachable + ("email",)
            st = st._replace(bounced=max(st.bounced or finding.day, finding.day),
                             address_bounced=max(st.address_bounced or finding.day, finding.day),
                             contact=st.contact._replace(unreachable=unreachable))
        elif finding.event == "bounce" and st.last_touch is not None \
                and finding.day >= st.last_touch:
            # an old address bounced after the latest touch: that email never arrived
            st = st._replace(bounced=max(st.bounced or finding.day, finding.day))
    changes = {}
    if contact.playbook and st.playbook in book.playbooks:
        changes = engine.changes_of(contact, st, engine.upcoming(st, book.playbooks, today,
                                                                  book.condition))
    if st.last_reply is not None and st.last_reply != contact.last_reply:
        changes["last_reply"] = st.last_reply.isoformat()
    return rows, changes, acted


def _decision_rows(contact: str, playbook: str, day: date, decided: str) -> tuple:
    """The `status` row of a decision on a reply found by `sync`."""
    if decided == "reply: stop":
        return (Entry(day, contact, "status", playbook, note=f"replied {BY_MAIL}"),)
    if decided.startswith("reply: pause until"):
        until = decided.rsplit(" ", 1)[1]
        return (Entry(day, contact, "status", playbook, note=f"paused until {until} {BY_MAIL}"),)
    return ()


# --- what `due` notices ---------------------------------------------------------------------

def notices(book, today: date, mailbox: bool) -> list:
    """The notices of `due` (SPEC section 10): replies found in junk in the last 7 days and,
    when the book names a mailbox, drafted emails not seen sent 2 to 13 days after their day
    (until an answer or a bounce comes)."""
    found = []
    for contact in book.contacts:
        trail = book.trails.get(contact.id)
        if trail is None:
            continue
        name = contact.name or contact.id
        for day, note in trail.junk:
            if 0 <= (today - day).days < JUNK_DAYS:
                found.append((day, contact.id, "junk-reply", junk_text(name, day, seen=False),
                              note_id(note)))
        if not mailbox:
            continue
        for day, playbook, step in trail.drafted:
            if not NOT_SENT_AFTER <= (today - day).days < NOT_SENT_UNTIL:
                continue
            if trail.answered is not None and trail.answered >= day:
                continue
            from .emails import message_key  # the email package only when a draft is weighed

            if message_key(contact.id, playbook, step, day) in trail.sent:
                continue
            found.append((day, contact.id, "not-sent",
                          f"drafted, not sent: the email to {name} of {day} ({playbook}, "
                          f"{step}) is not in your sent folder", ""))
    found.sort()
    return [{"contact": cid, "kind": kind, "date": day.isoformat(), "text": text}
            for day, cid, kind, text, _ in found]

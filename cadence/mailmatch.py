"""What the mailbox shows, weighed against the book (SPEC section 10): each message read by
`sync` becomes a journal row (`reply`, `autoreply`, `bounce`, `sent`) for a contact, or is left
alone. Pure: messages, contacts and the journal's rows in, findings out.

Each message is weighed in this order: a delivery report (a `bounce` when it failed); a message
from the user's own address (left alone); an automatic answer; then threading (In-Reply-To and
References naming a Message-ID that cadence made), which wins over the sender's address.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, timezone, tzinfo
from typing import Iterable, NamedTuple, Optional

from .emails import message_key
from .journal import JUNK, note_id
from .mailparse import Message
from .addresses import address_key, key_of
from .model import FORMULA_STARTS, Entry

MAIL_EVENTS = ("reply", "autoreply", "bounce", "sent")
SENT_AFTER_UNDO = "(sent after undo took it back: its touch is journaled again)"


class Touch(NamedTuple):
    """A drafted email the journal holds: whose, of which step, of which day."""

    contact: str
    playbook: str
    step: str
    day: date
    template: str = ""
    note: str = ""
    taken_back: bool = False  # `undo` took back every touch row of it: it counts for nothing


class Known(NamedTuple):
    """What the journal already says about mail."""

    # (kind, Message-ID) of every mail row: each message is journaled once, a `sent` row
    # apart from the rest ("sent", else "mail"), so that a message that reused a draft's id
    # never hides the draft's own copy in the sent folder
    ids: frozenset
    touches: dict  # {Message-ID key: Touch} of the emails cadence drafted
    junk: tuple  # (contact, date, Message-ID) of the replies found in the junk folder


class Person(NamedTuple):
    """A contact as mail is matched to it."""

    id: str
    name: str
    email: str  # address_key of its `email` cell
    playbook: str
    started: Optional[date]  # None: not enrolled


class Found(NamedTuple):
    """A message that means something for a contact: its journal row to be."""

    contact: str
    event: str  # reply | autoreply | bounce | sent
    day: date
    role: str  # inbox | junk | sent
    message: Message
    address: str = ""  # a bounce: the address that bounced
    touch: Optional[Touch] = None  # `sent`: the drafted email it confirms

    @property
    def junk(self) -> bool:
        return self.role == "junk"

    def note(self) -> str:
        """The row's note: the Message-ID first (how a later sync knows it), the subject, and
        for a bounce the address that bounced."""
        text = f"{self.message.id} {_unsplit(self.message.subject)}".rstrip()
        if self.message.dated_by:
            text += f" (dated by its {'INTERNALDATE' if self.message.dated_by == 'internaldate' else 'file time'}: the Date header is unusable)"
        if self.junk:
            text = f"{JUNK} {text}"
        if self.event == "bounce":
            text += f" [address {self.address}]"
        if self.sent_after_undo:
            text += f" {SENT_AFTER_UNDO}"
        return text

    @property
    def sent_after_undo(self) -> bool:
        """A copy in the sent folder of a drafted email that `undo` took back."""
        return self.event == "sent" and self.touch is not None and self.touch.taken_back

    def touch_again(self) -> Entry:
        """The touch row of a drafted email that `undo` took back and that went out all
        the same (seen in the sent folder): journaled again as it was."""
        t = self.touch
        return Entry(t.day, self.contact, "touch", t.playbook, t.step, "email", t.template,
                     t.note)

    def entry(self, playbook: str) -> Entry:
        step = self.touch.step if self.touch else ""
        if self.touch:
            playbook = self.touch.playbook
        return Entry(self.day, self.contact, self.event, playbook, step, "email", "", self.note())


class Weighed(NamedTuple):
    found: tuple  # Found, sorted by date, contact, event, Message-ID
    later: tuple  # (role, place) of messages dated after today: read again by the next sync
    undated: tuple  # (role, place) of messages without any usable date
    ahead: tuple = ()  # (date, contact) of the messages dated after today, for people


def known(rows: Iterable[Entry]) -> Known:
    """What the journal's rows (in any order) say about mail: the ids already journaled, the
    emails cadence drafted (by their Message-ID's key), the replies found in junk."""
    ids, touches, junk = set(), {}, []
    made, undone = Counter(), Counter()  # touch rows and `undo` rows of a date, playbook, step
    for row in rows:
        if row.event == "touch":
            if row.channel == "email" and row.step:
                key = message_key(row.contact, row.playbook, row.step, row.date)
                touch = Touch(row.contact, row.playbook, row.step, row.date, row.template,
                              row.note)
                held = touches.get(key)
                # of rows with one key (a step drafted, taken back, drafted again after an
                # edit), the largest: the rows' order never matters
                if held is None or (touch.template, touch.note) > (held.template, held.note):
                    touches[key] = touch
                made[key] += 1
        elif row.event == "undo":
            # an undo takes back a touch of its date, playbook and step (trail.standing)
            words = row.note.split(";", 1)[0].split()
            if row.step and (words[0] if words else "touch") == "touch":
                undone[message_key(row.contact, row.playbook, row.step, row.date)] += 1
        elif row.event in MAIL_EVENTS:
            found = note_id(row.note)
            if found:
                ids.add(("sent" if row.event == "sent" else "mail", found))
                if row.event == "reply" and row.note.lstrip().startswith(JUNK):
                    junk.append((row.contact, row.date, found))
    for key, count in undone.items():
        if key in touches and count >= made[key]:
            touches[key] = touches[key]._replace(taken_back=True)
    return Known(frozenset(ids), touches, tuple(sorted(junk)))


def weigh(reads: Iterable, people: list, journal: Known, own: Iterable[str],
          zone: Optional[tzinfo], today: date) -> Weighed:
    """The findings of the messages read (`mailbox.Read`s of the inbox, junk and sent
    folders). `people` are the contacts in the ledger's order; `own` the user's addresses."""
    own = {address_key(a) for a in own if a}
    by_address = {}
    for person in people:
        if person.email:
            by_address.setdefault(person.email, []).append(person)
    ids = {person.id: person for person in people}
    seen, found, later, undated, ahead = set(journal.ids), [], [], [], []
    for read in sorted(reads, key=_order):
        message = read.message
        key = ("sent" if read.role == "sent" else "mail", message.id)
        if key in seen:
            continue
        if message.date is None:
            undated.append((read.role, read.place))
            continue
        day = message.date.astimezone(zone).date() if zone else \
            message.date.astimezone(timezone.utc).date()
        findings = _findings(read.role, message, day, journal, by_address, ids, own)
        if not findings:
            continue
        if day > today:
            later.append((read.role, read.place))
            ahead.append((day, findings[0].contact))
            continue
        seen.add(key)
        found.extend(findings)
    found.sort(key=lambda f: (f.day, f.contact, f.event, f.message.id))
    return Weighed(tuple(found), tuple(later), tuple(undated), tuple(sorted(ahead)))


def _order(read) -> tuple:
    """Reads in a fixed order (inbox, junk, sent; then by place): the first copy of a message
    that stands in two folders is the one journaled, whatever order the folders were read in."""
    return (("inbox", "junk", "sent").index(read.role) if read.role in ("inbox", "junk", "sent")
            else 3, str(type(read.place)), read.place)


def _findings(role, message: Message, day: date, journal: Known, by_address: dict, ids: dict,
              own: set) -> tuple:
    """What one message says: one finding, none, or for a report of a message the user sent
    by hand to several contacts, a bounce for each of them whose address failed."""
    if role == "sent":
        touch = journal.touches.get(key_of(message.id))
        if touch is None:
            return ()
        return (Found(touch.contact, "sent", day, role, message, touch=touch),)
    report = message.report
    if report is not None:
        if not report.failed:
            return ()  # a delay warning, a relay notice: left alone
        person = _threaded(report.returned_ids + message.refs, journal, ids)
        if person is not None and _sent_to(person, report, day, by_address):
            return (Found(person.id, "bounce", day, role, message,
                          address=_bounced(person, report)),)
        # a draft's report whose failed recipients are not whom the draft was sent to (a Bcc
        # added by hand), or a report of mail written by hand, not a draft of cadence's: each
        # contact among the failed recipients bounced (by the address mail went to, else the
        # one it was sent to); a report that names none, the first contact the returned
        # headers address (one whose failed recipients are not contacts, a Cc of the user's,
        # bounced no contact)
        if report.failures:
            bounced = {}
            for pair in report.failures:
                for address in pair:
                    person = _by_address(address, day, by_address) if address else None
                    if person is not None:
                        if person.id not in bounced:
                            bounced[person.id] = Found(person.id, "bounce", day, role,
                                                       message, address=address)
                        break
            return tuple(bounced.values())
        for address in report.returned_to:
            person = _by_address(address, day, by_address)
            if person is not None:
                return (Found(person.id, "bounce", day, role, message, address=address),)
        return ()
    if message.sender in own:
        return ()
    event = "autoreply" if message.auto else "reply"
    person = _threaded(message.refs, journal, ids) or _by_address(message.sender, day, by_address)
    if person is None:
        return ()
    return (Found(person.id, event, day, role, message),)


_SPLIT_FORMULA = re.compile(r"([,;\t]\s*)(?=[" + re.escape("".join(FORMULA_STARTS)) + "])")


def _unsplit(subject: str) -> str:
    """A stranger's subject that begins no formula in a spreadsheet that splits the journal
    on another separator than its own (`Re: offer;=1+2` in a semicolon locale): after each
    `,` or `;`, a would-be formula gets the apostrophe spreadsheets show as text."""
    return _SPLIT_FORMULA.sub(r"\1'", subject)


def _sent_to(person: Person, report, day: date, by_address: dict) -> bool:
    """Whether a report that returned the contact's draft says the contact's mail failed: a
    failed recipient is the contact's address or one the draft was sent to (as written, or
    as sent before an alias or forward: RFC 3464's Original-Recipient), or one that no
    contact has and no original address names (the contact's server forwarded the mail
    there), unless the draft went to it itself (its Cc) or the report says how the contact's
    own copy fared (delayed, relayed, delivered). A failed Bcc names its own address in both
    fields."""
    if not report.failures:
        return True
    own = {person.email, *report.returned_to}
    accounted = bool(own & set(report.others))
    for final, original in report.failures:
        if any(a and (a == person.email or a in report.returned_to) for a in (final, original)):
            return True
        if final and not original and not accounted and final not in report.returned_cc and \
                _by_address(final, day, by_address) is None:
            return True
    return False


def _bounced(person: Person, report) -> str:
    """The address a contact's bounce names: the contact's own when it is among those that
    failed (a Cc added by hand may have failed first), else the first failed one the draft
    was sent to (an address the cell no longer holds), else the one of the returned draft's
    `To` that is the contact's, or its first (the contact's server forwarded the mail)."""
    failed = [a for pair in report.failures for a in pair if a]
    if person.email in failed:
        return person.email
    sent_to = [a for a in failed if a in report.returned_to]
    if sent_to:
        return sent_to[0]
    if report.returned_to and person.email not in report.returned_to:
        return report.returned_to[0]
    return person.email


def _threaded(keys: Iterable[str], journal: Known, ids: dict) -> Optional[Person]:
    """The contact of the first id that names an email cadence drafted."""
    for key in keys:
        touch = journal.touches.get(key)
        if touch is not None and touch.contact in ids:
            return ids[touch.contact]
    return None


def _by_address(address: str, day: date, by_address: dict) -> Optional[Person]:
    """The first contact in the ledger with this address who was enrolled by `day`."""
    for person in by_address.get(address, ()):
        if person.playbook and person.started is not None and person.started <= day:
            return person
    return None

"""The frozen model: what the parsers produce and the engine reads.

Nothing here touches files, the clock, YAML, Jinja or the terminal.

Longer than most modules: every value the layers pass each other is defined here, once, so that
a reader finds the whole vocabulary (and the exit codes) in one file.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Mapping, NamedTuple, Optional

from .addresses import idna_domain

CHANNELS = ("email", "call", "sms", "messenger", "letter")


def count(n: int, noun: str, plural: str = "") -> str:
    """`1 contact`, `2 contacts`, `1 touch`, `3 touches`: the number and its noun, agreeing."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {plural or (noun + 'es' if noun.endswith(('ch', 'sh', 's', 'x')) else noun + 's')}"

def shown(text, limit: int = 60) -> str:
    """A value quoted in a message, cut with its length said when a cell holds pages."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


# Which ledger column makes a channel reachable.
REACH = {"email": "email", "call": "phone", "sms": "phone", "messenger": "phone", "letter": "address"}

STATUSES = ("active", "paused", "replied", "won", "lost", "unsubscribed", "stopped")

# the years a date in the ledger or on the command line may have: far from the calendar's
# ends, so that date arithmetic never overflows; cadence never writes a date past them
FIRST_YEAR, LAST_YEAR = 1900, 2999

STATE_COLUMNS = (
    "started", "status", "paused_until", "touches", "last_touch", "last_channel",
    "last_step", "next_due",
)

KNOWN_COLUMNS = (
    "id", "name", "email", "phone", "address", "playbook", "started", "status",
    "paused_until", "channels", "optout", "callback", "birthday", "last_reply",
    "touches", "last_touch", "last_channel", "last_step", "next_due",
)

_NOT_IN_ADDRESS = re.compile(r"[\r\n\t <>,;]")


def email_problem(text: str) -> str:
    """Why `text` cannot address an email draft ("" when it can): one address, a local part
    in ASCII (a draft's header has no room for more), a domain."""
    local, at, domain = text.rpartition("@")
    if not at or "@" in local or not local or not domain or _NOT_IN_ADDRESS.search(text):
        return f"not an email address: {text!r}"
    if not local.isascii():
        return f"the part before @ must be ASCII (a-z, 0-9 and .!#$%&'*+/=?^_`{{|}}~-): {text!r}"
    if not domain.isascii():
        try:
            idna_domain(domain)
        except UnicodeError:
            return f"the domain cannot be written in a mail header (IDNA): {text!r}"
    return ""


# Exit codes of SPEC section 7.
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_DATA = 65
EXIT_MISSING = 66
EXIT_CANTCREAT = 73
EXIT_IO = 74
EXIT_TEMPFAIL = 75
EXIT_CONFIG = 78


@dataclass(frozen=True, slots=True, order=True)
class Source:
    """Where something came from; line and column count from 1, 0 when unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.path}:{self.line}:{self.col}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """A user's mistake, as a value; `code` is the exit code it leads to. Problems sort in
    file order."""

    source: Source
    message: str
    hint: str = ""
    code: int = EXIT_CONFIG
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        text = f"{self.source}: {kind}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class Overtime(BaseException):
    """A template or an `if` test ran past its time ("ran for more than 10 seconds"). A
    BaseException, as KeyboardInterrupt is, so that no `except Exception` on the way (Jinja's
    constant folding has some) swallows it."""


class Failure(Exception):
    """Fatal problems that stop a command; raised at the edges, caught once in the CLI."""

    def __init__(self, problems, code: Optional[int] = None):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(problems)
        errors = [p for p in self.problems if not p.warning] or self.problems
        self.code = code if code is not None else max(p.code for p in errors)
        super().__init__("\n".join(str(p) for p in self.problems))


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """Calendar months: Jan 31 + 1 month = Feb 28 (29 in a leap year).

    Written out rather than dateutil's relativedelta: the engine adds a duration for every
    contact, and this is twenty times faster (tests/test_engine.py compares the two).
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _DAYS_IN_MONTH[month]
    if month == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return date(year, month + 1, min(day.day, last))


def pause_end(length: "Duration", day: date) -> date:
    """The day a pause of `length` from `day` ends: on the last day cadence reads at the
    latest (it never writes a date it would not read back)."""
    return min(length.add(day), date(LAST_YEAR, 12, 31))


@dataclass(frozen=True, slots=True)
class Duration:
    """A span such as `3 days` or `1 month`; months and years count by calendar."""

    days: int = 0
    months: int = 0
    text: str = ""

    def add(self, day: date, times: int = 1) -> date:
        if self.months:
            day = add_months(day, self.months * times)
        if self.days:
            day = date.fromordinal(day.toordinal() + self.days * times)
        return day

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Calendar:
    business_days: bool = False
    holidays: frozenset = frozenset()
    country: str = ""  # ISO 3166 code whose public holidays count too (`calendar: {country: SE}`)
    # the country's holidays, any year: a container of dates (the `holidays` package's, made
    # by the playbook's parser), consulted beside the explicit `holidays`
    country_days: object = field(default=None, compare=False, repr=False)
    source: Source = field(default=Source(""), compare=False)  # where `country` is written

    def is_working(self, day: date) -> bool:
        if not self.business_days:
            return True
        if day.weekday() >= 5 or day in self.holidays:
            return False
        return self.country_days is None or day not in self.country_days

    def next_working(self, day: date) -> date:
        while not self.is_working(day):
            day = date.fromordinal(day.toordinal() + 1)
        return day


@dataclass(frozen=True, slots=True)
class Limits:
    min_gap: Optional[Duration] = None
    per_week: Optional[int] = None


@dataclass(frozen=True, slots=True)
class Step:
    """A timed step: `at` counts from `started`, `after` from the previous touch."""

    id: str
    channel: str
    template: str
    at: Optional[Duration] = None
    after: Optional[Duration] = None
    source: Source = Source("")
    # where the touch may go when its channel cannot be used: None, SPEC 5's default (the
    # contact's channels, else the playbook's); a tuple of channels in order; () to skip it
    fallback: Optional[tuple] = None


@dataclass(frozen=True, slots=True)
class Phase:
    """Timed `steps`, or a periodic touch `every` so often with `templates` in turn."""

    name: str
    until: Optional[Duration] = None
    steps: tuple = ()
    every: Optional[Duration] = None
    channel: str = ""
    templates: tuple = ()
    source: Source = Source("")
    fallback: Optional[tuple] = None  # its steps' and touches' (see Step), unless a step has its own

    @property
    def periodic(self) -> bool:
        return self.every is not None


@dataclass(frozen=True, slots=True)
class NoReply:
    """No reply `wait` after a touch by one of `after` in one of `phases`: a touch by `then`."""

    wait: Duration
    then: str
    template: str
    after: tuple = ()  # empty: any channel
    phases: tuple = ()  # empty: any phase
    source: Source = Source("")
    fallback: Optional[tuple] = None  # as a step's


@dataclass(frozen=True, slots=True)
class OnReply:
    """What a reply does: stop, continue, pause `duration`, move to `playbook`."""

    action: str = "stop"
    duration: Optional[Duration] = None
    playbook: str = ""
    source: Source = Source("")


@dataclass(frozen=True, slots=True)
class If:
    """A Jinja expression over `contact`; the first that holds sets the scheduled channel."""

    expr: str
    channel: str
    source: Source = Source("")


@dataclass(frozen=True, slots=True)
class Birthday:
    channel: str
    template: str
    source: Source = Source("")
    fallback: Optional[tuple] = None  # as a step's


@dataclass(frozen=True, slots=True)
class Playbook:
    name: str
    description: str = ""
    channels: tuple = CHANNELS
    calendar: Calendar = Calendar()
    limits: Limits = Limits()
    phases: tuple = ()
    no_reply: tuple = ()
    on_reply: OnReply = OnReply()
    ifs: tuple = ()
    birthday: Optional[Birthday] = None
    callback_template: str = "callback"
    ignore: tuple = ()  # lints silenced on purpose
    source: Source = Source("")
    # {step id: (phase index, step index)} of the timed steps, {phase name: index} of the
    # periodic phases: the engine looks a contact's last step up in them
    steps: Mapping[str, tuple] = field(init=False, repr=False, compare=False)
    periodic: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "steps", {
            step.id: (pi, si) for pi, phase in enumerate(self.phases)
            for si, step in enumerate(phase.steps)})
        object.__setattr__(self, "periodic", {
            phase.name: pi for pi, phase in enumerate(self.phases) if phase.periodic})

    def phase(self, name: str) -> Optional[Phase]:
        for phase in self.phases:
            if phase.name == name:
                return phase
        return None


class Contact(NamedTuple):
    """One ledger row: every cell as text in `row`, the fields the engine needs parsed.

    A NamedTuple, as the engine's other per-contact values (Trail, State, Candidate): a
    morning makes one or more of each for every contact of the book, and a NamedTuple is made
    (and `_replace`d) three to five times faster than a frozen dataclass, and its class is
    made at import in a fifth of the time (docs/benchmarks.md)."""

    id: str
    row: Mapping[str, str]
    line: int = 0
    playbook: str = ""
    started: Optional[date] = None
    status: str = "active"
    paused_until: Optional[date] = None
    channels: tuple = ()
    optout: tuple = ()
    callback: Optional[date] = None
    callback_time: str = ""  # "HH:MM" when the call-back was agreed with a time
    birthday: Optional[tuple] = None  # (month, day)
    last_reply: Optional[date] = None
    touches: int = 0
    last_touch: Optional[date] = None
    last_channel: str = ""
    last_step: str = ""
    next_due: Optional[date] = None
    index: int = -1  # the row's place in the ledger (0-based); -1 for one made by hand
    unreachable: tuple = ()  # channels the journal shows do not reach it (email: a bounce)

    @property
    def name(self) -> str:
        return self.row.get("name", "")

    def reachable(self, channel: str) -> bool:
        if channel in self.unreachable:
            return False
        return bool(self.row.get(REACH.get(channel, channel), "").strip())


class Entry(NamedTuple):
    """One journal row (a tuple: millions of them pass through a journal's readers)."""

    date: date
    contact: str
    event: str  # touch | skip | reply | status | note
    playbook: str = ""
    step: str = ""
    channel: str = ""
    template: str = ""
    note: str = ""


JOURNAL_COLUMNS = ("date", "contact", "event", "playbook", "step", "channel", "template", "note")

# what a spreadsheet cell begins a formula with (`=`, and `+ - @`, which Excel reads as `=`)
FORMULA_STARTS = ("=", "+", "-", "@")

RULE_STEPS = ("callback", "no_reply", "birthday")  # the steps of touches that rules make

# the journal's notes of `cadence optout`: "opted out of email, call" and, withdrawn,
# "opted back in to email" (a note of the user's own may follow after "; ")
OPTED_OUT, OPTED_IN = "opted out of ", "opted back in to "


def id_key(text: str) -> str:
    """An id as ids are compared: in NFC, so that one written in another Unicode form (macOS
    hands `Ö` on as O and a combining mark) is the same id."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def duplicate_id(key: str, line: int, first: str) -> str:
    """The message of a ledger id that `first`, at `line`, has already (compared by id_key)."""
    same = "" if first == key else ", the same letters in another Unicode form"
    return f"duplicate id {key!r} (first at line {line}{same})"


def channel_items(text: str) -> tuple:
    """The channels of a `channels` or `optout` cell as written (`email; call`), lowercased."""
    return tuple(part.strip().lower() for part in re.split(r"[;,]", text) if part.strip())


def optout_lost(contact, trail) -> tuple:
    """The channels the journal holds the contact opted out of that its `optout` cell lacks
    (none where the cell says `all`): what a sheet downloaded again lost."""
    said = trail.optout if trail is not None else ()
    if not said:
        return ()
    cell = channel_items(contact.row.get("optout", ""))
    return () if "all" in cell else tuple(c for c in said if c not in cell)


class Trail(NamedTuple):
    """What one contact's journal rows say, whatever order the rows stand in.

    Every field is a count, a set, or the latest row by date (ties broken by the row's own
    cells), so the same rows in any order give the same Trail (cadence.journal folds them).
    """

    rows: int = 0  # rows of any kind
    touches: int = 0
    first_touch: Optional[date] = None
    last: Optional[Entry] = None  # the latest touch
    recent: tuple = ()  # the dates of every touch in the 7 days up to `last`, sorted
    step: Optional[Entry] = None  # the latest touch or skip of a playbook step
    # the latest step row of each other playbook the contact followed (a `move`): a sheet
    # downloaded again with the old playbook must not start that playbook over (SPEC 9)
    other_steps: tuple = ()
    replies: frozenset = frozenset()  # dates of the `reply` rows: replies acted on
    birthday_done: Optional[date] = None  # latest birthday touch or skip
    callback_done: Optional[date] = None  # latest call-back touch or skip
    no_reply_done: Optional[date] = None  # latest skip of a no_reply touch
    status: Optional[Entry] = None  # the latest `status` row but for `started` ones
    reply: Optional[Entry] = None  # the latest `reply` row
    callback_noted: Optional[Entry] = None  # the latest `note` row "callback D ..."
    # the latest day's `note` rows "last_reply D ..." and "reply on D": that day, and the Ds
    reply_noted_day: Optional[date] = None
    reply_noted: tuple = ()
    # the other rows of the latest day of `status` rows, and of "callback D" notes: of one
    # day's, the journal cannot say which a person made last (SPEC 9, the user's hand)
    status_more: tuple = ()
    callback_more: tuple = ()
    started: tuple = ()  # (playbook, date it was last started on), by playbook
    # what `sync` journaled from the mailbox (SPEC section 10)
    bounced: tuple = ()  # (address, date of its latest bounce), by address
    drafted: tuple = ()  # (date, playbook, step) of the drafted emails of the latest 14 days
    sent: frozenset = frozenset()  # Message-ID keys of the drafted emails seen sent lately
    answered: Optional[date] = None  # the latest reply, automatic answer or bounce
    junk: tuple = ()  # (date, note) of the replies found in junk in the latest 7 days
    # the channels the contact opted out of by `cadence optout` ("all" among them), as the
    # journal's latest word on each says (an opt-out outlives a sheet downloaded again)
    optout: tuple = ()


@dataclass(frozen=True, slots=True)
class Touch:
    """A touch the engine plans: due today (`due`) or later (`plan`)."""

    contact: str
    name: str
    playbook: str
    phase: str
    step: str
    channel: str
    template: str
    due: date
    overdue: int
    reason: str  # step | no_reply | callback | birthday
    number: int = 0  # the contact's touch number, counting this one
    why: str = ""  # what moved the date, for people
    detail: str = ""  # reason in words, e.g. "no reply since 2026-11-17"
    time: str = ""  # agreed time of a call-back

    @property
    def made(self) -> date:
        """The day the touch is made: its due day, or the later day it comes (`overdue` days
        after it) when it is late, or held back behind a step skipped on that day."""
        return self.due + timedelta(days=self.overdue)

    def as_json(self) -> dict:
        return {
            "contact": self.contact, "name": self.name, "playbook": self.playbook,
            "phase": self.phase, "step": self.step, "channel": self.channel,
            "template": self.template, "due": self.due.isoformat(),
            "overdue": self.overdue, "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `run` does to one contact today: journal rows to add and cells to change."""

    contact: str
    touch: Optional[Touch] = None
    entries: tuple = ()
    changes: Mapping[str, str] = field(default_factory=dict)
    restored: bool = False  # state cells rebuilt from the journal (SPEC section 9)


# The `if` rule's test: given the rule and the contact, does it hold?  Provided by the edge
# that owns Jinja, so that the engine stays pure.
Condition = Callable[[If, Contact], bool]


@dataclass(frozen=True, slots=True)
class Book:
    """Everything the engine needs, parsed."""

    playbooks: Mapping[str, Playbook]
    contacts: tuple
    trails: Mapping[str, Trail] = field(default_factory=dict)  # contact id -> its journal
    condition: Optional[Condition] = None

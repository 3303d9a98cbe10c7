"""`quiet`: nothing happens to a contact before the day `advance` names in `Outcome.quiet`.

`engine.quiet_until` promises: take the contact as `run` leaves it on T0 (its row with the day's
`changes` written, its journal with the day's `entries` appended; for a contact the day left
alone, the row and journal as they are); then every day T with T0 <= T < Q (`Outcome.quiet`)
leaves it alone: `advance` gives no touch, no journal row and no changed cell. `due` keeps a Q
only for a contact the day left alone. A cache skips rows until Q on that promise, so a day
before Q on which something happens is a touch or a journal row that `due` and `run` miss.
Q is only a lower bound: on Q itself something may happen, or not.

- a property: random playbooks (calendars and holidays, limits, phases with `until`, periodic
  phases, `no_reply` ladders with `after`/`in`, reply rules, `if`, birthdays) and ledgers
  (statuses, pauses, call-backs, birthdays, channels and opt-outs that leave steps without a
  channel), run through a simulated season with replies, touches logged by hand and edits; then
  every contact's Q is checked day by day, up to 120 days on, against the whole journal;
- tables of hand-checked answers;
- the answer is the same from the journal's window (what `due` reads) as from the whole journal.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence import engine
from cadence.contacts import parse_contacts
from cadence.model import Entry
from helpers import RowsLedger, d, journal, playbook
from test_hypothesis import playbooks, rows as hypothesis_rows

PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WINDOW = settings(max_examples=60, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ALL = ["email", "call", "sms", "messenger", "letter"]
LOOK_AHEAD = 120  # days checked after T0
ONE = timedelta(days=1)


class _Rows(RowsLedger):
    known = frozenset()  # no row vouched for by a cache: every row is parsed


def make_contact(row: dict):
    contacts, problems = parse_contacts(_Rows([row]))
    assert not problems, [str(p) for p in problems]
    return contacts[0]


def condition(rule, c) -> bool:
    """The `if` rules below test `contact.age | int >= 50`; the engine stays free of Jinja."""
    age = c.row.get("age", "").strip()
    return age.isdigit() and int(age) >= 50


def stir(c, history, playbooks, start: date, stop: date, window: bool = False):
    """The first day in [start, stop) on which `advance` does anything, with what it does."""
    day = start
    while day < stop:
        rows = windowed(c, history, day) if window else history
        got = engine.advance(c, rows, playbooks, day, condition)
        if got.touch is not None or got.entries or got.changes:
            return day, got
        day += ONE
    return None


def windowed(c, history, today: date) -> tuple:
    """The journal rows `due` and `run` load for a contact (book._windows + read_window)."""
    if not c.playbook or c.status not in ("active", "paused"):
        return ()
    since = engine.history_since(c.last_touch, c.last_reply, c.callback, today)
    return tuple(e for e in history if e.date >= since)


# --- strategies -------------------------------------------------------------------------------

U1 = {"14 days": 14, "3 weeks": 21, "30 days": 30, "1 month": 31, "40 days": 40}
U2 = ["60 days", "90 days", "3 months"]
U3 = ["5 months", "200 days"]


@st.composite
def rich_playbooks(draw, near: date) -> str:
    """A playbook (YAML) with what `playbooks()` lacks: holidays, `until` on several phases,
    periodic phases in the middle, `after`/`in` ladders, reply rules, `if` and birthdays."""
    channels = draw(st.lists(st.sampled_from(ALL), min_size=1, max_size=5, unique=True))
    ch = st.sampled_from(channels)
    lines = ["channels: [" + ", ".join(channels) + "]"]
    if draw(st.booleans()):
        holidays = draw(st.lists(st.integers(-20, 200), max_size=6, unique=True))
        days = ", ".join((near + timedelta(days=n)).isoformat() for n in holidays)
        lines.append(f"calendar: {{business_days: {str(draw(st.booleans())).lower()}, "
                     f"holidays: [{days}]}}")
    limits = []
    if draw(st.booleans()):
        limits.append("min_gap: " + draw(st.sampled_from(["1 day", "2 days", "3 days", "1 week"])))
    if draw(st.booleans()):
        limits.append(f"per_week: {draw(st.integers(1, 3))}")
    if limits:
        lines.append("limits: {" + ", ".join(limits) + "}")
    until1 = draw(st.sampled_from(sorted(U1)))
    phases = ["decide"]
    lines += ["phases:", "  - name: decide", f"    until: {until1}", "    steps:"]
    for n in range(draw(st.integers(1, 4))):
        step = f"channel: {draw(ch)}, template: t"
        if draw(st.booleans()):
            step = f"id: s{n}, " + step
        if draw(st.booleans()):
            step = f"at: {draw(st.integers(0, U1[until1]))} days, " + step
        else:
            step = f"after: {draw(st.sampled_from(['0 days', '1 day', '3 days', '1 week']))}, " + step
        lines.append(f"      - {{{step}}}")
    middle = draw(st.sampled_from(["", "timed", "periodic"]))
    if middle == "timed":
        phases.append("offer")
        lines += ["  - name: offer", f"    until: {draw(st.sampled_from(U2))}", "    steps:"]
        for _ in range(draw(st.integers(1, 2))):
            if draw(st.booleans()):
                when = f"at: {draw(st.integers(41, 59))} days"
            else:
                when = f"after: {draw(st.sampled_from(['2 days', '10 days']))}"
            lines.append(f"      - {{{when}, channel: {draw(ch)}, template: t}}")
    elif middle == "periodic":
        phases.append("learn")
        lines += ["  - name: learn", f"    until: {draw(st.sampled_from(U2))}",
                  f"    every: {draw(st.sampled_from(['3 days', '1 week', '10 days']))}",
                  f"    channel: {draw(ch)}", "    templates: [a, b, c]"]
    if draw(st.integers(0, 3)):
        phases.append("keep")
        lines += ["  - name: keep", f"    every: {draw(st.sampled_from(['1 week', '2 weeks', '1 month']))}",
                  f"    channel: {draw(ch)}", "    template: t"]
        if draw(st.booleans()):
            lines.append(f"    until: {draw(st.sampled_from(U3))}")  # the last phase may end
    rules = []
    for _ in range(draw(st.integers(0, 2))):
        rules += [f"  - no_reply: {draw(st.sampled_from(['2 days', '5 days', '1 week']))}"]
        if draw(st.booleans()):
            rules.append("    after: [" + ", ".join(draw(st.lists(ch, min_size=1, unique=True))) + "]")
        if draw(st.booleans()):
            rules.append("    in: [" + ", ".join(draw(st.lists(st.sampled_from(phases), min_size=1,
                                                                unique=True))) + "]")
        rules += [f"    then: {draw(ch)}", "    template: t"]
    reply = draw(st.sampled_from(["", "stop", "continue", "pause 2 weeks", "pause 1 month", "move q"]))
    if reply:
        rules.append(f"  - reply: {reply}")
    if draw(st.booleans()):
        rules += ['  - if: "contact.age | int >= 50"', f"    channel: {draw(ch)}"]
    if draw(st.booleans()):
        rules += [f"  - birthday: {draw(ch)}", "    template: t"]
    if rules:
        lines += ["rules:"] + rules
    return "\n".join(lines) + "\n"


@st.composite
def ledgers(draw, near: date) -> list:
    """`rows()` of test_hypothesis, and the columns it leaves out: call-backs (one with a time),
    replies, ages for `if`, birthdays near the season, a second playbook, pauses without end,
    opt-outs of every channel one by one (unreachable, not `all`)."""
    out = draw(hypothesis_rows(near, n_max=5))
    for row in out:
        if row["playbook"]:
            row["playbook"] = draw(st.sampled_from(["p", "p", "q"]))
            if row["started"] and draw(st.integers(0, 5)) == 0:  # typed with a date ahead
                row["started"] = (near + timedelta(days=draw(st.integers(1, 40)))).isoformat()
        when = near + timedelta(days=draw(st.integers(-10, 90)))
        row["callback"] = draw(st.sampled_from(["", "", when.isoformat(), when.isoformat() + "T14:30"]))
        born = near + timedelta(days=draw(st.integers(-10, 120)))
        row["birthday"] = draw(st.sampled_from([row["birthday"], born.strftime("%m-%d"),
                                                born.replace(year=1972).isoformat()]))
        if draw(st.integers(0, 4)) == 0:
            row["last_reply"] = (near - timedelta(days=draw(st.integers(0, 30)))).isoformat()
        row["age"] = draw(st.sampled_from(["", "34", "64"]))
        unreachable = draw(st.integers(0, 3))
        if unreachable == 1:  # every channel, one by one: not `all`, so the steps are skipped
            row["optout"] = "email;call;sms;messenger;letter"
        elif unreachable == 2:  # only a channel it cannot be reached by
            row["channels"], row["address"] = "letter", ""
        elif unreachable == 3 and draw(st.booleans()):
            row["optout"] = draw(st.sampled_from(["letter", "email;sms", "call;sms"]))
        if row["status"] == "paused" and draw(st.integers(0, 4)) == 0:
            row["paused_until"] = ""
    return out


EDITS = ["reply", "log", "callback", "callback-time", "mark", "optout", "pause", "address"]


@st.composite
def seasons(draw) -> tuple:
    """(playbook texts, ledger rows, first day, days simulated, people's edits on the way)."""
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
    p = draw(st.one_of(rich_playbooks(start), playbooks()))
    q = draw(st.one_of(playbooks(), rich_playbooks(start)))
    ledger = draw(ledgers(start))
    days = draw(st.integers(0, 90))
    edits = draw(st.lists(st.tuples(st.integers(0, days), st.integers(0, 4), st.sampled_from(EDITS),
                                    st.integers(0, 40)), max_size=8))
    return {"p": p, "q": q}, ledger, start, days, edits


def edit(row: dict, history: tuple, kind: str, n: int, today: date) -> tuple:
    """What a person does to a contact during the day: typed cells, `cadence reply/log/mark`."""
    cid = row["id"]
    if kind == "reply":
        row["last_reply"] = (today - timedelta(days=n % 4)).isoformat()
    elif kind == "log":
        channel = ALL[n % len(ALL)]
        row["touches"] = str(int(row.get("touches") or 0) + 1)
        row["last_touch"], row["last_channel"] = today.isoformat(), channel
        history += (Entry(today, cid, "touch", row["playbook"], channel=channel, note="by hand"),)
    elif kind in ("callback", "callback-time"):
        row["callback"] = (today + timedelta(days=n)).isoformat() + ("T14:30" if kind == "callback-time" else "")
    elif kind == "mark":
        row["status"] = ["won", "stopped", "active", "lost"][n % 4]
        if row["status"] == "active" and row.get("paused_until", "") > today.isoformat():
            row["paused_until"] = ""
        history += (Entry(today, cid, "status", row["playbook"], note=row["status"]),)
    elif kind == "optout":
        row["optout"] = ";".join(dict.fromkeys([x for x in row.get("optout", "").split(";") if x]
                                               + [ALL[n % len(ALL)]]))
    elif kind == "pause":
        row["status"], row["paused_until"] = "paused", (today + timedelta(days=n)).isoformat()
    elif kind == "address":
        row["address"] = "" if row.get("address") else "Gatan 1"
    return history


def simulate(texts: dict, ledger: list, start: date, days: int, edits) -> tuple:
    """Run every day from `start` for `days` days, people's edits first; the book after it."""
    pbs = {name: playbook(text, name) for name, text in texts.items()}
    state = [dict(r) for r in ledger]
    history = {r["id"]: () for r in ledger}
    for n in range(days):
        today = start + timedelta(days=n)
        for at, index, kind, k in edits:
            if at == n and index < len(state):
                row = state[index]
                history[row["id"]] = edit(row, history[row["id"]], kind, k, today)
        for row in state:
            got = engine.advance(make_contact(row), history[row["id"]], pbs, today, condition)
            row.update(got.changes)
            history[row["id"]] += got.entries
    return pbs, state, history


def quiet_contacts(pbs, state, history, today: date):
    """(contact, its journal, Q) for each Q that T0 gives: `due`'s, for a contact that T0 leaves
    alone, and `run`'s, for the row and journal as `run` leaves them (today's changes written,
    today's rows appended)."""
    for row in state:
        c = make_contact(row)
        rows = history[row["id"]]
        seen = engine.advance(c, rows, pbs, today, condition, want_next=False)
        if seen.quiet is not None:
            assert seen.touch is None and not seen.entries and not seen.changes, seen
            yield c, rows, seen.quiet
        got = engine.advance(c, rows, pbs, today, condition)
        if got.quiet is not None:
            if got.touch is None and not got.entries and not got.changes:
                assert seen.quiet in (None, got.quiet), (seen, got)
                if seen.quiet is not None:
                    continue
            yield make_contact({**row, **got.changes}), rows + got.entries, got.quiet


def _explain(texts, c, rows, t0, q, found) -> str:
    day, got = found
    return (f"quiet on {t0} until {q}, but on {day}: touch={got.touch} entries={got.entries} "
            f"changes={got.changes}\nrow={dict(c.row)}\njournal={rows}\nplaybooks={texts}")


# --- the property -----------------------------------------------------------------------------

@PROPERTY
@given(seasons())
def test_nothing_happens_before_quiet_until(season):
    texts, ledger, start, days, edits = season
    pbs, state, history = simulate(texts, ledger, start, days, edits)
    t0 = start + timedelta(days=days)
    for c, rows, q in quiet_contacts(pbs, state, history, t0):
        assert q > t0 or (q == t0 and c.started is None), (c.row, q)
        found = stir(c, rows, pbs, t0, min(q, t0 + timedelta(days=LOOK_AHEAD)))
        assert found is None, _explain(texts, c, rows, t0, q, found)
        # On Q itself something may happen; Q is a lower bound, so nothing is asserted there.


# --- the window of the journal that `due` reads -----------------------------------------------

@WINDOW
@given(seasons())
def test_quiet_is_the_same_from_the_journal_window(season):
    """`due` loads only the journal's tail (`engine.history_since`); a cache filled from it
    must hold what the whole journal says, and every day before Q reads its own window."""
    texts, ledger, start, days, edits = season
    pbs, state, history = simulate(texts, ledger, start, days, edits)
    t0 = start + timedelta(days=days)
    for row in state:
        c = make_contact(row)
        rows = history[row["id"]]
        for want_next in (True, False):  # `run`, then `due`
            full = engine.advance(c, rows, pbs, t0, condition, want_next=want_next)
            part = engine.advance(c, windowed(c, rows, t0), pbs, t0, condition, want_next=want_next)
            assert part.quiet == full.quiet, (row, rows, full, part)
    for c, rows, q in quiet_contacts(pbs, state, history, t0):
        again = engine.advance(c, windowed(c, rows, t0), pbs, t0, condition)
        assert again.quiet == q, (dict(c.row), rows, q, again)
        found = stir(c, rows, pbs, t0, min(q, t0 + timedelta(days=LOOK_AHEAD)), window=True)
        assert found is None, _explain(texts, c, rows, t0, q, found)


# --- tables -----------------------------------------------------------------------------------

PLAYBOOK = """\
channels: [email, call, letter]
limits: {min_gap: 4 days}
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: t}
      - {at: 15 days, channel: call, template: t}
      - {id: late, at: 29 days, channel: email, template: t}
  - name: keep
    every: 1 month
    channel: email
    template: t
rules:
  - reply: stop
  - birthday: email
    template: t
"""

# Started 2026-02-14: decide-2 on 03-01, `late` on 03-15, the phase ends on 03-16.
BASE = dict(id="c1", name="Ann Lind", email="ann@example.com", phone="+46701234567",
            address="Storgatan 1", playbook="p", started="2026-02-14")
AFTER_1 = dict(BASE, last_step="decide-1", last_touch="2026-02-15", last_channel="email",
               touches="1")

# (case, cells, journal, T0, Q expected (a date, or "<= date" for a bound), first day on which
#  something happens (None: not checked), what happens then); T0 leaves each contact alone
QUIET = [
    ("the next step is 14 days on: quiet until its day",
     dict(AFTER_1, next_due="2026-03-01"), "2026-02-15,c1,touch,p,decide-1,email,t,",
     "2026-02-15", "2026-03-01", "2026-03-01", "touch decide-2"),
    ("the phase ends in 3 days, its late step pushed past the end by min_gap: quiet until the "
     "day after the end, when the step is skipped",
     dict(BASE, last_step="decide-2", last_touch="2026-03-13", last_channel="call", touches="2",
          next_due="2026-04-13"),
     "2026-03-13,c1,touch,p,decide-2,call,t,", "2026-03-13", "2026-03-17", "2026-03-17",
     "skip late"),
    ("a birthday in 5 days: quiet until the birthday, greeted that day",
     dict(AFTER_1, birthday="1970-02-20", next_due="2026-02-20"),
     "2026-02-15,c1,touch,p,decide-1,email,t,", "2026-02-15", "2026-02-20", "2026-02-20",
     "touch birthday"),
    ("a paused contact: quiet until the pause ends, then active again",
     dict(AFTER_1, status="paused", paused_until="2026-02-24"),
     "2026-02-15,c1,touch,p,decide-1,email,t,", "2026-02-16", "2026-02-24", "2026-02-24",
     "status"),
    ("a paused contact opted out of everything: quiet no later than the end of the pause, "
     "when `run` writes it active again",
     dict(AFTER_1, status="paused", paused_until="2026-02-24", optout="all"),
     "2026-02-15,c1,touch,p,decide-1,email,t,", "2026-02-16", "<= 2026-02-24", "2026-02-24",
     "status"),
    ("a call-back agreed with a time: quiet until its day",
     dict(AFTER_1, callback="2026-02-22T14:30", next_due="2026-02-22"),
     "2026-02-15,c1,touch,p,decide-1,email,t,", "2026-02-16", "2026-02-22", "2026-02-22",
     "touch callback"),
    ("replied: nothing for a year", dict(AFTER_1, status="replied"), "", "2026-02-16",
     "2027-02-17", None, None),
    ("won: nothing for a year", dict(AFTER_1, status="won"), "", "2026-02-16", "2027-02-17",
     None, None),
    ("opted out of everything: nothing for a year", dict(AFTER_1, optout="all"), "",
     "2026-02-16", "2027-02-17", None, None),
    ("not enrolled: nothing for a year", dict(AFTER_1, playbook="", started=""), "",
     "2026-02-16", "2027-02-17", None, None),
    ("the remaining steps have no allowed channel: quiet no later than the first one's skip",
     dict(AFTER_1, optout="email;call;letter"), "2026-02-15,c1,touch,p,decide-1,email,t,",
     "2026-02-16", "<= 2026-03-01", "2026-03-01", "skip decide-2"),
    ("the last step has no allowed channel (a letter, no address): quiet until its skip",
     dict(BASE, last_step="s2", last_touch="2026-02-20", last_channel="email", touches="2",
          address="", channels="letter"), "2026-02-20,c1,touch,p,s2,email,t,", "2026-02-21",
     "<= 2026-03-06", "2026-03-06", "skip s3"),
]

LETTER_LAST = """\
channels: [email, letter]
phases:
  - name: decide
    until: 30 days
    steps:
      - {id: s1, at: 1 day, channel: email, template: t}
      - {id: s2, at: 6 days, channel: email, template: t}
      - {id: s3, at: 20 days, channel: letter, template: t}
"""


def _playbooks(case: str) -> dict:
    return {"p": playbook(LETTER_LAST if "a letter, no address" in case else PLAYBOOK)}


def _what(got) -> str:
    if got.touch is not None:
        return f"touch {got.touch.step}"
    kinds = [f"{e.event} {e.step}".strip() for e in got.entries]
    return kinds[0] if kinds else ("changes " + ",".join(sorted(got.changes)))


def _check(c, rows, pbs, t0: date, q: date, expected: str, first, what) -> None:
    if expected.startswith("<= "):
        assert q is not None and t0 < q <= d(expected[3:]), q
    else:
        assert q == d(expected)
    assert stir(c, rows, pbs, t0, min(q, t0 + timedelta(days=LOOK_AHEAD))) is None
    if first is not None:
        found = stir(c, rows, pbs, t0, d(first) + ONE)
        assert found is not None and found[0] == d(first), found
        assert _what(found[1]) == what, found[1]


@pytest.mark.parametrize("case,cells,history,t0,expected,first,what", QUIET,
                         ids=[row[0] for row in QUIET])
def test_quiet_until_by_table(case, cells, history, t0, expected, first, what):
    pbs = _playbooks(case)
    c = make_contact(cells)
    rows = journal(history).get("c1", ()) if history else ()
    got = engine.advance(c, rows, pbs, d(t0), condition)
    assert (got.touch, got.entries, got.changes) == (None, (), {})
    seen = engine.advance(c, rows, pbs, d(t0), condition, want_next=False)
    assert seen.quiet == got.quiet  # `due` and `run` agree on a contact left alone
    _check(c, rows, pbs, d(t0), got.quiet, expected, first, what)


# Days that change the contact: Q holds for the row and journal as `run` leaves them.
# (case, cells, journal, T0, what T0 does, Q expected, first day after, what happens then)
RUN = [
    ("a touch today: quiet until the next step",
     dict(BASE, next_due="2026-02-15"), "", "2026-02-15", "touch decide-1", "2026-03-01",
     "2026-03-01", "touch decide-2"),
    ("enrolled today: quiet until the first step",
     dict(BASE, started=""), "", "2026-02-16", "changes next_due,started", "2026-02-17",
     "2026-02-17", "touch decide-1"),
    ("a pause ends today: quiet until the next step",
     dict(AFTER_1, status="paused", paused_until="2026-02-20"),
     "2026-02-15,c1,touch,p,decide-1,email,t,", "2026-02-20", "status", "2026-03-01",
     "2026-03-01", "touch decide-2"),
]


@pytest.mark.parametrize("case,cells,history,t0,today,expected,first,what", RUN,
                         ids=[row[0] for row in RUN])
def test_quiet_until_after_a_run(case, cells, history, t0, today, expected, first, what):
    pbs = _playbooks(case)
    c = make_contact(cells)
    rows = journal(history).get("c1", ()) if history else ()
    got = engine.advance(c, rows, pbs, d(t0), condition)
    assert _what(got) == today
    assert engine.advance(c, rows, pbs, d(t0), condition, want_next=False).quiet is None
    after = make_contact({**c.row, **got.changes})
    _check(after, rows + got.entries, pbs, d(t0), got.quiet, expected, first, what)


def test_a_contact_to_enrol_is_never_cached():
    """`due` with a cache dict records no Q for a contact whose `started` is empty."""
    from cadence.model import Book

    contacts, problems = parse_contacts(_Rows([dict(BASE, id="c0", started=""),
                                               dict(AFTER_1, next_due="2026-03-01")]))
    assert not problems
    book = Book(playbooks={"p": playbook(PLAYBOOK)}, contacts=tuple(contacts),
                history={"c1": journal("2026-02-15,c1,touch,p,decide-1,email,t,")["c1"]})
    quiet: dict = {}
    engine.due(book, d("2026-02-16"), quiet)
    assert quiet == {1: d("2026-03-01")}


def test_a_periodic_phase_that_loses_its_channel_journals_nothing():
    """A periodic phase under way (`keep-2`) whose channel the contact then opts out of: as
    before `quiet_until`, no day journals a skip of an empty step or sends the contact back
    to the playbook's first step."""
    pbs = {"p": playbook(PLAYBOOK)}
    c = make_contact(dict(BASE, started="2026-01-02", last_step="keep-2", last_touch="2026-03-20",
                          last_channel="email", touches="5", optout="email;call;letter"))
    for n in range(60):
        got = engine.advance(c, (), pbs, d("2026-03-21") + timedelta(days=n), condition)
        assert not [e for e in got.entries if e.event == "skip"], got.entries
        assert "last_step" not in got.changes, got.changes


LADDER = """\
channels: [email, call]
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: t}
rules:
  - no_reply: 2 days
    then: call
    template: nudge
  - no_reply: 2 days
    then: call
    template: nudge
"""


def test_a_second_run_on_the_day_of_a_rule_touch_changes_nothing():
    """Q is for the row as `run` leaves it, which a second run that day must leave alone, even
    when two `no_reply` rules share a template (the journal row names no rule)."""
    pbs = {"p": playbook(LADDER)}
    c = make_contact(dict(AFTER_1, next_due="2026-02-17"))
    rows = journal("2026-02-15,c1,touch,p,decide-1,email,t,")["c1"]
    got = engine.advance(c, rows, pbs, d("2026-02-17"), condition)
    assert got.touch is not None and got.touch.reason == "no_reply"
    after = make_contact({**c.row, **got.changes})
    again = engine.advance(after, rows + got.entries, pbs, d("2026-02-17"), condition)
    assert (again.touch, again.entries, again.changes) == (None, (), {}), again
    assert again.quiet == got.quiet

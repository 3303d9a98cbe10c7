"""SPEC section 9, by tables: the journal is the memory. A ledger row, its journal rows and a day
-> what `run` does. The playbook is the SPEC's own example (section 4) without its calendar,
unless a row says otherwise; each case cites the clause it holds.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cadence import engine
from cadence.model import Book, Calendar, Entry, OnReply
from cadence.trail import trail_of
from helpers import SPEC_EXAMPLE, contact, d, journal, playbook, trail

SPEC = replace(playbook(SPEC_EXAMPLE), calendar=Calendar())
PLAYBOOKS = {"p": SPEC}
# the playbook a `move` goes to: one email 3 days after the start
Q = playbook("""
    phases:
      - name: onboard
        steps:
          - {after: 3 days, channel: email, template: a}
""", name="q")

# Ann's life so far: enrolled on 11-01, decide-1 (email) on 11-02, decide-2 (call) on 11-04
LIVED = """
    2026-11-01,c1,status,p,,,,started
    2026-11-02,c1,touch,p,decide-1,email,thanks,
    2026-11-04,c1,touch,p,decide-2,call,questions,
"""


def outcome(cells, today, history="", playbooks=None):
    c = contact(**cells)
    return engine.advance(c, trail(history, c.id), playbooks or PLAYBOOKS, d(today))


def rows(result) -> list:
    return [f"{e.date} {e.event} {e.step or '-'} {e.note}".strip() for e in result.entries]


# --- rebuilt from the journal ------------------------------------------------------------------

REBUILT = [
    # (case, cells, journal, today, expected changes, expected touch step or None)
    ("a re-downloaded row (no state cells) is rebuilt, not enrolled afresh: no thank-you again",
     dict(), LIVED, "2026-11-05",
     {"started": "2026-11-01", "touches": "2", "last_touch": "2026-11-04",
      "last_channel": "call", "last_step": "decide-2"}, None),
    ("a status row that says `active` (a pause that ended) is written as the run wrote it",
     dict(), LIVED + "2026-11-03,c1,status,p,,,,paused until 2026-11-04\n"
     "2026-11-04,c1,status,p,,,,active again after a pause until 2026-11-04\n", "2026-11-05",
     {"started": "2026-11-01", "touches": "2", "last_touch": "2026-11-04", "status": "active",
      "paused_until": "2026-11-04", "last_channel": "call", "last_step": "decide-2"}, None),
    ("touches 0 counts as empty",
     dict(touches="0"), LIVED, "2026-11-05",
     {"started": "2026-11-01", "touches": "2", "last_touch": "2026-11-04",
      "last_channel": "call", "last_step": "decide-2"}, None),
    ("without a started row, started is the day before the first touch",
     dict(), LIVED.replace("2026-11-01,c1,status,p,,,,started", ""), "2026-11-05",
     {"started": "2026-11-01", "touches": "2", "last_touch": "2026-11-04",
      "last_channel": "call", "last_step": "decide-2"}, None),
    ("without a started row, a start the ledger kept wins over a guess from the first touch",
     dict(started="2026-10-28"), LIVED.replace("2026-11-01,c1,status,p,,,,started", ""),
     "2026-11-05", {"touches": "2", "last_touch": "2026-11-04", "last_channel": "call",
                    "last_step": "decide-2"}, None),
    ("status, paused_until and last_reply come back from the latest status and reply rows",
     dict(), LIVED + "2026-11-06,c1,reply,p,,,,reply: pause until 2026-11-20\n", "2026-11-07",
     {"started": "2026-11-01", "touches": "2", "last_touch": "2026-11-04",
      "last_channel": "call", "last_step": "decide-2", "status": "paused",
      "paused_until": "2026-11-20", "last_reply": "2026-11-06"}, None),
    ("a status the user typed in a rebuilt row is theirs: it wins (and stays)",
     dict(status="won"), LIVED, "2026-11-05",
     {"started": "2026-11-01", "touches": "2", "last_touch": "2026-11-04",
      "last_channel": "call", "last_step": "decide-2"}, None),
    ("the rebuilt contact goes on where the journal left it",
     dict(), LIVED, "2026-11-11",
     {"started": "2026-11-01", "touches": "3", "last_touch": "2026-11-11",
      "last_channel": "letter", "last_step": "decide-2", "next_due": "2026-11-22"}, "no_reply"),
]


@pytest.mark.parametrize("case, cells, history, today, changes, step", REBUILT,
                         ids=[r[0] for r in REBUILT])
def test_rebuilt_from_the_journal(case, cells, history, today, changes, step):
    got = outcome(cells, today, history)
    assert {k: v for k, v in got.changes.items() if k != "next_due" or "next_due" in changes} \
        == changes
    assert (got.touch.step if got.touch else None) == step
    assert got.restored


def test_a_step_the_journal_shows_done_is_never_drafted_again():
    """SPEC 9: whatever the ledger says. The ledger's last_step is behind (an old copy)."""
    got = outcome(dict(started="2026-11-01", touches="1", last_touch="2026-11-02",
                       last_channel="email", last_step="decide-1"), "2026-11-05", LIVED)
    assert got.touch is None or got.touch.step != "decide-2"
    assert got.changes.get("last_step") == "decide-2"
    assert not got.restored  # the ledger had state: it was read, not rebuilt


EDITED = playbook("""\
channels: [email]
phases:
  - name: decide
    steps:
      - {id: one, at: 1 day, channel: email, template: t}
      - {id: deux, at: 3 days, channel: email, template: t}
      - {id: three, at: 6 days, channel: email, template: t}
""")
BEFORE_THE_EDIT = """
    2026-03-02,c1,status,p,,,,started
    2026-03-03,c1,touch,p,one,email,t,
    2026-03-05,c1,touch,p,two,email,t,
"""


@pytest.mark.parametrize("cells", [
    dict(started="2026-03-02"),  # a fresh download: the state is rebuilt from the journal
    dict(started="2026-03-02", touches="1", last_touch="2026-03-03", last_channel="email",
         last_step="one"),  # an old copy of the sheet, behind the journal
], ids=["rebuilt", "behind"])
def test_a_step_done_before_a_playbook_edit_is_never_drafted_again(cells):
    """SPEC 9 ("a step that the journal shows done since the latest started is never drafted
    again") with SPEC 5's reading of a step the playbook no longer has: `two`, renamed `deux`
    since, is read as the last step dated on or before its day, 03-05 (deux), so `three`
    comes next, and the ledger's last_step says where the contact stands in the playbook."""
    got = outcome(cells, "2026-03-06", BEFORE_THE_EDIT, {"p": EDITED})
    assert got.touch is None
    assert got.changes["last_step"] == "deux" and got.changes["next_due"] == "2026-03-08"


def test_an_enrolled_row_with_no_touches_is_not_counted_as_restored():
    got = outcome(dict(started="2026-11-01"), "2026-11-01", "2026-11-01,c1,status,p,,,,started\n")
    assert not got.restored and got.changes == {"next_due": "2026-11-02"}


JOURNAL_STATUS = [
    # (case, journal rows, (status, paused until) as the journal says them)
    ("nothing said", "2026-11-02,c1,touch,p,decide-1,email,thanks,", (None, None)),
    ("a start", "2026-11-01,c1,status,p,,,,started", ("active", None)),
    ("a pause", "2026-11-05,c1,status,p,,,,paused until 2026-11-20", ("paused", d("2026-11-20"))),
    ("a pause that ended keeps its date", "2026-11-20,c1,status,p,,,,active again after a pause "
     "until 2026-11-20", ("active", d("2026-11-20"))),
    ("and keeps it past a later start (one set ahead)",
     "2026-11-20,c1,status,p,,,,active again after a pause until 2026-11-20\n"
     "2026-11-25,c1,status,p,,,,started", ("active", d("2026-11-20"))),
    ("a start after a pause: active, the pause forgotten",
     "2026-11-05,c1,status,p,,,,paused until 2026-11-20\n2026-11-06,c1,status,p,,,,started",
     ("active", None)),
    ("a pause of another playbook on the day of a move to this one: the move ended it",
     "2026-11-05,c1,status,q,,,,paused until 2026-11-20\n2026-11-05,c1,reply,q,,email,,"
     "reply: move to p\n2026-11-05,c1,status,p,,,,started", ("active", None)),
    ("so did a pause of another playbook set ahead on an earlier day",
     "2026-11-02,c1,status,q,,,,paused until 2026-11-20\n2026-11-05,c1,reply,q,,email,,"
     "reply: move to p\n2026-11-05,c1,status,p,,,,started", ("active", None)),
    ("and a pause that ran out before the move (a move clears paused_until)",
     "2026-11-03,c1,status,q,,,,active again after a pause until 2026-11-03\n"
     "2026-11-05,c1,reply,q,,email,,reply: move to p\n2026-11-05,c1,status,p,,,,started",
     ("active", None)),
    ("so does `mark ID active`, whatever its note says",
     "2026-11-03,c1,status,p,,,,active again after a pause until 2026-11-03\n"
     "2026-11-04,c1,status,p,,,,active; away until 2026-12-01", ("active", None)),
    ("a status of another playbook on the day of a move came before it (`mark won`, then "
     "`reply --move p`)", "2026-11-05,c1,status,q,,,,won\n2026-11-05,c1,status,p,,,,started",
     ("active", None)),
    ("a move to the playbook followed (`reply --move p` under `stop`): its reply row says so",
     "2026-11-01,c1,status,p,,,,started\n2026-11-05,c1,reply,p,,email,,reply: stop then move "
     "to p\n2026-11-05,c1,status,p,,,,started", ("active", None)),
    ("and it clears the date of a pause that ran out",
     "2026-11-03,c1,status,p,,,,active again after a pause until 2026-11-03\n"
     "2026-11-05,c1,reply,p,,email,,reply: continue\n2026-11-05,c1,status,p,,,,started",
     ("active", None)),
    ("a reply of an earlier day (`--on`) moved the contact after a pause set since: the rows "
     "of the playbook it left came before the move",
     "2026-11-01,c1,status,q,,,,started\n2026-11-05,c1,status,q,,,,paused until 2026-11-30\n"
     "2026-11-02,c1,reply,q,,email,,reply: move to p\n2026-11-02,c1,status,p,,,,started",
     ("active", None)),
    ("but a playbook typed back in the sheet, started before the other, hears the other's "
     "rows", "2026-11-01,c1,status,p,,,,started\n2026-11-03,c1,status,q,,,,started\n"
     "2026-11-05,c1,status,q,,,,won", ("won", None)),
    ("a status of this playbook on the day of its start still speaks",
     "2026-11-05,c1,status,p,,,,started\n2026-11-05,c1,status,p,,,,won", ("won", None)),
    ("a reply to stop", "2026-11-05,c1,reply,p,,email,,reply: stop", ("replied", None)),
    ("a reply to stop leaves a pause's date as it was (SPEC 5 sets the status alone)",
     "2026-11-05,c1,status,p,,,,paused until 2026-11-20\n2026-11-06,c1,reply,p,,email,,"
     "reply: stop", ("replied", d("2026-11-20"))),
    ("and the date of one that ran out",
     "2026-11-20,c1,status,p,,,,active again after a pause until 2026-11-20\n"
     "2026-11-22,c1,reply,p,,email,,reply: stop", ("replied", d("2026-11-20"))),
    ("a `mark` clears it", "2026-11-05,c1,status,p,,,,paused until 2026-11-20\n"
     "2026-11-06,c1,status,p,,,,won", ("won", None)),
    ("a status row before a reply row of the same day",
     "2026-11-05,c1,reply,p,,email,,reply: stop\n2026-11-05,c1,status,p,,,,won", ("won", None)),
    ("a reply to continue leaves the pause before it as it was (SPEC 5: `continue` only "
     "cancels the pending no_reply)",
     "2026-11-05,c1,status,p,,,,paused until 2026-11-20\n2026-11-06,c1,reply,p,,email,,"
     "reply: continue", ("paused", d("2026-11-20"))),
    ("a reply to continue and nothing else: the start says active",
     "2026-11-01,c1,status,p,,,,started\n2026-11-06,c1,reply,p,,email,,reply: continue",
     ("active", None)),
    ("a reply stopped in another playbook, moved from the same day (`reply --move p`): "
     "the start in p holds (SPEC 9: a move's start is the enrolment)",
     "2026-11-05,c1,reply,q,,email,,reply: stop\n2026-11-05,c1,status,p,,,,started",
     ("active", None)),
    ("a reply in this playbook after its start still decides",
     "2026-11-01,c1,status,p,,,,started\n2026-11-05,c1,reply,p,,email,,reply: stop",
     ("replied", None)),
]


@pytest.mark.parametrize("case, history, said", JOURNAL_STATUS, ids=[r[0] for r in JOURNAL_STATUS])
def test_what_the_journal_says_of_a_status(case, history, said):
    from cadence.state import journal_status

    assert journal_status(trail(history, "c1"), "p") == said


# --- a sheet behind the journal -----------------------------------------------------------------

BEHIND = dict(started="2026-11-01", touches="2", last_touch="2026-11-04", last_channel="call",
              last_step="decide-2")


def test_an_empty_status_in_a_row_with_its_state_is_active_whatever_the_journal_says():
    """SPEC 2: an empty status is active; only a row without its state cells is rebuilt from
    the journal (SPEC 9). The journal's `won` is neither put back nor journaled again, on
    this run or the next."""
    history = LIVED + "2026-11-05,c1,status,p,,,,won (set in the ledger)\n"
    got = outcome(BEHIND, "2026-11-11", history)
    assert got.touch is not None and "status" not in got.changes
    assert not [e for e in got.entries if e.event == "status"]
    row = dict(BEHIND, **got.changes)
    again = outcome(row, "2026-11-12", history + "".join(
        f"{e.date},c1,{e.event},{e.playbook},{e.step},{e.channel},{e.template},{e.note}\n"
        for e in got.entries))
    assert not [e for e in again.entries if e.event == "status"] and "status" not in again.changes


def test_a_reply_the_journal_holds_answers_the_touch_whatever_an_older_sheet_says():
    """SPEC 5.2, "if there has been no reply since last_touch", and SPEC 9, the journal is the
    memory: a sheet downloaded again without the reply's `last_reply` gets no `no_reply` call
    for a touch the contact answered."""
    history = LIVED + "2026-11-05,c1,reply,p,,email,,<z@y> Re: questions\n"
    got = outcome(BEHIND, "2026-11-11", history)
    assert got.touch is None or got.touch.step != "no_reply"
    plan = engine.plan(contact(**BEHIND), trail(history, "c1"), PLAYBOOKS, d("2026-11-05"), 30)
    assert "no_reply" not in [t.step for t in plan]
    # without that row the call comes: the LIVED rung of test_rebuilt_from_the_journal
    assert outcome(BEHIND, "2026-11-11", LIVED).touch.step == "no_reply"


def test_a_re_enrolled_contact_is_not_given_its_old_status():
    """A contact lost under one playbook, put on another by hand (playbook changed, `started`
    and `status` emptied): enrolled afresh and touched, on the first run and the next."""
    history = LIVED + "2026-11-05,c1,status,p,,,,lost\n"
    cells = dict(playbook="q", touches="2", last_touch="2026-11-04", last_channel="call",
                 last_step="decide-2")
    pbs = {"p": SPEC, "q": SPEC}
    c = contact(**cells)
    got = engine.advance(c, trail(history, "c1"), pbs, d("2026-11-20"))
    assert "status" not in got.changes and got.changes["started"] == "2026-11-20"
    rows_now = history + "".join(
        f"{e.date},c1,{e.event},{e.playbook},{e.step},{e.channel},{e.template},{e.note}\n"
        for e in got.entries)
    again = engine.advance(contact(**dict(cells, **got.changes)), trail(rows_now, "c1"), pbs,
                           d("2026-11-21"))
    assert not [e for e in again.entries if e.event == "status"], again.entries
    assert "status" not in again.changes


GAP = playbook("""\
channels: [email]
limits: {min_gap: 2 days}
phases:
  - name: a
    steps:
      - {at: 1 day, channel: email, template: t}
      - {at: 2 days, channel: email, template: t}
      - {at: 3 days, channel: email, template: t}
""")


def test_min_gap_counts_from_a_touch_the_journal_has_and_the_sheet_not():
    """SPEC 4: at least `min_gap` between two touches of one contact; SPEC 5: never a second
    touch on one day. The ledger says a-1 on 11-02; the journal has a-2 on 11-04 too."""
    cells = dict(started="2026-11-01", touches="1", last_touch="2026-11-02",
                 last_channel="email", last_step="a-1")
    history = """
        2026-11-02,c1,touch,p,a-1,email,t,
        2026-11-04,c1,touch,p,a-2,email,t,
    """
    got = outcome(cells, "2026-11-05", history, {"p": GAP})
    assert got.touch is None
    assert got.changes == {"last_step": "a-2", "next_due": "2026-11-06"}
    got = outcome(dict(cells, touches="1", last_touch="", last_step=""), "2026-11-04",
                  "2026-11-04,c1,touch,p,a-1,email,t,\n", {"p": GAP})
    assert got.touch is None, "a second touch on 11-04"


# --- the user's hand -------------------------------------------------------------------------

HAND = [
    # (case, cells, journal, today, expected journal rows)
    ("a status typed in the ledger is journaled once",
     dict(started="2026-11-01", status="won", touches="2", last_touch="2026-11-04",
          last_channel="call", last_step="decide-2"), LIVED, "2026-11-05",
     ["2026-11-05 status - won (set in the ledger)"]),
    ("and not again once the journal says it",
     dict(started="2026-11-01", status="won", touches="2", last_touch="2026-11-04",
          last_channel="call", last_step="decide-2"),
     LIVED + "2026-11-05,c1,status,p,,,,won (set in the ledger)\n", "2026-11-06", []),
    ("a call-back typed in: a note, then the call on its day",
     dict(started="2026-11-01", callback="2026-11-09T10:00", touches="2",
          last_touch="2026-11-04", last_channel="call", last_step="decide-2"),
     LIVED, "2026-11-05", ["2026-11-05 note - callback 2026-11-09T10:00 (set in the ledger)"]),
    ("a last_reply typed in: a note, and the reply acted on (reply: stop)",
     dict(started="2026-11-01", last_reply="2026-11-05", touches="2",
          last_touch="2026-11-04", last_channel="call", last_step="decide-2"),
     LIVED, "2026-11-06",
     ["2026-11-06 note - last_reply 2026-11-05 (set in the ledger)",
      "2026-11-05 reply - reply: stop"]),
    ("a status the journal already says (by a reply row) is no decision",
     dict(started="2026-11-01", status="replied", last_reply="2026-11-05", touches="2",
          last_touch="2026-11-04", last_channel="call", last_step="decide-2"),
     LIVED + "2026-11-05,c1,reply,p,,,,reply: stop\n", "2026-11-06", []),
    # SPEC 8, `run` twice: a decision once journaled is what the journal says, on its day too
    ("a last_reply typed older than the journal's reply: journaled once",
     dict(BEHIND, status="replied", last_reply="2026-10-20"),
     LIVED + "2026-11-05,c1,reply,p,,,,reply: stop\n", "2026-11-06",
     ["2026-11-06 note - last_reply 2026-10-20 (set in the ledger)"]),
    ("and not again, the same day or later",
     dict(BEHIND, status="replied", last_reply="2026-10-20"),
     LIVED + "2026-11-05,c1,reply,p,,,,reply: stop\n"
     "2026-11-06,c1,note,p,,,,last_reply 2026-10-20 (set in the ledger)\n", "2026-11-07", []),
    ("a reply after that decision is what the journal says again",
     dict(BEHIND, status="replied", last_reply="2026-11-08"),
     LIVED + "2026-11-06,c1,note,p,,,,last_reply 2026-10-20 (set in the ledger)\n"
     "2026-11-08,c1,reply,p,,,,reply: stop\n", "2026-11-09", []),
    ("a status typed on the day of a `mark`: journaled once, and not again that day",
     dict(BEHIND, status="lost"),
     LIVED + "2026-11-05,c1,status,p,,,,won\n"
     "2026-11-05,c1,status,p,,,,lost (set in the ledger)\n", "2026-11-05", []),
    ("nor the day after",
     dict(BEHIND, status="lost"),
     LIVED + "2026-11-05,c1,status,p,,,,won\n"
     "2026-11-05,c1,status,p,,,,lost (set in the ledger)\n", "2026-11-06", []),
    ("but a status no row of the latest day says is a decision",
     dict(BEHIND, status="stopped"),
     LIVED + "2026-11-04,c1,status,p,,,,stopped (set in the ledger)\n"
     "2026-11-05,c1,status,p,,,,won\n", "2026-11-06",
     ["2026-11-06 status - stopped (set in the ledger)"]),
    # SPEC 9: a pause's date is part of the status decision; a rebuilt row reads it back
    ("a pause's date typed over the journal's: journaled, with the new date",
     dict(BEHIND, status="paused", paused_until="2026-12-20"),
     LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n", "2026-11-06",
     ["2026-11-06 status - paused until 2026-12-20 (set in the ledger)"]),
    ("and not again once the journal says it",
     dict(BEHIND, status="paused", paused_until="2026-12-20"),
     LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n"
     "2026-11-06,c1,status,p,,,,paused until 2026-12-20 (set in the ledger)\n", "2026-11-07", []),
    ("a pause's date cleared: paused until further notice",
     dict(BEHIND, status="paused", paused_until=""),
     LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n", "2026-11-06",
     ["2026-11-06 status - paused (set in the ledger)"]),
    ("a pause's date the journal says is no decision",
     dict(BEHIND, status="paused", paused_until="2026-12-01"),
     LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n", "2026-11-06", []),
    ("a re-downloaded row with its status but not its pause's date: the journal's date",
     dict(status="paused"),
     LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n", "2026-11-06", []),
    ("a date typed on the day of `pause`: journaled once, and not again that day",
     dict(BEHIND, status="paused", paused_until="2026-12-20"),
     LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n"
     "2026-11-05,c1,status,p,,,,paused until 2026-12-20 (set in the ledger)\n", "2026-11-05", []),
    ("a date typed over a reply rule's pause",
     dict(BEHIND, status="paused", paused_until="2026-12-24", last_reply="2026-11-05"),
     LIVED + "2026-11-05,c1,reply,p,,,,reply: pause until 2026-11-19\n", "2026-11-06",
     ["2026-11-06 status - paused until 2026-12-24 (set in the ledger)"]),
    ("a call-back typed on the day of `reply --callback`: journaled once",
     dict(BEHIND, callback="2026-11-09"),
     LIVED + "2026-11-05,c1,note,p,,,,callback 2026-11-10\n"
     "2026-11-05,c1,note,p,,,,callback 2026-11-09 (set in the ledger)\n", "2026-11-05", []),
]


@pytest.mark.parametrize("case, cells, history, today, expected", HAND, ids=[h[0] for h in HAND])
def test_the_users_hand(case, cells, history, today, expected):
    assert rows(outcome(cells, today, history)) == expected


def test_a_ledger_without_a_paused_until_column_keeps_the_journal_s_date():
    # SPEC 2 and 9: a column the ledger lacks says nothing; the pause ends on the journal's day
    history = LIVED + "2026-11-05,c1,status,p,,,,paused until 2026-12-01\n"
    c = contact(**BEHIND, status="paused")
    c = c._replace(row={k: v for k, v in c.row.items() if k != "paused_until"})
    held = engine.advance(c, trail(history, "c1"), PLAYBOOKS, d("2026-11-06"))
    assert rows(held) == [] and held.changes == {"paused_until": "2026-12-01"}
    ended = engine.advance(c, trail(history, "c1"), PLAYBOOKS, d("2026-12-01"))
    assert rows(ended)[0] == "2026-12-01 status - active again after a pause until 2026-12-01"
    book = Book(PLAYBOOKS, (c,), {"c1": trail(history, "c1")})
    assert engine.due(book, d("2026-11-30")) == []
    assert engine.due(book, d("2026-12-01")) == [ended.touch] and ended.touch is not None


@pytest.mark.parametrize("cells, start, note", [
    (dict(started="2026-10-30"), "2026-10-30", "started (set in the ledger)"),
    (dict(), "2026-11-01", "started (the day before the first touch)"),
])
def test_a_rebuilt_row_without_a_start_in_the_journal_journals_its_start(cells, start, note):
    """SPEC 8, `run` twice: the start a rebuild takes (the ledger's, else the day before the
    first touch) is journaled by the run that rebuilds, not by the one after it."""
    history = LIVED.replace("2026-11-01,c1,status,p,,,,started", "")
    got = outcome(cells, "2026-11-05", history)
    assert rows(got) == [f"{start} status - {note}"] and got.restored
    row = dict(cells, **got.changes)
    again = outcome(row, "2026-11-05", history + f"{start},c1,status,p,,,,{note}\n")
    assert rows(again) == [] and again.changes == {}


def test_enrolling_journals_the_start():
    """SPEC 9: enrolling a contact appends a `status` row, note `started`, dated as started."""
    got = outcome(dict(), "2026-11-01")
    assert rows(got) == ["2026-11-01 status - started"] and got.changes["started"] == "2026-11-01"


ENROLLED_AFTER_A_STATUS = [
    # (case, cells, journal, today, rows journaled, status a rebuilt row reads)
    ("`mark won` before the first run: the start, then the status said again",
     dict(status="won"), "2026-10-30,c1,status,p,,,,won\n", "2026-11-01",
     ["2026-11-01 status - started", "2026-11-01 status - won (set in the ledger)"], "won"),
    ("`pause` before the first run: its date too",
     dict(status="paused", paused_until="2026-11-20"),
     "2026-10-30,c1,status,p,,,,paused until 2026-11-20\n", "2026-11-01",
     ["2026-11-01 status - started",
      "2026-11-01 status - paused until 2026-11-20 (set in the ledger)"], "paused"),
    ("a pause that ends on the start's day is not said again: it ends",
     dict(status="paused", paused_until="2026-11-01"),
     "2026-10-30,c1,status,p,,,,paused until 2026-11-01\n", "2026-11-01",
     ["2026-11-01 status - started",
      "2026-11-01 status - active again after a pause until 2026-11-01"], "active"),
    ("a status typed in the ledger is journaled once, before the start",
     dict(status="lost"), "", "2026-11-01",
     ["2026-11-01 status - lost (set in the ledger)", "2026-11-01 status - started"], "lost"),
    ("an active contact: the start alone",
     dict(status="active"), "2026-10-30,c1,status,p,,,,active\n", "2026-11-01",
     ["2026-11-01 status - started"], "active"),
]


@pytest.mark.parametrize("case, cells, history, today, journaled, rebuilt",
                         ENROLLED_AFTER_A_STATUS, ids=[r[0] for r in ENROLLED_AFTER_A_STATUS])
def test_a_status_decided_before_the_start_outlives_it(case, cells, history, today, journaled,
                                                       rebuilt):
    """SPEC 9: the journal, read by its dates, says the status the ledger holds; a start after
    a status row would read as active, so a status that is not is said again after it."""
    from cadence.state import journal_status

    got = outcome(cells, today, history)
    assert rows(got) == journaled
    lines = [f"{e.date},c1,{e.event},p,,,,{e.note}" for e in got.entries]
    assert journal_status(trail(history + "\n".join(lines) + "\n", "c1"), "p")[0] == rebuilt


def test_a_move_journals_the_new_start():
    """SPEC 9: a `move` appends a `status` row, note `started`, for the new playbook, dated
    as the reply."""
    books = {"p": replace(SPEC, on_reply=OnReply("move", playbook="q")), "q": Q}
    got = outcome(dict(started="2026-11-01", last_step="decide-2", last_touch="2026-11-04",
                       last_channel="call", touches="2", last_reply="2026-11-05"),
                  "2026-11-06", LIVED, playbooks=books)
    assert rows(got)[-2:] == ["2026-11-05 reply - reply: move to q", "2026-11-05 status - started"]
    assert got.changes["started"] == "2026-11-05" and got.changes["next_due"] == "2026-11-08"


MOVED_WHILE_PAUSED = [
    # (case, the pause's journal row, the ledger's status and paused_until)
    ("paused the day before, until after the move: the move ends the pause",
     "2026-11-04,c1,status,p,,,,paused until 2026-11-20", "paused", "2026-11-20"),
    ("paused on the day of the move", "2026-11-05,c1,status,p,,,,paused until 2026-11-20",
     "paused", "2026-11-20"),
    ("a pause that ran out: its date goes too",
     "2026-11-03,c1,status,p,,,,active again after a pause until 2026-11-03", "active",
     "2026-11-03"),
]


@pytest.mark.parametrize("case, row, status, until", MOVED_WHILE_PAUSED,
                         ids=[r[0] for r in MOVED_WHILE_PAUSED])
def test_a_move_rule_clears_a_pause_and_the_journal_says_so(case, row, status, until):
    """SPEC 5: `move P` switches the contact to P with `started` = `last_reply`; the move
    clears `paused_until` (README, Semantics: "A pause's date"). SPEC 9: the row rebuilt from the journal alone says the same."""
    books = {"p": replace(SPEC, on_reply=OnReply("move", playbook="q")), "q": Q}
    history = LIVED + row + "\n"
    live = outcome(dict(started="2026-11-01", last_step="decide-2", last_touch="2026-11-04",
                        last_channel="call", touches="2", last_reply="2026-11-05",
                        status=status, paused_until=until), "2026-11-06", history,
                   playbooks=books)
    assert live.changes["status"] == "active" if status == "paused" else "status" not in \
        live.changes
    assert live.changes["paused_until"] == ""
    assert live.changes["next_due"] == "2026-11-08"  # 11-05 + 3 days: no wait for the pause
    written = history + "".join(f"{e.date},c1,{e.event},{e.playbook},,,,{e.note}\n"
                                for e in live.entries)
    rebuilt = outcome(dict(playbook="q", last_reply="2026-11-05"), "2026-11-06", written,
                      playbooks=books)
    assert rebuilt.changes.get("status", "active") in ("active", "")
    assert rebuilt.changes.get("paused_until", "") == ""
    assert rebuilt.changes["next_due"] == "2026-11-08"


def test_after_a_move_an_after_step_counts_from_the_new_start():
    """The differential finding: a reply that crossed a later touch moved the contact
    (started = the reply's day, before that touch); an `after` step of the new playbook counts
    from the new `started`, not from the touch made under the old playbook."""
    got = outcome(dict(playbook="q", started="2026-11-03", last_touch="2026-11-04",
                       last_channel="call", touches="2", last_reply="2026-11-03"),
                  "2026-11-05", LIVED + "2026-11-03,c1,status,q,,,,started\n",
                  playbooks={"p": SPEC, "q": Q})
    assert got.changes["next_due"] == "2026-11-06"  # 11-03 + 3 days, not 11-04 + 3


# --- agreed calls, whatever the status -----------------------------------------------------------

CALLS = [
    # (case, cells, today, expected touch "step channel due" or None, next_due)
    ("a replied contact's agreed call comes on its day", dict(status="replied"),
     "2026-11-09", "callback call 2026-11-09", ""),
    ("and is its next_due before", dict(status="replied"), "2026-11-06", None, "2026-11-09"),
    ("a won customer too", dict(status="won"), "2026-11-09", "callback call 2026-11-09", ""),
    ("a paused contact's call keeps its day inside the pause",
     dict(status="paused", paused_until="2026-11-30"), "2026-11-09", "callback call 2026-11-09",
     ""),
    ("not for an unsubscribed contact", dict(status="unsubscribed"), "2026-11-09", None, ""),
    ("not for a stopped one", dict(status="stopped"), "2026-11-09", None, ""),
    ("not for one who opted out of calls", dict(status="replied", optout="call"), "2026-11-09",
     None, ""),
    ("without a phone the call falls back to another channel",
     dict(status="replied", phone=""), "2026-11-09", "callback email 2026-11-09", ""),
]


@pytest.mark.parametrize("case, cells, today, touch, next_due", CALLS, ids=[c[0] for c in CALLS])
def test_agreed_calls_whatever_the_status(case, cells, today, touch, next_due):
    base = dict(started="2026-11-01", callback="2026-11-09", touches="2", last_touch="2026-11-04",
                last_channel="call", last_step="decide-2",
                last_reply="2026-11-05" if cells.get("status") == "replied" else "")
    got = outcome({**base, **cells}, today,
                  LIVED + "2026-11-05,c1,reply,p,,,,reply: stop\n2026-11-05,c1,note,p,,,,"
                  "callback 2026-11-09 (set in the ledger)\n")
    t = got.touch
    assert (f"{t.step} {t.channel} {t.due}" if t else None) == touch
    assert got.changes.get("next_due", "") == next_due


# --- the differential findings -----------------------------------------------------------------

def test_a_no_reply_rule_answers_a_call_back_too():
    """SPEC 5.2 names only last_channel, `in` and "a rule never answers a touch that it made
    itself": the call made on the agreed day is answered by the letter rule 7 days on."""
    got = outcome(dict(started="2026-11-01", last_step="decide-2", last_touch="2026-11-09",
                       last_channel="call", touches="3"), "2026-11-16",
                  LIVED + "2026-11-09,c1,touch,p,callback,call,callback,call-back agreed\n")
    assert got.touch is not None and (got.touch.step, got.touch.channel) == ("no_reply", "letter")


def test_a_no_reply_rule_answers_a_birthday_greeting_too():
    got = outcome(dict(started="2026-11-01", last_step="decide-2", last_touch="2026-11-06",
                       last_channel="email", touches="3", birthday="11-06"), "2026-11-11",
                  LIVED + "2026-11-06,c1,touch,p,birthday,email,birthday,birthday on 2026-11-06\n")
    assert got.touch is not None and (got.touch.step, got.touch.channel) == ("no_reply", "call")


def test_a_periodic_phase_without_a_channel_skips_each_occurrence():
    """Each weekly lesson that cannot go out is skipped on its day, and the phase moves on; when
    the channel comes back, the next occurrence is due on its own day, not at once."""
    cells = dict(started="2026-09-01", last_step="offer", last_touch="2026-09-22",
                 last_channel="letter", touches="3", channels="email", email="")  # email only
    got = outcome(cells, "2026-10-20")
    skips = [(str(e.date), e.step) for e in got.entries if e.event == "skip"]
    assert skips == [("2026-10-01", "learn-1"), ("2026-10-08", "learn-2"),
                     ("2026-10-15", "learn-3")]
    history = "".join(f"{e.date},c1,skip,p,{e.step},,lesson,no channel\n" for e in got.entries)
    back = outcome({**cells, "email": "ann@example.com", "last_step": "learn-3"}, "2026-10-20",
                   history)
    assert back.touch is None and back.changes["next_due"] == "2026-10-22"


def test_the_phase_of_an_overdue_rule_touch_is_the_current_phase():
    """SPEC 5: "a touch made by a rule has ... the contact's current phase as its phase"."""
    got = outcome(dict(started="2026-10-01", last_step="decide-1", last_touch="2026-10-27",
                       last_channel="email", touches="1"), "2026-11-05")
    assert got.touch.reason == "no_reply" and got.touch.due.isoformat() == "2026-11-01"
    assert got.touch.phase == "learn"  # made today; the decide phase ended on 10-31


# --- undo ---------------------------------------------------------------------------------------

def test_an_undone_touch_counts_for_nothing_in_any_order():
    """SPEC 9: an `undo` row names the latest matching touch, which no longer counts for
    limits, steps or touches; the rows' order does not matter."""
    lines = LIVED.strip().splitlines() + ["2026-11-04,c1,undo,p,decide-2,call,questions,touch"]
    for order in (lines, list(reversed(lines)), lines[2:] + lines[:2]):
        t = trail_of(journal("\n".join(order) + "\n")["c1"])
        assert (t.touches, t.last.step, t.last.date, t.step.step) == (
            1, "decide-1", d("2026-11-02"), "decide-1")


def test_a_touch_made_again_after_its_undo_counts_once():
    t = trail_of([Entry(d("2026-11-04"), "c1", "touch", "p", "decide-2", "call", "q"),
                  Entry(d("2026-11-04"), "c1", "undo", "p", "decide-2", "call", "q", "touch"),
                  Entry(d("2026-11-04"), "c1", "touch", "p", "decide-2", "call", "q")])
    assert t.touches == 1 and t.last.step == "decide-2"


# --- fallback: where a touch may go when its channel cannot be used ------------------------------

FALLBACK = """
    channels: [email, call, letter]
    phases:
      - name: decide
        until: 30 days
        steps:
          - {at: 1 day, channel: email, template: t, fallback: [letter]}
          - {at: 3 days, channel: email, template: t, fallback: skip}
          - {at: 5 days, channel: email, template: t}
      - name: learn
        every: 1 week
        channel: email
        fallback: [letter]
        template: t
    rules:
      - if: "contact.age == '60'"
        channel: letter
"""

FALLS = [
    # (case, cells, today, expected "step channel" or "skip step")
    ("a step's fallback: a letter, never a call", dict(optout="email"), "2026-11-02", "decide-1 letter"),
    ("no address either: skipped, the contact moves on",
     dict(optout="email", address=""), "2026-11-02", "skip decide-1"),
    ("fallback: skip", dict(optout="email", last_step="decide-1", last_touch="2026-11-02",
                            last_channel="letter", touches="1"), "2026-11-04", "skip decide-2"),
    ("without a fallback, SPEC 5's: the playbook's channels in order",
     dict(optout="email", last_step="decide-2", last_touch="2026-11-02", last_channel="letter",
          touches="1"), "2026-11-06", "decide-3 call"),
    ("a phase's fallback holds for its periodic touches",
     dict(optout="email", last_step="decide-3", last_touch="2026-11-25", last_channel="call",
          touches="3"), "2026-12-08", "learn-1 letter"),
    ("an `if` rule's channel first, then the step's own, then its fallback",
     dict(age="60", address=""), "2026-11-02", "decide-1 email"),
]


@pytest.mark.parametrize("case, cells, today, expected", FALLS, ids=[f[0] for f in FALLS])
def test_fallback(case, cells, today, expected):
    from helpers import contact as make

    pb = playbook(FALLBACK)
    c = make(started="2026-11-01", **cells)
    got = engine.advance(c, trail("2026-11-01,c1,status,p,,,,started\n", "c1"), {"p": pb},
                         d(today))
    if expected.startswith("skip"):
        assert got.touch is None or got.touch.step != expected.split()[1]
        assert expected.split()[1] in [e.step for e in got.entries if e.event == "skip"]
    else:
        assert f"{got.touch.step} {got.touch.channel}" == expected


@pytest.mark.parametrize("history, last_touch, call_on, detail, email", [
    # SPEC 10: "a no_reply rule that answers an email falls on the earlier of its duration and
    # the day after the bounce"
    ("2026-11-03,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@example.com]\n",
     "2026-11-02", "2026-11-04", "the email of 2026-11-02 bounced on 2026-11-03",
     "ann@example.com"),
    # the same once the cell holds a new address: that email never arrived all the same
    ("2026-11-03,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@old.example]\n",
     "2026-11-02", "2026-11-04", "the email of 2026-11-02 bounced on 2026-11-03",
     "ann@example.com"),
    # but an old address that bounced before an email to the new one says nothing of it
    ("2026-11-02,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@old.example]\n"
     "2026-11-04,c1,touch,p,decide-2,email,questions,\n",
     "2026-11-04", "2026-11-09", "no reply since 2026-11-04 (email)", "ann@example.com"),
    # one dated the day of that email counts against it: a date does not say which came first
    # (the day after, and min_gap)
    ("2026-11-04,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@old.example]\n"
     "2026-11-04,c1,touch,p,decide-2,email,questions,\n",
     "2026-11-04", "2026-11-06", "the email of 2026-11-04 bounced on 2026-11-04",
     "ann@example.com"),
    # an email drafted before sync saw the bounce went to the same dead address: the rung comes
    # the day after it (and min_gap), not five days later
    ("2026-11-02,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@example.com]\n"
     "2026-11-04,c1,touch,p,decide-2,email,questions,\n",
     "2026-11-04", "2026-11-06",
     "the email of 2026-11-04 went to an address that bounced on 2026-11-02", "ann@example.com"),
])
def test_a_bounce_brings_the_ladder_forward_even_past_a_later_email(history, last_touch,
                                                                     call_on, detail, email):
    cells = dict(started="2026-11-01", last_step="decide-2", last_touch=last_touch,
                 last_channel="email", touches="2", email=email)
    lived = "2026-11-01,c1,status,p,,,,started\n2026-11-02,c1,touch,p,decide-1,email,thanks,\n"
    c = contact(**cells)
    planned = engine.plan(c, trail(lived + history, c.id), PLAYBOOKS, d(last_touch), 30)
    rung = next(t for t in planned if t.step == "no_reply")
    assert (str(rung.due), rung.channel, rung.detail) == (call_on, "call", detail)


def _every_day(cells: dict, history: str, start: str, days: int, playbooks: dict) -> list:
    """The touches of a `run` every day from `start`: each reads back the ledger it wrote and
    the journal rows the days before appended."""
    row, entries = dict(cells), tuple(journal(history).get("c1", ()))
    made = []
    for n in range(days):
        today = d(start) + timedelta(days=n)
        got = engine.advance(contact(**row), trail_of(entries), playbooks, today)
        row.update(got.changes)
        entries += got.entries
        made += [got.touch] if got.touch is not None else []
    return made


@pytest.mark.parametrize("case, history, email", [
    ("the bounced old address before the first email: the cell holds the new one",
     "2026-11-03,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@old.example]\n",
     "ann@example.com"),
    ("the cell's own address bounced: email is out, the ladder goes on by call and letter",
     "2026-11-03,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@example.com]\n",
     "ann@example.com"),
    ("a bounce of the old address before a later touch says nothing of the emails after it",
     "2026-11-03,c1,bounce,p,,email,,<b@x> Undeliverable [address ann@old.example]\n"
     "2026-11-04,c1,touch,p,,call,questions,\n",
     "ann@example.com"),
])
def test_plan_foretells_a_run_every_day_after_a_bounce(case, history, email):
    """`plan` carries the bounce from day to day as `run` reads it back: a bounce of an old
    address answers the email it came after, and no email to the new address after it."""
    lived = "2026-11-01,c1,status,p,,,,started\n2026-11-02,c1,touch,p,decide-1,email,thanks,\n"
    last = "2026-11-04" if "11-04" in history else "2026-11-02"
    cells = dict(started="2026-11-01", last_step="decide-1", last_touch=last, email=email,
                 last_channel="call" if last == "2026-11-04" else "email",
                 touches="2" if last == "2026-11-04" else "1")
    # the example's email rung in every phase: the learn phase's emails have theirs
    books = {"p": replace(playbook(SPEC_EXAMPLE.replace("    in: [decide]\n", "")),
                          calendar=Calendar())}
    planned = engine.plan(contact(**cells), trail(lived + history), books, d("2026-11-04"), 60)
    assert planned == _every_day(cells, lived + history, "2026-11-04", 60, books), case
    rungs = [t for t in planned if t.step == "no_reply" and t.channel == "call"]
    assert not [t for t in rungs if "went to an address" in t.detail]
    if email not in history:  # the new address takes the learn phase's emails, and their rungs
        assert len([t for t in planned if t.channel == "email"]) > 1 and len(rungs) > 1


AHEAD = playbook("""
    phases:
      - name: decide
        until: 30 days
        steps:
          - {at: 2 days, channel: email, template: t}
          - {at: 8 days, channel: email, template: t}
          - {after: 1 day, channel: email, template: t}
          - {after: 1 day, channel: sms, template: t, fallback: skip}
""")
SKIPPED_AHEAD = """
    2026-11-01,c1,status,p,,,,started
    2026-11-03,c1,touch,p,decide-1,email,t,
    2026-11-09,c1,skip,p,decide-2,email,t,skipped by hand
"""


@pytest.mark.parametrize("today, step, next_due", [
    ("2026-11-04", None, "2026-11-09"),  # not the day after the touch: decide-2 comes first
    ("2026-11-08", None, "2026-11-09"),
    ("2026-11-09", "decide-3", ""),  # decide-4 has no channel: nothing after it
])
def test_a_step_skipped_by_hand_ahead_holds_the_steps_after_it(today, step, next_due):
    """README `skip`: a touch skipped ahead is journaled on the day it was planned for, and
    the contact moves on as if it had been made then; steps keep their order (SPEC 5), so
    the journal's latest step is the furthest one and a row rebuilt from it says the same."""
    cells = dict(started="2026-11-01", touches="1", last_touch="2026-11-03",
                 last_channel="email", last_step="decide-2", phone="")
    got = outcome(cells, today, SKIPPED_AHEAD, playbooks={"p": AHEAD})
    assert (got.touch.step if got.touch else None) == step
    assert got.changes.get("next_due", "") == next_due
    rebuilt = outcome(dict(phone=""), today, SKIPPED_AHEAD, playbooks={"p": AHEAD})
    assert (rebuilt.touch.step if rebuilt.touch else None) == step


def test_a_step_with_no_channel_after_one_skipped_ahead_is_skipped_no_earlier():
    """The skip of a step with no channel is dated no earlier than the step skipped by hand
    before it, whose day is still ahead: the journal's latest step stays the furthest."""
    cells = dict(started="2026-11-01", touches="1", last_touch="2026-11-03",
                 last_channel="email", last_step="decide-3", phone="")
    history = SKIPPED_AHEAD.replace("decide-2,email,t,skipped by hand",
                                    "decide-3,email,t,skipped by hand").replace(
        "2026-11-09,", "2026-11-12,")
    for today, skipped in (("2026-11-05", []), ("2026-11-11", []), ("2026-11-12", ["2026-11-12"]),
                           ("2026-11-14", ["2026-11-12"])):
        got = outcome(cells, today, history, playbooks={"p": AHEAD})
        assert [e.date.isoformat() for e in got.entries if e.event == "skip"] == skipped, today


def test_plan_after_a_step_skipped_ahead_journals_each_skip_on_its_day():
    """README `plan`: "what a `run` every day would make", each skip on its day. A step
    skipped ahead by hand (`skip --step`), then a periodic phase with no channel: its skips
    come one by one, and the phase after them is worked out from the state they leave (the
    same whether cron ran on their days or not)."""
    from journalbooks import every_day

    books = {"p": playbook("""
        phases:
          - name: decide
            until: 31 days
            steps:
              - {after: 6 days, channel: email, template: t}
              - {at: 6 days, channel: call, template: t}
          - name: mid
            until: 41 days
            every: 2 days
            channel: letter
            template: t
            fallback: skip
          - name: keep
            every: 2 weeks
            channel: email
            template: t
    """)}
    cells = dict(address="", started="2027-09-29", last_step="decide-2")
    rows = journal("2027-09-29,c1,status,p,,,,started\n"
                   "2027-10-06,c1,skip,p,decide-2,call,t,skipped by hand\n")["c1"]
    planned = engine.plan(contact(**cells), trail_of(rows), books, d("2027-09-30"), 60)
    assert [(str(t.due), t.step, t.overdue) for t in planned] == [
        ("2027-11-09", "keep-1", 0), ("2027-11-23", "keep-2", 0)]
    assert planned == every_day(cells, rows, books, d("2027-09-30"), 60)


def test_plan_reads_an_if_rule_over_touches_as_the_runs_leave_the_row():
    """SPEC 4 (`if`: "a Jinja expression over `contact`"), SPEC 2 (`touches` is a column):
    the third step is by letter once the runs have written `touches` 2, in the plan too."""
    from jinja2 import DictLoader

    from cadence.sandbox import condition, environment
    from journalbooks import every_day

    books = {"p": playbook("""
        channels: [email, letter]
        phases:
          - name: decide
            until: 30 days
            steps:
              - {at: 1 day, channel: email, template: t}
              - {at: 3 days, channel: email, template: t}
              - {at: 5 days, channel: email, template: t}
        rules:
          - if: "contact.touches | int >= 2"
            channel: letter
    """)}
    test = condition(environment(DictLoader({})))
    cells = dict(started="2026-11-01", touches="1", last_touch="2026-11-02",
                 last_channel="email", last_step="decide-1")
    rows = journal("2026-11-01,c1,status,p,,,,started\n"
                   "2026-11-02,c1,touch,p,decide-1,email,t,\n")["c1"]
    planned = engine.plan(contact(**cells), trail_of(rows), books, d("2026-11-03"), 10, test)
    assert [(str(t.due), t.step, t.channel) for t in planned] == [
        ("2026-11-04", "decide-2", "email"), ("2026-11-06", "decide-3", "letter")]
    assert planned == every_day(cells, rows, books, d("2026-11-03"), 10, test)


def test_due_shows_a_step_that_comes_after_one_its_phase_cannot_hold():
    """README "Late contacts": a step whose date the limits push past its phase's end is
    skipped; the `at` step after it is due today. `due` (which works out only what can come
    today) shows it, as `run` makes it."""
    books = {"p": playbook("""
        channels: [email, call, letter]
        limits: {min_gap: 1 days}
        phases:
          - name: decide
            until: 11 days
            steps:
              - {after: 6 days, channel: call, template: t}
              - {after: 4 days, channel: letter, template: t}
              - {at: 1 days, channel: letter, template: t}
          - name: keep
            every: 1 month
            channel: call
            template: t
    """)}
    c = contact(started="2026-03-28", last_touch="2026-04-06", last_channel="call",
                last_step="decide-1", touches="2")
    history = ("2026-03-28,c1,status,p,,,,started\n2026-04-03,c1,touch,p,decide-1,call,t,\n"
               "2026-04-06,c1,touch,p,,call,,\n")
    made = engine.advance(c, trail(history), books, d("2026-04-07")).touch
    st = engine.state_of(c, trail(history), books)
    shown = engine.day(st, books, d("2026-04-07"), want_next=False).touch
    assert made is not None and made.step == "decide-3" and shown == made


def test_an_undo_merged_from_another_copy_of_the_book():
    """SPEC 9 (`undo`: the touch "no longer counts") and README "The ledger after `undo`": an
    undo row that came with a merged journal takes the touch back from the journal; a sheet
    that still holds its cells is a sheet behind the journal and keeps it counted, until its
    state cells are emptied and the row is rebuilt without it."""
    undone = LIVED + "2026-11-04,c1,undo,p,decide-2,call,questions,touch\n"
    stale = dict(started="2026-11-01", touches="2", last_touch="2026-11-04",
                 last_channel="call", last_step="decide-2")
    kept = engine.plan(contact(**stale), trail(undone), PLAYBOOKS, d("2026-11-05"), 30)
    assert "decide-2" not in [t.step for t in kept]
    emptied = outcome(dict(started="2026-11-01"), "2026-11-05", undone)
    # rebuilt as one touch, decide-1: decide-2 is made again, the second touch
    assert emptied.touch is not None and emptied.touch.step == "decide-2"
    assert (emptied.touch.number, emptied.changes["touches"]) == (2, "2")


def test_a_rebuilt_row_gets_its_agreed_call_back_again():
    """SPEC 9: "An empty cell in a row being rebuilt is restored, not a decision": a call-back
    agreed with `reply --callback` survives a re-downloaded sheet, and the call comes."""
    history = LIVED + ("2026-11-05,c1,reply,p,,,,reply: stop\n"
                       "2026-11-05,c1,note,p,,,,callback 2026-11-20T10:00\n")
    got = outcome(dict(), "2026-11-20", history)
    assert got.changes["callback"] == "2026-11-20T10:00"
    assert got.touch is not None and (got.touch.step, got.touch.time) == ("callback", "10:00")
    assert not [e for e in got.entries if "set in the ledger" in e.note]


def test_a_sheet_with_the_old_playbook_after_a_move_does_not_start_it_over():
    """SPEC 9: "Whatever the ledger says, a step that the journal shows done since the latest
    `started` is never drafted again": a contact moved to q, then a sheet downloaded again
    (no state cells, the old playbook p) stands where the journal left p, not at its start."""
    books = {"p": SPEC, "q": Q}
    history = LIVED + ("2026-11-05,c1,reply,p,,,,reply: move to q\n"
                       "2026-11-05,c1,status,q,,,,started\n"
                       "2026-11-08,c1,touch,q,onboard-1,email,a,\n")
    got = outcome(dict(), "2026-11-09", history, playbooks=books)
    assert got.changes["last_step"] == "decide-2" and got.changes["started"] == "2026-11-01"
    plan = engine.plan(contact(), trail(history, "c1"), books, d("2026-11-09"), 60)
    assert [t.step for t in plan if t.reason == "step"][:1] == ["offer"]

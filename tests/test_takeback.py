"""Taking back, by tables (cadence.takeback and trail.standing): which rows the latest run
wrote, which row an `undo` row takes back, and the ledger cells as the journal then says."""
from __future__ import annotations

from dataclasses import replace

import pytest

from cadence import takeback
from cadence.model import Calendar
from cadence.trail import standing, trail_of
from helpers import SPEC_EXAMPLE, contact, d, journal, playbook

SPEC = replace(playbook(SPEC_EXAMPLE), calendar=Calendar())


def lines(entries) -> list:
    return [f"{e.date},{e.contact},{e.event},{e.playbook},{e.step},{e.note}" for e in entries]


STANDING = [
    # (case, journal, rows that stand, undo rows left out)
    ("an undo takes back the touch it names",
     "2026-11-02,c1,touch,p,decide-1,email,thanks,\n2026-11-02,c1,undo,p,decide-1,email,thanks,touch\n",
     []),
    ("a second word picks the status row: `status started` leaves the mark made that day",
     "2026-11-02,c1,status,p,,,,started\n2026-11-02,c1,status,p,,,,won\n"
     "2026-11-02,c1,undo,p,,,,status started\n",
     ["2026-11-02,c1,status,p,,won"]),
    ("without it, the latest status row of the day goes (as before)",
     "2026-11-02,c1,status,p,,,,started\n2026-11-02,c1,status,p,,,,won\n"
     "2026-11-02,c1,undo,p,,,,status\n",
     ["2026-11-02,c1,status,p,,started"]),
    ("a second word that matches nothing works as none",
     "2026-11-02,c1,status,p,,,,started\n2026-11-02,c1,undo,p,,,,status paused\n", []),
    ("a note after `;` is only a note",
     "2026-11-02,c1,skip,p,decide-1,,thanks,x\n2026-11-02,c1,undo,p,decide-1,,thanks,skip; typo\n",
     []),
    ("an undo takes back one row of two equal ones",
     "2026-11-02,c1,touch,p,decide-1,email,thanks,\n2026-11-02,c1,touch,p,decide-1,email,thanks,\n"
     "2026-11-02,c1,undo,p,decide-1,email,thanks,touch\n",
     ["2026-11-02,c1,touch,p,decide-1,"]),
]


@pytest.mark.parametrize("case, text, kept", STANDING, ids=[s[0] for s in STANDING])
def test_standing(case, text, kept):
    rows = journal(text)["c1"]
    for order in (list(rows), list(reversed(rows))):
        assert lines(r for r in standing(order) if r.event != "undo") == kept


RUNS = [
    # (case, journal (many contacts), the run's day, rows taken back)
    ("the latest day's touches, enrolments and ledger readings",
     "2026-11-01,c1,status,p,,,,started\n2026-11-02,c1,touch,p,decide-1,email,thanks,\n"
     "2026-11-04,c1,touch,p,decide-2,call,questions,\n2026-11-04,c2,status,p,,,,started\n"
     "2026-11-04,c2,status,p,,,,won (set in the ledger)\n",
     "2026-11-04", ["2026-11-04,c1,touch,p,decide-2,", "2026-11-04,c2,status,p,,started",
                    "2026-11-04,c2,status,p,,won (set in the ledger)"]),
    ("the skips dated after the run before, up to the run's day",
     "2026-11-02,c1,touch,p,decide-1,email,thanks,\n2026-11-01,c2,skip,p,decide-1,,t,old\n"
     "2026-11-03,c2,skip,p,decide-2,,t,phase ended\n2027-12-04,c1,touch,p,learn-1,email,l,\n",
     "2027-12-04", ["2026-11-03,c2,skip,p,decide-2,phase ended", "2027-12-04,c1,touch,p,learn-1,"]),
    ("never a person's rows: a touch by hand, a skip by hand, a reply, a note",
     "2026-11-02,c1,touch,p,decide-1,email,thanks,\n2026-11-03,c1,touch,p,,call,,talked\n"
     "2026-11-03,c2,skip,p,decide-1,,thanks,skipped by hand\n2026-11-03,c2,reply,p,,,,reply: stop\n"
     "2026-11-03,c2,note,p,,,,prefers mornings\n",
     "2026-11-02", ["2026-11-02,c1,touch,p,decide-1,"]),
    ("a move's start stays with its reply",
     "2026-11-02,c1,touch,p,decide-1,email,thanks,\n2026-11-05,c1,reply,p,,,,reply: move to q\n"
     "2026-11-05,c1,status,q,,,,started\n",
     "2026-11-02", ["2026-11-02,c1,touch,p,decide-1,"]),
    ("a run that only enrolled", "2026-11-01,c1,status,p,,,,started\n", "2026-11-01",
     ["2026-11-01,c1,status,p,,started"]),
    ("a start read in the ledger is dated as that start, not as its run",
     "2026-11-02,c1,touch,p,decide-1,email,thanks,\n2027-01-01,c2,status,p,,,,started (set in the ledger)\n",
     "2026-11-02", ["2026-11-02,c1,touch,p,decide-1,"]),
    ("nothing a run wrote", "2026-11-03,c1,note,p,,,,hello\n", None, []),
]


@pytest.mark.parametrize("case, text, day, taken", RUNS, ids=[r[0] for r in RUNS])
def test_latest_run(case, text, day, taken):
    rows = [r for rs in journal(text).values() for r in rs]
    for order in (rows, list(reversed(rows))):
        found, got = takeback.latest_run(order)
        assert (str(found) if found else None, sorted(lines(got))) == (day, sorted(taken))


@pytest.mark.parametrize("step, before", [
    ("thanks", ""), ("decide-1", ""), ("decide-2", "decide-1"), ("offer", "decide-2"),
    ("learn-1", "offer"), ("learn-3", "learn-2"), ("remind-1", "learn-1"), ("nothing", "")])
def test_step_before(step, before):
    assert takeback.step_before(SPEC, step) == before


def test_the_undo_row_names_what_it_takes_back():
    started, = journal("2026-11-01,c1,status,p,,,,started\n")["c1"]
    touch, = journal("2026-11-02,c1,touch,p,decide-1,email,thanks,hi\n")["c1"]
    assert takeback.undo_row(started).note == "status started"
    assert takeback.undo_row(touch, "typo").note == "touch; typo"
    assert takeback.undo_row(touch)[:7] == touch[:2] + ("undo",) + touch[3:7]


LIVED = ("2026-11-01,c1,status,p,,,,started\n2026-11-02,c1,touch,p,decide-1,email,thanks,\n"
         "2026-11-04,c1,touch,p,decide-2,call,questions,\n")
RESTORED = [
    # (case, ledger cells now, journal, rows taken back (from the journal), expected changes)
    ("the journal's latest touch comes back",
     dict(started="2026-11-01", touches="2", last_touch="2026-11-04", last_channel="call",
          last_step="decide-2", next_due="2026-11-06"),
     LIVED, [2], {"touches": "1", "last_touch": "2026-11-02", "last_channel": "email",
                  "last_step": "decide-1", "next_due": "2026-11-04"}),  # decide-2 is due again
    ("a ledger imported with its counts: they go down by what was taken back",
     dict(started="2026-10-01", touches="9", last_touch="2026-11-04", last_channel="call",
          last_step="decide-2", next_due=""),
     "2026-11-04,c1,touch,p,decide-2,call,questions,\n", [0],
     {"touches": "8", "last_touch": "", "last_channel": "", "last_step": "decide-1",
      "next_due": "2026-10-31"}),  # the decide phase has ended: learn-1
    ("an enrolment taken back: started empty, nothing planned",
     dict(started="2026-11-01", next_due="2026-11-02"), "2026-11-01,c1,status,p,,,,started\n", [0],
     {"started": "", "next_due": ""}),
    ("the end of a pause taken back: paused again",
     dict(started="2026-11-01", status="active", paused_until="2026-11-10", touches="1",
          last_touch="2026-11-02", last_channel="email", last_step="decide-1",
          next_due="2026-11-11"),
     "2026-11-01,c1,status,p,,,,started\n2026-11-02,c1,touch,p,decide-1,email,thanks,\n"
     "2026-11-10,c1,status,p,,,,active again after a pause until 2026-11-10\n", [2],
     {"status": "paused", "next_due": ""}),  # as a paused contact's
]


@pytest.mark.parametrize("case, cells, text, taken, changes", RESTORED, ids=[r[0] for r in RESTORED])
def test_restored(case, cells, text, taken, changes):
    c = contact(**cells)
    rows = list(journal(text)["c1"])
    back = [rows[i] for i in taken]
    after = trail_of(rows + [takeback.undo_row(r) for r in back])
    assert takeback.restored(c, after, back, {"p": SPEC}, d("2026-11-04")) == changes


def test_a_skip_dated_before_the_run_before_is_taken_back_with_the_steps_it_follows():
    """Found by the property test: a late contact's ended phase is skipped step by step, each
    dated the day it would have been made, and an `after: 0 days` step falls before the step
    it follows, on the day of the run before. It is the latest run's all the same: it comes
    after one of that run's steps in the playbook."""
    pb = playbook("""
        phases:
          - name: decide
            until: 10 days
            steps:
              - {after: 0 days, channel: email, template: t}
              - {after: 1 days, channel: email, template: t}
              - {after: 0 days, channel: email, template: t}
    """)
    text = ("2026-01-01,c0,status,p,,,,started\n2026-01-01,c0,skip,p,decide-1,,t,no channel\n"
            "2026-01-02,c0,skip,p,decide-2,,t,phase decide ended on 2026-01-11\n"
            "2026-01-01,c0,skip,p,decide-3,,t,phase decide ended on 2026-01-11\n")
    rows = journal(text)["c0"]
    day, taken = takeback.latest_run(rows, playbooks={"p": pb})
    assert str(day) == "2026-01-02"
    assert sorted(r.step for r in taken) == ["decide-2", "decide-3"]
    assert [r.step for r in takeback.latest_run(rows)[1]] == ["decide-2"]  # by dates alone


def test_a_skip_set_a_draft_aside_only_after_taking_its_touch_back():
    """`undo ID` removes `<draft>.skipped` only for a skip that set the draft aside: `skip` of
    a touch the day's run had drafted wrote that touch's undo row (`touch; skipped by hand`)."""
    from cadence.model import Entry

    skip = Entry(d("2026-11-02"), "c1", "skip", "p", "decide-1", "email", "hello",
                 "skipped by hand; sent by hand")
    undone = Entry(d("2026-11-02"), "c1", "undo", "p", "decide-1", "email", "hello",
                   "touch; skipped by hand")
    assert takeback.set_aside(skip, [undone, skip])
    assert not takeback.set_aside(skip, [skip])  # skipped before any run drafted it
    assert not takeback.set_aside(skip, [undone._replace(step="decide-2"), skip])
    assert not takeback.set_aside(skip, [undone._replace(date=d("2026-11-01")), skip])
    assert not takeback.set_aside(skip._replace(note="phase decide ended"), [undone])

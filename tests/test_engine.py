"""The engine by tables: a contact's cells, its journal, a date -> the touch and the changes.

Every clause of SPEC section 5 has a row here with a worked example. The playbook is the
SPEC's own example unless a row says otherwise.
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta

import pytest

from cadence import engine, steps
from cadence.model import Calendar
from cadence.trail import trail_of
from helpers import SPEC_EXAMPLE, contact, d, journal, playbook, trail

# The SPEC's example playbook, without its calendar: the tables count calendar days.
SPEC = replace(playbook(SPEC_EXAMPLE), calendar=Calendar())

BUSINESS = replace(SPEC, calendar=replace(SPEC.calendar, business_days=True,
                                          holidays=frozenset({d("2026-12-31")})))
PLAYBOOKS = {"p": SPEC}


def outcome(cells, today, history="", playbooks=None, condition=None):
    """What `run` does; a contact with a start has it in its journal too, as `run` writes it
    on enrolling (SPEC 9), so that the tables show only the day's own rows."""
    c = contact(**cells)
    if c.started is not None and ",status," not in history:
        history = f"{c.started},{c.id},status,{c.playbook},,,,started\n" + history
    return engine.advance(c, trail(history, c.id), playbooks or PLAYBOOKS, d(today), condition)


def show(touch):
    if touch is None:
        return None
    return f"{touch.step} {touch.channel} {touch.template} {touch.due} {touch.reason}"


# (case, cells, journal rows, today, expected touch "step channel template due reason")
TOUCHES = [
    ("at step on its day", dict(started="2026-11-01"), "", "2026-11-02",
     "decide-1 email thanks 2026-11-02 step"),
    ("nothing before the first step", dict(started="2026-11-01"), "", "2026-11-01", None),
    ("after step counts from the previous touch",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
          last_channel="email", touches="1"), "", "2026-11-04",
     "decide-2 call questions 2026-11-04 step"),
    ("overdue step keeps its date", dict(started="2026-11-01"), "", "2026-11-04",
     "decide-1 email thanks 2026-11-02 step"),
    ("no_reply before the step when both are due",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
          last_channel="email", touches="1"), "", "2026-11-07",
     "no_reply call no-reply-call 2026-11-07 no_reply"),
    ("a reply cancels no_reply (and stops)",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
          last_channel="email", touches="1", last_reply="2026-11-03"), "", "2026-11-07", None),
    ("min_gap moves a step",
     dict(started="2026-11-01", last_step="decide-2", last_touch="2026-11-21",
          last_channel="call", touches="2"), "", "2026-11-22", None),
    ("periodic phase: every after the previous touch, no earlier than the previous until",
     dict(started="2026-10-01", last_step="offer", last_touch="2026-10-22",
          last_channel="letter", touches="3"), "", "2026-10-31",
     "learn-1 email lesson-1 2026-10-31 step"),
    ("periodic templates in turn",
     dict(started="2026-09-01", last_step="learn-3", last_touch="2026-10-20",
          last_channel="email", touches="6"), "", "2026-10-27",
     "learn-4 email lesson-1 2026-10-27 step"),
    ("the last phase goes on for ever",
     dict(started="2025-01-01", last_step="remind-7", last_touch="2026-10-15",
          last_channel="email", touches="20"), "", "2026-11-15",
     "remind-8 email monthly 2026-11-15 step"),
    ("months by calendar: Jan 31 + 1 month = Feb 28",
     dict(started="2025-06-01", last_step="remind-3", last_touch="2027-01-31",
          last_channel="email", touches="9"), "", "2027-02-28",
     "remind-4 email monthly 2027-02-28 step"),
    ("a late import skips the ended decide phase",
     dict(started="2026-09-20"), "", "2026-10-25",
     "learn-1 email lesson-1 2026-10-20 step"),
    ("optout moves to the first allowed channel of the playbook",
     dict(started="2026-11-01", optout="email"), "", "2026-11-02",
     "decide-1 call thanks 2026-11-02 step"),
    ("the contact's channels in order of preference",
     dict(started="2026-11-01", channels="letter;call"), "", "2026-11-02",
     "decide-1 letter thanks 2026-11-02 step"),
    ("unreachable by email: no address, falls back",
     dict(started="2026-11-01", email=""), "", "2026-11-02",
     "decide-1 call thanks 2026-11-02 step"),
    ("status replied gets nothing", dict(started="2026-11-01", status="replied"), "",
     "2026-11-02", None),
    ("status won gets nothing", dict(started="2026-11-01", status="won"), "", "2026-11-02", None),
    ("optout all gets nothing", dict(started="2026-11-01", optout="all"), "", "2026-11-02", None),
    ("paused before paused_until gets nothing",
     dict(started="2026-11-01", status="paused", paused_until="2026-11-10"), "", "2026-11-05",
     None),
    ("paused from paused_until on: active, touched no earlier",
     dict(started="2026-11-01", status="paused", paused_until="2026-11-10"), "", "2026-11-10",
     "decide-1 email thanks 2026-11-10 step"),
    ("callback keeps the agreed date inside min_gap",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
          last_channel="email", touches="1", callback="2026-11-03T14:30"), "", "2026-11-03",
     "callback call callback 2026-11-03 callback"),
    ("callback done once the contact was touched on or after the date",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-03",
          last_channel="call", touches="1", callback="2026-11-03"), "", "2026-11-03", None),
    ("birthday before the step",
     dict(started="2026-11-01", birthday="1970-11-02"), "", "2026-11-02",
     "birthday email birthday 2026-11-02 birthday"),
    ("birthday MM-DD", dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                            last_channel="email", touches="1", birthday="11-05"), "",
     "2026-11-05", "birthday email birthday 2026-11-05 birthday"),
    ("Feb 29 is Feb 28 in other years",
     dict(started="2025-01-01", last_step="remind-1", last_touch="2027-02-20",
          last_channel="email", touches="9", birthday="1988-02-29"), "", "2027-02-28",
     "birthday email birthday 2027-02-28 birthday"),
    ("birthday once a year",
     dict(started="2026-01-01", last_step="remind-1", last_touch="2026-11-02",
          last_channel="email", touches="9", birthday="11-02"),
     "2026-11-02,c1,touch,p,birthday,email,birthday,", "2026-11-06", None),
    # README "Semantics", birthdays: a week that closed before the start is not the contact's
    ("no greeting for a birthday whose week closes before a start set ahead",
     dict(started="2026-11-12", birthday="11-02"), "", "2026-11-04", None),
    ("a birthday whose week reaches the start is greeted",
     dict(started="2026-11-08", birthday="11-02"), "", "2026-11-04",
     "birthday email birthday 2026-11-02 birthday"),
]


@pytest.mark.parametrize("case,cells,history,today,expected", TOUCHES, ids=[t[0] for t in TOUCHES])
def test_touch(case, cells, history, today, expected):
    assert show(outcome(cells, today, history).touch) == expected


def test_condition_is_passed_in():
    """The engine never evaluates Jinja: the `if` test comes from the caller."""
    def holds(rule, c):
        return c.row.get("age", "") != "" and int(c.row["age"]) >= 50

    got = outcome(dict(started="2026-11-01", age="61"), "2026-11-02", condition=holds).touch
    assert got.channel == "letter"
    got = outcome(dict(started="2026-11-01", age="41"), "2026-11-02", condition=holds).touch
    assert got.channel == "email"


def _decide_2_falling_back_to(fallback):
    decide = SPEC.phases[0]
    steps = (decide.steps[0], replace(decide.steps[1], fallback=fallback)) + decide.steps[2:]
    return {"p": replace(SPEC, phases=(replace(decide, steps=steps),) + SPEC.phases[1:])}


@pytest.mark.parametrize("fallback, channel", [
    (None, "email"),  # SPEC 5: the playbook's first usable channel
    (("email",), "call"),  # the step's own channel first, then its fallback
    (("letter",), "call"),
    ((), "call"),  # `fallback: []`: the step's own channel, then none
])
def test_an_if_channel_that_cannot_be_used_falls_back(fallback, channel):
    """README "Semantics" (channels): the `if` rule asks for a letter, the contact has no
    address; decide-2 is a call."""
    got = outcome(dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                       last_channel="email", touches="1", age="61", address=""),
                  "2026-11-04", "2026-11-02,c1,touch,p,decide-1,email,thanks,\n",
                  playbooks=_decide_2_falling_back_to(fallback),
                  condition=lambda rule, c: int(c.row["age"]) >= 50)
    assert got.touch.channel == channel


# --- moves of the candidate's date -----------------------------------------------------------

MOVES = [
    # (case, cells, journal, today, expected next_due)
    ("min_gap: 2 days after the last touch",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
          last_channel="email", touches="1"), "", "2026-11-03", "2026-11-04"),
    ("per_week: the 4th touch waits for a day with fewer than 3 in 7",
     dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-06",
          last_channel="sms", touches="3"),
     """2026-11-02,c1,touch,p,decide-1,email,thanks,
        2026-11-04,c1,touch,p,,sms,,
        2026-11-06,c1,touch,p,,sms,,""", "2026-11-07", "2026-11-09"),
    ("a step waits for the end of a pause",
     dict(started="2026-11-01", status="paused", paused_until="2026-11-20"), "",
     "2026-11-20", "2026-11-22"),
]


@pytest.mark.parametrize("case,cells,history,today,expected", MOVES, ids=[m[0] for m in MOVES])
def test_next_due(case, cells, history, today, expected):
    got = outcome(cells, today, history)
    assert got.changes.get("next_due", cells.get("next_due")) == expected


def test_per_week_counts_the_journal():
    """Touches made by hand count: decide-2 (11-08 by its `after`) waits for the 9th."""
    c = contact(started="2026-11-01", last_step="decide-1", last_touch="2026-11-06",
                last_channel="sms", touches="3")
    rows = journal("""
        2026-11-02,c1,touch,p,decide-1,email,thanks,
        2026-11-04,c1,touch,p,,sms,,
        2026-11-06,c1,touch,p,,sms,,
    """)["c1"]
    st = engine.state_of(c, trail_of(rows), PLAYBOOKS)
    first = engine.plan(c, trail_of(rows), PLAYBOOKS, d("2026-11-07"), 20)[0]
    assert (first.step, first.due, first.why) == ("decide-2", d("2026-11-09"), "per_week 3")
    assert st.touch_dates == (d("2026-11-02"), d("2026-11-04"), d("2026-11-06"))


def test_business_days_and_holidays():
    books = {"p": BUSINESS}
    # 2026-11-07 is a Saturday: the first step moves to Monday the 9th.
    got = outcome(dict(started="2026-11-06"), "2026-11-09", playbooks=books).touch
    assert (got.step, got.due) == ("decide-1", d("2026-11-09"))
    assert outcome(dict(started="2026-11-06"), "2026-11-07", playbooks=books).touch is None
    # a holiday counts as a weekend day
    got = outcome(dict(started="2026-12-30"), "2026-12-31", playbooks=books)
    assert got.touch is None and got.changes["next_due"] == "2027-01-01"


def test_one_touch_a_day():
    # the step and a birthday are both due: only the first candidate is made today
    got = outcome(dict(started="2026-11-01", birthday="11-02"), "2026-11-02")
    assert [e.event for e in got.entries] == ["touch"]
    assert got.changes["next_due"] == "2026-11-04"


# --- what run writes -------------------------------------------------------------------------

def test_run_writes_state_cells():
    got = outcome(dict(started="2026-11-01"), "2026-11-02")
    assert got.changes == {"touches": "1", "last_touch": "2026-11-02", "last_channel": "email",
                           "last_step": "decide-1", "next_due": "2026-11-04"}
    (entry,) = got.entries
    assert (entry.event, entry.step, entry.channel, entry.template) == (
        "touch", "decide-1", "email", "thanks")


def test_enrol_today_when_started_is_empty():
    got = outcome(dict(started=""), "2026-11-23")
    assert got.touch is None
    assert got.changes == {"started": "2026-11-23", "next_due": "2026-11-24"}


def test_enrolment_day_makes_a_birthday_greeting_of_the_last_week_and_no_step():
    """README "Semantics", Enrolment: the playbook's steps count from the day of enrolment
    (this one's first comes a day later), while a birthday within the last 7 days is greeted on the day of enrolment (SPEC 5: a greeting not
    made within 7 days of the birthday is skipped, so one inside them is made)."""
    got = outcome(dict(started="", birthday="1980-11-20"), "2026-11-23")
    assert show(got.touch) == "birthday email birthday 2026-11-20 birthday"
    assert got.changes["started"] == "2026-11-23"
    assert got.changes["next_due"] == "2026-11-25"  # the first step, min_gap after the greeting
    assert [(e.event, e.step) for e in got.entries] == [("status", ""), ("touch", "birthday")]
    agreed = outcome(dict(started="", callback="2026-11-23"), "2026-11-23")
    assert show(agreed.touch) == "callback call callback 2026-11-23 callback"


def test_a_step_at_day_0_is_made_on_the_day_of_enrolment():
    """SPEC 5.4: an `at` step falls on `started` + `at`; the enrolling run sets `started` to
    today, so a step at 0 days is made by that run (README "Semantics", Enrolment)."""
    pb = playbook("""\
channels: [email]
phases:
  - name: decide
    until: 10 days
    steps:
      - {at: 0 days, channel: email, template: t}
      - {after: 2 days, channel: email, template: t}
""")
    c = contact(started="")
    got = engine.advance(c, None, {"p": pb}, d("2026-11-23"))
    assert show(got.touch) == "decide-1 email t 2026-11-23 step"
    assert got.changes["started"] == "2026-11-23" and got.changes["next_due"] == "2026-11-25"


def test_not_enrolled_is_never_touched():
    got = outcome(dict(playbook="", started="2026-01-01"), "2026-11-23")
    assert got.touch is None and got.changes == {} and got.entries == ()


def test_rule_touch_leaves_last_step():
    got = outcome(dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                       last_channel="email", touches="1"), "2026-11-07")
    assert got.touch.reason == "no_reply"
    assert "last_step" not in got.changes
    assert got.entries[0].step == "no_reply"


def test_late_import_journals_the_skipped_steps():
    got = outcome(dict(started="2026-09-20"), "2026-10-25")
    skips = [(e.step, e.note) for e in got.entries if e.event == "skip"]
    assert skips == [("decide-1", "phase decide ended on 2026-10-20"),
                     ("decide-2", "phase decide ended on 2026-10-20"),
                     ("offer", "phase decide ended on 2026-10-20")]
    assert got.changes["last_step"] == "learn-1"


def test_unreachable_step_is_skipped_and_the_contact_moves_on():
    # no email, no phone: the call and the email cannot be made; the letter can
    got = outcome(dict(started="2026-11-01", email="", phone=""), "2026-11-02")
    assert show(got.touch) == "decide-1 letter thanks 2026-11-02 step"
    got = outcome(dict(started="2026-11-01", email="", phone="", address=""), "2026-11-02")
    assert got.touch is None
    assert [(e.event, e.step) for e in got.entries] == [("skip", "decide-1")]
    assert got.entries[0].note.startswith("no allowed channel")
    assert got.changes["last_step"] == "decide-1"


# --- rules -----------------------------------------------------------------------------------

def test_ladder_climbs_and_stops():
    base = dict(started="2026-11-01", last_step="decide-1", touches="2")
    # the no_reply call was made on 11-07 by rule 1: rule 2 answers it 7 days later
    history = """
        2026-11-02,c1,touch,p,decide-1,email,thanks,
        2026-11-07,c1,touch,p,no_reply,call,no-reply-call,
    """
    got = outcome(dict(base, last_touch="2026-11-07", last_channel="call"), "2026-11-14",
                  history)
    assert show(got.touch) == "no_reply letter registered-letter 2026-11-14 no_reply"
    # the letter by rule 2: no later rule answers it; the playbook goes on
    history += "2026-11-14,c1,touch,p,no_reply,letter,registered-letter,\n"
    got = outcome(dict(base, last_touch="2026-11-14", last_channel="letter", touches="3"),
                  "2026-11-30", history)
    assert got.touch.reason == "step"


SHARED = replace(SPEC, no_reply=tuple(replace(r, template="nudge") for r in SPEC.no_reply))


def test_two_rules_sharing_a_template_still_climb():
    """SPEC 5.2 with both rules' template `nudge`: the call answered an email (its note says
    so), so it is rule 1's, and rule 2 answers it with the letter."""
    base = dict(started="2026-11-01", last_step="decide-1", touches="2")
    history = """
        2026-11-02,c1,touch,p,decide-1,email,thanks,
        2026-11-07,c1,touch,p,no_reply,call,nudge,no reply since 2026-11-02 (email)
    """
    got = outcome(dict(base, last_touch="2026-11-07", last_channel="call"), "2026-11-14",
                  history, playbooks={"p": SHARED})
    assert show(got.touch) == "no_reply letter nudge 2026-11-14 no_reply"
    history += "2026-11-14,c1,touch,p,no_reply,letter,nudge,no reply since 2026-11-07 (call)\n"
    got = outcome(dict(base, last_touch="2026-11-14", last_channel="letter", touches="3"),
                  "2026-11-30", history, playbooks={"p": SHARED})
    assert got.touch.reason == "step"


SAME_NUDGE = """
channels: [email, letter]
phases:
  - name: reach
    steps:
      - {id: hello, at: 1 day, channel: email, template: hello}
rules:
  - {no_reply: 2 days, after: [email], then: email, template: nudge}
  - {no_reply: 2 days, after: [email], then: email, template: nudge}
  - {no_reply: 2 days, after: [email], then: email, template: nudge}
"""


def test_rules_alike_but_for_their_place_each_make_their_rung(tmp_path):
    """SPEC 5.2: three rules that share template, channel and what they answer still climb
    one after the other (a rule never answers its own touch); the note names the rule where
    nothing else in the row does, so the journal read back gives the same ladder."""
    from smallbook import build, invoke

    root = build(tmp_path, {"playbooks/bump.yaml": SAME_NUDGE, "templates/hello.email.j2":
                            "Subject: Hello\n\nHello.\n", "templates/nudge.email.j2":
                            "Subject: Nudge\n\nAny news?\n",
                            "contacts.csv": "id,name,email,playbook,started\n"
                                            "L1,Lena,lena@example.com,bump,2026-11-01\n",
                            "history.csv": None})
    plan = invoke("-C", root, "plan", "L1", "--today", "2026-11-01", "--days", "20", "--json")
    assert plan.exit_code == 0, plan.output
    planned = [(t["date"], t["step"]) for t in json.loads(plan.stdout)["touches"]]
    assert planned == [("2026-11-02", "hello"), ("2026-11-04", "no_reply"),
                       ("2026-11-06", "no_reply"), ("2026-11-08", "no_reply")]
    shown = invoke("-C", root, "plan", "L1", "--today", "2026-11-01", "--days", "20").stdout
    assert "no reply since 2026-11-04 (email)" in shown and "no_reply rule" not in shown
    for day in range(2, 13):
        got = invoke("-C", root, "run", "--today", f"2026-11-{day:02}", "--yes", "--quiet")
        assert got.exit_code == 0, got.output
    with open(os.path.join(root, "history.csv"), encoding="utf-8") as f:
        made = [row.split(",", 7) for row in f.read().splitlines() if ",touch," in row]
    assert [(row[0], row[7]) for row in made] == [
        ("2026-11-02", ""),
        ("2026-11-04", "no reply since 2026-11-02 (email); no_reply rule 1"),
        ("2026-11-06", "no reply since 2026-11-04 (email); no_reply rule 2"),
        ("2026-11-08", "no reply since 2026-11-06 (email)")]
    with open(os.path.join(root, "drafts", "2026-11-06", "index.md"), encoding="utf-8") as f:
        assert "no_reply rule" not in f.read()  # the journal's, not what people read


def test_a_rule_number_an_edit_shifted_ends_the_ladder_rather_than_loops(tmp_path):
    """A rule added before alike rules shifts their numbers: the row's number now names a
    rule that cannot have made it, so the row is read as unnamed (the last alike rule), and
    the ladder ends instead of sending a nudge again."""
    from smallbook import build, invoke

    root = build(tmp_path, {"playbooks/bump.yaml": SAME_NUDGE, "templates/hello.email.j2":
                            "Subject: Hello\n\nHello.\n", "templates/nudge.email.j2":
                            "Subject: Nudge\n\nAny news?\n", "templates/hello.j2": "Hello.\n",
                            "contacts.csv": "id,name,email,address,playbook,started\n"
                                            "L1,Lena,lena@example.com,Gatan 1,bump,2026-11-01\n",
                            "history.csv": None})
    for day in range(2, 6):
        assert invoke("-C", root, "run", "--today", f"2026-11-{day:02}", "--yes").exit_code == 0
    path = os.path.join(root, "playbooks", "bump.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("rules:\n", "rules:\n  - {no_reply: 3 days, after: [letter], then: "
                             "email, template: hello}\n"))
    for day in range(6, 13):
        assert invoke("-C", root, "run", "--today", f"2026-11-{day:02}", "--yes").exit_code == 0
    with open(os.path.join(root, "history.csv"), encoding="utf-8") as f:
        made = [row.split(",")[0] for row in f.read().splitlines() if ",touch," in row]
    assert made == ["2026-11-02", "2026-11-04"]


def _rule(then, template, after=()):
    from cadence.durations import parse_duration
    from cadence.model import NoReply

    return NoReply(parse_duration("5 days"), then, template, tuple(after))


LADDER = [("call", "n", ["email"]), ("letter", "n", ["call"])]
CROSSED = [("email", "n", ["call"]), ("call", "n", ["email"])]
SAME = [("email", "n", ["email"])] * 3
RULES_OF = [
    # (case, rules as (then, template, after), the row's channel, template and note, the
    # rule read)
    ("by its template", [("call", "a", ["email"]), ("letter", "b", ["call"])], "call", "a",
     "", 0),
    ("a shared template: by what the note says it answered", LADDER, "call", "n",
     "no reply since 2026-11-02 (email)", 0),
    ("the same for a touch after a bounce", LADDER, "call", "n",
     "the email of 2026-11-02 bounced on 2026-11-03", 0),
    ("the second rung, fallen back to a call", LADDER, "call", "n",
     "no reply since 2026-11-05 (call)", 1),
    ("a note that says nothing: the later rule, so that the ladder ends", LADDER, "call", "n",
     "called by hand", 1),
    ("a fallback to another rule's channel is not read as that rule's", CROSSED, "email", "n",
     "no reply since 2026-11-02 (email)", 1),
    ("a note of cadence's without a fallback: the rule whose channel the row's is",
     [("call", "n", ["email"]), ("email", "n", [])], "call", "n",
     "no reply since 2026-11-02 (email)", 0),
    ("the same, the later rule's channel", [("email", "n", ["email"]), ("call", "n", ["email"])],
     "email", "n", "no reply since 2026-11-05 (email)", 0),
    ("a fallback the note names: the rule it fell back from",
     [("email", "n", ["email"]), ("call", "n", ["email"])], "email", "n",
     "no reply since 2026-11-05 (email); by email instead of call", 1),
    ("the same after a bounce", [("letter", "n", ["email"]), ("call", "n", ["email"])],
     "letter", "n", "the email of 2026-11-02 bounced on 2026-11-03; by letter instead of call", 1),
    ("a template since renamed and a fallback: the rule the note names",
     [("email", "a", ["email"]), ("call", "b", ["email"])], "email", "old",
     "no reply since 2026-11-05 (email); by email instead of call", 1),
    ("a template since renamed, no fallback: the rule of the row's channel",
     [("email", "a", ["email"]), ("call", "b", ["email"])], "email", "old",
     "no reply since 2026-11-05 (email)", 0),
    ("template and answered channel shared: the later rule",
     [("call", "n", ["email"]), ("call", "n", [])], "call", "n",
     "no reply since 2026-11-02 (email)", 1),
    ("rules alike in all but their place: the rule the note names", SAME, "email", "n",
     "no reply since 2026-11-04 (email); no_reply rule 2", 1),
    ("the same after a fallback", SAME, "letter", "n",
     "no reply since 2026-11-04 (email); by letter instead of email; no_reply rule 1", 0),
    ("alike, the note naming none: the last of them", SAME, "email", "n",
     "no reply since 2026-11-04 (email)", 2),
    ("a rule named that the playbook no longer has: read as if unnamed", SAME[:2], "email", "n",
     "no reply since 2026-11-04 (email); no_reply rule 3", 1),
    ("a person's note naming a rule is not cadence's", SAME, "email", "n",
     "sent again; no_reply rule 1", 2),
    ("a number an edit shifted onto a rule of another template: read as if unnamed",
     [("letter", "h", ["call"])] + SAME[:2], "email", "n",
     "no reply since 2026-11-04 (email); no_reply rule 1", 2),
    ("the same onto a rule of another channel",
     [("call", "n", ["email"])] + SAME[:2], "email", "n",
     "no reply since 2026-11-04 (email); no_reply rule 1", 2),
    ("a template since renamed: by the rule's channel",
     [("call", "a", ["email"]), ("letter", "b", ["call"])], "letter", "old", "", 1),
    ("no rule of that template or channel: past the last rule",
     [("call", "a", ["email"]), ("letter", "b", ["call"])], "sms", "old", "", 2),
]


@pytest.mark.parametrize("case, rules, channel, template, note, made", RULES_OF,
                         ids=[r[0] for r in RULES_OF])
def test_which_rule_made_a_journal_touch(case, rules, channel, template, note, made):
    from cadence.model import Entry
    from cadence.ladder import rule_of

    row = Entry(d("2026-11-07"), "c1", "touch", "p", "no_reply", channel, template, note)
    assert rule_of(row, tuple(_rule(*r) for r in rules)) == made


def test_no_reply_in_limits_phases():
    # an email of the learn phase does not trigger the decide-only call
    got = outcome(dict(started="2026-09-01", last_step="learn-2", last_touch="2026-10-10",
                       last_channel="email", touches="7"), "2026-10-15")
    assert got.touch is None
    assert got.changes["next_due"] == "2026-10-17"


@pytest.mark.parametrize("rule,status,paused_until,playbook_after,started_after", [
    ("stop", "replied", "", "p", "2026-11-01"),
    ("continue", "active", "", "p", "2026-11-01"),
    ("pause 14 days", "paused", "2026-11-17", "p", "2026-11-01"),
    ("move q", "active", "", "q", "2026-11-03"),
])
def test_reply_actions(rule, status, paused_until, playbook_after, started_after):
    from cadence.model import OnReply
    from cadence.durations import parse_duration

    action, _, arg = rule.partition(" ")
    on_reply = OnReply(action, parse_duration(arg) if action == "pause" else None,
                       arg if action == "move" else "")
    books = {"p": replace(SPEC, on_reply=on_reply), "q": replace(SPEC, name="q")}
    got = outcome(dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                       last_channel="email", touches="1", last_reply="2026-11-03"),
                  "2026-11-04", playbooks=books)
    reply = [e for e in got.entries if e.event == "reply"]
    assert len(reply) == 1 and reply[0].date == d("2026-11-03")
    assert got.changes.get("status", "active") == status
    assert got.changes.get("paused_until", "") == paused_until
    assert got.changes.get("playbook", "p") == playbook_after
    assert got.changes.get("started", "2026-11-01") == started_after


def test_reply_acted_on_once():
    got = outcome(dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                       last_channel="email", touches="1", last_reply="2026-11-03",
                       status="active", paused_until="2026-11-17"),
                  "2026-11-20", "2026-11-03,c1,reply,p,,,,reply: pause until 2026-11-17")
    assert not [e for e in got.entries if e.event == "reply"]
    assert got.touch is not None


def test_missed_birthday_is_skipped():
    # paused over the birthday (1 November): the first run after its week journals the skip
    got = outcome(dict(started="2026-01-01", last_step="remind-1", last_touch="2026-10-30",
                       last_channel="email", touches="9", birthday="11-01"), "2026-11-12")
    skips = [e for e in got.entries if e.event == "skip"]
    assert [(e.date.isoformat(), e.step, e.note) for e in skips] == [
        ("2026-11-08", "birthday", "birthday 2026-11-01 not greeted within 7 days")]
    # once journaled, never again
    again = outcome(dict(started="2026-01-01", last_step="remind-1", last_touch="2026-10-30",
                         last_channel="email", touches="9", birthday="11-01"), "2026-11-13",
                    "2026-11-08,c1,skip,p,birthday,,birthday,birthday 2026-11-01 not greeted")
    assert not [e for e in again.entries if e.event == "skip"]


def test_greeted_birthday_is_not_skipped():
    got = outcome(dict(started="2026-01-01", last_step="remind-1", last_touch="2026-11-02",
                       last_channel="email", touches="9", birthday="11-02"), "2026-11-12",
                  "2026-11-02,c1,touch,p,birthday,email,birthday,")
    assert not [e for e in got.entries if e.event == "skip"]


def test_stale_last_step_is_read_from_dates():
    c = contact(started="2026-11-01", last_step="gone", last_touch="2026-11-04",
                last_channel="call", touches="2")
    assert steps.is_stranded(c, SPEC)
    assert steps.cursor_of(SPEC, "gone", c.started, c.last_touch) == (0, 2)


# --- plan and idempotence --------------------------------------------------------------------

def test_plan_lists_n_days_from_today():
    """`plan --days N` covers N days: today and the N - 1 after it (a differential finding:
    it listed N + 1)."""
    c = contact(started="2026-11-01")
    assert [t.due for t in engine.plan(c, None, PLAYBOOKS, d("2026-11-02"), 1)] == [d("2026-11-02")]
    assert [t.due for t in engine.plan(c, None, PLAYBOOKS, d("2026-11-01"), 1)] == []
    assert engine.plan(c, None, PLAYBOOKS, d("2026-11-01"), 3)[-1].due == d("2026-11-02")
    assert engine.plan(c, None, PLAYBOOKS, d("2026-11-01"), 4)[-1].due == d("2026-11-04")


def test_plan_first_thirty_days():
    c = contact(started="2026-11-01")
    got = [(t.due.isoformat(), t.step, t.channel) for t in
           engine.plan(c, None, PLAYBOOKS, d("2026-11-01"), 31)]
    assert got == [
        ("2026-11-02", "decide-1", "email"),
        ("2026-11-04", "decide-2", "call"),
        ("2026-11-11", "no_reply", "letter"),
        ("2026-11-22", "offer", "letter"),
        ("2026-12-01", "learn-1", "email"),
    ]


SKIPPED_BEFORE_PERIODIC = playbook("""\
channels: [email, letter]
phases:
  - name: decide
    until: 8 days
    steps:
      - {at: 1 day, channel: email, template: t}
      - {at: 5 days, channel: letter, template: t, fallback: skip}
  - name: keep
    every: 1 week
    channel: email
    template: t
""")


def _planned_and_made(c, pbs, start: str, days: int) -> tuple:
    """(what `plan` foretells, what a run every day makes and journals) from `start`: each
    touch as (date, step, phase); the journal rows a run every day appends."""
    first = d(start)
    planned = [(t.made.isoformat(), t.step, t.phase) for t in engine.plan(c, None, pbs, first, days)]
    row, rows, made = dict(c.row), (), []
    for n in range(days):
        today = first + timedelta(days=n)
        got = engine.advance(contact(**row), trail_of(rows), pbs, today)
        row.update(got.changes)
        rows += got.entries
        if got.touch is not None:
            made.append((today.isoformat(), got.touch.step, got.touch.phase))
    return planned, made, rows


def test_a_periodic_phase_counts_its_first_touch_from_the_previous_touch_not_a_skip():
    """SPEC 5.4: a periodic phase falls on the previous touch + `every` (here the phase's
    start, 11-09, is later still); the letter skipped on 11-06 for want of an address is no
    touch. `plan` and a run every day agree."""
    planned, made, rows = _planned_and_made(contact(started="2026-11-01", address=""),
                                            {"p": SKIPPED_BEFORE_PERIODIC}, "2026-11-01", 20)
    assert planned == made == [("2026-11-02", "decide-1", "decide"),
                               ("2026-11-09", "keep-1", "keep"), ("2026-11-16", "keep-2", "keep")]
    assert [(e.date.isoformat(), e.event, e.step) for e in rows if e.event == "skip"] == [
        ("2026-11-06", "skip", "decide-2")]


RUNG_SKIPPED = """\
channels: [email, call, letter]
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: call, template: t}
      - {at: 10 days, channel: email, template: t}
rules:
  - {no_reply: WAIT days, after: [call], then: letter, template: t, fallback: skip}
  - {no_reply: 3 days, after: [email], then: call, template: t}
"""  # the letter has no address: its rung is skipped, WAIT days after the call
RUNG_SKIPPED_ON_A_STEPS_DAY = playbook(RUNG_SKIPPED.replace("WAIT", "9"))
RUNG_SKIPPED_BETWEEN_TOUCHES = playbook(RUNG_SKIPPED.replace("WAIT", "3"))


def test_a_rung_skipped_on_the_day_of_a_touch_does_not_end_that_touchs_ladder():
    """SPEC 5: a rung with no usable channel is skipped and ends the ladder for the touch
    it answered (the call of 11-02), not for the email made the day it is skipped."""
    planned, made, rows = _planned_and_made(contact(started="2026-11-01", address=""),
                                            {"p": RUNG_SKIPPED_ON_A_STEPS_DAY}, "2026-11-01", 30)
    assert planned == made == [("2026-11-02", "decide-1", "decide"),
                               ("2026-11-11", "decide-2", "decide"),
                               ("2026-11-14", "no_reply", "decide")]
    assert [(e.date.isoformat(), e.step) for e in rows if e.event == "skip"] == [
        ("2026-11-11", "no_reply")]


THREE_STEPS = playbook("""\
channels: [email, call]
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: t}
      - {at: 12 days, channel: email, template: t}
      - {at: 15 days, channel: email, template: t}
""")


LATE_CALL_BACK = playbook("""\
channels: [email, call]
phases:
  - name: decide
    until: 10 days
    steps:
      - {at: 1 day, channel: email, template: t}
  - name: learn
    every: 1 month
    channel: email
    template: t
rules:
  - {no_reply: 2 days, after: [call], in: [decide], then: email, template: t}
""")


WEEKLY_CAP = playbook("""\
channels: [email]
limits: {per_week: 2}
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: t}
      - {at: 3 days, channel: email, template: t}
""")


HELD_BACK = playbook("""\
channels: [email, call]
phases:
  - name: decide
    until: 16 days
    steps:
      - {after: 4 days, channel: call, template: t, fallback: skip}
      - {after: 0 days, channel: email, template: t}
""")


@pytest.mark.parametrize("case, pb, cells, start, days", [
    ("a step after one skipped for want of a channel waits for that step's day (README, "
     "Order of steps), and plan lists it on the day it is made, not on its own",
     HELD_BACK, dict(phone=""), "2026-11-01", 10),
    ("the same, for a contact the first run enrols",
     HELD_BACK, dict(phone="", started=""), "2026-11-01", 10),
    ("a last touch typed in the ledger counts for the cap only while the ledger holds it",
     WEEKLY_CAP, dict(touches="1", last_touch="2026-10-31", last_channel="email"),
     "2026-11-01", 20),
    ("a day with only a skip: plan wakes for it, as a run every day does",
     RUNG_SKIPPED_BETWEEN_TOUCHES, dict(address=""), "2026-11-01", 30),
    ("a pause that ends before an agreed call-back",
     THREE_STEPS, dict(status="paused", paused_until="2026-11-10", callback="2026-11-20"),
     "2026-11-01", 30),
    ("a call-back made late is in the phase of the day it is made",
     LATE_CALL_BACK, dict(last_step="decide-1", last_touch="2026-11-02", last_channel="email",
                          touches="1", callback="2026-11-10"), "2026-11-13", 20),
])
def test_plan_foretells_a_run_every_day(case, pb, cells, start, days):
    planned, made, _ = _planned_and_made(contact(**{"started": "2026-11-01", **cells}),
                                         {"p": pb}, start, days)
    assert planned == made and made, case


def test_a_step_held_back_by_a_skip_is_planned_on_the_skips_day():
    """The step after a skipped one (no phone for the call) is made on the skip's day, 4 days
    late; plan's touch says so: its `made` is that day, not its own due day."""
    c = contact(started="2026-11-01", phone="")
    touch, = engine.plan(c, None, {"p": HELD_BACK}, d("2026-11-01"), 10)
    assert (touch.step, touch.due, touch.overdue, touch.made) == (
        "decide-2", d("2026-11-01"), 4, d("2026-11-05"))


def test_a_rule_touch_made_late_takes_the_phase_of_its_day():
    """SPEC 5: a touch made by a rule has the contact's current phase; the call agreed for
    11-10 (decide) made on 11-13 is in learn, so the decide-only rule does not answer it."""
    _, made, _ = _planned_and_made(
        contact(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                last_channel="email", touches="1", callback="2026-11-10"),
        {"p": LATE_CALL_BACK}, "2026-11-13", 20)
    assert made[0] == ("2026-11-13", "callback", "learn")
    assert [m for m in made if m[1] == "no_reply"] == []


def test_run_twice_changes_nothing():
    c = contact(started="2026-11-01")
    first = engine.advance(c, None, PLAYBOOKS, d("2026-11-02"))
    row = dict(c.row, **first.changes)
    again = engine.advance(contact(**row), trail_of(first.entries), PLAYBOOKS, d("2026-11-02"))
    assert again.touch is None and again.changes == {} and again.entries == ()


def test_calendar_months_agree_with_dateutil():
    from datetime import timedelta

    from dateutil.relativedelta import relativedelta

    from cadence.model import add_months

    day = d("1999-12-01")
    while day < d("2005-03-01"):
        for months in (1, 2, 11, 12, 13, 25, -1):
            assert add_months(day, months) == day + relativedelta(months=months), (day, months)
        day += timedelta(days=1)


def test_plan_of_a_paused_contact_starts_when_the_pause_ends():
    c = contact(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                last_channel="email", touches="1", status="paused", paused_until="2026-11-20")
    got = engine.plan(c, None, PLAYBOOKS, d("2026-11-05"), 30)
    assert got and got[0].due == d("2026-11-20")
    assert engine.plan(c, None, PLAYBOOKS, d("2026-11-05"), 10) == []


def test_a_late_december_birthday_is_greeted_in_january():
    # 31 December 2026 is a Thursday; the greeting may come until 7 January
    pb = replace(BUSINESS, calendar=replace(BUSINESS.calendar, holidays=frozenset(
        {d("2026-12-31"), d("2027-01-01")})))
    got = outcome(dict(started="2026-01-01", last_step="remind-3", last_touch="2026-12-28",
                       last_channel="email", touches="9", birthday="1990-12-31"),
                  "2027-01-04", "2026-01-02,c1,touch,p,birthday,email,birthday,",  # last year's
                  playbooks={"p": pb})
    assert show(got.touch) == "birthday email birthday 2027-01-04 birthday"
    assert not [e for e in got.entries if e.event == "skip"]


def test_a_never_touched_contact_skips_a_missed_birthday_too():
    """SPEC section 5: "A birthday greeting not made within 7 days of the birthday is skipped
    for that year (journal: `skip`)" - touched or not. The skip is dated when the window
    closed, and nothing is sent late."""
    got = outcome(dict(started="2026-11-01", birthday="11-10", status="paused",
                       paused_until="2026-11-30"), "2026-11-30")
    skips = [(e.date.isoformat(), e.step) for e in got.entries if e.event == "skip"]
    assert skips == [("2026-11-17", "birthday")]
    assert got.touch is None or got.touch.reason != "birthday"


def test_after_a_move_steps_count_from_the_new_start():
    """`move` restarts the count: an `after` step is not due before the new day 0."""
    q = playbook("""
        phases:
          - name: onboard
            steps:
              - {after: 3 days, channel: email, template: a}
              - {after: 3 days, channel: email, template: b}
    """, name="q")
    from cadence.model import OnReply

    books = {"p": replace(SPEC, on_reply=OnReply("move", playbook="q")), "q": q}
    got = outcome(dict(started="2026-11-01", last_step="decide-1", last_touch="2026-11-02",
                       last_channel="email", touches="1", last_reply="2026-11-10"),
                  "2026-11-10", playbooks=books)
    assert got.touch is None
    assert got.changes["next_due"] == "2026-11-13"


def test_durations_are_bounded():
    from cadence.durations import parse_duration

    assert parse_duration("100 years").months == 1200
    assert parse_duration("1200m").months == 1200
    assert parse_duration("36525 days").days == 36525
    assert parse_duration("5217 weeks").days == 5217 * 7
    for text in ("101 years", "99999999 days", "1300 months", "1201m", "36526d", "5218 weeks"):
        with pytest.raises(ValueError, match="more than 100 years"):
            parse_duration(text)


def test_a_pause_ends_on_the_last_day_cadence_reads_at_the_latest():
    """README "Dates": a pause that would end after 2999 ends on 2999-12-31, in the journal's
    note as in the ledger."""
    from datetime import date

    from cadence.durations import parse_duration
    from cadence.model import OnReply, pause_end

    assert pause_end(parse_duration("100 years"), date(2999, 12, 1)) == date(2999, 12, 31)
    assert pause_end(parse_duration("2 weeks"), date(2026, 12, 1)) == date(2026, 12, 15)
    books = {"p": replace(SPEC, on_reply=OnReply("pause", duration=parse_duration("3 months")))}
    got = outcome(dict(started="2999-10-01", last_step="decide-1", last_touch="2999-10-02",
                       last_channel="email", touches="1", last_reply="2999-11-10"),
                  "2999-11-10", playbooks=books)
    assert got.changes["paused_until"] == "2999-12-31"
    assert [e.note for e in got.entries if e.event == "reply"] == ["reply: pause until 2999-12-31"]


def test_due_lists_exactly_the_touches_run_makes():
    """`due` skips contacts that cannot be due without reading them; `run` reads them all."""
    import os
    from datetime import timedelta

    from cadence.book import load
    from cadence.book import load_config

    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                        "consultant")
    book = load(load_config(root)).book
    for offset in range(0, 60, 4):
        today = d("2026-11-01") + timedelta(days=offset)
        made = sorted((o.touch for o in engine.run(book, today) if o.touch is not None),
                      key=lambda t: (t.due, t.contact))
        assert engine.due(book, today) == made, today


TWO_TIMED_PHASES = """\
channels: [email]
phases:
  - name: decide
    until: 10 days
    steps:
      - {at: 1 day, channel: email, template: t}
  - name: learn
    until: 40 days
    steps:
      - {after: 1 day, channel: email, template: t}
      - {after: 1 day, channel: email, template: t}
rules:
  - {no_reply: 3 days, after: [email], in: [IN], then: email, template: t}
"""


def test_no_touch_of_a_phase_comes_before_the_previous_phase_ends():
    """README "Semantics", Phase boundaries: a `last_step` typed into learn on 11-03, while
    decide lasts until 11-11, does not start learn early: learn-2 comes on 11-11, not 11-04."""
    pb = playbook(TWO_TIMED_PHASES.replace("IN", "learn"))
    c = contact(started="2026-11-01", last_step="learn-1", last_touch="2026-11-03",
                last_channel="email", touches="2")
    steps = [(t.made.isoformat(), t.step) for t in engine.plan(c, None, {"p": pb},
                                                                d("2026-11-04"), 10)
             if t.reason == "step"]
    assert steps == [("2026-11-11", "learn-2")]


@pytest.mark.parametrize("rule_in, answered", [("decide", False), ("learn", True)])
def test_a_touch_only_the_ledger_knows_is_in_the_phase_of_its_date(rule_in, answered):
    """README "Semantics": the email typed as last_touch 11-20 (after decide ended on 11-11)
    is in learn, whatever last_step says; a rule `in: [decide]` does not answer it."""
    pb = playbook(TWO_TIMED_PHASES.replace("IN", rule_in))
    c = contact(started="2026-11-01", last_step="decide-1", last_touch="2026-11-20",
                last_channel="email", touches="1")
    got = engine.plan(c, None, {"p": pb}, d("2026-11-21"), 10)
    assert ("no_reply" in [t.reason for t in got]) is answered


PAST_ITS_END = playbook("""\
channels: [email]
phases:
  - name: decide
    until: 10 days
    steps:
      - {at: 3 days, channel: email, template: t}
      - {after: 8 days, channel: email, template: t}
  - name: keep
    every: 3 days
    channel: email
    template: t
""")


def test_a_step_dated_past_its_phase_is_skipped_when_the_next_phase_begins_first():
    """SPEC 5.4 and README "Late contacts": decide-2 falls on 11-12, past decide's end on
    11-11, the day keep may begin; keep-1 is made that day, and decide-2 is journaled as
    skipped the same day, before it: no step is left behind, none made out of order."""
    planned, made, rows = _planned_and_made(contact(started="2026-11-01"),
                                            {"p": PAST_ITS_END}, "2026-11-01", 15)
    assert planned == made == [("2026-11-04", "decide-1", "decide"),
                               ("2026-11-11", "keep-1", "keep"), ("2026-11-14", "keep-2", "keep")]
    assert [(e.date.isoformat(), e.event, e.step, e.note) for e in rows
            if e.event in ("skip", "touch")][1:3] == [
        ("2026-11-11", "skip", "decide-2", "its day falls after phase decide ends on 2026-11-11"),
        ("2026-11-11", "touch", "keep-1", "")]


def test_a_step_dated_past_its_phase_is_not_skipped_before_a_later_step_is_made():
    """Until a step after it is made, the one dated past its phase's end waits: due on 11-10
    shows nothing and journals nothing for it."""
    got = engine.advance(contact(started="2026-11-01", last_step="decide-1",
                                 last_touch="2026-11-04", last_channel="email", touches="1"),
                         None, {"p": PAST_ITS_END}, d("2026-11-10"))
    assert got.touch is None and [e.event for e in got.entries] == ["status"]  # the start
    assert got.changes.get("next_due") == "2026-11-11"


@pytest.mark.parametrize("cell, count", [("3", 3), ("3.0", 3), ("3,0", 3), ("12.00", 12)])
def test_touches_saved_as_a_decimal_number_are_read_whole(cell, count):
    """A `touches` column a spreadsheet or pandas saved as a number reads as its count."""
    assert contact(touches=cell).touches == count


@pytest.mark.parametrize("cell, said", [
    ("3.5", "'3.5'"), ("3.", "'3.'"), ("-1", "'-1'"), ("3 0", "'3 0'"), ("x", "'x'"),
    ("18." + "9" * 5000, "'18." + "9" * 57 + "'... (5003 characters)"),  # a cell of pages, cut
])
def test_touches_that_are_no_whole_number_are_an_error(cell, said):
    from cadence.contacts import parse_contacts
    from helpers import RowsLedger

    _, problems = parse_contacts(RowsLedger([{"id": "c1", "touches": cell}]))
    assert [p.message for p in problems] == [f"expected a whole number of touches, got {said}"]


@pytest.mark.parametrize("column, cell, message, hint", [
    ("started", "06.12.2026", "ambiguous date '06.12.2026'", '`ledger: {dates: "%d.%m.%Y"}`'),
    ("started", "12/06/2026", "ambiguous date '12/06/2026'", '`ledger: {dates: "%m/%d/%Y"}`'),
    ("started", "06.12.26", "ambiguous date '06.12.26'", "a two-digit year cannot be read"),
    ("started", "14.03.2026", "'14.03.2026' is a date written day first, not as YYYY-MM-DD",
     '`ledger: {dates: "%d.%m.%Y"}`'),
    ("started", "3/14/2026", "'3/14/2026' is a date written month first, not as YYYY-MM-DD",
     '`ledger: {dates: "%m/%d/%Y"}`'),
    # no reading names a day: impossible, whichever way it was meant
    ("started", "13/13/2026", "impossible date '13/13/2026'", ""),
    ("started", "32/01/2026", "impossible date '32/01/2026'", ""),
    ("started", "31.02.2026", "impossible date '31.02.2026'", ""),
    ("started", "2026/13/01", "impossible date '2026/13/01'", ""),
    ("birthday", "14-Mar", "expected a birthday as YYYY-MM-DD or MM-DD, got '14-Mar'", ""),
    ("started", "14-Mar", "expected a date as YYYY-MM-DD, got '14-Mar'", ""),
])
def test_a_date_cell_cadence_cannot_read_says_what_it_takes(column, cell, message, hint):
    from cadence.contacts import parse_contacts
    from helpers import RowsLedger

    _, problems = parse_contacts(RowsLedger([{"id": "c1", column: cell}]))
    assert [p.message for p in problems] == [message] and hint in problems[0].hint


AHEAD = """
channels: [email, letter]
calendar: {business_days: true}
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: hello}
rules:
  - {no_reply: 2 days, after: [email], then: letter, template: hello}
  - {birthday: email, template: hello}
"""


@pytest.mark.parametrize("status, planned", [
    # README "A start set for a day to come": the rules date themselves, the steps wait
    ("", [("2026-12-16", "birthday"), ("2026-12-18", "no_reply"), ("2026-12-21", "decide-1"),
          ("2026-12-23", "no_reply")]),
    # paused until the start (a Sunday): nothing comes before it; the greeting, still within
    # its week, comes first on the Monday, and the step the day after
    ("paused", [("2026-12-21", "birthday"), ("2026-12-22", "decide-1")]),
])
def test_a_start_ahead_holds_back_the_steps_and_a_pause_holds_back_all(tmp_path, status,
                                                                        planned):
    from smallbook import build, invoke

    until = "2026-12-20" if status else ""
    root = build(tmp_path, {
        "playbooks/p.yaml": AHEAD, "templates/hello.j2": "Subject: Hello\n\nHello.\n",
        "contacts.csv": "id,name,email,address,playbook,started,birthday,status,paused_until\n"
                        f"a,Ann,a@example.com,Gatan 1,p,2026-12-20,12-16,{status},{until}\n",
        "history.csv": None})
    plan = invoke("-C", root, "plan", "a", "--today", "2026-12-07", "--days", "17", "--json")
    assert plan.exit_code == 0, plan.output
    assert [(t["date"], t["step"]) for t in json.loads(plan.stdout)["touches"]] == planned


def test_a_late_touch_is_due_on_a_saturday_with_business_days(tmp_path):
    """README "Working days and late touches": business_days moves the due date, not the day
    cadence is asked about."""
    from smallbook import build, invoke

    root = build(tmp_path, {
        "playbooks/p.yaml": AHEAD, "templates/hello.j2": "Subject: Hello\n\nHello.\n",
        "contacts.csv": "id,name,email,playbook,started\na,Ann,a@example.com,p,2026-11-30\n",
        "history.csv": None})
    due = invoke("-C", root, "due", "--today", "2026-12-05", "--json")  # a Saturday
    assert [(t["step"], t["due"], t["overdue"]) for t in json.loads(due.stdout)["due"]] == [
        ("decide-1", "2026-12-01", 4)]

"""A reply with the decision taken in it (`reply --callback/--pause/--move/--won/--lost`),
`pause`, `mark` with every status, and `plan` saying why nothing is planned.

On the small book (tests/smallbook.py) after its first run: c1 and c2 got decide-1 on TODAY;
the reply rule is the default, `stop`. Each case asserts the journal rows and ledger cells.
"""
from __future__ import annotations

import json

import pytest

from smallbook import NEXT, TODAY, build, invoke, snapshot
from test_day_commands import cells, ledger, ok, rows

CUSTOMER = """\
channels: [email, call]
phases:
  - name: onboard
    steps:
      - {after: 3 days, channel: email, template: hello}
"""


CALLBACK = "Call {{ contact.name }} as agreed.\n"


@pytest.fixture
def book(tmp_path):
    root = build(tmp_path / "book", {"playbooks/customer.yaml": CUSTOMER,
                                     "templates/callback.j2": CALLBACK})
    ok("-C", root, "run", "--today", TODAY)
    return root


ON = "2026-11-03"
DECISIONS = [
    # (case, options, rows appended, cells after)
    ("the rule alone (stop)", [],
     [f"{ON},c1,reply,p,,,,reply: stop"],
     {"status": "replied", "last_reply": ON, "next_due": ""}),
    ("won", ["--won"],
     [f"{ON},c1,reply,p,,,,reply: stop", f"{ON},c1,status,p,,,,won"],
     {"status": "won", "last_reply": ON, "next_due": ""}),
    ("lost, with a note", ["--lost", "--note", "went elsewhere"],
     [f"{ON},c1,reply,p,,,,reply: stop; went elsewhere", f"{ON},c1,status,p,,,,lost"],
     {"status": "lost", "next_due": ""}),
    ("a pause of 30 days from the reply", ["--pause", "30d"],
     [f"{ON},c1,reply,p,,,,reply: stop", f"{ON},c1,status,p,,,,paused until 2026-12-03"],
     {"status": "paused", "paused_until": "2026-12-03", "next_due": ""}),
    ("a move: started on the reply's date; the rule's row says the move", ["--move", "customer"],
     [f"{ON},c1,reply,p,,,,reply: stop then move to customer",
      f"{ON},c1,status,customer,,,,started"],
     {"playbook": "customer", "started": ON, "status": "", "last_step": "",
      "next_due": "2026-11-06"}),
    ("a call-back: the column is added, the call is the next touch",
     ["--callback", "2026-11-20T10:00"],
     [f"{ON},c1,reply,p,,,,reply: stop", f"{ON},c1,note,p,,,,callback 2026-11-20T10:00"],
     {"status": "replied", "callback": "2026-11-20T10:00", "next_due": "2026-11-20"}),
    ("won with a call-back", ["--won", "--callback", "2026-11-20"],
     [f"{ON},c1,reply,p,,,,reply: stop", f"{ON},c1,status,p,,,,won",
      f"{ON},c1,note,p,,,,callback 2026-11-20"],
     {"status": "won", "callback": "2026-11-20", "next_due": "2026-11-20"}),
]


@pytest.mark.parametrize("case, options, expected, after", DECISIONS, ids=[d[0] for d in DECISIONS])
def test_reply_with_a_decision(book, case, options, expected, after):
    before = rows(book)
    ok("-C", book, "reply", "c1", "--today", ON, *options)
    assert rows(book)[len(before):] == expected
    row = ledger(book)["c1"]
    assert {k: row.get(k, "") for k in after} == after
    # the next run does not act on the reply again, and journals nothing for the decision
    ok("-C", book, "run", "--today", NEXT)
    assert not [r for r in rows(book)[len(before) + len(expected):] if r.startswith(f"{ON},c1")
                or ",c1,reply," in r or "(set in the ledger)" in r]


def test_a_call_back_agreed_in_a_reply_is_drafted_on_its_day(book):
    ok("-C", book, "reply", "c1", "--today", ON, "--won", "--callback", "2026-11-20T10:00")
    ok("-C", book, "run", "--today", "2026-11-20")
    sheet = open(f"{book}/drafts/2026-11-20/c1--callback.md", encoding="utf-8").read()
    assert "- When: 2026-11-20 at 10:00" in sheet


def test_a_decision_on_a_reply_the_rule_does_not_act_on_still_marks_it_acted_on(book):
    """A won contact replies again: the rule is not applied (not active), the decision is,
    and the reply row marks the reply done for the runs to come."""
    ok("-C", book, "mark", "c2", "won", "--today", ON)
    before = rows(book)
    ok("-C", book, "reply", "c2", "--today", "2026-11-05", "--pause", "2 weeks")
    assert rows(book)[len(before):] == [
        "2026-11-05,c2,reply,p,,,,reply: pause until 2026-11-19",
        "2026-11-05,c2,status,p,,,,paused until 2026-11-19"]
    ok("-C", book, "run", "--today", "2026-11-19")
    assert ",c2,reply," not in "\n".join(rows(book)[len(before) + 2:])
    assert cells(book, "c2", ("status",)) == {"status": "active"}


@pytest.mark.parametrize("options", [["--won", "--lost"], ["--pause", "30d", "--won"],
                                     ["--move", "customer", "--lost"], ["--pause", "1w", "--move", "p"]])
def test_contradicting_decisions_are_a_usage_error(book, options):
    before = snapshot(book)
    result = invoke("-C", book, "reply", "c1", "--today", ON, *options)
    assert result.exit_code == 2 and "contradict each other" in result.stderr
    assert snapshot(book) == before


def test_a_move_to_a_playbook_no_file_has(book):
    result = invoke("-C", book, "reply", "c1", "--today", ON, "--move", "custmer")
    assert result.exit_code == 65 and "did you mean 'customer'?" in result.stderr


# --- pause and mark -------------------------------------------------------------------------

def test_pause(book):
    before = rows(book)
    result = ok("-C", book, "pause", "c1", "--until", "2026-12-01", "--note", "on leave", "--today", ON)
    assert result.stdout == "c1: paused until 2026-12-01.\n"
    assert rows(book)[len(before):] == [f"{ON},c1,status,p,,,,paused until 2026-12-01; on leave"]
    assert cells(book, "c1", ("status", "paused_until", "next_due")) == {
        "status": "paused", "paused_until": "2026-12-01", "next_due": ""}
    ok("-C", book, "run", "--today", "2026-12-01")
    assert cells(book, "c1", ("status",)) == {"status": "active"}


MARKS = [
    # (status, extra options, cells after)
    ("active", [], {"status": "", "next_due": NEXT}),  # active is the empty cell already
    ("paused", ["--until", "2026-11-30"], {"status": "paused", "paused_until": "2026-11-30",
                                           "next_due": ""}),
    ("replied", [], {"status": "replied", "next_due": ""}),
    ("won", [], {"status": "won", "next_due": ""}),
    ("lost", [], {"status": "lost", "next_due": ""}),
    ("unsubscribed", [], {"status": "unsubscribed", "next_due": ""}),
    ("stopped", [], {"status": "stopped", "next_due": ""}),
]


@pytest.mark.parametrize("status, options, after", MARKS, ids=[m[0] for m in MARKS])
def test_mark_takes_every_status_of_the_ledger(book, status, options, after):
    before = rows(book)
    ok("-C", book, "mark", "c1", status.upper(), "--today", ON, *options)
    note = status + (f" until {options[1]}" if options else "")
    assert rows(book)[len(before):] == [f"{ON},c1,status,p,,,,{note}"]
    row = ledger(book)["c1"]
    assert {k: row.get(k, "") for k in after} == after
    ok("-C", book, "run", "--today", ON)  # the journal says what the ledger says: no decision
    assert not any("(set in the ledger)" in r for r in rows(book)[len(before):])


# --- plan: why nothing is planned ------------------------------------------------------------

WHY = [
    # (case, commands before, plan options, why)
    ("replied, with the reply's date", [["reply", "c1", "--today", ON]], [],
     f"replied on {ON}"),
    ("won, with the day it was marked", [["mark", "c1", "won", "--today", ON]], [],
     f"won on {ON}"),
    ("a status typed in the ledger, not yet journaled: no date", None, [], "status stopped"),
    ("a status typed in the ledger, journaled by the run", [], [], f"stopped on {TODAY}"),
    ("opted out of everything", [["optout", "c1", "all", "--today", ON]], [],
     "opted out of everything"),
    ("paused beyond the days shown", [["pause", "c1", "--until", "2027-03-01", "--today", ON]],
     ["--days", "30"], "paused until 2027-03-01; the next touch is on 2027-03-01 (keep-1)"),
    ("the next touch after the days shown", [], ["--days", "1"],
     f"the next touch is on {NEXT} (decide-2)"),
    ("a won contact's call-back after the days shown",
     [["reply", "c1", "--won", "--callback", "2027-02-01", "--today", ON]], [],
     f"won on {ON}; the next touch is on 2027-02-01 (callback)"),
]


@pytest.mark.parametrize("case, commands, options, why", WHY, ids=[w[0] for w in WHY])
def test_plan_says_why_nothing_is_planned(tmp_path, case, commands, options, why):
    files = {"playbooks/customer.yaml": CUSTOMER, "templates/callback.j2": CALLBACK}
    if case.startswith("a status typed"):
        files["contacts.csv"] = ("id,name,email,phone,playbook,started,status\n"
                                 "c1,Ann Lind,ann@example.com,+46701234567,p,2026-11-01,stopped\n")
    root = build(tmp_path / "book", files)
    if commands is not None:
        ok("-C", root, "run", "--today", TODAY)
    for args in commands or ():
        ok("-C", root, *args)
    shown = ok("-C", root, "plan", "c1", "--today", ON, *options)
    assert shown.stdout.rstrip("\n").endswith(f": {why}.")
    document = json.loads(ok("-C", root, "plan", "c1", "--today", ON, "--json", *options).stdout)
    assert document == {"contact": "c1", "touches": [], "skips": [], "why": why}


def test_plan_of_a_contact_not_enrolled(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email,playbook\nc1,Ann,a@example.com,\n"})
    assert ok("-C", root, "plan", "c1", "--today", ON).stdout == (
        f"Nothing planned for c1 in the 90 days from {ON}: not enrolled (no playbook).\n")


@pytest.mark.parametrize("today", [ON, "1950-11-01"])
def test_plan_of_a_contact_started_years_ahead_names_its_first_touch(tmp_path, today):
    """A `started` typed years ahead (or a --today years before it) is beyond any plan's
    reach from today: the first touch comes the day after the start, not "nothing left"."""
    ledger = "id,name,email,phone,playbook,started\nc1,Ann Lind,ann@example.com,,p,2029-06-04\n"
    root = build(tmp_path / "book", {"contacts.csv": ledger})
    shown = ok("-C", root, "plan", "c1", "--today", today, "--days", "5")
    assert shown.stdout.rstrip("\n").endswith(": the next touch is on 2029-06-05 (decide-1).")


def test_plan_of_a_pause_without_an_end(tmp_path):
    """`paused` typed with an empty `paused_until` holds every touch until `mark ID active`:
    `plan` says that, not that the playbook is done."""
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email,playbook,started,status\n"
                                     "c1,Ann,a@example.com,p,2026-11-01,paused\n"})
    assert ok("-C", root, "plan", "c1", "--today", ON).stdout == (
        f"Nothing planned for c1 in the 90 days from {ON}: paused with no end date (an empty "
        "paused_until).\n")


@pytest.mark.parametrize("rule, said", [
    ("stop", " (reply: stop)"),
    ("move q", " (reply: move q)"),  # q calls, and Ann has no phone: nothing planned there
    ("continue", " (reply: continue), after which the playbook p has nothing left for it "
                 "(last step decide-1)"),
    ("pause 30 days", " (reply: pause 30 days), after which the playbook p has nothing left "
                      "for it (last step decide-1)"),
])
def test_plan_names_the_reply_rule_a_typed_reply_meets(tmp_path, rule, said):
    short = ("phases:\n  - name: decide\n    steps:\n"
             "      - {at: 1 day, channel: email, template: hello}\n"
             f"rules:\n  - reply: {rule}\n")
    root = build(tmp_path / "book", {
        "playbooks/p.yaml": short,
        "playbooks/q.yaml": "channels: [call]\nphases:\n  - name: decide\n    steps:\n"
                            "      - {at: 1 day, channel: call, template: call}\n",
        "contacts.csv": "id,name,email,playbook,started,last_reply,touches,last_touch,"
                        "last_channel,last_step\n"
                        "c1,Ann,a@example.com,p,2026-11-01,2026-11-02,1,2026-11-02,email,decide-1\n",
        "history.csv": None})
    shown = ok("-C", root, "plan", "c1", "--today", "2026-11-03", "--days", "10").stdout
    why = ("replied on 2026-11-02 (the ledger's last_reply); the next run acts on it by the "
           f"playbook's reply rule{said}.\n")
    if rule != "move q":
        assert shown == f"Nothing planned for c1 in the 10 days from 2026-11-03: {why}"
        return
    # q's step is passed over (no phone), and plan shows it before saying why nothing is left
    assert shown.splitlines()[0] == "c1 Ann: 0 touches (1 step skipped) in 10 days from 2026-11-03"
    assert shown.splitlines()[3].split() == [
        "2026-11-03", "decide-1", "decide", "call", "skipped:", "no", "allowed", "channel:",
        "no", "phone", "for", "call"]
    assert shown.endswith(f"\nNothing else planned: {why}")


def test_plan_of_a_typed_reply_to_a_contact_no_channel_reaches(tmp_path):
    """The reply rule goes on, but nothing reaches the contact: `plan` says that, not that
    the playbook has nothing left."""
    steps = ("channels: [email]\nphases:\n  - name: decide\n    steps:\n"
             "      - {at: 1 day, channel: email, template: hello}\n"
             "      - {at: 20 days, channel: email, template: hello}\n"
             "rules:\n  - reply: continue\n")
    root = build(tmp_path / "book", {
        "playbooks/p.yaml": steps,
        "contacts.csv": "id,name,email,playbook,started,last_reply,touches,last_touch,"
                        "last_channel,last_step\n"
                        "c1,Ann,,p,2026-11-01,2026-11-02,1,2026-11-02,email,decide-1\n",
        "history.csv": None})
    shown = ok("-C", root, "plan", "c1", "--today", "2026-11-03", "--days", "30").stdout
    assert shown.endswith("(reply: continue), after which no channel of the playbook (email) "
                          "reaches them: check the ledger's email, phone, address, channels "
                          "and optout.\n")


def test_plan_when_the_playbook_has_nothing_left(tmp_path):
    short = "phases:\n  - name: decide\n    steps:\n      - {at: 1 day, channel: email, template: hello}\n"
    root = build(tmp_path / "book", {"playbooks/p.yaml": short})
    ok("-C", root, "run", "--today", TODAY)
    shown = ok("-C", root, "plan", "c1", "--today", ON)
    assert shown.stdout == (f"Nothing planned for c1 in the 90 days from {ON}: the playbook p "
                            "has nothing left for it (last step decide-1).\n")


def test_a_callback_without_a_call_sheet_is_refused_before_it_is_written(tmp_path):
    """A reply that agrees a call in a book whose playbook has no `callback` template would
    make every later run stop at that call (exit 78): it is refused, and nothing is written."""
    root = build(tmp_path / "book")
    ok("-C", root, "run", "--today", TODAY)
    before = snapshot(root)
    result = invoke("-C", root, "reply", "c1", "--callback", "2026-11-20", "--today", TODAY)
    assert result.exit_code == 78 and "no call sheet for agreed calls" in result.stderr
    assert snapshot(root) == before
    (tmp_path / "book" / "templates" / "callback.j2").write_text(CALLBACK)
    ok("-C", root, "reply", "c1", "--callback", "2026-11-20", "--today", TODAY)
    assert ok("-C", root, "run", "--today", "2026-11-20").exit_code == 0


def test_a_reply_from_a_won_contact_is_not_taken_for_a_ledger_edit(book):
    """`reply` to a contact no reply rule acts on (won) journals it; the next run does not add
    a `last_reply ... (set in the ledger)` row for what cadence itself wrote."""
    ok("-C", book, "mark", "c1", "won", "--today", TODAY)
    ok("-C", book, "reply", "c1", "--today", NEXT)
    before = rows(book)
    ok("-C", book, "run", "--today", NEXT)
    assert not [r for r in rows(book)[len(before):] if "set in the ledger" in r]


def test_a_move_the_reply_rule_already_made_is_journaled_once(tmp_path):
    """README's `cadence reply dan --move customer` when the playbook's reply rule moves to
    customer too: one `started` row, said once."""
    rule = ("phases:\n  - name: decide\n    steps:\n"
            "      - {at: 1 day, channel: email, template: hello}\n"
            "rules:\n  - reply: move customer\n")
    root = build(tmp_path / "book", {"playbooks/p.yaml": rule, "playbooks/customer.yaml": CUSTOMER})
    ok("-C", root, "run", "--today", TODAY)
    said = ok("-C", root, "reply", "c1", "--move", "customer", "--today", NEXT).stdout
    assert said.count("customer") == 1
    started = [r for r in rows(root) if ",c1,status,customer," in r and r.endswith(",started")]
    assert len(started) == 1


MOVED = ("playbook", "started", "status", "paused_until", "next_due")


@pytest.mark.parametrize("paused_on, until", [
    (TODAY, "2026-11-30"),  # a pause still ahead ends with the move
    (ON, "2026-11-30"),  # a pause of the move's own day too
    (TODAY, ON),  # one that ran out on the day of the move
])
def test_reply_move_ends_a_pause_and_a_rebuilt_row_says_the_same(book, paused_on, until):
    """README, Semantics: a move clears `paused_until`; SPEC 9: the row rebuilt from the
    journal (its state cells emptied, as in a sheet downloaded again) says what the ledger says."""
    ok("-C", book, "pause", "c1", "--until", until, "--today", paused_on)
    ok("-C", book, "reply", "c1", "--move", "customer", "--today", ON)
    row = cells(book, "c1", MOVED)
    assert row == {"playbook": "customer", "started": ON, "status": "active",
                   "paused_until": "", "next_due": "2026-11-06"}
    assert _rebuilt(book, "2026-11-04") == row


def _rebuilt(book, day: str) -> dict:
    """c1's row as it stands, then as `run` on `day` rebuilds it from the journal once its
    state cells are emptied (a sheet downloaded again): both must say the same (SPEC 9).
    Returns the rebuilt playbook, started, status (empty read as active), paused_until and
    next_due."""
    def said(row):
        return {**row, "status": row["status"] or "active"}

    lived = said(cells(book, "c1", MOVED))
    path = f"{book}/contacts.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        header, *lines = handle.read().splitlines(keepends=True)
    names = header.rstrip("\r\n").split(",")
    kept = ("id", "name", "email", "phone", "playbook", "last_reply")
    lines = [",".join(v if names[i] in kept else "" for i, v in enumerate(
        line.rstrip("\r\n").split(","))) + "\r\n" if line.startswith("c1,") else line
        for line in lines]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(header + "".join(lines))
    ok("-C", book, "run", "--today", day)
    rebuilt = said(cells(book, "c1", MOVED))
    assert rebuilt == lived
    return rebuilt


@pytest.mark.parametrize("command, left", [
    (["mark", "c1", "won"], ""),  # a decision ends the pause: its date goes
    (["mark", "c1", "active"], ""),
    (["reply", "c1", "--lost"], ""),
    (["reply", "c1"], "2026-11-30"),  # the rule (stop) sets the status alone (SPEC 5)
])
def test_what_a_decision_leaves_of_a_pause(book, command, left):
    """README, Semantics, "A pause's date"; the row rebuilt from the journal says the same."""
    ok("-C", book, "pause", "c1", "--until", "2026-11-30", "--today", TODAY)
    ok("-C", book, *command, "--today", ON)
    assert _rebuilt(book, ON)["paused_until"] == left


def test_a_decision_on_an_earlier_reply_is_journaled_the_day_it_is_taken(book):
    """README, Semantics, "A reply's decision": `reply --on D --lost` after a `mark won` of
    day D journals `lost` today, after the `won`: the journal, read by its dates, says lost."""
    ok("-C", book, "mark", "c1", "won", "--today", ON)
    before = rows(book)
    ok("-C", book, "reply", "c1", "--on", ON, "--lost", "--today", NEXT)
    assert rows(book)[len(before):] == [f"{ON},c1,reply,p,,,,reply: lost",
                                        f"{NEXT},c1,status,p,,,,lost"]
    assert _rebuilt(book, NEXT)["status"] == "lost"


@pytest.mark.parametrize("decision", [["--pause", "30d"], ["--move", "customer"]])
def test_a_decision_does_not_revive_an_unsubscribed_contact(book, decision):
    ok("-C", book, "mark", "c1", "unsubscribed", "--today", TODAY)
    before = snapshot(book)
    result = invoke("-C", book, "reply", "c1", *decision, "--today", NEXT)
    assert result.exit_code == 2 and "is unsubscribed" in result.stderr
    assert snapshot(book) == before


def test_plan_says_when_no_channel_reaches_the_contact(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email,phone,playbook,started,optout\n"
                                     "c1,Ann,a@example.com,+4670,p,2026-11-01,email;call;letter\n"})
    said = ok("-C", root, "plan", "c1", "--today", ON).stdout
    assert said.endswith(": no channel of the playbook (email, call, letter) reaches them: check "
                         "the ledger's email, phone, address, channels and optout.\n")


def test_plan_says_a_typed_reply_is_why(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name,email,playbook,started,last_reply\n"
                                     "c1,Ann,a@example.com,p,2026-11-01,2026-11-02\n"})
    said = ok("-C", root, "plan", "c1", "--today", "2026-11-03").stdout
    assert "replied on 2026-11-02 (the ledger's last_reply); the next run acts on it" in said


def test_plan_lists_the_steps_a_phase_end_passes_over(tmp_path):
    """README `plan`: a step the runs would skip is listed on the day they journal the skip,
    with its reason, and in `--json` under `skips`; the touches stay what a run makes."""
    steps = ("phases:\n  - name: decide\n    until: 5 days\n    steps:\n"
             "      - {at: 1 day, channel: email, template: hello}\n"
             "      - {at: 5 days, channel: email, template: hello}\n"
             "  - name: keep\n    every: 1 week\n    channel: email\n    template: hello\n"
             "calendar: {business_days: true, holidays: [2026-11-06]}\n")
    root = build(tmp_path / "book", {"playbooks/p.yaml": steps, "history.csv": None,
                                     "contacts.csv": "id,name,email,playbook,started\n"
                                                     "c1,Ann,a@example.com,p,2026-11-02\n"})
    shown = ok("-C", root, "plan", "c1", "--today", "2026-11-02", "--days", "10").stdout
    lines = shown.splitlines()
    assert lines[0] == "c1 Ann: 2 touches (1 step skipped) in 10 days from 2026-11-02"
    assert [line.split()[:2] for line in lines[3:]] == [
        ["2026-11-03", "decide-1"], ["2026-11-09", "decide-2"], ["2026-11-10", "keep-1"]]
    assert "skipped: phase decide ended on 2026-11-07" in lines[4]
    document = json.loads(ok("-C", root, "plan", "c1", "--today", "2026-11-02", "--days", "10",
                             "--json").stdout)
    assert [t["step"] for t in document["touches"]] == ["decide-1", "keep-1"]
    assert document["skips"] == [{"date": "2026-11-09", "step": "decide-2", "phase": "decide",
                                  "channel": "email", "template": "hello",
                                  "note": "phase decide ended on 2026-11-07"}]


def test_plan_gives_the_next_touch_beyond_the_days_it_looks_at(tmp_path):
    """A periodic phase of `every: 5 years`: the playbook has something left, in five years,
    and `plan` says when rather than that nothing is left."""
    steps = ("phases:\n  - name: decide\n    until: 10 days\n    steps:\n"
             "      - {at: 1 day, channel: email, template: hello}\n"
             "  - name: keep\n    every: 5 years\n    channel: email\n    template: hello\n")
    root = build(tmp_path / "book", {"playbooks/p.yaml": steps})
    ok("-C", root, "run", "--today", TODAY)
    shown = ok("-C", root, "plan", "c1", "--today", NEXT, "--days", "3").stdout
    assert shown == (f"Nothing planned for c1 in the 3 days from {NEXT}: the next touch is on "
                     "2031-11-02, more than 400 days ahead.\n")

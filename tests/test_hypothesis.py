"""Properties over random ledgers, playbooks and dates (sqlite-utils keeps a test_hypothesis.py).

- determinism: the same book and day give the same bytes, whatever TZ, locale or hash seed;
- `run` twice on one day equals `run` once;
- `plan` foretells what a `run` every day makes;
- the order of the ledger's rows does not change the touches;
- no touch for a stopped, replied, won, lost, unsubscribed or fully opted-out contact;
- `min_gap`, `per_week` and "one touch a day" hold on every day of a simulated season;
- a run that changes no cell leaves the ledger file alone, CSV or YAML, in any dialect.

Example counts are modest so that the suite stays fast; a failure prints the smallest book.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from cadence import engine
from cadence.trail import trail_of
from cadence.model import Book
from helpers import contact, playbook
from randombooks import INACTIVE, NAMES, books, csv_text, examples, make_book, slow, yaml_text
from smallbook import invoke, snapshot

FEW = examples(20)
SOME = examples(60)
pytestmark = slow

# --- run: idempotent and deterministic --------------------------------------------------------

@FEW
@given(books())
def test_run_twice_equals_run_once_and_two_books_agree(book):
    pb, ledger_rows, today = book
    with tempfile.TemporaryDirectory() as folder:
        first = make_book(os.path.join(folder, "a"), pb, ledger_rows)
        second = make_book(os.path.join(folder, "b"), pb, ledger_rows)
        result = invoke("-C", first, "run", "--today", today)
        assert result.exit_code == 0, result.output
        once = snapshot(first)
        again = invoke("-C", first, "run", "--today", today)
        assert again.exit_code == 0, again.output
        assert again.stdout.startswith(f"Drafted 0 touches for {today}.")
        assert snapshot(first) == once
        assert invoke("-C", second, "run", "--today", today).exit_code == 0
        assert snapshot(second) == once


# --- row order --------------------------------------------------------------------------------

def _book(pb_text: str, ledger_rows) -> Book:
    contacts = tuple(contact(**{k: v for k, v in r.items()}) for r in ledger_rows)
    return Book(playbooks={"p": playbook(pb_text)}, contacts=contacts, condition=None)


@SOME
@given(books(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_touches(book, shuffle):
    pb, ledger_rows, today = book
    shuffled = list(ledger_rows)
    shuffle.shuffle(shuffled)
    due = [t.as_json() for t in engine.due(_book(pb, ledger_rows), today)]
    assert due == [t.as_json() for t in engine.due(_book(pb, shuffled), today)]
    by_id = {o.contact: (o.touch, o.entries, o.changes) for o in engine.run(_book(pb, ledger_rows), today)}
    assert by_id == {o.contact: (o.touch, o.entries, o.changes)
                     for o in engine.run(_book(pb, shuffled), today)}


# --- a simulated season -----------------------------------------------------------------------

def simulate(pb_text: str, ledger_rows, start: date, days: int):
    """Every day from `start`, advance each contact and apply what run writes: its journal."""
    pbs = {"p": playbook(pb_text)}
    state = {r["id"]: dict(r) for r in ledger_rows}
    journal = {r["id"]: () for r in ledger_rows}
    touches = {r["id"]: [] for r in ledger_rows}
    for n in range(days):
        day = start + timedelta(days=n)
        for cid, row in state.items():
            outcome = engine.advance(contact(**row), trail_of(journal[cid]), pbs, day)
            row.update(outcome.changes)
            journal[cid] += outcome.entries
            if outcome.touch is not None:
                assert outcome.touch.due <= day
                touches[cid].append((day, outcome.touch))
    return pbs["p"], state, journal, touches


@SOME
@given(books())
def test_limits_hold_on_every_day_of_a_season(book):
    pb_text, ledger_rows, today = book
    pb, state, journal, touches = simulate(pb_text, ledger_rows, today, 70)
    gap, cap = pb.limits.min_gap, pb.limits.per_week
    for cid, made in touches.items():
        days = [day for day, _ in made]
        assert days == sorted(set(days)), "at most one touch a contact a day"
        assert [e.date for e in journal[cid] if e.event == "touch"] == days
        # SPEC 5: an agreed call keeps its date; every other touch is moved by the limits
        moved = [(day, t) for day, t in made if t.reason != "callback"]
        for before, (after, _) in zip(days, made[1:]):
            if gap is not None and (after, _) in moved:
                assert gap.add(before) <= after, (cid, before, after, str(gap))
        if cap is not None:
            for day, _ in moved:
                window = [d for d in days if day - timedelta(days=6) <= d <= day]
                assert len(window) <= cap, (cid, day, window)
        if pb.calendar.business_days:  # a run on a Saturday still makes what is overdue
            assert all(t.due.weekday() < 5 for _, t in moved), (cid, [t.due for _, t in moved])


@SOME
@given(books(), st.integers(1, 90))
def test_plan_foretells_the_touches_of_a_run_every_day(book, days):
    """`plan` carries one state from day to day; `run` every day reads it back from the ledger
    and the journal: the touches are the same, on the same days."""
    pb_text, ledger_rows, today = book
    pb, _, _, touches = simulate(pb_text, ledger_rows, today, days)
    for row in ledger_rows:
        planned = engine.plan(contact(**row), None, {"p": pb}, today, days)
        assert planned == [touch for _, touch in touches[row["id"]]], row["id"]


@SOME
@given(books())
def test_no_touch_for_a_stopped_or_opted_out_contact(book):
    pb_text, ledger_rows, today = book
    _, state, journal, touches = simulate(pb_text, ledger_rows, today, 40)
    for row in ledger_rows:
        made = [day for day, _ in touches[row["id"]]]
        if row["status"] in INACTIVE or row["optout"] == "all" or not row["playbook"]:
            # but an agreed call (SPEC 9): not for unsubscribed or stopped, nor opted out of calls
            assert [t for _, t in touches[row["id"]] if t.reason != "callback"] == [], row
            if row["status"] in ("unsubscribed", "stopped") or row["optout"] == "all" \
                    or not row["playbook"]:
                assert made == [], row
                assert not [e for e in journal[row["id"]] if e.event == "touch"]
        if row["status"] == "paused":  # an agreed call keeps its day inside a pause (SPEC 9)
            assert all(day >= date.fromisoformat(row["paused_until"])
                       for day, t in touches[row["id"]] if t.reason != "callback"), row
        for day, touch in touches[row["id"]]:
            assert touch.channel not in row["optout"].split(";"), (row, touch)
            if row["channels"]:
                assert touch.channel in row["channels"].split(";"), (row, touch)


# --- an unchanged ledger is left alone --------------------------------------------------------

@st.composite
def dialects(draw):
    kind = draw(st.sampled_from(["csv", "yaml"]))
    newline = draw(st.sampled_from(["\n", "\r\n"] + (["\r"] if kind == "csv" else [])))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    if kind == "yaml":
        return kind, lambda r: bom + yaml_text(r, newline)
    delim = draw(st.sampled_from([",", ";", "\t"]))
    quote_all = draw(st.booleans())
    return kind, lambda r: bom + csv_text(r, delim, newline, quote_all)


@FEW
@given(books(inert=True), dialects())
def test_a_run_that_changes_no_cell_does_not_touch_the_ledger(book, dialect):
    pb, ledger_rows, today = book
    kind, write = dialect
    name = "contacts.csv" if kind == "csv" else "contacts.yaml"
    with tempfile.TemporaryDirectory() as folder:
        root = make_book(folder, pb, ledger_rows, {"contacts.csv": None, name: write(ledger_rows)})
        path = os.path.join(root, name)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
        before = os.stat(path)
        data = open(path, "rb").read()
        result = invoke("-C", root, "run", "--today", today)
        assert result.exit_code == 0, result.output
        after = os.stat(path)
        assert open(path, "rb").read() == data
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


# --- the same bytes whatever the environment --------------------------------------------------

ENVIRONMENTS = [
    {"TZ": "UTC", "LANG": "C", "LC_ALL": "C", "PYTHONHASHSEED": "0"},
    {"TZ": "Pacific/Kiritimati", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "4242"},
    {"TZ": "America/Los_Angeles", "LANG": "sv_SE.UTF-8", "LC_ALL": "", "PYTHONHASHSEED": "random",
     "PYTHONUTF8": "0"},
]

WRAPPER = """
import json, sys
import cadence.cli
cadence.cli.FAR_DAYS = 10 ** 6  # the suite replays fixed days (smallbook.ANY_DAY)
from typer.testing import CliRunner
from cadence.main import app
out = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out.append(result.stdout)
sys.stdout.write(json.dumps(out))
"""


def _in_env(env, commands) -> list:
    """The stdout of each command, run one after the other in a process with this env."""
    full = {k: v for k, v in os.environ.items() if k not in ("CADENCE_TODAY", "LC_ALL", "LANG")}
    full.update({k: v for k, v in env.items() if v})
    result = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps(commands)],
                            capture_output=True, env=full)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def _fixed_books(folder):
    """Two fixed examples: the golden basic book (timezone set) and a YAML book without one."""
    basic = os.path.join(folder, "basic")
    shutil.copytree(os.path.join(os.path.dirname(__file__), "books", "basic", "book"), basic)
    rng = random.Random(7)
    ledger_rows = [{"id": f"c{i}", "name": NAMES[i % len(NAMES)], "email": f"c{i}@example.com",
                    "phone": "+46701234567" if i % 2 else "", "address": "Gatan 1\nStad",
                    "playbook": "p", "started": f"2026-10-{rng.randint(10, 28)}", "status": "",
                    "paused_until": "", "channels": "", "optout": "", "birthday": "11-23"}
                   for i in range(12)]
    pb = ("channels: [email, call, letter]\nlimits: {min_gap: 2 days, per_week: 3}\nphases:\n"
          "  - name: decide\n    until: 30 days\n    steps:\n"
          "      - {at: 1 day, channel: email, template: t}\n"
          "      - {after: 2 days, channel: call, template: t}\n"
          "      - {at: 20 days, channel: letter, template: t}\n"
          "  - name: keep\n    every: 1 week\n    channel: email\n    template: t\n"
          "rules:\n  - no_reply: 3 days\n    after: [email]\n    then: call\n    template: t\n"
          "  - birthday: email\n    template: t\n")
    plain = make_book(os.path.join(folder, "plain"), pb, ledger_rows,
                      {"contacts.csv": None, "contacts.yaml": yaml_text(ledger_rows),
                       "cadence.yaml": "sender: {name: Eva, email: eva@example.com}\n"})
    return [(basic, "2026-11-23", "new"), (plain, "2026-11-23", "c3")]


def test_same_bytes_whatever_tz_locale_and_hash_seed(tmp_path):
    outputs = []
    for n, env in enumerate(ENVIRONMENTS):
        roots = _fixed_books(str(tmp_path / f"env{n}"))
        commands = []
        for root, day, someone in roots:
            commands += [["-C", root, "due", "--today", day, "--json"],
                         ["-C", root, "plan", someone, "--today", day, "--json"],
                         ["-C", root, "run", "--today", day, "--json"]]
        printed = [text.replace(str(tmp_path / f"env{n}"), "BOOKS") for text in _in_env(env, commands)]
        outputs.append((printed, [snapshot(root) for root, _, _ in roots]))
    first = outputs[0]
    assert all('"drafted": []' not in p and '"path"' in p for p in first[0][2::3])
    for other in outputs[1:]:
        assert other == first


# --- the journal's row order --------------------------------------------------------------------

def _lived(root: str, today: date, days: int) -> None:
    """Run the book every day for `days` days up to `today` (exclusive): a journal to shuffle."""
    for n in range(days, 0, -1):
        result = invoke("-C", root, "run", "--today", (today - timedelta(days=n)).isoformat())
        assert result.exit_code == 0, result.output


def _outputs(root: str, today: date) -> dict:
    """What `due --json` and `run --json` print on `today`, and every file after the run; the
    journal as the rows the run appended."""
    journal = os.path.join(root, "history.csv")
    with open(journal, "rb") as handle:
        before = len(handle.read())
    due = invoke("-C", root, "due", "--today", today.isoformat(), "--json")
    run = invoke("-C", root, "run", "--today", today.isoformat(), "--json")
    files = snapshot(root)
    with open(journal, "rb") as handle:
        files["history.csv"] = handle.read()[before:]
    return {"due": (due.exit_code, due.stdout), "run": (run.exit_code, run.stdout), **files}


@FEW
@given(books(), st.integers(1, 12), st.randoms(use_true_random=False))
def test_the_journal_s_row_order_never_changes_an_answer(book, days, shuffle):
    """SPEC 8 and 9: the journal is read by its dates. A journal whose rows were sorted by hand
    or merged from two machines gives the same due list, drafts, ledger and new rows."""
    pb, ledger_rows, today = book
    with tempfile.TemporaryDirectory() as folder:
        first = make_book(os.path.join(folder, "a"), pb, ledger_rows)
        _lived(first, today, days)
        second = os.path.join(folder, "b")
        shutil.copytree(first, second)
        with open(os.path.join(second, "history.csv"), encoding="utf-8", newline="") as handle:
            header, *lines = handle.read().splitlines(keepends=True)
        shuffle.shuffle(lines)
        with open(os.path.join(second, "history.csv"), "w", encoding="utf-8", newline="") as handle:
            handle.write(header + "".join(lines))
        assert _outputs(first, today) == _outputs(second, today)


# --- the journal is the memory ------------------------------------------------------------------

def _ledger_cells(root: str) -> dict:
    import csv

    with open(os.path.join(root, "contacts.csv"), encoding="utf-8", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


@FEW
@given(books(), st.integers(1, 20))
def test_a_ledger_without_its_state_columns_is_rebuilt_from_the_journal(book, days):
    """SPEC 9: a re-downloaded sheet (the state columns gone) and a run on the same day give
    back every state cell, read from the journal; nothing is drafted twice."""
    from cadence.model import STATE_COLUMNS
    from randombooks import COLUMNS

    pb, ledger_rows, today = book
    with tempfile.TemporaryDirectory() as folder:
        first = make_book(os.path.join(folder, "a"), pb, ledger_rows)
        _lived(first, today + timedelta(days=1), days)  # the last run is on `today`
        kept = [c for c in COLUMNS if c not in STATE_COLUMNS]
        lived, rebuilt = _downloaded_again(first, os.path.join(folder, "b"), kept, today)
        for cid, row in lived.items():
            assert rebuilt[cid] == row, cid


def _downloaded_again(first: str, second: str, columns: list, today: date,
                      empty: tuple = ()) -> tuple:
    """The lived book `first` copied to `second` with a sheet of its ledger's `columns` only
    (downloaded again, the state columns gone, the `empty` ones as they were before any
    command wrote them: empty), and `run` on `today` there: ({id: state cells} of the lived
    ledger, of the rebuilt one), an empty status read as active (SPEC 2). Nothing is drafted
    twice."""
    from cadence.model import STATE_COLUMNS

    lived = _ledger_cells(first)
    shutil.copytree(first, second)
    downloaded = [{c: "" if c in empty else row.get(c, "") for c in columns}
                  for row in lived.values()]
    with open(os.path.join(second, "contacts.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(_csv(columns, downloaded))
    result = invoke("-C", second, "run", "--today", today.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["drafted"] == []

    def state(row):
        return {c: row.get(c, "") or ("active" if c == "status" else "") for c in STATE_COLUMNS}

    rebuilt = _ledger_cells(second)
    return ({cid: state(row) for cid, row in lived.items()},
            {cid: state(row) for cid, row in rebuilt.items()})


def _csv(columns, rows) -> str:
    def cell(value):
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value

    return "".join(",".join(cell(r.get(c, "")) for c in line) + "\n"
                   for line, r in [(columns, dict(zip(columns, columns)))] +
                   [(columns, r) for r in rows])


REPLY_RULES = ["stop", "continue", "pause 5 days", "move q"]


def _user_command(r: random.Random, ids: list, day: date, before: bool = False) -> list:
    """One of the commands a user runs between two cron runs, drawn at random (its arguments
    may be refused: an unsubscribed contact, a pause that ends before it begins); `before`
    the first run, a status decision (`mark`, `pause`) on a contact not enrolled yet."""
    cid, on = r.choice(ids), day.isoformat()
    until = (day + timedelta(days=r.randint(1, 20))).isoformat()
    back = (day - timedelta(days=r.randint(0, 3))).isoformat()
    if before:
        return r.choice([["pause", cid, "--until", until, "--today", on],
                         ["mark", cid, r.choice(["active", "won", "lost", "replied",
                                                 "unsubscribed", "stopped"]), "--today", on]])
    return r.choice([
        ["pause", cid, "--until", until, "--today", on],
        ["reply", cid, "--today", on],
        ["reply", cid, "--today", on, "--callback",
         (day + timedelta(days=r.randint(0, 10))).isoformat()],
        ["reply", cid, "--today", on, "--move", "q"],
        ["reply", cid, "--today", on, "--pause", "1w"],
        ["reply", cid, "--today", on, "--won"],
        ["mark", cid, r.choice(["active", "won", "lost", "replied", "unsubscribed", "stopped"]),
         "--today", on],
        ["mark", cid, "paused", "--until", until, "--today", on],
        ["type", cid, "paused_until", r.choice([until, ""])],  # a pause's date typed over
        ["skip", cid, "--today", on],
        ["undo", cid, "--today", on],
        ["log", cid, "--channel", r.choice(["email", "call"]), "--on", back, "--today", on],
        ["done", cid, "--today", on],
        ["optout", cid, r.choice(["email", "call", "all"]), "--today", on]
        + r.choice([[], ["--withdraw"]]),
    ])


def _typed(root: str, cid: str, column: str, value: str) -> bool:
    """The sheet edited by hand: `column` of a paused contact's row set to `value`."""
    rows = _ledger_cells(root)
    if rows[cid].get("status") != "paused" or column not in rows[cid]:
        return False
    rows[cid][column] = value
    with open(os.path.join(root, "contacts.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(_csv(list(rows[cid]), list(rows.values())))
    return True


@examples(10)
@given(books(), st.sampled_from(REPLY_RULES), st.integers(3, 14), st.randoms(use_true_random=False))
def test_a_ledger_the_user_s_commands_wrote_is_rebuilt_from_the_journal(book, rule, days, r):
    """SPEC 9 with the user's hand in it: runs every day; before the first one, `pause` or
    `mark` (a contact not enrolled yet), and after it `pause`,
    `reply` (the playbook's rule, `--callback`, `--move`, `--pause`, `--won`), `mark`,
    `skip`, `undo ID`, `log`, `done` and a paused contact's `paused_until` typed over (or
    cleared) in the sheet on random contacts between them; a sheet downloaded
    again without its state columns, run on the same day, gives back every state cell and
    drafts nothing twice. A reply to a contact whose status takes
    none (won, lost, ...) is decided at once (`--lost`): left undecided, the first run after a
    later `pause` or `mark active` acts on it (SPEC 5), after a status row dated later than
    its `reply` row, and the journal read by its dates (SPEC 9) says that later status
    (README, Semantics: "A reply left for later"); so does a reply of an earlier day (`--on`)
    acted on after a status set since. A contact gets one status decision a day
    (`pause`, `mark` or `reply`): of two on one day the journal cannot say which came last
    (README, Semantics: "The user's hand")."""
    from cadence.model import STATE_COLUMNS
    from journalbooks import Q_BOOK

    pb, ledger_rows, today = book
    assume(ledger_rows)
    # opt-outs come from `optout` alone here, so that the journal holds every one of them
    ledger_rows = [dict(row, optout="") for row in ledger_rows]
    pb += ("" if "\nrules:\n" in pb else "rules:\n") + f"  - reply: {rule}\n"
    with tempfile.TemporaryDirectory() as folder:
        first = make_book(os.path.join(folder, "a"), pb, ledger_rows, {"playbooks/q.yaml": Q_BOOK})
        ids, done = [row["id"] for row in ledger_rows], []  # the commands, for a failure
        for n in range(days, -1, -1):
            day = today - timedelta(days=n)
            decided = set()  # one status decision a contact a day: see the docstring
            for _ in range(r.choice([0, 1, 1, 2])):
                command = _user_command(r, ids, day, before=n == days)
                if command[0] in ("pause", "mark", "reply", "type"):
                    if command[1] in decided:
                        continue
                    decided.add(command[1])
                if command[0] == "reply" and not {"--won", "--pause", "--move"} & set(command) \
                        and _ledger_cells(first)[command[1]].get("status", "") not in (
                            "", "active", "paused"):
                    command.append("--lost")  # decided now: see the docstring
                if command[0] == "type":
                    done.append(" ".join(command) + f" -> {_typed(first, *command[1:])}")
                    continue
                said = invoke("-C", first, *command)
                assert isinstance(said.exception, (SystemExit, type(None))), said.output
                done.append(" ".join(command) + f" -> {said.exit_code}")
            result = invoke("-C", first, "run", "--today", day.isoformat())
            assert result.exit_code == 0, result.output
        columns = [c for c in _ledger_cells(first)["c0"] if c not in STATE_COLUMNS]
        lived, rebuilt = _downloaded_again(first, os.path.join(folder, "b"), columns, today,
                                           empty=("optout",))
        for cid, row in lived.items():
            assert rebuilt[cid] == row, (cid, done)
        # an opt-out outlives the sheet: the run writes it back for an enrolled contact
        before, after = _ledger_cells(first), _ledger_cells(os.path.join(folder, "b"))
        for cid, row in before.items():
            if row.get("playbook"):
                assert set(filter(None, after[cid]["optout"].split(";"))) == \
                    set(filter(None, row["optout"].split(";"))), (cid, done)

"""The command line: exit codes, messages on stderr, what each command writes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cadence.main import app

BASIC = os.path.join(os.path.dirname(__file__), "books", "basic", "book")


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def book(tmp_path):
    target = tmp_path / "book"
    shutil.copytree(BASIC, target)
    return target


def files(root) -> dict:
    out = {}
    for base, dirs, names in os.walk(root):
        for name in names:
            if name == ".cadence.lock":  # the lock file stays behind, empty; .gitignore lists it
                continue
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, root)] = handle.read()
    return out


def test_due_table_for_people(book):
    result = invoke("-C", book, "due", "--today", "2026-11-23")
    assert result.exit_code == 0
    assert "Due on 2026-11-23: 8 touches" in result.stdout
    assert "2026-11-23 14:30" in result.stdout  # the agreed time of the call-back


def test_due_json_shape(book):
    result = invoke("-C", book, "due", "--today", "2026-11-23", "--json")
    document = json.loads(result.stdout)
    assert document["today"] == "2026-11-23"
    assert set(document["due"][0]) == {"contact", "name", "playbook", "phase", "step", "channel",
                                        "template", "due", "overdue", "reason"}
    keys = [(t["due"], t["contact"]) for t in document["due"]]
    assert keys == sorted(keys)


def test_today_from_the_environment(book):
    by_env = invoke("-C", book, "due", "--json", env={"CADENCE_TODAY": "2026-11-23"})
    by_flag = invoke("-C", book, "due", "--json", "--today", "2026-11-23")
    assert by_env.stdout == by_flag.stdout


def test_nothing_due(book):
    """Nothing due, and a contact the next run enrols is said (README "Semantics": `due`)."""
    result = invoke("-C", book, "due", "--today", "2026-06-01")
    assert result.exit_code == 0
    assert result.stdout == (
        "Nothing due on 2026-06-01.\n"
        "New in the ledger: 1 contact with a playbook, not started yet; `cadence run` enrols "
        "it.\n")
    invoke("-C", book, "run", "--today", "2026-06-01")
    assert invoke("-C", book, "due", "--today", "2026-06-01").stdout == \
        "Nothing due on 2026-06-01.\n"


def test_bad_today_is_usage(book):
    result = invoke("-C", book, "due", "--today", "23.11.2026")
    assert result.exit_code == 2
    assert "--today: expected a date as YYYY-MM-DD, got '23.11.2026'" in result.stderr


@pytest.mark.parametrize("command", ["due", "forecast", "stats"])
def test_json_and_csv_at_once_is_usage(book, command):
    """README: `[--json | --csv]`, one of them."""
    result = invoke("-C", book, command, "--json", "--csv", "--today", "2026-11-23")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["problems"][0]["source"] == "--csv"


def test_unknown_option_is_usage(book):
    assert invoke("-C", book, "due", "--tomorrow").exit_code == 2


def test_run_then_again_changes_nothing(book):
    first = invoke("-C", book, "run", "--today", "2026-11-23")
    assert first.exit_code == 0, first.output
    assert "Drafted 8 touches for 2026-11-23 in drafts/2026-11-23/." in first.stdout
    snapshot = files(book)
    second = invoke("-C", book, "run", "--today", "2026-11-23")
    assert second.exit_code == 0
    assert "Drafted 0 touches" in second.stdout
    assert files(book) == snapshot


def test_dry_run_writes_nothing(book):
    before = files(book)
    result = invoke("-C", book, "run", "--today", "2026-11-23", "--dry-run")
    assert result.exit_code == 0
    assert "Would draft 8 touches" in result.stdout and "Nothing written." in result.stdout
    assert files(book) == before


def test_quiet_prints_nothing(book):
    result = invoke("-C", book, "run", "--today", "2026-11-23", "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    assert invoke("-q", "-C", book, "due", "--today", "2026-11-23").stdout == ""


def test_plan_lists_dated_touches(book):
    result = invoke("-C", book, "plan", "new", "--today", "2026-11-23", "--days", "30", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["contact"] == "new"
    first = document["touches"][0]
    assert first == {"date": "2026-11-24", "step": "decide-1", "phase": "decide",
                     "channel": "email", "template": "thanks", "reason": "step"}
    assert all(set(t) == {"date", "step", "phase", "channel", "template", "reason"}
               for t in document["touches"])
    table = invoke("-C", book, "plan", "new", "--today", "2026-11-23", "--days", "30")
    assert "2026-11-24" in table.stdout and "decide-1" in table.stdout


@pytest.mark.parametrize("command", [
    ["plan", "nobody"], ["reply", "nobody"], ["log", "nobody", "--channel", "call"],
    ["mark", "nobody", "won"], ["optout", "nobody", "call"],
])
def test_unknown_contact_is_65_and_writes_nothing(book, command):
    before = files(book)
    result = invoke("-C", book, *command, "--today", "2026-11-23")
    assert result.exit_code == 65
    assert "contacts.csv: unknown contact 'nobody'" in result.stderr
    assert files(book) == before


def test_unknown_contact_did_you_mean(book):
    result = invoke("-C", book, "plan", "bdayy", "--today", "2026-11-23")
    assert "hint: did you mean 'bday'?" in result.stderr


def test_an_id_typed_in_another_unicode_form_is_that_contact(tmp_path):
    """An id typed decomposed (macOS may hand `Ö` on as `O` and a combining mark) names the
    contact whose id looks the same. A ledger that holds the id in both forms holds it twice:
    a duplicate, whichever form is typed (README "Semantics")."""
    import unicodedata

    root = tmp_path / "book"
    shutil.copytree(BASIC, root)
    ledger = root / "contacts.csv"
    text = ledger.read_text(encoding="utf-8")
    assert "\nbday;" in text
    ledger.write_text(text.replace("\nbday;", "\nörjan;"), encoding="utf-8")
    typed = unicodedata.normalize("NFD", "örjan")
    assert typed != "örjan"
    shown = invoke("-C", root, "plan", typed, "--today", "2026-11-23", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["contact"] == "örjan"
    lines = ledger.read_text(encoding="utf-8").splitlines()
    twin = next(line for line in lines if line.startswith("örjan;"))
    ledger.write_text("\n".join(lines + [twin.replace("örjan;", typed + ";", 1)]) + "\n",
                      encoding="utf-8")
    for form in ("örjan", typed):
        twice = invoke("-C", root, "plan", form, "--today", "2026-11-23")
        assert twice.exit_code == 65
        assert f"duplicate id {typed!r} (first at line " in twice.stderr
        assert "the same letters in another Unicode form)" in twice.stderr


def test_reply_acts_at_once(book):
    result = invoke("-C", book, "reply", "call", "--on", "2026-11-22", "--note", "wants a quote",
                    "--today", "2026-11-23")
    assert result.exit_code == 0, result.output
    assert "reply: pause until 2026-12-06" in result.stdout
    history = (book / "history.csv").read_text(encoding="utf-8").splitlines()
    assert history[-1] == ("2026-11-22,call,reply,new-lead,,,,"
                           "reply: pause until 2026-12-06; wants a quote")
    row = [l for l in (book / "contacts.csv").read_text(encoding="utf-8").splitlines()
           if l.startswith("call;")][0]
    assert ";paused;2026-12-06;" in row and ";2026-11-22;" in row
    due = json.loads(invoke("-C", book, "due", "--today", "2026-11-23", "--json").stdout)
    assert "call" not in [t["contact"] for t in due["due"]]


def test_log_counts_for_gaps(book):
    result = invoke("-C", book, "log", "d1", "--channel", "sms", "--note", "texted",
                    "--today", "2026-11-23")
    assert result.exit_code == 0, result.output
    history = (book / "history.csv").read_text(encoding="utf-8").splitlines()
    assert history[-1] == "2026-11-23,d1,touch,new-lead,,sms,,texted"
    due = json.loads(invoke("-C", book, "due", "--today", "2026-11-23", "--json").stdout)
    assert "d1" not in [t["contact"] for t in due["due"]]  # one touch a day


def test_log_bad_channel(book):
    result = invoke("-C", book, "log", "d1", "--channel", "fax", "--today", "2026-11-23")
    assert result.exit_code == 2
    assert "unknown channel 'fax'" in result.stderr


def test_mark_won_stops_touches(book):
    assert invoke("-C", book, "mark", "d1", "won", "--today", "2026-11-23").exit_code == 0
    due = json.loads(invoke("-C", book, "due", "--today", "2026-11-23", "--json").stdout)
    assert "d1" not in [t["contact"] for t in due["due"]]
    assert "2026-11-23,d1,status,new-lead,,,,won" in (book / "history.csv").read_text()


def test_mark_bad_status(book):
    result = invoke("-C", book, "mark", "d1", "sold", "--today", "2026-11-23")
    assert result.exit_code == 2 and "unknown status 'sold'" in result.stderr


def test_optout_moves_to_another_channel(book):
    assert invoke("-C", book, "optout", "d1", "email", "--today", "2026-11-23").exit_code == 0
    due = json.loads(invoke("-C", book, "due", "--today", "2026-11-23", "--json").stdout)
    (touch,) = [t for t in due["due"] if t["contact"] == "d1"]
    assert touch["channel"] == "call"


def test_optout_said_again_writes_nothing(book):
    """The journal is the memory of decisions: one said already is not a second decision."""
    assert invoke("-C", book, "optout", "d1", "email", "--today", "2026-11-23").exit_code == 0
    before = [(book / name).read_bytes() for name in ("contacts.csv", "history.csv")]
    again = invoke("-C", book, "optout", "d1", "email", "--today", "2026-11-23")
    assert again.exit_code == 0 and "already; nothing written" in again.stdout
    assert [(book / name).read_bytes() for name in ("contacts.csv", "history.csv")] == before
    # with a note as well: a second "opted out of" would count as a second opt-out, which
    # one withdrawal would not undo (README "Semantics")
    noted = invoke("-C", book, "optout", "d1", "email", "--note", "asked again", "--today",
                   "2026-11-23")
    assert noted.exit_code == 0 and noted.stdout == (
        "d1: opted out of email already; nothing written (`cadence note` records a note).\n")
    assert [(book / name).read_bytes() for name in ("contacts.csv", "history.csv")] == before


def test_missing_ledger_is_66(book):
    os.remove(book / "contacts.csv")
    result = invoke("-C", book, "due", "--today", "2026-11-23")
    assert result.exit_code == 66
    assert "contacts.csv: ledger not found" in result.stderr


def test_missing_folder_is_66(tmp_path):
    assert invoke("-C", tmp_path / "nope", "due").exit_code == 66


def test_playbook_error_is_78_with_position(book):
    path = book / "playbooks" / "new-lead.yaml"
    path.write_text(path.read_text().replace("channel: email, template: thanks",
                                             "channnel: email, template: thanks"))
    result = invoke("-C", book, "run", "--today", "2026-11-23")
    assert result.exit_code == 78
    assert "new-lead.yaml:13:21: unknown key 'channnel' (did you mean 'channel'?)" in result.stderr
    assert "Traceback" not in result.output
    assert not (book / "drafts").exists()


def test_unknown_playbook_in_ledger_is_65(book):
    path = book / "contacts.csv"
    path.write_bytes(path.read_bytes().replace(b"d1;\xc3\x85sa \xc3\x96berg;asa@example.com;0701234567;;;;new-lead",
                                               b"d1;\xc3\x85sa \xc3\x96berg;asa@example.com;0701234567;;;;new-leed"))
    result = invoke("-C", book, "due", "--today", "2026-11-23")
    assert result.exit_code == 65
    assert "contacts.csv:3:44: contact 'd1' follows playbook 'new-leed', which no file has" in result.stderr


def test_template_error_writes_nothing(book):
    (book / "templates" / "thanks.j2").write_text("Subject: Hi\n\n{{ contact.nickname }}\n")
    before = files(book)
    result = invoke("-C", book, "run", "--today", "2026-11-23")
    assert result.exit_code == 78
    assert "thanks.j2:3:" in result.stderr and "(contact d1, step decide-1)" in result.stderr
    assert files(book) == before


def test_json_error_is_one_document(book):
    os.remove(book / "contacts.csv")
    result = invoke("-C", book, "due", "--today", "2026-11-23", "--json")
    document = json.loads(result.stdout)
    assert document["error"]["code"] == 66
    assert document["error"]["problems"][0]["message"] == "ledger not found"


def test_debug_shows_the_traceback(book):
    os.remove(book / "contacts.csv")
    result = invoke("--debug", "-C", book, "due", "--today", "2026-11-23")
    assert result.exit_code != 0 and result.exception is not None


def test_lock_held_is_75(book):
    from filelock import FileLock

    import cadence.files as files_module

    with FileLock(str(book / ".cadence.lock")):
        original = files_module.Lock.__init__

        def quick(self, root, timeout=10.0):
            original(self, root, timeout=0.1)

        files_module.Lock.__init__ = quick
        try:
            result = invoke("-C", book, "run", "--today", "2026-11-23")
        finally:
            files_module.Lock.__init__ = original
    assert result.exit_code == 75
    assert "another cadence run holds the lock" in result.stderr


def test_ledger_changed_under_us_is_75(book, monkeypatch):
    from cadence import actions as run_module

    original = run_module.prepare

    def edit_meanwhile(*args):
        result = original(*args)
        with open(book / "contacts.csv", "ab") as handle:
            handle.write(b"late;Late Edit;;;;;;;;;;;;;;;;\r\n")
        return result

    monkeypatch.setattr(run_module, "prepare", edit_meanwhile)
    before_history = (book / "history.csv").read_bytes()
    result = invoke("-C", book, "run", "--today", "2026-11-23")
    assert result.exit_code == 75
    assert "the ledger changed on disk during this run" in result.stderr
    assert (book / "history.csv").read_bytes() == before_history
    assert b"late;Late Edit" in (book / "contacts.csv").read_bytes()


def test_init_writes_a_working_book(tmp_path):
    target = tmp_path / "mybook"
    result = invoke("init", target, "--sender-name", "Eva Konsult",
                    "--sender-email", "eva@konsult.example")
    assert result.exit_code == 0, result.output
    assert (target / ".gitignore").read_text().splitlines()[:2] == ["drafts/", ".cadence.lock"]
    check = invoke("-C", target, "check")
    assert check.exit_code == 0, check.output
    # the one thing left to do: the example's phone and address are not the user's
    assert "; 1 warning" in check.stdout
    assert "warning: the sender's phone and address are init's example" in check.stderr
    run = invoke("-C", target, "run", "--today", "2026-11-23")
    assert run.exit_code == 0, run.output
    run = invoke("-C", target, "run", "--today", "2026-11-24")
    assert run.exit_code == 0, run.output
    assert "Drafted 4 touches" in run.stdout
    again = invoke("init", target)
    assert again.exit_code == 73 and "a book is already here" in again.stderr


def test_check_ok(book):
    result = invoke("-C", book, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 1 playbook, 11 templates, 13 contacts")


def test_check_names_the_journals_contacts_the_ledger_lost(book):
    """README Semantics: journal rows of a contact no longer in the ledger are ignored, and
    check says whose they are, once, without a warning (a row deleted on purpose is no fault)."""
    def check(*args):
        return invoke("-C", book, "check", "--today", "2026-11-23", *args)

    whole = check()
    assert whole.exit_code == 0 and "The journal holds" not in whole.stdout
    before = json.loads(check("--json").stdout)
    assert before["not_in_ledger"] == []
    path = os.path.join(book, "contacts.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("noreply;", "call;"))]
    assert len(kept) == len(lines) - 2
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("".join(kept))
    result = check()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "The journal holds 2 contacts the ledger does not (call, noreply): their rows are kept, "
        "and a row put back with its id gets its state from them."]
    document = json.loads(check("--json").stdout)
    assert document["not_in_ledger"] == ["call", "noreply"]
    assert document["warnings"] == before["warnings"]  # no warning of its own


def _last_news(book, day: str) -> str:
    """The last line `check` prints beside its warnings, in a book it passes."""
    result = invoke("-C", book, "check", "--today", day)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[-1]


def test_check_names_a_row_renamed_in_a_sheet_without_ids(tmp_path):
    """A sheet downloaded again without its id column makes ids from the names: a contact
    renamed there gets a new id, and `check` names the journal's id to give the row back."""
    sheet = tmp_path / "k.csv"
    sheet.write_text("Namn,E-post,Telefon\nMärta Lindqvist,marta@ex.se,+4670111\n"
                     "Nils Åberg,nils@ex.se,+4670222\nOlle Dahl,olle@ex.se,+4670333\n"
                     "Anna Berg,anna@ex.se,+4670555\n", encoding="utf-8")
    book = str(tmp_path / "book")
    assert invoke("init", book, "--from", str(sheet)).exit_code == 0
    assert invoke("-C", book, "run", "--today", "2026-12-07").exit_code == 0
    # downloaded again: no id column, Märta renamed, Olle and Anna Berg deleted, new contacts,
    # one of them another person of Anna's surname (no pair: a surname says too little)
    (tmp_path / "book" / "k.csv").write_text(
        "Namn,E-post,Telefon\nMärta Lindqvist Berg,marta@ex.se,+4670111\n"
        "Nils Åberg,nils@ex.se,+4670222\nKarin Ek,karin@ex.se,+4670444\n"
        "Maria Berg,maria@ex.se,+4670666\n", encoding="utf-8")
    assert _last_news(book, "2026-12-08") == (
        "Renamed? Row 'marta-lindqvist-berg' has an id made from its name, and "
        "'marta-lindqvist' a history in the journal: if they are one person, give that row the "
        "id marta-lindqvist (an `id` column in the sheet) to keep it.")
    document = json.loads(invoke("-C", book, "check", "--today", "2026-12-08", "--json").stdout)
    assert document["not_in_ledger"] == ["anna-berg", "marta-lindqvist", "olle-dahl"]
    assert document["renamed"] == [{"journal": "marta-lindqvist", "ledger": "marta-lindqvist-berg"}]


def test_check_names_a_ledger_id_the_journal_writes_in_another_unicode_form(book):
    """An id retyped on another system (macOS writes `á` as a and a combining accent): the
    journal's rows are byte for byte another id, and `check` says which row they belong to."""
    path = os.path.join(book, "contacts.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text.replace("\ncall;", "\ncala\u0301;", 1))
    journal = os.path.join(book, "history.csv")
    with open(journal, encoding="utf-8", newline="") as handle:
        rows = handle.read()
    lines = [line.split(",") for line in rows.split("\n")]
    assert any(len(cells) > 1 and cells[1] == "call" for cells in lines)
    with open(journal, "w", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(",".join(cells[:1] + ["cal\u00e1"] + cells[2:])
                               if len(cells) > 1 and cells[1] == "call" else ",".join(cells)
                               for cells in lines))
    assert _last_news(book, "2026-11-23") == (
        "Row 'cala\u0301' and the journal's 'cal\u00e1' are the same letters in another Unicode "
        "form (typed on another system): the journal's rows are not its history until the ids "
        "match; copy the id from the journal into the ledger's cell.")


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("cadence ")


def test_help_for_every_command():
    for command in ("due", "run", "plan", "check", "reply", "log", "mark", "optout", "init"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout


@pytest.mark.parametrize("value", ["9999-12-30", "0001-01-02"])
def test_today_out_of_range_is_usage(book, value):
    result = invoke("-C", book, "due", "--today", value)
    assert result.exit_code == 2
    assert f"--today: date out of range: '{value}'" in result.stderr


def test_ledger_date_out_of_range_is_65(book):
    path = book / "contacts.csv"
    path.write_bytes(path.read_bytes().replace(b";new-lead;2026-11-22;", b";new-lead;9999-12-20;"))
    result = invoke("-C", book, "due", "--today", "2026-11-23")
    assert result.exit_code == 65
    assert "date out of range: '9999-12-20'" in result.stderr


def test_bad_if_expression_is_78_for_every_command(book):
    path = book / "playbooks" / "new-lead.yaml"
    path.write_text(path.read_text().replace('"contact.age | int >= 50"', '"contact.age >>"'))
    before = files(book)
    for args in (["due"], ["plan", "new"], ["forecast"], ["reply", "d1"],
                 ["log", "d1", "--channel", "call"], ["optout", "d1", "call"]):
        result = invoke("-C", book, *args, "--today", "2026-11-23")
        assert result.exit_code == 78, (args, result.output)
        assert "the `if` expression does not compile" in result.stderr
    assert files(book) == before


def test_mark_active_ends_a_pause(book):
    assert invoke("-C", book, "mark", "paused", "active", "--today", "2026-11-23").exit_code == 0
    row = [l for l in (book / "contacts.csv").read_text(encoding="utf-8").splitlines()
           if l.startswith("paused;")][0]
    assert ";active;;" in row
    due = json.loads(invoke("-C", book, "due", "--today", "2026-11-23", "--json").stdout)
    assert "paused" in [t["contact"] for t in due["due"]]


@pytest.mark.parametrize("command", [["reply", "d1"], ["log", "d1", "--channel", "call"],
                                     ["mark", "d1", "won"]])
def test_on_after_today_is_usage(book, command):
    before = files(book)
    result = invoke("-C", book, *command, "--on", "2026-11-30", "--today", "2026-11-23")
    assert result.exit_code == 2
    assert "--on: 2026-11-30 is after today (2026-11-23)" in result.stderr
    assert files(book) == before


def test_usage_errors_name_what_was_typed(book):
    result = invoke("-C", book, "optout", "d1", "pigeon", "--today", "2026-11-23")
    assert result.exit_code == 2 and "CHANNEL: unknown channel 'pigeon'" in result.stderr
    result = invoke("-C", book, "due", "--today", "2026-02-30")
    assert result.exit_code == 2 and "--today: impossible date '2026-02-30'" in result.stderr


def test_a_csv_ledger_widens_once(tmp_path):
    from helpers import build_tree

    build_tree(tmp_path, {
        "cadence.yaml": "",
        "playbooks/p.yaml": """\
            phases:
              - name: a
                steps:
                  - {at: 1 day, channel: email, template: t}
            rules:
              - reply: pause 7 days
            """,
        "templates/t.j2": "Subject: x\n\nx\n",
        "contacts.csv": "id,name,email,playbook,started\nc1,Ann,a@x.se,p,2026-11-01\n",
    })
    assert invoke("-C", tmp_path, "run", "--today", "2026-11-02").exit_code == 0
    header = (tmp_path / "contacts.csv").read_text().splitlines()[0]
    assert header == ("id,name,email,playbook,started,status,paused_until,touches,last_touch,"
                      "last_channel,last_step,next_due")
    assert invoke("-C", tmp_path, "reply", "c1", "--today", "2026-11-03").exit_code == 0
    # the reply adds the user's own column last_reply, and nothing else
    assert (tmp_path / "contacts.csv").read_text().splitlines()[0] == header + ",last_reply"


def test_error_paths_are_relative_to_the_current_folder(book, monkeypatch):
    os.remove(book / "contacts.csv")
    monkeypatch.chdir(book.parent)
    result = invoke("-C", "book", "due", "--today", "2026-11-23")
    assert result.stderr.startswith("book/contacts.csv: ledger not found")


# --- the `cadence` command loads only the command it runs ---------------------------------------

def test_every_command_is_in_the_table_with_its_module():
    import typer.main

    from cadence.commands import COMMANDS

    group = typer.main.get_command(app)
    assert set(group.commands) == set(COMMANDS)
    for name, command in group.commands.items():
        assert command.callback.__module__ == f"cadence.commands.{COMMANDS[name]}", name


@pytest.mark.parametrize("argv, name", [
    (["due"], "due"), (["-C", "book", "due", "--today", "2026-11-23"], "due"),
    (["-C", "run", "plan", "c1"], "plan"), (["--debug", "-q", "log", "c1"], "log"),
    (["-Cbook", "stats"], "stats"), (["--help"], None), ([], None), (["--", "run"], "run"),
    (["-C"], None),
])
def test_the_command_named_on_a_command_line(argv, name):
    from cadence.commands import named_command

    assert named_command(argv) == name


def test_the_cadence_command_runs_with_only_its_module_loaded():
    check = ("import sys\nfrom cadence.main import run\n"
             "sys.argv = ['cadence', '-C', sys.argv[1], 'due', '--today', '2026-11-23']\n"
             "try:\n    run()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
             "loaded = sorted(m for m in sys.modules if m.startswith('cadence.commands.'))\n"
             "print(loaded, file=sys.stderr)\n")
    book = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", "consultant")
    done = subprocess.run([sys.executable, "-c", check, book], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Due on 2026-11-23" in done.stdout
    assert "['cadence.commands.due']" in done.stderr


@pytest.mark.parametrize("n, noun, said", [
    (0, "touch", "0 touches"), (1, "touch", "1 touch"), (2, "touch", "2 touches"),
    (1, "contact", "1 contact"), (5, "contact", "5 contacts"), (1, "playbook", "1 playbook"),
    (3, "warning", "3 warnings"), (1, "warning", "1 warning"),
])
def test_numbers_agree_with_their_nouns(n, noun, said):
    """README "Commands": `ok: 1 playbook, 11 templates, 1 contact`; `Due on ...: 1 touch`."""
    from cadence.model import count

    assert count(n, noun) == said


def test_help_is_grouped_and_reads_as_the_readme_writes_it():
    """README "Commands": --help groups the commands, names arguments as ID and [DIR], and
    shows each summary whole."""
    import re

    from cadence.helptext import PANELS

    main = invoke("--help").stdout
    assert [line[:-1] for line in main.splitlines() if line.endswith(":") and
            not line.startswith(" ")][-len(PANELS):] == list(PANELS)
    assert "...\n" not in main.split("\n", 1)[1] and "…" not in main
    for args in (["optout", "--help"], ["init", "--help"], ["plan", "--help"], ["log", "--help"]):
        text = invoke(*args).stdout
        assert not re.search(r"\{[A-Z]+\}|\[\[|<(str|int|list)", text), text
    assert invoke("optout", "--help").stdout.startswith(
        "Usage: root optout [OPTIONS] ID CHANNEL...\n")
    assert invoke("init", "--help").stdout.startswith("Usage: root init [OPTIONS] [DIR]\n")


def test_every_command_has_one_line_in_the_apps_help():
    """Issue of the first week: summaries cut mid-word or wrapped. Each command's line in
    `cadence --help` is one line of at most 80 columns, in the order the panels give."""
    from typer.main import get_command

    from cadence.helptext import ORDER, SUMMARIES

    names = sorted(get_command(app).commands)
    assert sorted(SUMMARIES) == names and sorted(ORDER) == names
    main = invoke("--help").stdout
    listed = main[main.index("\nDaily:\n"):]
    rows = [line for line in listed.splitlines() if line.startswith("  ")]
    assert [row.split()[0] for row in rows] == list(ORDER)  # one line each, nothing wrapped
    assert all(len(row) <= 80 for row in main.splitlines())


def test_init_says_next_how_cadence_was_started(tmp_path):
    """A virtualenv that is not activated: the Next line names `.venv/bin/cadence` as it was
    run; with cadence on the PATH, plain `cadence`."""
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(sys.executable), "cadence")
    for path, shown in (("/usr/bin:/bin", script),
                        (os.path.dirname(script) + ":/usr/bin:/bin", "cadence")):
        book = tmp_path / f"b{len(shown)}"
        done = subprocess.run([script, "init", str(book)], capture_output=True, text=True,
                              env=dict(os.environ, PATH=path), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == (
            f"Next: {shown} -C {book} check, then {shown} -C {book} due, "
            f"then {shown} -C {book} run")


@pytest.mark.parametrize("final_break", [True, False])
def test_a_journal_saved_with_crlf_keeps_crlf(tmp_path, final_break):
    """A journal saved on Windows (or through git's autocrlf) gets its rows appended with its
    own line ending, not LF beside CRLF."""
    from smallbook import JOURNAL, TODAY, build, invoke

    journal = JOURNAL.replace("\n", "\r\n") + "2026-10-01,c1,note,p,,,,met at a fair\r\n"
    root = build(tmp_path, {"history.csv": journal if final_break else journal[:-2]})
    result = invoke("-C", root, "run", "--today", TODAY)
    assert result.exit_code == 0, result.output
    with open(os.path.join(root, "history.csv"), "rb") as handle:
        data = handle.read()
    assert data.startswith(journal.encode("utf-8")[: len(journal) - 2])
    assert data.count(b"\n") == data.count(b"\r\n") > 3 and data.endswith(b"\r\n")


@pytest.mark.parametrize("header", [
    "contact,date,event,playbook,step,channel,template,note",  # columns moved in a spreadsheet
    "date,contact,event,playbook,step,channel,template,note,mine",  # one of the user's own
    "note;template;channel;step;playbook;event;contact;date",
    "\ncontact,date,event,playbook,step,channel,template,note",  # a blank line first, as read
])
def test_rows_are_appended_in_the_journals_own_column_order(tmp_path, header):
    """The journal is read by its header's names: the rows cadence appends follow them too, so
    that a journal whose columns were moved or widened reads back as written, and the next
    command sees the same history as a journal in cadence's own order."""
    import csv

    from smallbook import JOURNAL, NEXT, TODAY, build, invoke

    delimiter = ";" if ";" in header else ","
    names = header.strip().split(delimiter)
    plain = build(tmp_path / "plain")
    moved = build(tmp_path / "moved", {"history.csv": header + "\n"})
    for root in (plain, moved):
        assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0

    def rows(root, names):
        with open(os.path.join(root, "history.csv"), encoding="utf-8", newline="") as handle:
            found = list(csv.reader(handle, delimiter=delimiter if root == moved else ","))
        found = [row for row in found if row]  # (the blank line before the header)
        assert found[0] == names
        return [{n: cell for n, cell in zip(names, row) if n != "mine"} for row in found[1:]]

    assert rows(moved, names) == rows(plain, JOURNAL.strip().split(",")) != []
    assert invoke("-C", moved, "due", "--today", NEXT).stdout == \
        invoke("-C", plain, "due", "--today", NEXT).stdout


@pytest.mark.parametrize("typed, hint", [
    ("05.01.2027", "did you mean 2027-01-05?"),
    ("5.1.2027", "did you mean 2027-01-05?"),
    ("31.02.2027", ""),  # no such day
    ("01.01.1800", ""),  # before the years cadence takes
    ("01/05/2027", ""),  # slashes: month first or day first, no telling
])
def test_a_day_first_date_on_the_command_line_gets_its_iso_form(book, typed, hint):
    result = invoke("-C", book, "due", "--today", typed)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"--today: expected a date as YYYY-MM-DD, got {typed!r}\n")
    assert (f"  hint: {hint}\n" in result.stderr) if hint else "hint" not in result.stderr

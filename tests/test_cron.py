"""Quiet and safe for cron: silence on success, one JSON document, messages on stderr, no
traceback, and every exit code of the README's table produced by a real case.
"""
from __future__ import annotations

import errno
import json
import os
import re

import pytest
import typer.main

import cadence.files
from cadence.main import app
from mail.faults import WRONG_PASSWORD
from mail.fixtures import mail_server, mail_user  # noqa: F401  (pytest fixtures)
from mail.maildir import make_maildir
from smallbook import (CONFIG, NEXT, TODAY, build, cadence_popen, cadence_process, invoke,
                       snapshot)

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
COMMANDS = typer.main.get_command(app).commands

# Arguments that make each command succeed on the small book (after a run on TODAY).
SUCCEEDS = {
    "check": [],
    "due": ["--today", NEXT],
    "forecast": ["--today", NEXT],
    "init": None,  # takes a folder: see test_quiet_prints_nothing_on_success
    "plan": ["c1", "--today", NEXT],
    "render": ["c1", "--today", NEXT],
    "reply": ["c1", "--today", NEXT],
    "log": ["c2", "--channel", "email", "--today", NEXT],
    "mark": ["c2", "won", "--today", NEXT],
    "optout": ["c2", "letter", "--today", NEXT],
    "run": ["--today", NEXT],
    "stats": ["--today", NEXT],
    "sync": ["--today", NEXT],
    "push": ["--today", NEXT],
    "add": ["--name", "Dan Ek", "--email", "dan@example.com"],
    "skip": ["c1", "--today", NEXT],
    "undo": ["c1", "--today", NEXT],
    "done": ["c1", "--note", "sent", "--today", NEXT],
    "note": ["c2", "prefers mornings", "--today", NEXT],
    "pause": ["c2", "--until", "2026-12-01", "--today", NEXT],
    "doctor": ["--today", NEXT],
}
# `doctor` reports a book that does not load among its findings (exit 1, README "cadence
# doctor"): only a wrong command line is an error document for it
REPORTS = ("doctor",)
MAILBOX = "mail:\n  maildir: Mail\n"  # a Maildir in the book, for sync and push
JSON_COMMANDS = sorted(name for name, command in COMMANDS.items()
                       if any("--json" in getattr(p, "opts", ()) for p in command.params))


@pytest.fixture
def book(tmp_path):
    root = build(tmp_path / "book", {"cadence.yaml": CONFIG + MAILBOX})
    make_maildir(os.path.join(root, "Mail"))
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    return root


def test_every_command_is_covered():
    assert sorted(SUCCEEDS) == sorted(COMMANDS)
    assert JSON_COMMANDS == ["check", "doctor", "due", "forecast", "plan", "push", "run", "stats",
                             "sync"]


# render's output is the draft asked for: --quiet leaves out only its note on stderr
QUIET_CASES = [pytest.param(name, where, id=f"{where}-{name}")
               for name in sorted(SUCCEEDS) for where in ("global", "command")
               if not (name == "init" and where == "command")  # init: the global -q only
               and name != "render"]


@pytest.mark.parametrize("name, where", QUIET_CASES)
def test_quiet_prints_nothing_on_success(tmp_path, book, name, where):
    args = SUCCEEDS[name] if SUCCEEDS[name] is not None else [str(tmp_path / "new")]
    if name == "init":
        result = invoke("-q", name, *args)
    elif where == "global":
        result = invoke("-q", "-C", book, name, *args)
    else:
        result = invoke("-C", book, name, *args, "--quiet")
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == ("", "")


def test_render_quiet_prints_only_the_draft(book):
    args = SUCCEEDS["render"]
    for result in (invoke("-q", "-C", book, "render", *args),
                   invoke("-C", book, "render", *args, "--quiet")):
        assert result.exit_code == 0, result.output
        assert result.stdout and result.stderr == ""


def test_without_quiet_the_same_commands_speak(book):
    """The control for the test above: silence comes from --quiet, not from nothing to say."""
    for name in ("run", "reply", "check", "due"):
        result = invoke("-C", book, name, *SUCCEEDS[name])
        assert result.exit_code == 0 and result.stdout.strip(), (name, result.output)


# --- --json: exactly one document on stdout, messages on stderr ----------------------------------

def _one_document(text: str):
    document = json.loads(text)  # fails on a second document or on any other text
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("name", JSON_COMMANDS)
def test_json_success_is_one_document(book, name):
    result = invoke("-C", book, name, *SUCCEEDS[name], "--json")
    assert result.exit_code == 0, result.output
    assert "error" not in _one_document(result.stdout)


ERRORS = {
    # case: (change to the book, extra arguments, exit code, text on stderr)
    "bad data": ({"contacts.csv": "id,name\nc1,Ann\nc1,Bob\n"}, [], 65,
                 "contacts.csv:3:1: duplicate id 'c1' (first at line 2)"),
    "missing ledger": ({"contacts.csv": None}, [], 66, "contacts.csv: ledger not found"),
    "bad playbook": ({"playbooks/p.yaml": "phases: nope\n"}, [], 78, "p.yaml:1:9: `phases` must be a list"),
    "bad option": ({}, ["--bogus"], 2, "No such option: --bogus"),
    "bad date": ({}, ["--today", "23.11.2026"], 2, "--today: expected a date as YYYY-MM-DD"),
}


@pytest.mark.parametrize("name, case", [
    pytest.param(name, case, id=f"{name}-{case}") for name in JSON_COMMANDS for case in ERRORS
    if name not in REPORTS or case in ("bad option", "bad date")])
def test_json_error_is_one_document_and_the_message_goes_to_stderr(tmp_path, name, case):
    files, extra, code, text = ERRORS[case]
    if name == "push" and files:
        return  # push reads the day's drafts and the mailbox, not the ledger or playbooks
    root = build(tmp_path / "book", {"cadence.yaml": CONFIG + MAILBOX, **files})
    make_maildir(os.path.join(root, "Mail"))
    args = [a for a in SUCCEEDS[name] if a not in ("--today", NEXT)]
    if "--today" not in extra and name != "check":
        args += ["--today", NEXT]
    result = invoke("-C", root, name, *args, *extra, "--json")
    assert result.exit_code == code, result.output
    error = _one_document(result.stdout)["error"]
    assert error["code"] == code
    assert error["problems"] and all(set(p) == {"source", "message", "hint", "warning"}
                                     for p in error["problems"])
    assert text in result.stderr
    assert "Traceback" not in result.output


# --- no traceback without --debug ---------------------------------------------------------------

def _explode(*args, **kwargs):
    raise RuntimeError("contact Ann Lind, +46701234567, owes 4000")


def test_an_unforeseen_error_is_70_without_a_traceback_or_contact_data(book, monkeypatch):
    from cadence import actions as run_module

    monkeypatch.setattr(run_module, "prepare", _explode)
    before = snapshot(book)
    result = invoke("-C", book, "run", "--today", NEXT)
    assert result.exit_code == 70
    assert result.stderr == (
        "cadence: internal error (RuntimeError)\n"
        "  hint: a bug in cadence; run again with --debug to see the traceback "
        "(it may show contact data)\n")
    assert result.stdout == ""
    assert snapshot(book) == before
    as_json = invoke("-C", book, "run", "--today", NEXT, "--json")
    assert as_json.exit_code == 70 and _one_document(as_json.stdout)["error"]["code"] == 70
    debug = invoke("--debug", "-C", book, "run", "--today", NEXT)
    assert isinstance(debug.exception, RuntimeError)  # --debug lets it through


def test_an_unforeseen_os_error_is_74(book, monkeypatch):
    from cadence import actions as run_module

    def unreadable(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "templates/hello.j2")

    monkeypatch.setattr(run_module, "prepare", unreadable)
    result = invoke("-C", book, "run", "--today", NEXT)
    assert result.exit_code == 74
    assert result.stderr.startswith("templates/hello.j2: I/O error: Permission denied\n")


def test_no_traceback_from_a_real_process(book):
    """Typer prints a rich traceback for an exception that reaches it; none may reach it."""
    wrapper = ("import cadence.actions as r\n"
               "def prepare(*a, **k):\n    raise RuntimeError('Ann Lind +46701234567')\n"
               "r.prepare = prepare\n")
    result = cadence_process("-C", book, "run", "--today", NEXT, wrapper=wrapper)
    assert result.returncode == 70
    assert b"Traceback" not in result.stderr and b"Ann Lind" not in result.stderr
    assert result.stdout == b""
    debug = cadence_process("--debug", "-C", book, "run", "--today", NEXT, wrapper=wrapper)
    assert debug.returncode == 1 and b"RuntimeError" in debug.stderr


def test_an_interrupt_is_130(book, monkeypatch):
    from cadence import actions as run_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "prepare", interrupted)
    result = invoke("-C", book, "run", "--today", NEXT)
    assert result.exit_code == 130 and result.stderr == "interrupted\n"


def test_a_closed_pipe_is_quiet(book):
    """`cadence due | head -1`: the reader goes away; no traceback, no noise, and the exit
    code of a program that SIGPIPE ended (README "Exit codes": 141)."""
    process = cadence_popen("-C", book, "due", "--today", NEXT)
    process.stdout.close()  # nobody reads
    err = process.stderr.read()
    process.wait(timeout=60)
    process.stderr.close()
    assert (process.returncode, err) == (141, b"")


@pytest.mark.parametrize("options", [[], ["--json"]])
def test_a_full_stdout_is_an_io_error_not_a_traceback(book, options):
    """`cadence due --json > file` on a full disk: the message on stderr, exit 74 (README
    "Exit codes"), and no second attempt at stdout for the JSON error document."""
    with open("/dev/full", "wb") as full:
        process = cadence_popen("-C", book, "due", "--today", NEXT, *options, stdout=full)
        err = process.stderr.read()
        process.wait(timeout=60)
        process.stderr.close()
    assert process.returncode == 74
    assert err.decode() == ("cadence: I/O error: No space left on device\n"
                                    "  hint: check the file and the disk, then try again\n")


# --- NO_COLOR ---------------------------------------------------------------------------------

def _a_terminal(monkeypatch):
    """As if stdout were a terminal: tables then go through rich, which may style them."""
    import cadence.terminal as output

    monkeypatch.setattr(output.os, "isatty", lambda fd: True)


def test_forced_colour_shows_styles(book, monkeypatch):
    """The control for NO_COLOR: a terminal that asks for colour gets escape codes."""
    _a_terminal(monkeypatch)
    result = invoke("-C", book, "due", "--today", NEXT, env={"NO_COLOR": None, "FORCE_COLOR": "1"})
    assert "\x1b[" in result.stdout


def test_no_color_means_no_escape_codes(book, monkeypatch):
    _a_terminal(monkeypatch)
    result = invoke("-C", book, "due", "--today", NEXT, env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert "\x1b[" not in result.output


def test_no_color_without_a_terminal(book):
    for args in (["due", "--today", NEXT], ["plan", "c1", "--today", NEXT], ["check"],
                 ["due", "--bogus"]):
        result = invoke("-C", book, *args, env={"NO_COLOR": "1"})
        assert "\x1b[" not in result.output, args


# --- the exit codes of the README, each one produced ----------------------------------------

def _readme_codes() -> dict:
    text = open(README, encoding="utf-8").read()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)}


def _lock_held(root, monkeypatch):
    from filelock import FileLock

    original = cadence.files.Lock.__init__

    def quick(self, folder, timeout=10.0):
        original(self, folder, timeout=0.1)

    monkeypatch.setattr(cadence.files.Lock, "__init__", quick)
    held = FileLock(os.path.join(root, cadence.files.LOCK_NAME))
    held.acquire()
    return held


def _fail_writes(code):
    def fault(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fault


def produce(code: int, root, monkeypatch, request=None):
    """Run the case that must end in `code`; returns the result."""
    run = ["-C", root, "run", "--today", NEXT]
    if code == 0:
        return invoke(*run)
    if code == 1:  # a warning: a last_step the playbook no longer has
        build(root, {"contacts.csv": "id,name,email,playbook,started,last_step,last_touch\n"
                                     "c1,Ann,ann@example.com,p,2026-11-01,gone,2026-11-02\n"})
        return invoke("-C", root, "check", "--strict")
    if code == 2:
        return invoke(*run, "--bogus")
    if code == 65:
        build(root, {"contacts.csv": "id,name,started\nc1,Ann,2026-02-30\n"})
        return invoke(*run)
    if code == 66:
        os.remove(os.path.join(root, "contacts.csv"))
        return invoke(*run)
    if code == 70:
        from cadence import actions as run_module

        monkeypatch.setattr(run_module, "prepare", _explode)
        return invoke(*run)
    if code == 73:
        monkeypatch.setattr(cadence.files.os, "replace", _fail_writes(errno.EROFS))
        return invoke(*run)
    if code == 74:
        monkeypatch.setattr(cadence.files.os, "replace", _fail_writes(errno.EIO))
        return invoke(*run)
    if code == 75:
        held = _lock_held(root, monkeypatch)
        try:
            return invoke(*run)
        finally:
            held.release()
    if code == 77:  # the mail server refuses the login
        server = request.getfixturevalue("mail_server")
        user = request.getfixturevalue("mail_user")
        build(root, {"cadence.yaml": CONFIG + f"mail:\n  imap: {server.host}:{server.imaps_port}\n"
                                              f"  user: {user.login}\n"})
        return invoke("-C", root, "sync", "--today", NEXT,
                      env={"CADENCE_IMAP_PASSWORD": WRONG_PASSWORD,
                           "SSL_CERT_FILE": str(server.ca_file)})
    if code == 78:
        build(root, {"cadence.yaml": "timezone: Mars/Olympus\n"})
        return invoke(*run)
    if code == 141:  # the reader of stdout left (`cadence run | head -1`) while run printed
        import cadence.commands.run as run_command

        def gone(*args, **kwargs):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        monkeypatch.setattr(run_command, "say", gone)
        return invoke(*run)
    if code == 130:
        from cadence import actions as run_module

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(run_module, "prepare", interrupted)
        return invoke(*run)
    raise AssertionError(f"no case produces exit code {code}")


def test_the_readme_lists_these_exit_codes():
    assert sorted(_readme_codes()) == [0, 1, 2, 65, 66, 70, 73, 74, 75, 77, 78, 130, 141]


@pytest.mark.parametrize("code", sorted(_readme_codes()))
def test_every_exit_code_of_the_readme_happens(tmp_path, monkeypatch, request, code):
    root = build(tmp_path / "book")
    result = produce(code, root, monkeypatch, request)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    if code > 2 and code != 141:  # 141: the reader left; like any program, nothing to say
        assert result.stderr.strip(), "every failure says why on stderr"


def test_the_guarantees_name_tests_that_exist():
    """README's Guarantees section names the tests behind each promise: they must exist."""
    import ast

    text = open(README, encoding="utf-8").read()
    section = text.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    here = os.path.dirname(os.path.abspath(__file__))
    named, current = [], None
    for token in re.findall(r"`([^`]+)`", section):
        file, _, name = token.partition("::")
        if file.startswith("test_") and file.endswith(".py"):
            current = file
            if name:
                named.append((current, name))
        elif token.startswith("test_") and current:
            named.append((current, token))
    assert len(named) > 30
    defined = {}
    for file, name in named:
        if file not in defined:
            tree = ast.parse(open(os.path.join(here, file), encoding="utf-8").read())
            defined[file] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in defined[file], f"README names {file}::{name}, which does not exist"


def test_doctors_crontab_line_runs_as_cron_runs_it(tmp_path):
    """README "From cron": the line doctor prints, with a `%` and a space in the book's path
    and a `$` in the program's: cron turns `\\%` into `%` (crontab(5)) and gives the rest to
    sh; a failing step leaves its messages in the log and prints one line with its exit code."""
    import subprocess

    from cadence.commands.doctor import cron_line

    book = tmp_path / "my book 100%"
    book.mkdir()
    program = tmp_path / "bin $x" / "cadence"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\necho \"$1 says why\" >&2\n[ \"$1\" = sync ] && exit 74\nexit 0\n")
    program.chmod(0o755)
    mailto, line = cron_line(str(book), str(program), "eva@konsult.example", True).splitlines()
    assert mailto == "MAILTO=eva@konsult.example"
    assert "%" not in line.replace("\\%", "")  # every % escaped
    command = line.split("  ", 1)[1].replace("\\%", "%")  # what cron hands to sh
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    log = book / "cron.log"
    assert done.stdout == f"cadence sync failed (exit 74): see {log}\n"  # what cron mails
    assert log.read_text() == "sync says why\nrun says why\n"  # run ran all the same


def test_a_run_whose_reader_leaves_is_done_and_says_141(tmp_path):
    """README "Exit codes": `cadence run | head -1` ends with 141, as a program that SIGPIPE
    ended does, not with 1 ("nothing to act on"); the run wrote what it writes without the
    pipe, and no traceback or "Exception ignored" reaches stderr."""
    piped, plain = build(tmp_path / "piped"), build(tmp_path / "plain")
    process = cadence_popen("-C", piped, "run", "--today", TODAY)
    process.stdout.close()  # the reader is gone before the first line: its write fails
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == b""
    process.stderr.close()
    assert cadence_process("-C", plain, "run", "--today", TODAY).returncode == 0
    for name in ("contacts.csv", "history.csv"):
        with open(os.path.join(piped, name), "rb") as a, open(os.path.join(plain, name), "rb") as b:
            assert a.read() == b.read(), name
    drafts = [sorted(os.listdir(os.path.join(root, "drafts", TODAY))) for root in (piped, plain)]
    assert drafts[0] == drafts[1] and drafts[0]


def test_doctor_quiet_says_on_stderr_what_stops_a_run(tmp_path, monkeypatch):
    """README: `--quiet` prints nothing on success; errors still go to stderr with a non-zero
    exit. A book with init's placeholder sender is not ready: exit 1, and cron's mail says
    why, each finding that stops a run on its own line."""
    from typer.testing import CliRunner

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "book")]).exit_code == 0
    loud = runner.invoke(app, ["-C", str(tmp_path / "book"), "doctor"])
    quiet = runner.invoke(app, ["-C", str(tmp_path / "book"), "doctor", "--quiet"])
    assert loud.exit_code == quiet.exit_code == 1
    assert quiet.stdout == ""
    assert "sender: " in quiet.stderr and "placeholder" in quiet.stderr
    assert all(line.split(": ", 1)[1] in loud.stdout for line in quiet.stderr.splitlines()
               if not line.startswith("  hint: "))
    ready = runner.invoke(app, ["-C", str(tmp_path / "book"), "doctor", "--quiet", "--json"])
    assert ready.stderr == ""

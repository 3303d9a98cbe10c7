"""Golden tests of the error messages: one case per message, as hledger keeps them (test/errors/).

The text of a message and its exit code are part of the interface. A case is a folder
tests/errors/<case>/ (its name says what is wrong) holding:

  book/      the files of a small book; each run works on a copy in a temporary folder
  case.yaml  args:  the command line, run inside the book's copy (`cd book && cadence ARGS`),
                    so that paths print as people see them: `contacts.csv:2:40: ...`; an
                    argument written `!!binary` is raw bytes, decoded as Python decodes argv
             env:   environment variables, optional
             setup: what plain files cannot hold, optional (see `prepare`)
             note:  why the case is remarkable, optional (e.g. a message worth improving)
             leaves: what the command leaves in the book although it failed, optional: a
                    defect, listed so that the test sees it (drop it once fixed)
  stderr     all that the command printed on stderr
  exit       its exit code
  stdout     what it printed on stdout, when it printed anything (the JSON document of --json,
             `check`'s summary line)

Each case must print exactly that, and write nothing: every file and folder of the book is the
same before and after, byte for byte (but for `.cadence.lock`, which the commands that take the
lock leave behind, empty, and what `leaves` lists). `python -m pytest --update-golden` rewrites
stderr, exit and stdout from what the commands print; review the diff.

The mailbox cases (`sync`, `push`; SPEC section 10) that need a server name it in `setup:
mailbox:` (see `prepare`): the test starts it through the fixtures of tests/mail/, and appends
the `mail:` section that reaches it to the copy's cadence.yaml before the snapshot. What varies
from run to run is written the same in the compared output: a port of the test machine
(`127.0.0.1:41234`) as `127.0.0.1:<port>`, the test user's login (`eva.7@konsult.example`) as
`eva@konsult.example`. CADENCE_IMAP_PASSWORD is unset for every case unless its mailbox sets it.

`test_every_message_has_a_case` reads the package's source and fails naming each message that
no case's stderr shows.
"""
from __future__ import annotations

import ast
import builtins
import errno
import importlib
import os
import re
import shutil

import pytest
import yaml
from typer.testing import CliRunner

import cadence
from cadence.main import app
from mail.faults import WRONG_PASSWORD
from mail.fixtures import *  # noqa: F401,F403  (the mail server's fixtures, for `mailbox`)
from mail.messages import make
from mail.server import append

HERE = os.path.dirname(os.path.abspath(__file__))
ERRORS = os.path.join(HERE, "errors")
PACKAGE = os.path.dirname(os.path.abspath(cadence.__file__))
CASES = sorted(name for name in os.listdir(ERRORS)
               if os.path.isfile(os.path.join(ERRORS, name, "case.yaml")))
LOCK = ".cadence.lock"


def snapshot(root: str) -> dict:
    """{relative path: bytes, ("link", target) or "folder"} of everything under root."""
    found = {}
    for base, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                found[rel] = "folder"
            elif not os.path.isfile(path):
                found[rel] = "not a regular file"  # a pipe: reading it would wait for ever
            elif name != LOCK:
                with open(path, "rb") as handle:
                    found[rel] = handle.read()
    return found


def prepare(root: str, setup: dict, monkeypatch, request) -> dict:
    """Apply a case's `setup` steps to its book's copy; returns {path: bytes} that the case
    itself writes on purpose (an edit by someone else during the run).

    mkdir: [path, ...]            empty folders (git keeps none)
    symlink: {path: target}       symbolic links
    mkfifo: [path, ...]           named pipes (a planted one would block a read for ever)
    hardlink: {path: existing}    a second name for a file of the book
    chown: {path: uid}            a file another user owns (the tests run as root)
    hold_lock: true               another run holds the book's lock (the wait is cut to 0.1 s)
    fail: {call: os.replace, errno: EIO}
                                  every call of that function (module, then name) raises
                                  that OSError (a full disk, a broken one)
    edit: {before: cadence.files.append_bytes, path: contacts.csv, append: "text"}
                                  someone appends to a book file just before that call
    set: {cadence.guard.RENDER_SECONDS: 0.5}
                                  a module's setting, for the case (a limit, made short)
    clock: 2026-12-03             the clock's date (cadence.cli.clock_today), for messages
                                  that name it
    replace: {before: cadence.files._still_ours, path: contacts.csv, text: "text"}
                                  someone saves a book file as Excel does (a new file renamed
                                  over it) just before that call
    mailbox: {kind: dovecot, password: wrong, yaml: "  timeout: 1\n",
              messages: {INBOX: [gmail_reply]}, cut: FETCH}
                                  an IMAP server for sync and push, and the `mail:` section
                                  (imap, user, then `yaml`'s lines) appended to cadence.yaml;
                                  kind: dovecot (the test server, implicit TLS), refused (a
                                  port that refuses), silent (accepts, never answers),
                                  untrusted (a self-signed certificate), wrong-host (a
                                  certificate for another host), tls-on-plain-port (Dovecot's
                                  plain IMAP port, spoken to in TLS), cut (a proxy that cuts
                                  the connection once the command `cut` is sent); password:
                                  wrong gives a password the server refuses; `messages` are
                                  put in the folders first (kinds of tests/mail/messages.py)
    """
    edited = {}
    monkeypatch.delenv("CADENCE_IMAP_PASSWORD", raising=False)
    if "mailbox" in setup:
        _mailbox(root, setup["mailbox"], monkeypatch, request)
    for dotted, value in (setup.get("set") or {}).items():
        module_name, _, name = dotted.rpartition(".")
        monkeypatch.setattr(importlib.import_module(module_name), name, value)
    if "clock" in setup:
        import datetime

        import cadence.cli

        day = datetime.date.fromisoformat(str(setup["clock"]))
        monkeypatch.setattr(cadence.cli, "clock_today", lambda cfg: day)
    for path in setup.get("mkdir", ()):
        os.makedirs(os.path.join(root, path))
    for path, target in setup.get("symlink", {}).items():
        os.symlink(target, os.path.join(root, path))
    for path in setup.get("mkfifo", ()):
        os.mkfifo(os.path.join(root, path))
    for path, existing in setup.get("hardlink", {}).items():
        os.link(os.path.join(root, existing), os.path.join(root, path))
    for path, uid in setup.get("chown", {}).items():
        os.chown(os.path.join(root, path), uid, -1)
    if setup.get("hold_lock"):
        from filelock import FileLock

        import cadence.files

        held = FileLock(os.path.join(root, LOCK))
        held.acquire()
        request.addfinalizer(held.release)
        monkeypatch.setattr(cadence.files.Lock, "__init__", _quick(cadence.files.Lock.__init__))
    if "fail" in setup:
        step = setup["fail"]
        code = getattr(errno, step["errno"])

        def fails(real):
            def call(*args, **kwargs):
                raise OSError(code, os.strerror(code))
            return call
        _replace(monkeypatch, step["call"], fails)
    if "edit" in setup:
        step = setup["edit"]
        path = os.path.join(root, step["path"])

        def edits_first(real):
            def call(*args, **kwargs):
                with open(path, "ab") as handle:
                    handle.write(step["append"].encode("utf-8"))
                with open(path, "rb") as handle:
                    edited[step["path"]] = handle.read()
                return real(*args, **kwargs)
            return call
        _replace(monkeypatch, step["before"], edits_first)
    if "replace" in setup:
        step = setup["replace"]
        path = os.path.join(root, step["path"])

        def saves_first(real):
            def call(*args, **kwargs):
                with open(path + ".saving", "wb") as handle:
                    handle.write(step["text"].encode("utf-8"))
                os.replace(path + ".saving", path)
                edited[step["path"]] = step["text"].encode("utf-8")
                return real(*args, **kwargs)
            return call
        _replace(monkeypatch, step["before"], saves_first)
    return edited


MAIL_SERVERS = {"refused": "refused_port", "silent": "silent_server",
                "untrusted": "untrusted_tls", "wrong-host": "wrong_host_tls"}


def _mailbox(root: str, step: dict, monkeypatch, request) -> None:
    """The `mailbox` setup step (see `prepare`)."""
    server = request.getfixturevalue("mail_server")
    user = request.getfixturevalue("mail_user")
    kind = step.get("kind", "dovecot")
    if kind == "dovecot":
        address = f"{server.host}:{server.imaps_port}"
    elif kind == "tls-on-plain-port":
        address = f"{server.host}:{server.imap_port}"
    elif kind == "cut":
        address = request.getfixturevalue("imap_proxy")(cut_after_command=step["cut"]).address
    else:
        address = request.getfixturevalue(MAIL_SERVERS[kind]).address
    for folder, kinds in (step.get("messages") or {}).items():
        for name in kinds:
            append(server, user, folder, make(name))
    monkeypatch.setenv("CADENCE_IMAP_PASSWORD",
                       WRONG_PASSWORD if step.get("password") == "wrong" else user.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
    with open(os.path.join(root, "cadence.yaml"), "a", encoding="utf-8") as handle:
        handle.write(f"mail:\n  imap: {address}\n  user: {user.login}\n" + step.get("yaml", ""))


def normal(text: str) -> str:
    """Output with what varies from run to run written one way: the ports of the test
    machine's servers, the per-test login of the test mail server."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    return re.sub(r"\beva\.\d+@konsult\.example", "eva@konsult.example", text)


def _quick(init):
    def quick(self, root, timeout=10.0):
        init(self, root, timeout=0.1)
    return quick


def _replace(monkeypatch, dotted: str, wrap) -> None:
    """Replace module attribute `dotted` (a builtin such as `open` may be named through the
    module that calls it: cadence.book.open) by wrap(the real one)."""
    module_name, _, name = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    real = getattr(module, name, None) or getattr(builtins, name)
    monkeypatch.setattr(module, name, wrap(real), raising=False)


def _read(path: str):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def _write(path: str, text) -> None:
    if text is None:
        if os.path.exists(path):
            os.remove(path)
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


@pytest.mark.parametrize("name", CASES)
def test_error_case(name, tmp_path, monkeypatch, request, update_golden):
    folder = os.path.join(ERRORS, name)
    with open(os.path.join(folder, "case.yaml"), encoding="utf-8") as handle:
        case = yaml.safe_load(handle)
    root = str(tmp_path / "book")
    shutil.copytree(os.path.join(folder, "book"), root, symlinks=True)
    edited = prepare(root, case.get("setup") or {}, monkeypatch, request)
    before = snapshot(root)
    monkeypatch.chdir(root)
    args = [os.fsdecode(arg) if isinstance(arg, bytes) else str(arg) for arg in case["args"]]
    result = CliRunner().invoke(app, args, prog_name="cadence",
                                env={k: str(v) for k, v in (case.get("env") or {}).items()})
    monkeypatch.chdir(HERE)
    after = snapshot(root)
    # a path outside the book's copy prints as <tmp>/..., the same on every machine
    got = {"stderr": normal(result.stderr.replace(str(tmp_path), "<tmp>")),
           "exit": f"{result.exit_code}\n",
           "stdout": normal((result.stdout or "").replace(str(tmp_path), "<tmp>")) or None}
    if update_golden:
        for file, text in got.items():
            _write(os.path.join(folder, file), text)
    assert "Traceback" not in result.output
    assert {file: _read(os.path.join(folder, file)) for file in got} == got
    expected = {**before, **edited}
    expected.update({path: after.get(path, "(not left)") for path in case.get("leaves", ())})
    assert after == expected


# --- every message has a case ------------------------------------------------------------------

# Calls that take a message for people, and the position of that argument. `report` is the
# YAML checker's, `error` the YAML ledger reader's; `warning`/`warn` are the lints'.
MESSAGE_ARG = {
    "Problem": 1, "report": 1, "error": 1, "_problem_at": 2, "problem": 3, "_Refused": 1,
    "warning": 2, "warn": 2, "CellError": 0, "ValueError": 0, "LedgerWriteError": 0,
    "Runaway": 0, "TemplateSyntaxError": 0,
}
# Functions whose returned text becomes (part of) a message: {name: index in a returned tuple}.
RETURNS_MESSAGE = {"judge": 0, "check_expr": None, "_unusable": None,
                   "too_deep_for_python": None}

# Messages that no one can bring about from the command line: {a piece of the message: why}.
UNREACHABLE = {
    "the bundled example files are missing from this install":
        "an install without the package's own playbooks and templates; no book causes it",
    "cannot write the ledger in ": "a backstop: each value is checked for the encoding first",
    "expected a duration such as '3 days', got":
        "parse_duration is only ever given text; the message for text has its case",
    "the ledger nests too deeply": "a safety net: the YAML ledger reader does not recurse",
    "it holds a lone surrogate": "what `run` writes to a ledger comes from YAML, a strictly "
                                 "decoded ledger or checked options: none holds a surrogate",
    "cannot address the email to contact ": "a backstop: the ledger and the config refuse "
                                            "every address a draft's header cannot hold",
    "unreadable character": "PyYAML gives every character it refuses a reason",
    "the ledger would not read back as written":
        "a backstop of `add`: each value is written in a form proven to read back",
    ": the connection was closed": "a backstop in mailbox.network_problem: imaplib and IMAPClient "
                                   "report a connection closed under them as IMAP4.abort "
                                   "(\"socket error: EOF\"), worded by the branch before it "
                                   "(case sync-connection-cut-during-fetch); neither raises "
                                   "EOFError",
    "it holds a NUL character": "a backstop of the ledger's writer: cadence.yaml's and the "
                                "playbooks' texts refuse a NUL where it stands "
                                "(case playbook-a-nul-in-a-step-id); test_ledger.py gives one "
                                "to the writer by hand",
    "the template needs more memory than there is":
        "only a template that allocates in a way no bound foresaw; test_render.py raises "
        "MemoryError by hand",
}


def _callee(func) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _assigned(node) -> dict:
    """{name: [expressions assigned to it]} in a function, or at a module's top level."""
    found = {}
    children = node.body if isinstance(node, ast.Module) else ast.walk(node)
    for child in children:
        targets = child.targets if isinstance(child, ast.Assign) else \
            [child.target] if isinstance(child, ast.AugAssign) else []
        for target in targets:
            if isinstance(target, ast.Name):
                found.setdefault(target.id, []).append(child.value)
    return found


class _Messages(ast.NodeVisitor):
    """Each message a module can produce, as its literal pieces in order (None: a value)."""

    def __init__(self, module):
        self.scopes = [_assigned(module)]
        self.found = []
        self.visit(module)

    def visit_FunctionDef(self, node):
        self.scopes.append(_assigned(node))
        if node.name in RETURNS_MESSAGE:
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    value, index = ret.value, RETURNS_MESSAGE[node.name]
                    self.take(value.elts[index] if isinstance(value, ast.Tuple) else value)
        self.generic_visit(node)
        self.scopes.pop()

    def visit_Call(self, node):
        index = MESSAGE_ARG.get(_callee(node.func))
        if index is not None:
            star = next((i for i, a in enumerate(node.args) if isinstance(a, ast.Starred)), None)
            if star is not None and star < index:
                index = star + 1  # `_problem(path, *position, message)`
            message = next((k.value for k in node.keywords if k.arg == "message"), None)
            if message is None and index < len(node.args):
                message = node.args[index]
            if message is not None:
                self.take(message)
        self.generic_visit(node)

    def take(self, expr, seen=frozenset()) -> None:
        pieces = self.pieces(expr, seen)
        if sum(ch.isalpha() for piece in pieces if piece for ch in piece) >= 3:
            self.found.append((expr.lineno, pieces))

    def pieces(self, expr, seen) -> list:
        """The literal text of `expr`, None for what is filled in. A choice (`a if c else b`,
        `a or b`, a variable) is a gap here, and each of its texts a message of its own."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, ast.JoinedStr):
            return [piece for value in expr.values for piece in (
                [value.value] if isinstance(value, ast.Constant) else self.pieces(value.value, seen))]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self.pieces(expr.left, seen) + self.pieces(expr.right, seen)
        choices = []
        if isinstance(expr, ast.IfExp):
            choices = [expr.body, expr.orelse]
        elif isinstance(expr, ast.BoolOp):
            choices = expr.values
        elif isinstance(expr, ast.Name) and expr.id not in seen:
            choices = next((scope[expr.id] for scope in reversed(self.scopes) if expr.id in scope), [])
            seen = seen | {expr.id}
        for choice in choices:
            self.take(choice, seen)
        return [None]


def package_messages() -> list:
    """(where, pieces) of every message in cadence/**/*.py."""
    found = []
    for base, dirs, names in os.walk(PACKAGE):
        dirs.sort()
        for name in sorted(n for n in names if n.endswith(".py")):
            path = os.path.join(base, name)
            with open(path, encoding="utf-8") as handle:
                module = ast.parse(handle.read())
            rel = os.path.relpath(path, os.path.dirname(PACKAGE))
            found += [(f"{rel}:{line}", pieces) for line, pieces in _Messages(module).found]
    return found


def _shown(pieces, text: str) -> bool:
    """Does `text` hold the literal pieces in order?"""
    at = 0
    for piece in "".join(p if p is not None else "\0" for p in pieces).split("\0"):
        if piece:
            at = text.find(piece, at)
            if at < 0:
                return False
            at += len(piece)
    return True


def _spelt(pieces) -> str:
    return "".join(p if p is not None else "…" for p in pieces)


def test_every_message_has_a_case():
    shown = [_read(os.path.join(ERRORS, name, "stderr")) or "" for name in CASES]
    messages = package_messages()
    assert len(messages) > 150  # the reader still finds them
    exempt = [(where, pieces) for where, pieces in messages
              if any(key in _spelt(pieces) for key in UNREACHABLE)]
    missing = sorted({f"{where}: {_spelt(pieces)}" for where, pieces in messages
                      if (where, pieces) not in exempt
                      and not any(_shown(pieces, text) for text in shown)})
    assert missing == [], "messages without a case in tests/errors/:\n" + "\n".join(missing)
    stale = [key for key in UNREACHABLE if not any(key in _spelt(p) for _, p in messages)]
    assert stale == [], f"UNREACHABLE names messages the package no longer has: {stale}"
    reached = sorted({_spelt(pieces) for _, pieces in exempt
                      if any(_shown(pieces, text) for text in shown)})
    assert reached == [], f"UNREACHABLE names messages that a case shows: {reached}"

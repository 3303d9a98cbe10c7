"""Faults at every write step: nothing lost, nothing torn, and the next run redoes the day once.

SPEC section 8: drafts are written first, then the journal, then the ledger; if writing fails
midway, the ledger and journal are as they were and the next run redoes the day. Each test here
breaks one system call (the N-th write, fsync, rename or open, for every N until a run gets
through), or kills the process at a chosen point, and then compares the book with a clean run.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sys

import pytest

import cadence.draftfiles
import cadence.files
from cadence.commit import MARKER_NAME
from smallbook import (
    AFTER_THE_SWAP, JOURNAL, LEDGER, TODAY, build, cadence_process, changed, invoke, snapshot,
)

LEDGER_NAME, JOURNAL_NAME = "contacts.csv", "history.csv"


@pytest.fixture(scope="module")
def clean_root(tmp_path_factory) -> str:
    """The book after one clean `run --today TODAY`: what every faulty run must end up as."""
    root = build(tmp_path_factory.mktemp("clean"))
    result = invoke("-C", root, "run", "--today", TODAY)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def clean(clean_root) -> dict:
    after = snapshot(clean_root)
    assert after[LEDGER_NAME] != LEDGER.encode() and after[JOURNAL_NAME] != JOURNAL.encode()
    return after


def _target() -> str:
    """What the failing call was writing: read from the caller frames of the writers."""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_name in ("atomic_write", "_write_fresh", "_replace_draft", "append_bytes",
                            "truncate") \
                and code.co_filename in (cadence.files.__file__, cadence.draftfiles.__file__):
            return frame.f_locals["path"]
        if code.co_name == "fsync_dir":
            return "folder"
        if code.co_name == "load_config":
            return "config"
        if "filelock" in code.co_filename:
            return "lock"
        frame = frame.f_back
    return "other"


def _kind(path: str) -> str:
    name = os.path.basename(path)
    if name in (LEDGER_NAME, JOURNAL_NAME):
        return {LEDGER_NAME: "ledger", JOURNAL_NAME: "journal"}[name]
    if name == MARKER_NAME:
        return "marker"
    if os.sep + "drafts" + os.sep in path:
        return "draft"
    return path  # "lock", "folder", "other"


class Fault:
    """Replace os.<function>: the n-th call fails (and with `persist`, every later one)."""

    def __init__(self, function: str, n: int, code: int = errno.EIO, persist: bool = False,
                 tear: bool = False):
        self.function, self.n, self.code, self.persist, self.tear = function, n, code, persist, tear
        self.real = getattr(os, function)
        self.calls = 0
        self.hit = None  # the kind of write the fault hit

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n or (self.persist and self.calls > self.n):
            if self.calls == self.n:
                self.hit = _kind(_target())
                if self.tear and self.function == "write" and len(args[1]) > 1:
                    # a short write: half of the bytes reach the file, then the disk is full
                    return self.real(args[0], bytes(args[1][: len(args[1]) // 2]))
            raise OSError(self.code, os.strerror(self.code))
        return self.real(*args, **kwargs)


def _faulty_runs(tmp_path, clean, make_fault):
    """Run with the fault for n = 1, 2, ... until a run gets through; check every state."""
    hits = set()
    for n in range(1, 200):
        root = build(tmp_path / f"n{n}")
        before = snapshot(root)
        fault = make_fault(n)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cadence.files.os, fault.function, fault)
            result = invoke("-C", root, "run", "--today", TODAY)
        after = snapshot(root)
        assert "Traceback" not in result.output
        if fault.calls < n:  # the fault never fired: the run is a clean one
            assert result.exit_code == 0, result.output
            assert after == clean
            return hits
        hits.add(fault.hit)
        if result.exit_code == 0:
            # a failure the run may ignore (fsync of a folder, ...): the work is all done
            assert after == clean, (n, fault.hit, changed(clean, after))
        else:
            assert result.exit_code in (73, 74), (n, fault.hit, result.output)
            # (the config is opened by os.open too: a read that fails says so)
            assert "cannot write" in result.stderr or (
                fault.hit == "config" and "cannot read the config" in result.stderr), result.stderr
            # the ledger and the journal are the old files, byte for byte
            assert after[LEDGER_NAME] == before[LEDGER_NAME], (n, fault.hit)
            assert after[JOURNAL_NAME] == before[JOURNAL_NAME], (n, fault.hit)
            assert not [k for k in changed(before, after) if not k.startswith("drafts/")]
        again = invoke("-C", root, "run", "--today", TODAY)
        assert again.exit_code == 0, again.output
        assert snapshot(root) == clean, (n, fault.hit, changed(clean, snapshot(root)))
    raise AssertionError("a run never got through")


@pytest.mark.parametrize("function, kinds", [
    ("write", {"draft", "marker", "journal", "ledger"}),
    ("fsync", {"marker", "journal", "ledger"}),  # drafts: one os.sync, tested below
    ("replace", {"draft", "marker", "ledger"}),
    ("open", {"lock", "draft", "marker", "journal", "ledger"}),
])
def test_a_failure_at_every_call(tmp_path, clean, function, kinds, monkeypatch):
    if function == "replace":
        # the ledger as where the system has no atomic swap (renameat2): by os.replace; the
        # swap's own failures are in test_security.py
        monkeypatch.setattr(cadence.files, "_exchange", lambda a, b: False)
    hits = _faulty_runs(tmp_path, clean, lambda n: Fault(function, n))
    assert hits >= kinds, hits  # every write step was hit at least once


def _sync_order(monkeypatch) -> list:
    """What reaches the disk, in order: ("fsync", path) of a file or folder, ("replace",
    path) a rename to it, "sync" (all of it), "journal" (the journal's append)."""
    import cadence.files as files

    order = []
    real_fsync, real_sync, real_append = files.os.fsync, files.os.sync, files.append_bytes
    real_replace = files.os.replace

    def replace(src, dst, **kwargs):
        order.append(("replace", os.path.realpath(dst)))
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(files.os, "replace", replace)

    def fsync(fd):
        order.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "sync", lambda: (order.append("sync"), real_sync())[1])
    monkeypatch.setattr(files, "append_bytes",
                        lambda path, data: (order.append("journal"), real_append(path, data))[1])
    return order


def test_drafts_are_synced_before_the_journal_names_them(tmp_path, monkeypatch):
    """A morning's few drafts reach the disk one by one, with the day's folder and the folder
    that holds it, before the journal says they exist; no sync of the whole machine."""
    order = _sync_order(monkeypatch)
    root = build(tmp_path)
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    before = order[:order.index("journal")]
    day = os.path.realpath(os.path.join(root, "drafts", TODAY))
    synced = [path for kind, path in before if kind == "fsync"]
    # each draft and the day's index, written in the day's folder under a hidden name (then
    # renamed into place), and that folder
    hidden = {os.path.dirname(path) for path in synced if path.endswith("index.md")}
    assert len(hidden) == 1 and os.path.dirname(hidden.pop()) == os.path.dirname(day)
    assert sorted(os.listdir(day)) == sorted(os.path.basename(path) for path in synced
                                             if os.path.dirname(os.path.dirname(path))
                                             == os.path.dirname(day))
    assert os.path.dirname(day) in synced  # the drafts folder, once the day's is in it
    assert "sync" not in order


def test_drafts_a_take_back_sets_aside_are_synced_with_their_folder_first(tmp_path,
                                                                          monkeypatch):
    """`undo` sets the day's drafts aside (renames them in their folder): the folder reaches
    the disk before the journal says the touches are taken back."""
    root = build(tmp_path)
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    order = _sync_order(monkeypatch)
    monkeypatch.setenv("CADENCE_TODAY", TODAY)
    assert invoke("-C", root, "undo", "c1").exit_code == 0
    day = os.path.realpath(os.path.join(root, "drafts", TODAY))
    before = order[:order.index("journal")]
    renamed = max(i for i, step in enumerate(before) if step[0] == "replace"
                  and os.path.dirname(step[1]) == day)  # the last draft set aside
    assert ("fsync", day) in before[renamed:] and "sync" not in order


def test_thousands_of_drafts_are_synced_at_once(tmp_path, monkeypatch):
    """Over commit.ONE_BY_ONE drafts (24,000 on a Monday), one sync of everything comes before
    the journal names them, and no draft is synced by itself."""
    import cadence.commit

    monkeypatch.setattr(cadence.commit, "ONE_BY_ONE", 1)
    order = _sync_order(monkeypatch)
    root = build(tmp_path)
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    assert order.index("sync") < order.index("journal")
    assert not [path for kind, path in (o for o in order if isinstance(o, tuple))
                if kind == "fsync" and "/drafts/" in path]


def test_a_full_disk_at_every_write(tmp_path, clean):
    """ENOSPC from the n-th write on, the n-th one short: a torn append is undone."""
    hits = _faulty_runs(tmp_path, clean,
                        lambda n: Fault("write", n, errno.ENOSPC, persist=True, tear=True))
    assert hits >= {"draft", "marker", "journal", "ledger"}, hits


def test_a_full_disk_says_so(tmp_path):
    root = build(tmp_path)
    before = snapshot(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cadence.files.os, "write", Fault("write", 1, errno.ENOSPC, persist=True))
        result = invoke("-C", root, "run", "--today", TODAY, "--json")
    assert result.exit_code == 73
    assert "cannot write: No space left on device" in result.stderr
    assert "hint: check the folder's permissions and free space" in result.stderr
    assert json.loads(result.stdout)["error"]["code"] == 73
    assert not [k for k in changed(before, snapshot(root)) if not k.startswith("drafts/")]


def _read_only(root):
    """os.open and os.replace as in a read-only folder: EACCES for anything that writes there."""
    real_open, real_replace = os.open, os.replace
    inside = os.path.realpath(root) + os.sep

    def guarded_open(path, flags, *args, **kwargs):
        writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC)
        if writes and os.path.realpath(path).startswith(inside):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, *args, **kwargs)

    def guarded_replace(src, dst, *args, **kwargs):
        if os.path.realpath(dst).startswith(inside):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), dst)
        return real_replace(src, dst, *args, **kwargs)

    return guarded_open, guarded_replace


@pytest.mark.parametrize("command", [["run", "--today", TODAY], ["reply", "c1", "--today", TODAY]])
def test_a_read_only_book_is_73_and_unchanged(tmp_path, command):
    """Simulated with EACCES: the tests run as root, for whom chmod does not stop a write."""
    root = build(tmp_path)
    before = snapshot(root)
    guarded_open, guarded_replace = _read_only(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cadence.files.os, "open", guarded_open)
        patch.setattr(cadence.files.os, "replace", guarded_replace)
        result = invoke("-C", root, *command)
    assert result.exit_code == 73, result.output
    assert "cannot write: Permission denied" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(root) == before


def _as_nobody(function) -> int:
    """Run `function` in a forked child without root's power to write through permission
    bits (as the user `nobody` when we are root); return what it returns, an int."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 99
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            code = function()
        finally:
            os.write(write, str(code).encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as handle:
        answer = handle.read()
    os.waitpid(pid, 0)
    return int(answer or 99)


# Python 3.12 and later warn that a fork in a process with threads may deadlock: under
# pytest-xdist, execnet's thread is one. The child takes no lock that thread may hold: it runs
# one in-process command and leaves by os._exit.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_a_chmod_read_only_folder_is_73_and_unchanged():
    import shutil
    import tempfile

    base = tempfile.mkdtemp()  # not under pytest's folder, which only its owner may enter
    try:
        os.chmod(base, 0o755)
        root = build(__import__("pathlib").Path(base) / "book")
        os.makedirs(os.path.join(root, "drafts"))
        for folder, dirs, names in os.walk(root):
            os.chmod(folder, 0o555)
            for name in names:
                os.chmod(os.path.join(folder, name), 0o444)
        before = snapshot(root)
        # `nobody` cannot read this interpreter's standard library: import what a run needs first
        warm = build(__import__("pathlib").Path(base) / "warm")
        assert invoke("-C", warm, "run", "--today", TODAY).exit_code == 0
        code = _as_nobody(lambda: invoke("-C", root, "run", "--today", TODAY).exit_code)
        assert code == 73
        assert snapshot(root) == before
    finally:
        for folder, dirs, _ in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)
        shutil.rmtree(base)


# --- SIGKILL in the middle of a run ------------------------------------------------------------

KILL = "import os, signal\ndef die():\n    os.kill(os.getpid(), signal.SIGKILL)\n"

KILL_POINTS = {
    "after the first draft": """
import cadence.files as f
real = os.replace
def replace(src, dst, *a, **k):
    real(src, dst, *a, **k)
    if os.sep + 'drafts' + os.sep in dst: die()
f.os.replace = replace
""",
    "inside a draft's write, before its rename": """
import cadence.files as f
real = os.replace
def replace(src, dst, *a, **k):
    if os.sep + 'drafts' + os.sep in dst: die()
    return real(src, dst, *a, **k)
f.os.replace = replace
""",
    "after the marker": """
import cadence.files as f
from cadence.commit import MARKER_NAME
real = f.atomic_write
def atomic_write(path, data, **options):
    real(path, data, **options)
    if path.endswith(MARKER_NAME): die()
f.atomic_write = atomic_write
""",
    "half way through the journal append": """
import cadence.files as f
def append_bytes(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, data[: len(data) - 5])  # the last row torn
    os.fsync(fd)
    die()
f.append_bytes = append_bytes
""",
    "after the journal append": """
import cadence.files as f
real = f.append_bytes
def append_bytes(path, data):
    real(path, data)
    die()
f.append_bytes = append_bytes
""",
    "inside the ledger's write, before its rename": """
import cadence.files as f
real, real_exchange = os.replace, f._exchange
def replace(src, dst, *a, **k):
    if dst.endswith('contacts.csv'): die()
    return real(src, dst, *a, **k)
def exchange(a, b):
    if b.endswith('contacts.csv'): die()
    return real_exchange(a, b)
f.os.replace, f._exchange = replace, exchange
""",
    "after the ledger's rename, before the marker is gone": """
import cadence.files as f
from cadence.commit import MARKER_NAME
real = os.unlink
def unlink(path, *a, **k):
    if str(path).endswith(MARKER_NAME): die()
    return real(path, *a, **k)
f.os.unlink = unlink
""",
}


def _journal_rows(data: bytes) -> list:
    text = data.decode("utf-8")
    assert text.endswith("\n"), "a torn row at the end of the journal"
    return text.splitlines()


@pytest.mark.parametrize("point", KILL_POINTS, ids=list(KILL_POINTS))
def test_sigkill_mid_run(tmp_path, clean_root, clean, point):
    root = build(tmp_path / "book")
    before = snapshot(root)
    due_before = invoke("-C", root, "due", "--today", TODAY, "--json").stdout
    due_after = invoke("-C", clean_root, "due", "--today", TODAY, "--json").stdout
    assert due_before != due_after
    killed = cadence_process("-C", root, "run", "--today", TODAY, wrapper=KILL + KILL_POINTS[point])
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    after = snapshot(root)
    # the ledger is the old file or the new one, byte for byte
    assert after[LEDGER_NAME] in (before[LEDGER_NAME], clean[LEDGER_NAME])
    # readers (no lock, no recovery) see the book before the run, or after it: never a mix
    old = after[LEDGER_NAME] == before[LEDGER_NAME]
    due = invoke("-C", root, "due", "--today", TODAY, "--json")
    assert due.exit_code == 0, due.output
    assert due.stdout == (due_before if old else due_after)
    check = invoke("-C", root, "check")
    assert check.exit_code == 0, check.output
    again = invoke("-C", root, "run", "--today", TODAY)
    assert again.exit_code == 0, again.output
    final = snapshot(root)
    assert final == clean, changed(clean, final)
    rows = _journal_rows(final[JOURNAL_NAME])
    assert len(rows) == len(set(rows))  # the day is done exactly once


INTERRUPT = "import os, signal\ndef die():\n    os.kill(os.getpid(), signal.SIGINT)\n"
INTERRUPT_POINTS = {
    **{name: KILL_POINTS[name] for name in (
        "after the marker", "after the journal append",
        "inside the ledger's write, before its rename",
        "after the ledger's rename, before the marker is gone")},
    "right after the ledger's swap": AFTER_THE_SWAP,
}


@pytest.mark.parametrize("point", INTERRUPT_POINTS, ids=list(INTERRUPT_POINTS))
def test_ctrl_c_while_the_journal_and_ledger_are_written_waits_for_both(tmp_path, clean,
                                                                          point):
    """Ctrl-C among the journal's append and the ledger's swap takes effect once both are
    written: exit 130, and the book is the whole run's (README "Exit codes"), never a new
    ledger over the old journal."""
    root = build(tmp_path / "book")
    stopped = cadence_process("-C", root, "run", "--today", TODAY,
                              wrapper=INTERRUPT + INTERRUPT_POINTS[point])
    assert stopped.returncode == 130, stopped.stderr.decode()
    assert stopped.stderr == b"interrupted\n"
    final = snapshot(root)
    assert final == clean, changed(clean, final)
    again = invoke("-C", root, "run", "--today", TODAY)
    assert again.exit_code == 0 and snapshot(root) == clean


def test_a_killed_run_leaves_a_marker_that_the_next_run_clears(tmp_path, clean):
    root = build(tmp_path / "book")
    killed = cadence_process("-C", root, "run", "--today", TODAY,
                             wrapper=KILL + KILL_POINTS["after the journal append"])
    assert killed.returncode == -signal.SIGKILL
    assert os.path.exists(os.path.join(root, MARKER_NAME))
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    assert not os.path.exists(os.path.join(root, MARKER_NAME))
    assert snapshot(root) == clean


def test_a_journal_only_commit_is_kept_when_its_marker_cannot_be_removed(tmp_path):
    """A command that only appends the journal (no ledger cell changes) commits at the append.

    The marker must not make the next run take back a note that was reported as recorded.
    """
    ledger = "id,name,email,playbook,optout\nc3,Cid Ek,cid@example.com,,call\n"
    root = build(tmp_path, {"contacts.csv": ledger})
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if str(path).endswith(MARKER_NAME):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_unlink(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cadence.files.os, "unlink", unlink)
        result = invoke("-C", root, "optout", "c3", "call", "--note", "asked twice",
                        "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert os.path.exists(os.path.join(root, MARKER_NAME))
    note = f"{TODAY},c3,note,,,,,opted out of call; asked twice\n"
    journal = os.path.join(root, JOURNAL_NAME)
    assert open(journal, encoding="utf-8").read() == JOURNAL + note
    assert open(os.path.join(root, LEDGER_NAME), encoding="utf-8").read() == ledger
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0  # recovers first
    assert not os.path.exists(os.path.join(root, MARKER_NAME))
    assert open(journal, encoding="utf-8").read().startswith(JOURNAL + note)


def test_a_torn_journal_only_append_is_taken_back(tmp_path):
    ledger = "id,name,email,playbook,optout\nc3,Cid Ek,cid@example.com,,call\n"
    root = build(tmp_path, {"contacts.csv": ledger})
    before = snapshot(root)
    # said again with a note: a journal row, and no ledger cell changes
    killed = cadence_process("-C", root, "optout", "c3", "call", "--note", "asked again",
                             "--today", TODAY,
                             wrapper=KILL + KILL_POINTS["half way through the journal append"])
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(root)[JOURNAL_NAME] != before[JOURNAL_NAME]  # torn, for now
    assert invoke("-C", root, "due", "--today", TODAY).exit_code == 0  # reads around it
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    assert snapshot(root) == before


def test_only_our_own_stale_temporary_files_are_cleared(tmp_path, clean):
    """A kill leaves `.contacts.csv.cadence-*.tmp`; the next run clears it, and only it."""
    root = build(tmp_path / "book")
    ours = os.path.join(root, ".contacts.csv.cadence-dead1234.tmp")
    draft_tmp = os.path.join(root, "drafts", TODAY, ".c1--decide-1.eml.cadence-dead5678.tmp")
    theirs = os.path.join(root, ".shared.csv.cadence-live0000.tmp")  # another book's, in flight
    os.makedirs(os.path.dirname(draft_tmp))
    for path in (ours, draft_tmp, theirs):
        with open(path, "wb") as handle:
            handle.write(b"half a file")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    assert not os.path.exists(ours) and not os.path.exists(draft_tmp)
    assert os.path.exists(theirs)
    os.remove(theirs)
    assert snapshot(root) == clean


def test_a_stale_unfinished_day_folder_is_cleared(tmp_path, clean):
    """A kill before a fresh day's folder is renamed into place leaves it hidden, half full;
    the next run of that day clears it. Another day's, and files that are not ours, stay."""
    root = build(tmp_path / "book")
    drafts = os.path.join(root, "drafts")
    ours = os.path.join(drafts, f".{TODAY}.cadence-4321.tmp")
    other_day = os.path.join(drafts, ".2026-11-03.cadence-4321.tmp")
    not_ours = os.path.join(drafts, f".{TODAY}.cadence-notes")
    for folder in (ours, other_day):
        os.makedirs(folder)
        with open(os.path.join(folder, "c1--decide-1.eml"), "wb") as handle:
            handle.write(b"half a draft")
    with open(not_ours, "wb") as handle:
        handle.write(b"kept")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    assert sorted(os.listdir(drafts)) == sorted([TODAY, os.path.basename(other_day),
                                                 os.path.basename(not_ours)])
    shutil.rmtree(other_day)
    os.remove(not_ours)
    assert snapshot(root) == clean


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_fresh_day_folder_appears_whole_or_not_at_all(tmp_path, n):
    """The n-th draft's write fails: the day's folder is not there, nor is its hidden twin."""
    root = build(tmp_path / "book")
    with pytest.MonkeyPatch.context() as patch:
        fault = Fault("write", n)
        patch.setattr(cadence.files.os, "write", fault)
        result = invoke("-C", root, "run", "--today", TODAY)
    assert fault.hit == "draft" and result.exit_code == 74, result.output
    assert f"drafts/{TODAY}/" in result.stderr  # named by the draft, not the hidden folder
    assert os.listdir(os.path.join(root, "drafts")) == []


@pytest.mark.parametrize("failing", ["journal", "ledger"])
@pytest.mark.parametrize("command", [
    ["undo", "--yes", "--today", TODAY],  # the day's run taken back: its drafts removed
    ["undo", "c1"],  # one contact's touch: its draft removed, the overview written again
    ["skip", "c1", "--today", TODAY],  # a drafted touch skipped: its draft renamed
])
def test_a_take_back_whose_journal_or_ledger_fails_leaves_the_drafts_as_they_were(
        tmp_path, monkeypatch, command, failing):
    """undo and skip change drafts the journal counts: when the journal or the ledger cannot
    be written, the drafts are put back, so that the error writes nothing at all."""
    root = build(tmp_path / "book")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    before = snapshot(root)
    assert [k for k in before if k.startswith(f"drafts/{TODAY}/c1")]
    name = JOURNAL_NAME if failing == "journal" else LEDGER_NAME
    real_append, real_atomic = cadence.files.append_bytes, cadence.files.atomic_write

    def append(path, data):
        if os.path.basename(path) == name:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_append(path, data)

    def atomic(path, data, *args, **kwargs):
        if os.path.basename(path) == name:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_atomic(path, data, *args, **kwargs)

    monkeypatch.setattr(cadence.files, "append_bytes", append)
    monkeypatch.setattr(cadence.files, "atomic_write", atomic)
    monkeypatch.setenv("CADENCE_TODAY", TODAY)
    result = invoke("-C", root, *command)
    assert result.exit_code == 73 and "cannot write" in result.stderr, result.output
    assert changed(before, snapshot(root)) == []


def test_a_take_back_of_a_touch_whose_draft_is_gone_leaves_the_overview_on_failure(tmp_path,
                                                                                 monkeypatch):
    """No draft to remove (the user deleted it), only the day's overview written again: that
    too is put back when the journal cannot be written."""
    root = build(tmp_path / "book")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    os.unlink(os.path.join(root, "drafts", TODAY, "c1--decide-1.eml"))
    before = snapshot(root)
    monkeypatch.setattr(cadence.files, "append_bytes", _refused)
    monkeypatch.setenv("CADENCE_TODAY", TODAY)
    result = invoke("-C", root, "undo", "c1")
    assert result.exit_code == 73, result.output
    assert changed(before, snapshot(root)) == []


def test_a_take_back_that_fails_puts_a_linked_overview_back_as_a_link(tmp_path, monkeypatch):
    """The day's overview is a link the user made (to a file outside the book): a take-back
    writes a file in its place, and when the journal cannot be written the link is put back,
    pointing where it did; what it points to is never written."""
    root = build(tmp_path / "book")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    overview = os.path.join(root, "drafts", TODAY, "index.md")
    outside = tmp_path / "elsewhere.md"
    outside.write_bytes(b"mine\n")
    os.unlink(overview)
    os.symlink(outside, overview)
    monkeypatch.setattr(cadence.files, "append_bytes", _refused)
    monkeypatch.setenv("CADENCE_TODAY", TODAY)
    result = invoke("-C", root, "undo", "c1")
    assert result.exit_code == 73, result.output
    assert os.path.islink(overview) and os.readlink(overview) == str(outside)
    assert outside.read_bytes() == b"mine\n"
    assert os.path.exists(os.path.join(root, "drafts", TODAY, "c1--decide-1.eml"))
    assert not [n for n in os.listdir(os.path.dirname(overview)) if n.startswith(".")]


def _refused(path, data):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


def test_a_take_back_whose_second_draft_cannot_be_set_aside_puts_the_first_back(tmp_path,
                                                                              monkeypatch):
    root = build(tmp_path / "book")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    before = snapshot(root)
    real, calls = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if ".taken-back" in str(dst):
            calls.append(dst)
            if len(calls) == 2:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(cadence.files.os, "replace", replace)
    result = invoke("-C", root, "undo", "--yes", "--today", TODAY)
    assert result.exit_code in (73, 74) and len(calls) == 2, result.output
    assert changed(before, snapshot(root)) == []


def test_an_interrupt_after_a_take_back_is_written_keeps_the_drafts_as_the_journal_says(
        tmp_path, monkeypatch):
    """Once the journal and the ledger are written, the drafts are not put back: a skipped
    touch's draft stays set aside, as the journal says."""
    root = build(tmp_path / "book")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0

    real = os.unlink

    def interrupted(path, *args, **kwargs):  # Ctrl-C right as the marker goes
        real(path, *args, **kwargs)
        if os.path.basename(str(path)) == MARKER_NAME:
            raise KeyboardInterrupt

    monkeypatch.setattr(cadence.files.os, "unlink", interrupted)
    result = invoke("-C", root, "skip", "c1", "--today", TODAY)
    assert result.exit_code != 0
    after = snapshot(root)
    assert f"drafts/{TODAY}/c1--decide-1.eml" not in after
    assert f"drafts/{TODAY}/c1--decide-1.eml.skipped" in after
    assert after[JOURNAL_NAME].decode().count(",skip,") == 1

"""Two runs at once, a ledger edited during a run, a symlinked ledger (SPEC section 8).

"Two runs at once: one waits or exits 75, none loses an update." The runs here are real
processes on one book; a wrapper holds each run inside its commit for a moment, so that the
others must wait for the lock rather than finish before the next one starts.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

import cadence.commit
import cadence.files
from smallbook import (
    ANY_DAY, JOURNAL, LEDGER, TODAY, build, changed, invoke, snapshot,
)

SLOW_COMMIT = """
import time
import cadence.commit as c
real = c.commit
def commit(*args, **kwargs):
    time.sleep(0.3)
    return real(*args, **kwargs)
c.commit = commit
"""


def _start(*args, wrapper: str = ""):
    code = ANY_DAY + wrapper + "\nimport sys\nfrom cadence.main import run\nsys.argv = ['cadence'] + sys.argv[1:]\nrun()\n"
    env = dict(os.environ)
    env.pop("CADENCE_TODAY", None)
    return subprocess.Popen([sys.executable, "-c", code, *[str(a) for a in args]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _finish(process) -> tuple:
    out, err = process.communicate(timeout=60)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def clean(tmp_path) -> dict:
    root = build(tmp_path / "clean")
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    return snapshot(root)


def test_runs_at_once_end_like_one_run(tmp_path, clean):
    root = build(tmp_path / "book")
    processes = [_start("-C", root, "run", "--today", TODAY, wrapper=SLOW_COMMIT) for _ in range(3)]
    results = [_finish(p) for p in processes]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    drafted = sorted(out.splitlines()[0] for _, out, _ in results)
    assert drafted == ["Drafted 0 touches for 2026-11-02."] * 2 + [
        "Drafted 2 touches for 2026-11-02 in drafts/2026-11-02/."], drafted
    after = snapshot(root)
    assert after == clean, changed(clean, after)


def test_a_reply_during_a_run_is_not_lost(tmp_path):
    root = build(tmp_path / "book")
    first = _start("-C", root, "run", "--today", TODAY, wrapper=SLOW_COMMIT)
    second = _start("-C", root, "reply", "c1", "--note", "call me", "--today", TODAY,
                    wrapper=SLOW_COMMIT)
    assert _finish(first)[0] == 0 and _finish(second)[0] == 0
    journal = open(os.path.join(root, "history.csv"), encoding="utf-8").read().splitlines()
    # whichever got the lock first, both updates are in the book
    assert f"{TODAY},c2,touch,p,decide-1,email,hello," in journal
    assert any(line.startswith(f"{TODAY},c1,reply,p,") and line.endswith("call me")
               for line in journal), journal
    ledger = open(os.path.join(root, "contacts.csv"), encoding="utf-8").read().splitlines()
    assert ledger[0].split(",")[:6] == ["id", "name", "email", "phone", "playbook", "started"]
    rows = {line.split(",")[0]: dict(zip(ledger[0].split(","), line.split(","))) for line in ledger[1:]}
    assert rows["c1"]["status"] == "replied" and rows["c1"]["last_reply"] == TODAY
    assert rows["c2"]["touches"] == "1" and rows["c2"]["last_touch"] == TODAY


# --- a ledger edited during a run ---------------------------------------------------------------

EDITED = LEDGER + "c3,Cid Ek,cid@example.com,,p,2026-11-01\n"


def test_a_ledger_edited_before_the_writes_is_not_overwritten(tmp_path, monkeypatch):
    """Edited after cadence read it, before anything was written: nothing is written at all."""
    root = build(tmp_path)
    from cadence import actions as run_module

    original = run_module.prepare

    def edit_meanwhile(*args):
        result = original(*args)
        with open(os.path.join(root, "contacts.csv"), "w", encoding="utf-8") as handle:
            handle.write(EDITED)
        return result

    monkeypatch.setattr(run_module, "prepare", edit_meanwhile)
    before = snapshot(root)
    result = invoke("-C", root, "run", "--today", TODAY)
    assert result.exit_code == 75
    assert "contacts.csv: the ledger changed on disk during this run" in result.stderr
    assert "hint: nothing was written; run cadence again to work from the new file" in result.stderr
    assert changed(before, snapshot(root)) == ["contacts.csv"]  # no draft, no journal row
    assert open(os.path.join(root, "contacts.csv"), encoding="utf-8").read() == EDITED


def test_a_ledger_edited_after_the_journal_append_is_not_overwritten(tmp_path, monkeypatch):
    """Edited at the last moment, after the journal append: that append is taken back."""
    root = build(tmp_path)
    real_append = cadence.files.append_bytes

    def append_then_edit(path, data):
        real_append(path, data)
        with open(os.path.join(root, "contacts.csv"), "w", encoding="utf-8") as handle:
            handle.write(EDITED)

    monkeypatch.setattr(cadence.files, "append_bytes", append_then_edit)
    result = invoke("-C", root, "run", "--today", TODAY)
    assert result.exit_code == 75
    assert "hint: the journal and the ledger are as they were; run cadence again" in result.stderr
    assert open(os.path.join(root, "contacts.csv"), encoding="utf-8").read() == EDITED
    assert open(os.path.join(root, "history.csv"), encoding="utf-8").read() == JOURNAL
    assert not os.path.exists(os.path.join(root, cadence.commit.MARKER_NAME))
    monkeypatch.undo()
    again = invoke("-C", root, "run", "--today", TODAY)  # works from the new file
    assert again.exit_code == 0, again.output
    assert "Drafted 3 touches" in again.stdout


# --- a symlinked ledger -------------------------------------------------------------------------

def test_a_symlinked_ledger_is_written_through_the_link(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": None})
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "contacts.csv"
    target.write_text(LEDGER, encoding="utf-8")
    os.chmod(target, 0o640)
    os.symlink(os.path.join("..", "shared", "contacts.csv"), os.path.join(root, "contacts.csv"))
    allowed = {"CADENCE_WRITE_OUTSIDE": str(shared)}  # the user's own leave to write there
    result = invoke("-C", root, "run", "--today", TODAY, env=allowed)
    assert result.exit_code == 0, result.output
    link = os.path.join(root, "contacts.csv")
    assert os.path.islink(link) and os.readlink(link) == os.path.join("..", "shared", "contacts.csv")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[1] == "c1,Ann Lind,ann@example.com,+46701234567,p,2026-11-01,,,1,2026-11-02,email,decide-1,2026-11-04"
    assert sorted(os.listdir(shared)) == ["contacts.csv"]  # no temporary file left beside it
    again = invoke("-C", root, "run", "--today", TODAY, env=allowed)
    assert again.exit_code == 0 and "Drafted 0 touches" in again.stdout


def test_the_replaced_ledger_keeps_its_mode(tmp_path):
    """The new file takes the old one's mode, even one the umask would not give."""
    root = build(tmp_path)
    path = os.path.join(root, "contacts.csv")
    os.chmod(path, 0o600)
    assert invoke("-C", root, "run", "--today", TODAY).exit_code == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

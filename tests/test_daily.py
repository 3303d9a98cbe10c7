"""Rules over time: a book run day by day for weeks, with a person's actions in between.

tests/daily/<case>/ holds the book, `first` and `last` day, and `script`, one line a step:

  DATE ARGS...                 a command typed on that day before its run (`reply boris ...`)
  DATE after ARGS...           a command typed after that day's run (`skip`, `undo`)
  DATE replace-ledger FILE     the ledger replaced by FILE of the case's folder before the run
                               (a sheet downloaded again from Google Sheets or Excel)
  DATE show PATH               after the run, the book's file PATH goes into runs.txt

The journal, the ledger, what each run printed (runs.txt) and the list of drafts (drafts.txt)
at the end are golden files; `pytest --update-golden` rewrites them.
"""
from __future__ import annotations

import os
import shlex
import shutil
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from cadence.main import app

DAILY = os.path.join(os.path.dirname(__file__), "daily")
CASES = sorted(n for n in os.listdir(DAILY) if os.path.isdir(os.path.join(DAILY, n, "book")))


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def invoke(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.mark.parametrize("case", CASES)
def test_day_by_day(case, tmp_path, update_golden):
    source = os.path.join(DAILY, case)
    book = str(tmp_path / "book")
    shutil.copytree(os.path.join(source, "book"), book)
    before, after = {}, {}
    for line in read(os.path.join(source, "script")).splitlines():
        if line.strip() and not line.startswith("#"):
            day, *args = shlex.split(line)
            if args[0] in ("after", "show"):
                after.setdefault(day, []).append(args[1:] if args[0] == "after" else args)
            else:
                before.setdefault(day, []).append(args)
    first = date.fromisoformat(read(os.path.join(source, "first")).strip())
    last = date.fromisoformat(read(os.path.join(source, "last")).strip())
    log = []
    day = first
    while day <= last:
        log.append(f"== {day}\n")
        for args in before.get(day.isoformat(), []):
            if args[0] == "replace-ledger":
                shutil.copyfile(os.path.join(source, args[1]), os.path.join(book, "contacts.csv"))
                log.append(f"(the ledger replaced by {args[1]})\n")
            else:
                log.append(_typed(book, args, day))
        result = invoke("-C", book, "run", "--today", day.isoformat())
        log.append(result.stdout)
        for args in after.get(day.isoformat(), []):
            if args[0] == "show":
                log.append(f"--- {args[1]}\n{read(os.path.join(book, args[1]))}---\n")
            else:
                log.append(_typed(book, args, day))
        day += timedelta(days=1)
    actual = {
        "runs.txt": "".join(log),
        "history.csv": read(os.path.join(book, "history.csv")),
        "contacts.csv": read(os.path.join(book, "contacts.csv")),
        "drafts.txt": "".join(f"{path}\n" for path in _drafts(book)),
    }
    expected_dir = os.path.join(source, "expected")
    if update_golden:
        os.makedirs(expected_dir, exist_ok=True)
        for name, text in actual.items():
            with open(os.path.join(expected_dir, name), "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    for name, text in actual.items():
        assert read(os.path.join(expected_dir, name)) == text, name


def _typed(book: str, args: list, day: date) -> str:
    """A command a person types on `day`, and what it printed."""
    dated = [] if args[0] == "add" else ["--today", day.isoformat()]  # add takes no date
    result = invoke("-C", book, *args, *dated)
    return f"$ cadence {shlex.join(args)}\n{result.stdout}"


def _drafts(book: str) -> list:
    root = os.path.join(book, "drafts")
    found = []
    for base, dirs, names in os.walk(root):
        dirs.sort()
        found += sorted(os.path.relpath(os.path.join(base, n), root) for n in names)
    return found

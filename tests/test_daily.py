"""Rules over time: a book run day by day for two weeks, with a person's actions in between.

tests/daily/<case>/ holds the book, `first` and `last` day, and `script`: commands typed on a
day before that day's run (`DATE reply boris --note ...`). The journal, the ledger and the list
of drafts at the end are golden files; `pytest --update-golden` rewrites them.
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
    actions = {}
    for line in read(os.path.join(source, "script")).splitlines():
        if line.strip() and not line.startswith("#"):
            day, *args = shlex.split(line)
            actions.setdefault(day, []).append(args)
    first = date.fromisoformat(read(os.path.join(source, "first")).strip())
    last = date.fromisoformat(read(os.path.join(source, "last")).strip())
    log = []
    day = first
    while day <= last:
        for args in actions.get(day.isoformat(), []):
            invoke("-C", book, *args, "--today", day.isoformat())
        result = invoke("-C", book, "run", "--today", day.isoformat())
        log.append(f"== {day}\n{result.stdout}")
        day += timedelta(days=1)
    actual = {
        "runs.txt": "".join(log),
        "history.csv": read(os.path.join(book, "history.csv")),
        "contacts.csv": read(os.path.join(book, "contacts.csv")),
    }
    expected_dir = os.path.join(source, "expected")
    if update_golden:
        os.makedirs(expected_dir, exist_ok=True)
        for name, text in actual.items():
            with open(os.path.join(expected_dir, name), "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    for name, text in actual.items():
        assert read(os.path.join(expected_dir, name)) == text, name

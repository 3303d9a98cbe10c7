"""Golden books: a book, a day, and every byte cadence prints and writes that day.

A case is tests/books/<case>/ with `today` and either its own `book/` or an `example` file
naming a book under examples/ (so the bundled example's drafts are golden too). The day's
drafts include index.md and calls.ics. Run `pytest --update-golden` to regenerate
tests/books/*/expected/ and review the diff.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from cadence.main import app

BOOKS = os.path.join(os.path.dirname(__file__), "books")
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
CASES = sorted(n for n in os.listdir(BOOKS) if os.path.isfile(os.path.join(BOOKS, n, "today")))


def book_of(case: str) -> str:
    """The case's own book, or the example book its `example` file names."""
    source = os.path.join(BOOKS, case)
    if os.path.isdir(os.path.join(source, "book")):
        return os.path.join(source, "book")
    with open(os.path.join(source, "example"), encoding="utf-8") as handle:
        return os.path.join(EXAMPLES, handle.read().strip())


def invoke(*args):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


def tree(root: str) -> dict:
    files = {}
    for base, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if name.startswith(".cadence"):
                continue
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, root).replace(os.sep, "/")] = handle.read()
    return files


def compare(expected_dir: str, actual: dict, update: bool) -> None:
    if update:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel, data in actual.items():
            path = os.path.join(expected_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
        return
    assert tree(expected_dir) == actual


@pytest.mark.parametrize("case", CASES)
def test_golden_book(case, tmp_path, update_golden):
    source = os.path.join(BOOKS, case)
    with open(os.path.join(source, "today"), encoding="utf-8") as handle:
        today = handle.read().strip()
    book = tmp_path / "book"
    shutil.copytree(book_of(case), book)
    before = tree(str(book))

    due = invoke("-C", str(book), "due", "--today", today, "--json")
    assert due.exit_code == 0, due.output
    assert tree(str(book)) == before, "due wrote something"
    dry = invoke("-C", str(book), "run", "--today", today, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert tree(str(book)) == before, "run --dry-run wrote something"
    run = invoke("-C", str(book), "run", "--today", today, "--json")
    assert run.exit_code == 0, run.output
    assert dry.stdout == run.stdout

    outputs = {"due.json": due.stdout.encode("utf-8"), "run.json": run.stdout.encode("utf-8")}
    after = tree(str(book))
    changed = {f"book/{rel}": data for rel, data in after.items() if before.get(rel) != data}
    drafted = json.loads(run.stdout)["drafted"]
    day = f"book/drafts/{today}/"
    if drafted:
        assert day + "index.md" in changed
        assert (day + "calls.ics" in changed) == any(t["channel"] == "call" for t in drafted)
    compare(os.path.join(source, "expected"), {**outputs, **changed}, update_golden)

    again = invoke("-C", str(book), "run", "--today", today, "--json")
    assert again.exit_code == 0, again.output
    assert '"drafted": []' in again.stdout
    assert tree(str(book)) == after, "a second run the same day changed something"

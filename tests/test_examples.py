"""Every example book and the bundled playbooks work: check, due, run, run again."""
from __future__ import annotations

import email
import email.policy
import filecmp
import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from cadence.main import app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
BOOKS = sorted(n for n in os.listdir(EXAMPLES) if os.path.exists(os.path.join(EXAMPLES, n, "cadence.yaml")))
TODAY = "2026-11-23"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("name", BOOKS)
def test_example_book(name, tmp_path):
    book = tmp_path / name
    shutil.copytree(os.path.join(EXAMPLES, name), book)
    check = invoke("-C", book, "check")
    assert check.exit_code == 0, check.output
    assert "0 warnings" in check.stdout
    due = json.loads(invoke("-C", book, "due", "--today", TODAY, "--json").stdout)
    assert due["due"], "the example shows something to do"
    run = invoke("-C", book, "run", "--today", TODAY, "--json")
    assert run.exit_code == 0, run.output
    drafted = json.loads(run.stdout)["drafted"]
    assert [t["contact"] for t in drafted] == [t["contact"] for t in due["due"]]
    for item in drafted:
        path = book / item["path"]
        assert path.exists()
        if path.suffix == ".eml":
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert message["Subject"] and message["To"].addresses
            assert message.get_content().strip()
    again = invoke("-C", book, "run", "--today", TODAY, "--json")
    assert json.loads(again.stdout)["drafted"] == []
    # two weeks on, day by day, nothing breaks
    for day in range(24, 31):
        result = invoke("-C", book, "run", "--today", f"2026-11-{day}", "--quiet")
        assert result.exit_code == 0, result.output


def test_example_copies_match_the_bundled_playbooks():
    """The consultant book carries copies of the top-level playbooks and templates."""
    for folder in ("playbooks", "templates"):
        compare = filecmp.dircmp(os.path.join(ROOT, folder),
                                 os.path.join(EXAMPLES, "consultant", folder))
        stack = [compare]
        while stack:
            current = stack.pop()
            assert not current.left_only and not current.right_only and not current.diff_files, (
                current.left, current.left_only, current.right_only, current.diff_files)
            stack.extend(current.subdirs.values())


def test_readme_quickstart_book_is_the_consultant_example():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert "cadence -C examples/consultant due --today 2026-11-23" in readme

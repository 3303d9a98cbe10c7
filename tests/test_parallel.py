"""Drafts rendered by two processes are the drafts one process renders, in the same order."""
from __future__ import annotations

import os
import shutil

import pytest

from cadence import parallel
from cadence.model import Failure, Problem, Source
from smallbook import invoke, snapshot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _square_or_fail(n):
    if n % 7 == 3:
        raise Failure(Problem(Source("t.j2", n), f"bad {n}"))
    return n * n


def test_results_come_back_in_order_with_failures_as_values():
    items = list(range(50))
    split = parallel.map_split(_square_or_fail, items, min_items=2)
    alone = parallel.map_split(_square_or_fail, items, min_items=10**9)
    assert split == alone
    assert split[3] == ("failure", [Problem(Source("t.j2", 3), "bad 3")])
    assert split[49] == ("ok", 49 * 49)


def test_a_crash_in_the_child_half_is_an_error_here():
    def crash_late(n):
        if n == 9:
            raise ZeroDivisionError
        return n

    with pytest.raises(RuntimeError):
        parallel.map_split(crash_late, list(range(10)), min_items=2)


def test_a_crash_in_this_half_is_raised_and_the_child_reaped():
    def crash_early(n):
        if n == 0:
            raise ZeroDivisionError
        return n

    with pytest.raises(ZeroDivisionError):
        parallel.map_split(crash_early, list(range(10)), min_items=2)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


@pytest.mark.parametrize("today", ["2026-11-23", "2026-11-30"])
def test_a_run_split_in_two_writes_what_one_process_writes(tmp_path, monkeypatch, today):
    books = []
    for name, least in (("split", 2), ("alone", 10**9)):
        book = tmp_path / name
        shutil.copytree(os.path.join(ROOT, "examples", "consultant"), book)
        monkeypatch.setattr(parallel, "MIN_ITEMS", least)
        result = invoke("-C", book, "run", "--today", today)
        assert result.exit_code == 0, result.output
        books.append(snapshot(book))
    assert books[0] == books[1]
    assert any(path.endswith(".eml") for path in books[0])


def test_an_interrupted_child_is_an_interrupt_here():
    def interrupt_late(n):
        if n == 9:
            raise KeyboardInterrupt
        return n

    with pytest.raises(KeyboardInterrupt):
        parallel.map_split(interrupt_late, list(range(10)), min_items=2)

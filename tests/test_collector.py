"""The cycle collector at the CLI's edge (cadence.cli.load_book): paused while a book loads, the
loaded book frozen for the rest of the command, and everything given back when the command
ends, whatever its end. The reason, with its figures, is written beside load_book."""
from __future__ import annotations

import gc

import pytest

import cadence.actions
import cadence.book
import cadence.cli
from cadence.book import load_config
from cadence.model import Failure
from smallbook import TODAY, build, invoke


@pytest.fixture(autouse=True)
def _clean_heap():
    """Each test starts and ends with nothing frozen and the collector on (Python 3.12 starts
    with a few hundred objects of its own frozen: given back first, in this test process)."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    yield
    gc.unfreeze()
    gc.enable()


def _watch_load(monkeypatch) -> list:
    """Whether the collector ran at the moment the book's loader was called, each time."""
    seen = []
    real = cadence.book.load

    def load(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(cadence.book, "load", load)
    return seen


def test_load_book_pauses_the_collector_then_freezes_the_book(tmp_path, monkeypatch):
    seen = _watch_load(monkeypatch)
    loaded = cadence.cli.load_book(load_config(build(tmp_path / "book")))
    assert seen == [False]
    assert gc.isenabled()  # on again for what the command makes next
    assert gc.get_freeze_count() > 0
    assert loaded.book.contacts  # the book itself, not a stand-in


def test_a_caller_that_paused_the_collector_keeps_it_paused(tmp_path, monkeypatch):
    seen = _watch_load(monkeypatch)
    gc.disable()
    cadence.cli.load_book(load_config(build(tmp_path / "book")))
    assert seen == [False]
    assert not gc.isenabled()


def test_a_failed_load_turns_the_collector_back_on_and_freezes_nothing(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name\nc1,Ann\nc1,Bo\n"})
    with pytest.raises(Failure):
        cadence.cli.load_book(load_config(root))
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("interrupted", [False, True])
def test_run_works_on_a_frozen_book_and_gives_it_back(tmp_path, monkeypatch, interrupted):
    root = build(tmp_path / "book")
    during = []
    real = cadence.actions.prepare

    def prepare(*args, **kwargs):
        during.append((gc.get_freeze_count(), gc.isenabled()))
        if interrupted:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cadence.actions, "prepare", prepare)
    result = invoke("-C", root, "run", "--today", TODAY)
    assert result.exit_code == (130 if interrupted else 0), result.output
    assert len(during) == 1 and during[0][0] > 0 and during[0][1]
    assert gc.get_freeze_count() == 0 and gc.isenabled()


@pytest.mark.parametrize("command", [["due"], ["forecast"], ["stats"], ["plan", "c1"], ["check"],
                                     ["doctor"]])
def test_every_command_gives_the_book_back(tmp_path, command):
    root = build(tmp_path / "book")
    result = invoke("-C", root, *command, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_failing_command_gives_the_book_back(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name\nc1,Ann\nc1,Bo\n"})
    result = invoke("-C", root, "due", "--today", TODAY)
    assert result.exit_code != 0
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_what_a_caller_froze_stays_frozen(tmp_path):
    """An embedding program that froze its own heap (or an interpreter that starts with objects
    frozen) is not thawed by a command, and the command leaves nothing of its own frozen."""
    root = build(tmp_path / "book")
    gc.freeze()
    theirs = gc.get_freeze_count()
    result = invoke("-C", root, "due", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == theirs > 0


def test_load_book_freezes_nothing_when_something_is_frozen(tmp_path):
    gc.freeze()
    theirs = gc.get_freeze_count()
    loaded = cadence.cli.load_book(load_config(build(tmp_path / "book")))
    assert loaded.book.contacts
    assert gc.get_freeze_count() == theirs and gc.isenabled()


def test_the_answer_is_the_same_with_the_collector_off(tmp_path):
    """The pause and the freeze change when memory is collected, never what is printed."""
    root = build(tmp_path / "book")
    on = invoke("-C", root, "due", "--json", "--today", TODAY)
    gc.disable()
    off = invoke("-C", root, "due", "--json", "--today", TODAY)
    assert on.exit_code == off.exit_code == 0
    assert on.output == off.output


def test_a_command_asks_the_collector_what_is_frozen_once(tmp_path, monkeypatch):
    """Asking (`gc.get_freeze_count`) walks every frozen object; `sync` loads the book twice,
    and its second load must not walk the first: the command asks once, as it starts, and
    still freezes the book once and gives it back."""
    from mail.maildir import make_maildir
    from mailbook import maildir_section, make_book

    make_maildir(tmp_path / "Mail")
    root = make_book(tmp_path / "book", maildir_section())
    asked, froze, real_count, real_freeze = [], [], gc.get_freeze_count, gc.freeze
    loads = _watch_load(monkeypatch)
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or real_count())
    monkeypatch.setattr(gc, "freeze", lambda: froze.append(1) or real_freeze())
    result = invoke("-C", root, "sync", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert len(loads) == 2 and len(asked) == 1 and len(froze) == 1
    assert real_count() == 0 and gc.isenabled()

"""The cycle collector: paused while a book loads, the loaded book frozen for the command, and
everything given back afterwards, whatever the command's end."""
from __future__ import annotations

import gc

import pytest

import cadence.book
import cadence.commands.run
from cadence.book import load
from cadence.config import load_config
from smallbook import TODAY, build, invoke


def test_load_pauses_the_collector_and_restores_it(tmp_path, monkeypatch):
    root = build(tmp_path / "book")
    seen = []
    real = cadence.book.read_bytes

    def read_bytes(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(cadence.book, "read_bytes", read_bytes)
    assert gc.isenabled()
    load(load_config(root))
    assert seen and not any(seen) and gc.isenabled()
    gc.disable()
    try:
        load(load_config(root))
        assert not gc.isenabled()  # a caller's own choice stays
    finally:
        gc.enable()


def test_a_failed_load_restores_the_collector(tmp_path):
    root = build(tmp_path / "book", {"contacts.csv": "id,name\nc1,Ann\nc1,Bo\n"})
    with pytest.raises(Exception):
        load(load_config(root))
    assert gc.isenabled()


@pytest.mark.parametrize("fail", [False, True])
def test_run_freezes_the_loaded_book_and_gives_it_back(tmp_path, monkeypatch, fail):
    root = build(tmp_path / "book")
    frozen = []
    real = cadence.commands.run.prepare

    def prepare(*args, **kwargs):
        frozen.append(gc.get_freeze_count())
        if fail:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cadence.commands.run, "prepare", prepare)
    assert gc.get_freeze_count() == 0
    result = invoke("-C", root, "run", "--today", TODAY)
    assert result.exit_code == (130 if fail else 0), result.output
    assert frozen and frozen[0] > 0
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("command", [["due"], ["forecast"], ["stats"]])
def test_other_commands_give_the_book_back(tmp_path, command):
    root = build(tmp_path / "book")
    result = invoke("-C", root, *command, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == 0

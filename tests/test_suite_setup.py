"""The suite's own setup (tests/conftest.py): where the tests write their files."""
from __future__ import annotations

import os
import sys
import tempfile
from types import SimpleNamespace

import pytest

import conftest


def _free(nbytes: int):
    return lambda path: SimpleNamespace(f_bavail=nbytes, f_frsize=1)


@pytest.fixture
def linux(monkeypatch):
    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "access", lambda path, mode: True)


def test_memory_is_used_where_it_has_room(linux, monkeypatch):
    monkeypatch.setattr(os, "statvfs", _free(conftest.MEMORY_NEEDED))
    assert conftest._memory_folder() == conftest.MEMORY


def test_a_memory_folder_short_of_room_is_not_used(linux, monkeypatch):
    monkeypatch.setattr(os, "statvfs", _free(conftest.MEMORY_NEEDED - 1))
    assert conftest._memory_folder() is None


def test_no_memory_folder_means_the_usual_temporary_folder(linux, monkeypatch):
    def missing(path):
        raise FileNotFoundError(path)

    monkeypatch.setattr(os, "statvfs", missing)
    assert conftest._memory_folder() is None


def test_tmpdir_chooses_over_memory(linux, monkeypatch):
    monkeypatch.setattr(os, "statvfs", _free(conftest.MEMORY_NEEDED))
    monkeypatch.setenv("TMPDIR", "/somewhere/else")
    assert conftest._memory_folder() is None


def test_this_run_writes_where_the_choice_says():
    chosen = conftest._memory_folder()
    if chosen:
        assert tempfile.gettempdir() == chosen
    else:
        assert tempfile.tempdir != conftest.MEMORY

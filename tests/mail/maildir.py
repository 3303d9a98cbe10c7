"""Maildir++ trees as mbsync and offlineimap leave them on a user's disk, for ``mail: maildir:``.

The root's ``cur/ new/ tmp/`` is the inbox; every other folder is a sibling directory named with
a leading dot (``.Junk``, ``.Sent``, ``.Drafts``, nested ones as ``.Projects.Acme``), each with
its own ``cur/ new/ tmp/`` and an empty ``maildirfolder`` file.  A message file in ``new/`` has no
info suffix; one in ``cur/`` ends in ``:2,`` and its flags in ASCII order (``D`` draft, ``F``
flagged, ``P`` passed, ``R`` replied, ``S`` seen, ``T`` trashed).  The file's modification time
is the delivery time (Python's ``mailbox.MaildirMessage.get_date()`` reads it): SPEC section 10
dates a message without a usable ``Date:`` by it.

In a test::

    from mail.maildir import make_maildir
    from mail.messages import make

    tree = make_maildir(tmp_path / "Mail" / "work")          # INBOX + .Junk .Sent .Drafts
    tree.add("INBOX", make("gmail_reply"))                   # new/, unread
    tree.add("Junk", make("junk_reply"), flags="S")          # cur/...:2,S
    tree.add("INBOX", make("broken_date"), mtime=datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    tree.add("Drafts", draft_bytes, flags="D")               # as ``push`` stores a draft
    [path.name for path in tree.files("Drafts")]

``style`` chooses the file names and the state files the syncing program leaves:

``"mbsync"`` (default)  ``1796289303.4242_1.laptop,U=1:2,S``; ``.uidvalidity`` and
                        ``.mbsyncstate`` files in every folder
``"offlineimap"``       ``1796289303_0.4242.laptop,U=1,FMD5=<md5 of the folder name>:2,S``
``"dovecot"``           ``1796289303.M1P4242.laptop,S=<size>,W=<size with CRLF>:2,S``

Names depend on the tree's counter and the given times only (no clock, no pid), so a tree is the
same on every run.  Files are written as given (``messages.make`` gives CRLF; mbsync and
offlineimap keep what the server sent, most often CRLF; pass LF bytes to test the other case).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

DEFAULT_FOLDERS = ("Junk", "Sent", "Drafts")
STYLES = ("mbsync", "offlineimap", "dovecot")
BASE_TIME = 1796289302  # 2026-12-03 09:15:02 UTC (messages.DATE): first default mtime - 1 s
_FLAG_ORDER = "DFPRST"


def _timestamp(when: dt.datetime | float | int | None, fallback: float) -> float:
    if when is None:
        return fallback
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError("mtime must be timezone-aware (or seconds since 1970)")
        return when.timestamp()
    return float(when)


@dataclass
class MaildirTree:
    """A Maildir++ tree at ``root`` (``layout="maildir++"``), or a tree of one Maildir a
    folder (``layout="folders"``: ``INBOX/``, ``Junk/``, ... as offlineimap keeps them by
    default); made by ``make_maildir``."""
    root: Path
    style: str = "mbsync"
    host: str = "laptop"
    layout: str = "maildir++"
    _count: int = 0
    _uids: dict = field(default_factory=dict)

    def folder(self, name: str) -> Path:
        """The directory of folder ``name``: for Maildir++ the root for INBOX (or ""), else
        ``.name``; for one Maildir a folder, ``INBOX`` or ``name``."""
        if self.layout == "folders":
            return self.root / ("INBOX" if name in ("", "INBOX", "inbox") else name)
        if name in ("", "INBOX", "inbox"):
            return self.root
        return self.root / ("." + name.lstrip("."))

    def make_folder(self, name: str) -> Path:
        path = self.folder(name)
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        if path != self.root and self.layout == "maildir++":
            (path / "maildirfolder").touch()
        if self.style == "mbsync":
            self._write_mbsync_state(name)
        return path

    def add(self, folder: str, data: bytes, *, flags: str = "", subdir: str | None = None,
            mtime: dt.datetime | float | None = None, name: str | None = None) -> Path:
        """Store ``data`` as one message of ``folder`` and return its path.

        ``subdir`` is "new" (default when there are no flags), "cur" (default with flags) or
        "tmp" (a message still being written, which readers must skip).  ``mtime`` (aware
        datetime or epoch seconds) becomes the file's modification and access time; by default
        ``BASE_TIME`` plus one second per message of the tree.  ``name`` overrides the
        generated file name (the info suffix is added for cur/ unless the name has one)."""
        if set(flags) - set(_FLAG_ORDER):
            raise ValueError(f"Maildir flags are among {_FLAG_ORDER}, not {flags!r}")
        subdir = subdir or ("cur" if flags else "new")
        if subdir not in ("cur", "new", "tmp"):
            raise ValueError("subdir is cur, new or tmp")
        path = self.folder(folder)
        if not (path / "cur").is_dir():
            self.make_folder(folder)
        self._count += 1
        uid = self._uids.get(folder, 0) + 1
        self._uids[folder] = uid
        when = _timestamp(mtime, BASE_TIME + self._count)
        base = name or self._name(folder, data, uid, int(when))
        if subdir == "cur" and ":2," not in base:
            base += ":2," + "".join(sorted(set(flags), key=_FLAG_ORDER.index))
        target = path / subdir / base
        target.write_bytes(data)
        os.utime(target, (when, when))
        if self.style == "mbsync":
            self._write_mbsync_state(folder)
        return target

    def files(self, folder: str, subdirs: tuple[str, ...] = ("new", "cur")) -> list[Path]:
        """The message files of ``folder`` (new/ then cur/, by name), dotfiles left out."""
        found = []
        for sub in subdirs:
            directory = self.folder(folder) / sub
            if directory.is_dir():
                found += sorted(p for p in directory.iterdir() if not p.name.startswith("."))
        return found

    def __iter__(self) -> Iterator[Path]:
        yield from self.files("INBOX")
        for entry in sorted(self.root.iterdir()):
            if self.layout == "folders" and entry.is_dir() and entry.name != "INBOX":
                yield from self.files(entry.name)
            elif entry.name.startswith(".") and entry.is_dir():
                yield from self.files(entry.name[1:])

    def _name(self, folder: str, data: bytes, uid: int, when: int) -> str:
        n = self._count
        if self.style == "offlineimap":
            md5 = hashlib.md5((folder or "INBOX").encode("utf-8")).hexdigest()
            return f"{when}_{n - 1}.4242.{self.host},U={uid},FMD5={md5}"
        if self.style == "dovecot":
            vsize = len(data) + data.count(b"\n") - data.count(b"\r\n")
            return f"{when}.M{n}P4242.{self.host},S={len(data)},W={vsize}"
        return f"{when}.4242_{n}.{self.host},U={uid}"

    def _write_mbsync_state(self, folder: str) -> None:
        # mbsync's own bookkeeping; cadence must leave these files alone and not read them
        # as messages (they sit beside cur/ new/ tmp/, not in them).
        path = self.folder(folder)
        uid = self._uids.get(folder, 0)
        (path / ".uidvalidity").write_text(f"{BASE_TIME}\n{uid}\n", encoding="ascii")
        (path / ".mbsyncstate").write_text(
            f"FarUidValidity {BASE_TIME}\nNearUidValidity {BASE_TIME}\nMaxPulledUid {uid}\n"
            f"MaxPushedUid {uid}\n", encoding="ascii")


def make_maildir(root: Path, folders: tuple[str, ...] = DEFAULT_FOLDERS, *,
                 style: str = "mbsync", host: str = "laptop",
                 layout: str = "maildir++") -> MaildirTree:
    """An empty tree at ``root`` (made with its parents) with the inbox and ``folders``
    (names as in cadence.yaml's ``folders``, without the leading dot); ``layout`` is
    "maildir++" or "folders" (one Maildir a folder)."""
    if style not in STYLES:
        raise ValueError(f"style is one of {STYLES}, not {style!r}")
    if layout not in ("maildir++", "folders"):
        raise ValueError(f"layout is maildir++ or folders, not {layout!r}")
    tree = MaildirTree(Path(root), style, host, layout)
    tree.make_folder("INBOX")
    for name in folders:
        tree.make_folder(name)
    return tree


def build_maildir(root: Path, spec: dict[str, list], *, style: str = "mbsync") -> MaildirTree:
    """A tree from ``{folder: [data | (data, options)]}``, e.g.
    ``{"INBOX": [make("gmail_reply")], "Junk": [(make("junk_reply"), {"flags": "S"})]}``;
    folders of ``DEFAULT_FOLDERS`` exist even when not named."""
    tree = make_maildir(root, tuple(dict.fromkeys((*DEFAULT_FOLDERS,
                                                   *(f for f in spec if f != "INBOX")))),
                        style=style)
    for folder, items in spec.items():
        for item in items:
            data, options = item if isinstance(item, tuple) else (item, {})
            tree.add(folder, data, **options)
    return tree


@pytest.fixture
def maildir_tree(tmp_path: Path) -> MaildirTree:
    """An empty mbsync-style tree at ``tmp_path/Mail/work`` (INBOX, Junk, Sent, Drafts)."""
    return make_maildir(tmp_path / "Mail" / "work")

"""The one cache: the journal's fold, kept between commands, keyed by the journal's bytes.

Everything else a command reads it works out afresh. The journal is the exception, for a
measured reason: an agency's journal holds millions of rows, and folding them all is most of
a morning's `due` (docs/benchmarks.md has the figures); a morning's journal is yesterday's
plus that day's rows.

How it stays exact:
- An entry holds the fold of the journal's first N bytes (cadence.trail.save) and the
  SHA-256 of those bytes. It is used only when the journal's first N bytes hash to that
  digest; the rows after them are folded on top. A fold gives the same Trail for the same rows
  in any order, so the answer is the one a fold of the whole file gives.
- Anything else is a miss, and the whole journal is folded as if there were no cache: a journal
  edited, sorted or rewritten, an entry that does not parse, a cache folder that is not the
  user's own or that others may write to.
- The CLI switches it off with CADENCE_NO_CACHE=1 (and tells where it lives with
  CADENCE_CACHE_DIR); tests/test_cache.py runs random books with it on and off and compares
  every byte they print and write.

Entries are JSON, which cannot run code when read, in a folder made for the user alone (0700).
The folder keeps the KEEP journals last used (one entry each) and as many mail cursors; older
ones, and temporary files a killed command left, are removed when an entry is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from typing import Optional

from .journal import read_header, read_rows
from .trail import NotAFold, fold_more, refold, save, saved_folds, trails, undone

VERSION = 11  # changes with what a fold keeps (the Trail) or which journal rows it accepts
CHUNK = 1 << 20
REWRITE_SHARE = 16  # the entry is written again once the rows after it pass 1/16 of it
KEEP = 32  # journals (and mail cursors) a cache folder keeps, the ones last used
STALE_TMP = 3600  # seconds: a temporary file this much older than a new entry was abandoned


def journal_trails(handle, path: str, folder: Optional[str]) -> tuple:
    """({contact id: Trail}, problems) of the journal open in `handle` (a binary file that
    can seek) at `path`, through the cache kept in `folder` (None: no cache)."""
    entry = _entry_path(folder, path) if folder and _usable(folder) else None
    kept = _read_entry(entry) if entry else None
    if kept is not None:
        try:
            return _through(handle, path, entry, kept)
        except (NotAFold, ValueError, TypeError, KeyError, IndexError):
            pass  # an entry that is not what `save` wrote: the journal is folded whole
    return _through(handle, path, entry, None)


def _through(handle, path: str, entry: Optional[str], kept) -> tuple:
    """journal_trails, going on from `kept` (an entry read) when the journal still begins
    with the bytes it names."""
    folds, saved, problems = {}, {}, []
    handle.seek(0)
    found = read_header(handle, path, problems)
    if found is None:
        return {}, problems
    names, number, delimiter = found
    start, hit = handle.tell(), False
    if kept is not None:
        size, digest, lines, entries = kept
        handle.seek(0)
        hashed = _Hashed(handle)
        if size >= start and hashed.skip(size) and (hashed.hexdigest(), hashed.lines) == (
                digest, lines):
            saved, start, number, hit = saved_folds(entries), size, lines, True
            _used(entry)
        del kept, entries  # the entry's text, read whole, is not needed any more
    if not hit:
        handle.seek(0)
        hashed = _Hashed(handle)  # the header's bytes are hashed too
        hashed.skip(start)
    problems = fold_more(folds, hashed, path, names, number, delimiter, saved)
    again = undone(folds, saved)
    if again and not problems:  # `undo` rows: those contacts' rows are read again, whole
        handle.seek(0)
        rows, problems = read_rows(upto(handle, hashed.size), path, again)
        refold(folds, rows, saved)
    if entry and not problems and hashed.whole and (
            not hit or hashed.size - start > start // REWRITE_SHARE):
        _write_entry(entry, hashed, save(folds, saved))
    return trails(folds, saved), problems


class _Hashed:
    """The journal's lines as they are read, hashed and counted on the way: an entry names
    exactly the bytes that were folded, even if the file changes meanwhile."""

    def __init__(self, handle):
        self.handle, self.digest, self.lines, self.size = handle, hashlib.sha256(), 0, 0
        self.whole = True  # every line read ends with a line break

    def skip(self, size: int) -> bool:
        """Hash the first `size` bytes without folding them; False if they do not end a line."""
        left, last = size, b""
        while left > 0:
            chunk = self.handle.read(min(CHUNK, left))
            if not chunk:
                return False
            self.digest.update(chunk)
            self.lines += chunk.count(b"\n")
            self.size += len(chunk)
            left -= len(chunk)
            last = chunk[-1:]
        return last == b"\n" or size == 0

    def hexdigest(self) -> str:
        return self.digest.hexdigest()

    def __iter__(self):
        for raw in self.handle:
            self.digest.update(raw)
            self.size += len(raw)
            if raw.endswith(b"\n"):
                self.lines += 1
            else:
                self.whole = False
            yield raw


def upto(handle, size: int):
    """The file's lines within its first `size` bytes (the bytes this command folded)."""
    left = size
    for line in handle:
        if left <= 0:
            return
        yield line[:left]
        left -= len(line)


def _entry_path(folder: str, journal: str) -> str:
    key = hashlib.sha256(os.path.realpath(journal).encode("utf-8", "surrogatepass")).hexdigest()
    return os.path.join(folder, f"journal-{key[:32]}.json")


def _usable(folder: str) -> bool:
    """Made for the user alone if it is not there yet; refused if another user owns it or
    others may write to it (a planted entry could then change nothing but speed, yet a folder
    like that is not ours to write into)."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_entry(entry: str):
    """(size, digest, lines, saved folds) of an entry, or None."""
    try:
        with open(entry, "rb") as handle:
            data = json.loads(handle.read())
        if data.get("version") != VERSION:
            return None
        size, digest, lines = data["size"], data["digest"], data["lines"]
        if not (isinstance(size, int) and isinstance(lines, int) and isinstance(digest, str)):
            return None
        return size, digest, lines, data["folds"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_entry(entry: str, hashed: _Hashed, saved: dict) -> None:
    """The entry for the bytes `hashed` read; a cache that cannot be written costs only time."""
    data = json.dumps({"version": VERSION, "size": hashed.size, "digest": hashed.hexdigest(),
                       "lines": hashed.lines, "folds": saved},
                      separators=(",", ":")).encode("utf-8")
    _write(entry, data)
    _prune(os.path.dirname(entry), "journal-", entry)


def _used(entry: str) -> None:
    """Mark an entry used now, so that pruning keeps the books in use (a hit that folds only
    a morning's rows does not write the entry again)."""
    try:
        os.utime(entry)
    except OSError:
        pass


# the names cadence gives its files (`_entry_path`, `_cursor_path`, `_write`): nothing else
# in a cache folder named by CADENCE_CACHE_DIR is ever removed
_ENTRY = re.compile(r"(?:journal|mail)-[0-9a-f]{32}\.json")
_TMP = re.compile(r"\.cadence-[A-Za-z0-9_]{1,16}\.tmp")


def _prune(folder: str, prefix: str, written: str) -> None:
    """Keep the KEEP entries named `prefix`... last used; remove the others, and temporary
    files left STALE_TMP seconds before the entry just `written` (a command killed while it
    wrote; one still being written by another command is newer). Times are the files' own,
    compared with each other. Removing costs nothing but a fold the next time."""
    try:
        now = os.stat(written).st_mtime
        names = os.listdir(folder)
    except OSError:
        return
    kept, stale = [], []
    for name in names:
        path = os.path.join(folder, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if _ENTRY.fullmatch(name) and name.startswith(prefix) and path != written:
            kept.append((info.st_mtime, name, path))
        elif _TMP.fullmatch(name) and info.st_mtime < now - STALE_TMP:
            stale.append(path)
    kept.sort(reverse=True)
    for path in stale + [path for _, _, path in kept[KEEP - 1:]]:
        try:
            os.unlink(path)
        except OSError:
            pass


def _write(path: str, data: bytes) -> None:
    """`data` at `path` whole or not at all (a temporary file renamed); a cache that cannot be
    written costs only time."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cadence-", suffix=".tmp", dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


# --- where `sync` left off in each mail folder ---------------------------------------------------
#
# Not an answer but a place to start reading: `sync` reads the inbox and the sent folder from
# the highest UID it read before (SPEC section 10). A cursor is used only while the journal
# still begins with the bytes it had when the cursor was saved and the contacts' addresses are
# as they were (`basis`): a journal taken back (`git checkout`) or a ledger with other addresses
# makes `sync` read every message again, and the journal's Message-IDs keep each one to one row.

def mail_cursors(folder: Optional[str], key: str) -> dict:
    """The cursors saved under `key`: {"basis": ..., "folders": {name: [uidvalidity, uid]}},
    or {} when there are none usable."""
    if not folder or not _usable(folder):
        return {}
    try:
        with open(_cursor_path(folder, key), "rb") as handle:
            data = json.loads(handle.read(1 << 20))
        if data.get("version") != CURSOR_VERSION or not isinstance(data.get("folders"), dict):
            return {}
        folders = {}
        for name, pair in data["folders"].items():
            if isinstance(name, str) and isinstance(pair, list) and len(pair) == 2 and all(
                    isinstance(n, int) and n >= 0 for n in pair):
                folders[name] = (pair[0], pair[1])
        return {"basis": data.get("basis"), "folders": folders}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def save_mail_cursors(folder: Optional[str], key: str, basis, folders: dict) -> None:
    """Save the cursors; one that cannot be saved costs only time at the next sync."""
    if not folder or not _usable(folder):
        return
    data = json.dumps({"version": CURSOR_VERSION, "basis": basis,
                       "folders": {name: list(pair) for name, pair in sorted(folders.items())}},
                      separators=(",", ":")).encode("utf-8")
    _write(_cursor_path(folder, key), data)
    _prune(folder, "mail-", _cursor_path(folder, key))


def journal_prefix(path: str, size: Optional[int] = None) -> Optional[list]:
    """[size, SHA-256] of the journal's first `size` bytes (all of it when None); None when the
    journal is shorter or cannot be read."""
    digest, left, read = hashlib.sha256(), size, 0
    try:
        with open(path, "rb") as handle:
            while left is None or left > 0:
                chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    break
                digest.update(chunk)
                read += len(chunk)
                if left is not None:
                    left -= len(chunk)
    except OSError:
        return None if size else [0, hashlib.sha256().hexdigest()]
    if size is not None and read != size:
        return None
    return [read, digest.hexdigest()]


CURSOR_VERSION = 1


def _cursor_path(folder: str, key: str) -> str:
    return os.path.join(folder, f"mail-{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}.json")

"""What cadence already worked out about a book that has not changed since.

Every morning `due` and `run` read the same playbooks and, in a large ledger, mostly the same
rows, to find the few contacts whose day has come. The cache remembers, per book:

- `<key>.book`: the parsed config and playbooks, keyed by their bytes and the template names,
  and the answers of `if` rules, keyed by the cells they read;
- `<key>.journal`: where each contact's journal rows begin, for a draft's `history`;
- `<key>.templates/`: compiled templates (Jinja's FileSystemBytecodeCache);
- `<key>.rows`: for each CSV ledger row that the last `due` or `run` left alone, the first day
  on which anything can happen to it (`engine.quiet_until`), keyed by the row's text (a dict
  lookup of the line costs less than hashing it, and the text is the ledger's own).
  It holds only while the playbooks, the config and the ledger's header are the ones it was
  made with, and the journal has only grown since: rows appended to it since (by `reply`,
  `log`, by hand) take their contacts out of the cache.

The files live in the user's cache folder, never in the book (so nothing of it is committed):
`$CADENCE_CACHE_DIR`, else `$XDG_CACHE_HOME/cadence`, else `~/.cache/cadence`. Anything odd
about a cache file (missing, truncated, another version of cadence or Python) reads as empty,
and a cache that cannot be written is skipped: the cache only ever saves time, never changes an
answer. `CADENCE_NO_CACHE=1` turns it off.
"""
from __future__ import annotations

import os
import pickle
import sys
import zlib
from array import array
from itertools import accumulate, chain, compress
from typing import Optional

FORMAT = 3
_TAIL = 4096  # bytes of the journal's end the rows cache checks, to know it only grew
# the modules whose code shapes what is cached: an edited one makes the cache stale
_SHAPERS = ("engine", "model", "records", "playbook", "config", "contacts", "ledger",
            "durations", "yamlnodes", "journal", "render", "cache")


def folder() -> Optional[str]:
    """The cache folder, or None when caching is off."""
    if os.environ.get("CADENCE_NO_CACHE", "") not in ("", "0"):
        return None
    chosen = os.environ.get("CADENCE_CACHE_DIR")
    if chosen:
        return os.path.abspath(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cadence")


def _stamp() -> tuple:
    """What a cache file must have been written by: this format, cadence and Python."""
    from . import __version__

    here = os.path.dirname(os.path.abspath(__file__))
    code = []
    for name in _SHAPERS:
        try:
            info = os.stat(os.path.join(here, name + ".py"))
        except OSError:
            continue
        code.append((name, info.st_mtime_ns, info.st_size))
    return FORMAT, __version__, sys.version_info[:2], tuple(code)


def key(*parts: bytes) -> bytes:
    """What a cached value was made from, compared byte for byte (no hash to collide)."""
    return b"".join(len(part).to_bytes(8, "little") + part for part in parts)


class _File:
    """One pickled dict in the cache folder, read once, written back only when changed."""

    def __init__(self, path: Optional[str], stamp: tuple):
        self.path = path
        self.stamp = stamp  # what the file must hold to be read: see `_stamp`
        self.data: Optional[dict] = None
        self.dirty = False

    def read(self) -> dict:
        if self.data is None:
            self.data = {}
            if self.path is not None:
                try:
                    with open(self.path, "rb") as handle:
                        found = pickle.load(handle)
                    if isinstance(found, dict) and found.get("stamp") == self.stamp:
                        self.data = found
                except Exception:  # noqa: BLE001 - a cache that cannot be read is empty
                    self.data = {}
        return self.data

    def put(self, key: str, value) -> None:
        self.read()[key] = value
        self.dirty = True

    def write(self) -> None:
        if not self.dirty or self.path is None:
            return
        self.dirty = False
        data = dict(self.data or {}, stamp=self.stamp)
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            tmp = f"{self.path}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
                    # no memo: the values share nothing, and a memo of a journal index's
                    # hundred thousand keys costs time and memory for nothing
                    pickler.fast = True
                    pickler.dump(data)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # a read-only home or a full disk: go on without a cache


class BookCache:
    """The cache of one book (the folder of its cadence.yaml)."""

    def __init__(self, root: str):
        base = folder()
        root = os.path.abspath(root).encode("utf-8", "surrogatepass")
        name = f"{zlib.crc32(root):08x}{zlib.adler32(root):08x}"
        stamp = _stamp() + (root,)  # two books whose names collide never share a file
        self.enabled = base is not None
        self.book = _File(os.path.join(base, name + ".book") if base else None, stamp)
        self.rows = _File(os.path.join(base, name + ".rows") if base else None, stamp)
        self.journal = _File(os.path.join(base, name + ".journal") if base else None, stamp)
        # compiled templates (Jinja's own bytecode cache, which checks each template's text)
        self.templates = os.path.join(base, name + ".templates") if base else None
        self.arrays: tuple = ([], [], [])  # the rows cache as `quiet_rows` read it

    # --- config and playbooks ------------------------------------------------------------

    def get(self, what: str, key: bytes):
        """The value stored for `what` under `key`, or None."""
        found = self.book.read().get(what)
        if found is not None and found[0] == key:
            return found[1]
        return None

    def put(self, what: str, key: bytes, value) -> None:
        if self.enabled:
            self.book.put(what, (key, value))

    def answers(self) -> dict:
        """{expr: (columns read, {cell values: answer})}, shared with the `if` test."""
        found = self.book.read().setdefault("answers", {})
        return found

    def answers_changed(self) -> None:
        self.book.dirty = self.enabled

    # --- quiet rows ----------------------------------------------------------------------

    def quiet_rows(self, book_key: bytes, header: bytes, today: int, journal: str,
                   journal_size: int, run: bool = False) -> Optional[dict]:
        """{row text: contact id} of the rows nothing can happen to on day `today` (an
        ordinal), or None when the rows cache does not hold for the book as it stands.

        None too for a second `run` on a day (`run`): its overview of the day lists the
        touches of the first, so it reads every contact."""
        found = self.rows.read()
        if not found or found.get("book") != book_key or found.get("header") != header:
            return None
        if today < found["as_of"]:
            return None  # a day before the one it was worked out on: nothing is known
        if run and found.get("ran") == today:
            return None
        moved = _appended_contacts(journal, found["journal"], journal_size)
        if moved is None:
            return None
        texts, ids, until = self.arrays = _unpack(found)
        found.pop("texts", None)  # split now; `put_rows` joins them anew (memory: a ledger's size)
        found.pop("ids", None)
        keep = [day > today for day in until]
        known = dict(zip(compress(texts, keep), compress(ids, keep)))
        for text, cid in list(known.items()) if moved else ():
            if cid in moved:
                del known[text]
        return known

    def put_rows(self, book_key: bytes, header: bytes, as_of: int, state: Optional[tuple],
                 kept, added: dict, ran: bool = False) -> None:
        """Keep the rows of `kept` (texts of rows read through `quiet_rows`: their entries
        stay) and `added` ({row text: (id, quiet until ordinal)}), worked out on day `as_of`
        from the journal as it stood in `state` (`journal_state`)."""
        if not self.enabled or state is None:
            return
        texts, ids, until = self.arrays
        present = set(kept)
        keep = [text in present for text in texts]
        # three flat values, not a dict of tuples: a hundred thousand rows load in a blink
        self.rows.data = {
            "book": book_key, "header": header, "as_of": as_of, "journal": state,
            # a run on this day: a second one must read every contact (see quiet_rows)
            "ran": as_of if ran else (self.rows.read() or {}).get("ran"),
            "texts": _joined(chain(compress(texts, keep), added)),
            "ids": _joined(chain(compress(ids, keep), (cid for cid, _ in added.values()))),
            "until": array("l", chain(compress(until, keep), (day for _, day in added.values()))),
        }
        self.rows.dirty = True

    # --- where each contact's journal rows are ---------------------------------------------

    def journal_lines(self, path: str, ids) -> Optional[dict]:
        """{contact id: [its journal lines, oldest first]} for `ids`, by an index of where each
        contact's rows begin, kept up to date from the rows appended since; None without a
        cache. Lines whose contact cell is quoted are given to every id: the caller parses."""
        if not self.enabled:
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            return self._journal_lines(fd, ids)
        except OSError:
            return None
        finally:
            os.close(fd)

    def _journal_lines(self, fd: int, ids) -> dict:
        # read by offset (pread), not mapped: a mapped journal's touched pages count towards
        # the process's memory, and a day's contacts have rows all over a long journal
        info = os.fstat(fd)
        size, mtime = info.st_size, info.st_mtime_ns
        if size == 0:
            return {}
        found = self.journal.read()
        index, start = found.get("index"), 0
        if index is not None and found["size"] <= size \
                and os.pread(fd, len(found["tail"]), found["size"] - len(found["tail"])) \
                == found["tail"] and (found["size"] < size or found.get("mtime") == mtime):
            start = found["size"]  # only grown since (same size: untouched since)
        else:
            index, start = {}, os.pread(fd, _TAIL, 0).find(b"\n") + 1  # anew: below the header
            if start == 0:  # a header line longer than that
                start = _read_at(fd, 0, size).find(b"\n") + 1
                if start == 0:
                    return {}
        if start < size:
            _index_lines(_read_at(fd, start, size - start), start, index)
            self.journal.data = {"size": size, "tail": os.pread(fd, min(size, _TAIL),
                                                                max(0, size - _TAIL)),
                                 "index": index, "mtime": mtime}
            self.journal.dirty = True
        wanted = set(ids)
        odd = _offsets(index.get(b"", b""))
        lines = {}
        for cid in wanted:
            offsets = _offsets(index.get(cid.encode("utf-8", "surrogatepass"), b""))
            if odd:
                offsets = sorted(set(offsets) | set(odd))
            if offsets:
                lines[cid] = [_line_at(fd, o, size) for o in offsets]
        return lines

    def save(self) -> None:
        self.book.write()
        self.rows.write()
        self.journal.write()


_OPEN: dict = {}  # id(config) -> (config, BookCache): one cache a command


def open_for(config) -> BookCache:
    """The command's cache of the book `config` belongs to."""
    made = _OPEN.get(id(config))
    if made is None or made[0] is not config:
        _OPEN.clear()
        made = _OPEN[id(config)] = (config, BookCache(config.root))
    return made[1]


def adopt(config, cache: BookCache) -> None:
    """Make `cache` (opened to read the config itself) the one of `config`'s command."""
    _OPEN.clear()
    _OPEN[id(config)] = (config, cache)


def _index_lines(data: bytes, start: int, index: dict) -> None:
    """Add the lines of `data`, read from offset `start`, to `index` ({contact id bytes:
    packed offsets}); a line whose contact cell is quoted or odd goes under b"" (parsed for
    every contact)."""
    lines = data.split(b"\n")
    offsets = accumulate(chain((start,), (len(line) + 1 for line in lines)))
    added = {}
    for line, offset in zip(lines, offsets):
        key = line[11:line.find(b",", 11)]
        if line[10:11] != b"," or b'"' in key or not key:
            if not line.strip():
                continue
            key = b""
        found = added.get(key)
        if found is None:
            added[key] = [offset]
        else:
            found.append(offset)
    for key, found in added.items():
        index[key] = index.get(key, b"") + array("q", found).tobytes()


def _offsets(packed: bytes) -> list:
    return array("q", packed).tolist() if packed else []


def _read_at(fd: int, offset: int, length: int) -> bytes:
    """`length` bytes from `offset` (fewer at the end of the file)."""
    parts = []
    while length > 0:
        part = os.pread(fd, length, offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
        length -= len(part)
    return b"".join(parts)


def _line_at(fd: int, offset: int, size: int) -> bytes:
    """The line that starts at `offset`, without its newline."""
    chunk = os.pread(fd, 256, offset)
    end = chunk.find(b"\n")
    while end < 0 and offset + len(chunk) < size:  # a long line: read on
        more = os.pread(fd, max(4096, len(chunk)), offset + len(chunk))
        if not more:
            break
        chunk += more
        end = chunk.find(b"\n")
    return chunk if end < 0 else chunk[:end]


def _unpack(found: dict) -> tuple:
    """(texts, ids, quiet-until ordinals) of a rows cache, three lists in one order."""
    if not found.get("texts"):
        return [], [], []
    return _split(found["texts"]), _split(found["ids"]), found["until"]


def _joined(texts) -> bytes:
    """Lines as one UTF-8 value: half the memory of a str that holds one Cyrillic letter,
    and pickled as it is."""
    return b"\n".join(text.encode("utf-8", "surrogatepass") for text in texts)


def _split(data: bytes) -> list:
    return data.decode("utf-8", "surrogatepass").split("\n")


def journal_state(path: str) -> Optional[tuple]:
    """(size, last bytes, modification time) of the journal; (0, b"", 0) when there is none."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            size = info.st_size
            handle.seek(max(0, size - _TAIL))
            tail = handle.read(size - max(0, size - _TAIL))
    except FileNotFoundError:
        return 0, b"", 0
    except OSError:
        return None
    return size, tail, info.st_mtime_ns


def _appended_contacts(path: str, state: tuple, size_now: int) -> Optional[frozenset]:
    """Ids of the contacts in rows appended to the journal since `state`, or None when the
    journal did more than grow (rewritten, truncated, edited)."""
    size, tail, mtime = state
    if size_now < size:
        return None
    if size_now == size:  # nothing appended: a change of time means an edit in place
        try:
            return frozenset() if os.stat(path).st_mtime_ns == mtime else None
        except OSError:
            return frozenset() if size == 0 else None
    if size == 0:
        if size_now == 0:
            return frozenset()
        start = 0
    else:
        start = size
    try:
        with open(path, "rb") as handle:
            if size:
                handle.seek(max(0, size - _TAIL))
                if handle.read(size - max(0, size - _TAIL)) != tail:
                    return None
            added = handle.read(size_now - start) if size_now > start else b""
    except OSError:
        return None
    if not added:
        return frozenset()
    import csv
    import io

    try:
        text = added.decode("utf-8-sig")
        return frozenset(row[1].strip() for row in csv.reader(io.StringIO(text, newline=""))
                         if len(row) > 1)
    except (UnicodeDecodeError, csv.Error):
        return None

"""Read and write the ledger (contacts.csv or contacts.yaml) losslessly.

Both readers are hand-written on purpose. The stdlib csv module throws away what a lossless
writer needs (which cells were quoted, the raw text of a row) and, on an unclosed quote, silently
swallows the rest of the file into one cell instead of saying where the quote opened. PyYAML's
dumpers re-emit a whole document, losing comments, quoting and key order. So the CSV reader keeps
each row's raw text and re-tokenizes only rows that change, and the YAML reader walks PyYAML's
event stream (with marks) and writes back by splicing text at those marks.

Every cell is text: dates, numbers and booleans are parsed elsewhere.
"""
from __future__ import annotations

import codecs
import csv
import difflib
import re
from dataclasses import field
from typing import Mapping, Optional


from .model import EXIT_CONFIG, EXIT_DATA, KNOWN_COLUMNS, Problem, Source
from .records import frozen

__all__ = ["LedgerFile", "LedgerWriteError", "dump_ledger", "parse_ledger"]

ENCODING_HINT = "set `encoding:` in cadence.yaml to the file's encoding, e.g. `encoding: cp1251`"
_CODEPAGE_HINT = ("set `encoding:` in cadence.yaml to the file's encoding; it looks like "
                  "`encoding: {}` ({} Excel)")
ID_HINT = "every contact needs a unique `id`"


class LedgerWriteError(ValueError):
    """A new value cannot be written into the ledger file as it is (e.g. its encoding)."""


@frozen
class LedgerFile:
    path: str
    kind: str  # "csv" or "yaml"
    columns: tuple[str, ...]  # CSV: header order; YAML: union of keys, first seen first
    rows: tuple[dict, ...]  # each row: {column: cell text}, every column present
    lines: tuple[int, ...]  # 1-based line where each row starts
    _data: bytes = field(default=b"", repr=False, compare=False)
    _codec: str = field(default="utf-8", repr=False, compare=False)
    _bom: bytes = field(default=b"", repr=False, compare=False)
    _layout: object = field(default=None, repr=False, compare=False)
    # rows that a cache vouched for, by their text: left unsplit until asked for
    known: frozenset = field(default=frozenset(), repr=False, compare=False)
    keyed: bool = field(default=False, repr=False, compare=False)  # read with a `known`
    known_texts: tuple = field(default=(), repr=False, compare=False)  # their lines

    def row_text(self, index: int, changes: Mapping[str, str] = {}) -> Optional[str]:
        """What a cache knows row `index` by: its one line of text, once `changes` are written
        (None: a YAML ledger, a CSV record over several lines, a column to add)."""
        if not self.keyed:
            return None
        return self._layout.text_after(self, index, changes)

    def source(self, index: int, column: Optional[str] = None) -> Source:
        """Where row `index` (0-based) starts, or where its cell in `column` starts."""
        line = self.lines[index]
        if column is not None:
            where = self._layout.cell_position(index, column)
            if where:
                return Source(self.path, *where)
        return Source(self.path, line)


def parse_ledger(data: bytes, path: str, encoding: str = "utf-8",
                 kind: Optional[str] = None,
                 known: Optional[Mapping[bytes, str]] = None) -> tuple[Optional[LedgerFile], list[Problem]]:
    """(LedgerFile, problems), or (None, problems) when any problem is an error.

    `kind` is "csv" or "yaml"; by default .yaml/.yml files are YAML and anything else CSV.
    `known` ({row text: id}, from `cadence.cache`) names one-line CSV rows already checked
    as they are: they are neither split nor checked again (only their ids, for duplicates).
    """
    if kind is None:
        kind = "yaml" if path.lower().endswith((".yaml", ".yml")) else "csv"
    decoded = _decode(data, path, encoding)
    if isinstance(decoded, Problem):
        return None, [decoded]
    text, codec, bom = decoded
    matched = []  # the text of each row `known` vouched for
    if kind == "yaml":
        from .ledger_yaml import parse_yaml

        columns, rows, lines, layout, problems = parse_yaml(text, path)
        known = None
    else:
        columns, rows, lines, layout, problems = _parse_csv(text, path, known, matched)
    if any(not p.warning for p in problems):
        return None, problems
    skipped = frozenset(i for i, row in enumerate(rows) if row is None) if known else frozenset()
    if skipped:
        rows = _Rows(rows, layout)
    ledger = LedgerFile(path, kind, columns, rows, lines, data, codec, bom, layout,
                        skipped, known is not None, tuple(matched))
    return ledger, problems


class _Rows(tuple):
    """The rows, those a cache vouched for split only when read (`run` rewrites few)."""

    def __new__(cls, rows, layout):
        made = super().__new__(cls, rows)
        made._layout = layout
        made._split = {}
        return made

    def __getitem__(self, index):
        row = tuple.__getitem__(self, index)
        if row is None and not isinstance(index, slice):
            index = range(len(self))[index]
            row = self._split.get(index)
            if row is None:
                row = self._split[index] = self._layout.row(index)
        elif isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        return row

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def dump_ledger(ledger: LedgerFile, updates: Mapping[int, Mapping[str, str]]) -> bytes:
    """The file's new bytes with `updates` ({row index: {column: text}}) applied."""
    for index in updates:
        if not 0 <= index < len(ledger.rows):
            raise IndexError(f"no row {index} in the ledger ({len(ledger.rows)} rows)")
    text = ledger._layout.dump(ledger, updates)
    if text is None:  # nothing changed: the original bytes, never a re-encoding
        return ledger._data
    try:
        return ledger._bom + text.encode(ledger._codec)
    except UnicodeEncodeError as exc:  # values are checked one by one first: a backstop
        raise LedgerWriteError(
            f"cannot write the ledger in {ledger._codec}: {exc.reason}") from None


# ---------------------------------------------------------------- bytes to text

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _decode(data: bytes, path: str, encoding: str):
    """(text, codec to write with, BOM bytes) or a Problem."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return Problem(Source(path), f"unknown encoding {encoding!r}",
                       "set `encoding:` in cadence.yaml to a codec name such as utf-8 or cp1251",
                       code=EXIT_CONFIG)
    codec, bom = name, b""
    if name in ("utf-16", "utf-32"):
        # Keep the byte order the file has: Python's own utf-16 codec would write native order.
        width = name[-2:]
        for order, mark in (("le", getattr(codecs, f"BOM_UTF{width}_LE")),
                            ("be", getattr(codecs, f"BOM_UTF{width}_BE"))):
            if data.startswith(mark):
                codec, bom = f"{name}-{order}", mark
                break
        else:
            codec = f"{name}-le"
    elif data.startswith(_UTF16_BOMS):
        return _problem(path, 1, 1, f"the ledger is UTF-16 text, but the encoding is {encoding}",
                        'save it as "CSV UTF-8", or set `encoding: utf-16` in cadence.yaml')
    elif data.startswith(codecs.BOM_UTF8):
        if name not in ("utf-8", "utf-8-sig"):
            return _problem(path, 1, 1, "the ledger starts with a UTF-8 byte order mark, "
                            f"but the encoding is {encoding}",
                            "set `encoding: utf-8` in cadence.yaml")
        codec, bom = "utf-8", codecs.BOM_UTF8
    elif name == "utf-8-sig":
        codec = "utf-8"
    body = data[len(bom):]
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        before = body[:exc.start].decode(codec, "replace")
        line, col = _text_position(before, len(before))
        message = f"cannot decode byte 0x{body[exc.start]:02x} as {encoding}"
        hint = _codepage_hint(body) if codec == "utf-8" else ENCODING_HINT
        return _problem(path, line, col, message, hint)
    nul = text.find("\x00")
    if nul >= 0:
        return _problem(path, *_text_position(text, nul), "NUL byte in the ledger",
                        'the file looks binary or UTF-16; save it as "CSV UTF-8" '
                        "or set `encoding:` in cadence.yaml")
    return text, codec, bom


def _codepage_hint(body: bytes) -> str:
    """Which Windows code page a file that is not UTF-8 most likely uses.

    Cyrillic words are runs of bytes above 0x7F (cp1251); Western European text has an accented
    letter here and there among ASCII ones (cp1252). Naming the wrong one would have the ledger
    read without an error and every name mangled, so the hint says which one the bytes suggest.
    """
    text = body.decode("utf-8", "surrogateescape")  # bytes that are not UTF-8: U+DC80..U+DCFF
    bad = [i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff"]
    marks = set(bad)
    paired = sum(1 for i in bad if i - 1 in marks or i + 1 in marks)
    if bad and paired * 2 >= len(bad):
        return _CODEPAGE_HINT.format("cp1251", "Cyrillic")
    return _CODEPAGE_HINT.format("cp1252", "Western European")


def _text_position(text: str, index: int) -> tuple:
    """1-based (line, column) of a character offset, counting LF (or lone CR) line breaks."""
    brk = "\n" if "\n" in text or "\r" not in text else "\r"
    line = text.count(brk, 0, index) + 1
    return line, index - (text.rfind(brk, 0, index) + 1) + 1


def _problem(path: str, line: int, col: int, message: str, hint: str = "") -> Problem:
    return Problem(Source(path, line, col), message, hint, code=EXIT_DATA)


def _misspelling(name: str, present) -> Optional[str]:
    """The known column that `name` probably meant, if the ledger lacks that column."""
    if name in KNOWN_COLUMNS:
        return None
    missing = [c for c in KNOWN_COLUMNS if c not in present]
    match = difflib.get_close_matches(name.lower(), missing, n=1, cutoff=0.8)
    return match[0] if match else None


# ---------------------------------------------------------------- CSV

class _Unclosed(Exception):
    def __init__(self, text: str, offset: int):
        self.text = text  # the record so far, from its first line
        self.offset = offset  # where the quote opened


def _line_mode(text: str) -> tuple:
    """(record separator, newline) from the header's line ending.

    A file with CRLF everywhere is split on CRLF so no line needs its CR stripped; a file that
    mixes endings (Excel writes LF inside cells, CRLF between rows) is split on LF.
    """
    lf, cr = text.find("\n"), text.find("\r")
    if lf < 0 and cr < 0:
        return "\n", "\n"
    if cr < 0 or 0 <= lf < cr:
        return "\n", "\n"
    if text.startswith("\r\n", cr):
        if text.count("\n") == text.count("\r\n"):
            return "\r\n", "\r\n"
        return "\n", "\r\n"
    return "\r", "\r"  # classic Mac OS


def _split_record(lines, k: int, delim: str, sep: str):
    """Tokenize the record that starts at physical line k.

    Returns (raw text, cells, next line index); each cell is (start, end, value, quoted) with
    offsets into the raw text, so a writer can keep unchanged cells exactly as they were.
    A CR before the final LF (in LF mode) is the line ending, not part of the last cell.
    """
    strip_cr = sep == "\n"
    s = lines[k]
    k += 1
    n = len(s)
    cells = []
    pos = 0
    while True:
        if pos < n and s[pos] == '"':
            start = pos
            pos += 1
            while True:
                q = s.find('"', pos)
                if q < 0:
                    # The field runs past this line: jump to the next line holding a quote, so
                    # that an unclosed quote costs linear time, not a rejoin per line.
                    j = k
                    while j < len(lines) and '"' not in lines[j]:
                        j += 1
                    if j == len(lines):
                        raise _Unclosed(s, start)
                    s = sep.join((s, *lines[k:j + 1]))
                    n = len(s)
                    k = j + 1
                    continue
                if q + 1 < n and s[q + 1] == '"':
                    pos = q + 2
                    continue
                break
            value = s[start + 1:q].replace('""', '"')
            pos = q + 1
            d = s.find(delim, pos)
            end = n if d < 0 else d
            if d < 0 and strip_cr and end > pos and s[end - 1] == "\r":
                end -= 1
            value += s[pos:end]  # text after the closing quote, as Excel and csv keep it
            cells.append((start, end, value, True))
        else:
            d = s.find(delim, pos)
            end = n if d < 0 else d
            if d < 0 and strip_cr and end > pos and s[end - 1] == "\r":
                end -= 1
            cells.append((pos, end, s[pos:end], False))
        if d < 0:
            return s, cells, k
        pos = d + 1


_QUOTED = re.compile(r'"[^"]*+(?:""[^"]*+)*+"')  # possessive: `"a""` must not close at `a"`


def _split_quoted_line(line: str, delim: str):
    """Values of a one-line record holding quotes, or None when a quote runs past the line.

    The same rules as _split_record, but splitting first and matching quoted cells with a
    regex is about twice as fast, which matters for files that quote every row.
    """
    if line[:1] == '"' and line[-1:] == '"':
        # Every cell quoted, none holding a quote (what "quote all" writers produce): when the
        # quote count adds up, splitting on `","` is exact.
        values = line[1:-1].split('"' + delim + '"')
        if line.count('"') == 2 * len(values):
            return values
    parts = line.split(delim)
    values = []
    i, n = 0, len(parts)
    match = _QUOTED.match
    while i < n:
        part = parts[i]
        i += 1
        if part[:1] != '"':
            values.append(part)
            continue
        m = match(part)
        while m is None:  # the delimiter was inside the quotes: rejoin
            if i == n:
                return None
            part += delim + parts[i]
            i += 1
            m = match(part)
        end = m.end()
        values.append(part[1:end - 1].replace('""', '"') + part[end:])
    return values


def _quoted_values(line: str, delim: str):
    """Values of a one-line record holding quotes: the stdlib's C reader where it agrees (it
    is strict about what follows a closing quote), else the rules of _split_quoted_line."""
    try:
        values = next(csv.reader((line,), delimiter=delim, strict=True))
    except csv.Error:
        return _split_quoted_line(line, delim)
    return values


def _offset_position(s: str, offset: int, sep: str, first_line: int) -> tuple:
    line = first_line + s.count(sep, 0, offset)
    brk = s.rfind(sep, 0, offset)
    return line, offset - (brk + len(sep) if brk >= 0 else 0) + 1


def _detect_delimiter(line: str) -> str:
    """The most frequent of , ; TAB outside quotes on the header line (ties: that order)."""
    bare = re.sub(r'"[^"]*"', "", line)
    best = max(",;\t", key=bare.count)
    return best if bare.count(best) else ","


def _csv_cell(value: str, delim: str, quoted: bool) -> str:
    if quoted or delim in value or '"' in value or "\r" in value or "\n" in value \
            or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


@frozen
class _CsvLayout:
    path: str
    lines: tuple  # the text split on `sep`: joining them back gives the text
    sep: str
    newline: str
    delimiter: str
    header: tuple  # (first, last) physical line of the header record
    starts: tuple  # physical line where each row starts
    ends: dict  # row index -> last physical line, only for rows spanning lines
    index: dict  # column -> position in the header
    _records: dict = field(default_factory=dict, repr=False, compare=False)  # see _record

    def row(self, i: int) -> dict:
        """Row i's cells, split again from the text (a row vouched for is one line)."""
        line = self.lines[self.starts[i]]
        if self.sep == "\n" and line[-1:] == "\r":
            line = line[:-1]
        values = line.split(self.delimiter) if '"' not in line else _quoted_values(line, self.delimiter)
        return dict(zip(self.index, values))

    def cell_position(self, row: int, column: str):
        if column not in self.index:
            return None
        k = self.starts[row]
        s, cells, _ = _split_record(self.lines, k, self.delimiter, self.sep)
        return _offset_position(s, cells[self.index[column]][0], self.sep, k + 1)

    def dump(self, ledger: LedgerFile, updates) -> Optional[str]:
        new_columns = []
        for changes in updates.values():
            for column in changes:
                if column not in self.index and column not in new_columns:
                    new_columns.append(column)
        changed = {}
        for i, changes in updates.items():
            row = ledger.rows[i]
            cells = {self.index[c]: v for c, v in changes.items()
                     if c in self.index and v != row[c]}
            for c, v in changes.items():
                _check_csv_value(v, ledger._codec, ledger, i, c)
            if cells:
                changed[i] = cells
        if not changed and not new_columns:
            return None
        out = list(self.lines)
        ends = dict(self.ends)
        for i, cells in changed.items():
            self._rewrite_row(out, ends, i, cells)
        if new_columns:
            d = self.delimiter
            for name in new_columns:
                _check_csv_value(name, ledger._codec, ledger, None, name)
            names = "".join(d + _csv_cell(c, d, False) for c in new_columns)
            self._append(out, self.header[1], names)
            for i, start in enumerate(self.starts):
                changes = updates.get(i, {})
                extra = "".join(d + _csv_cell(changes.get(c, ""), d, False) for c in new_columns)
                self._append(out, ends.get(i, start), extra)
        return self.sep.join(line for line in out if line is not None)

    def _record(self, i: int, cells: dict) -> tuple:
        """(record text, lines it spanned) of row i with `cells` ({position: value}) written:
        unchanged cells keep their raw text, quotes and all. Remembered: `run` asks for a
        changed row's text twice (to write it, and for the cache)."""
        key = (i, tuple(sorted(cells.items())))
        found = self._records.get(key)
        if found is None:
            found = self._records[key] = self._build_record(i, cells)
        return found

    def _build_record(self, i: int, cells: dict) -> tuple:
        k = self.starts[i]
        line = self.lines[k]
        if '"' not in line and i not in self.ends:  # most rows: no quote, one line
            end = "\r" if self.sep == "\n" and line[-1:] == "\r" else ""
            raw = (line[:-1] if end else line).split(self.delimiter)
            for j, value in cells.items():
                raw[j] = _csv_cell(value, self.delimiter, False)
            return self.delimiter.join(raw) + end, k + 1
        s, tokens, nk = _split_record(self.lines, k, self.delimiter, self.sep)
        raw = [s[a:b] for a, b, _, _ in tokens]
        for j, value in cells.items():
            raw[j] = _csv_cell(value, self.delimiter, tokens[j][3])
        return self.delimiter.join(raw) + s[tokens[-1][1]:], nk

    def text_after(self, ledger: LedgerFile, i: int, changes: Mapping[str, str]) -> Optional[str]:
        """Row i's one line once `changes` are written, or None (new columns, several lines)."""
        if i in self.ends or any(c not in self.index for c in changes):
            return None
        cells = {}
        if changes:
            row = ledger.rows[i]
            cells = {self.index[c]: v for c, v in changes.items() if v != row[c]}
        text = self._record(i, cells)[0] if cells else self.lines[self.starts[i]]
        if self.sep == "\n" and text[-1:] == "\r":
            text = text[:-1]
        return None if "\n" in text or "\r" in text else text

    def _rewrite_row(self, out: list, ends: dict, i: int, cells: dict) -> None:
        """Rebuild one record: unchanged cells keep their raw text, quotes and all."""
        k = self.starts[i]
        out[k], nk = self._record(i, cells)
        for j in range(k + 1, nk):
            out[j] = None
        ends.pop(i, None)  # the rebuilt record now lives in out[k]: new cells go there too

    def _append(self, out: list, k: int, extra: str) -> None:
        line = out[k]
        if self.sep == "\n" and line.endswith("\r"):
            out[k] = line[:-1] + extra + "\r"
        else:
            out[k] = line + extra


def _check_csv_value(value: str, codec: str, ledger: LedgerFile, row, column: str) -> None:
    where = f"column {column!r}" if row is None else f"{column!r} of row {ledger.lines[row]}"
    if "\x00" in value:
        raise LedgerWriteError(f"cannot write {value!r} to {where}: it holds a NUL character")
    _check_encodable(value, codec, where)


def _check_encodable(value: str, codec: str, where: str) -> None:
    try:
        value.encode(codec)
    except UnicodeEncodeError as exc:
        bad = value[exc.start:exc.end]
        raise LedgerWriteError(
            f"cannot write {value!r} to {where}: {bad!r} has no encoding in {codec}") from None


def _parse_csv(text: str, path: str, known=None, matched=None):
    problems = []
    if not text.strip():
        problems.append(_problem(path, 1, 1, "the ledger is empty", "it needs a header line "
                                 "with an `id` column, e.g. `id,name,email`"))
        return (), (), (), None, problems
    sep, newline = _line_mode(text)
    lines = text.split(sep)
    k = 0
    while not lines[k].strip():
        k += 1
    delim = _detect_delimiter(lines[k])
    try:
        s, cells, nk = _split_record(lines, k, delim, sep)
    except _Unclosed as exc:
        problems.append(_unclosed(path, *_offset_position(exc.text, exc.offset, sep, k + 1)))
        return (), (), (), None, problems
    header = (k, nk - 1)
    columns = tuple(value.strip() for _, _, value, _ in cells)
    problems += _check_header(path, s, cells, columns, sep, k + 1)
    index = {c: j for j, c in enumerate(columns)}
    rows, starts, ends = _read_rows(path, lines, nk, columns, delim, sep, problems, known,
                                    matched)
    layout = _CsvLayout(path, tuple(lines), sep, newline, delim, header, tuple(starts), ends, index)
    return columns, tuple(rows), tuple(k + 1 for k in starts), layout, problems


def _unclosed(path: str, line: int, col: int) -> Problem:
    return _problem(path, line, col, "quote opened here is never closed",
                    'close the quote, or double it ("") to write a quote inside a quoted cell')


def _check_header(path: str, s: str, cells, columns, sep: str, first_line: int) -> list:
    problems = []
    seen = {}
    misspelt_id = False
    for j, name in enumerate(columns):
        line, col = _offset_position(s, cells[j][0], sep, first_line)
        if not name:
            problems.append(_problem(path, line, col, f"empty column name (column {j + 1})",
                                     "name the column or delete it"))
        elif name in seen:
            message = f"duplicate column {name!r} (first at column {seen[name] + 1})"
            problems.append(_problem(path, line, col, message, "rename or delete one of them"))
        else:
            seen[name] = j
            guess = _misspelling(name, columns)
            if guess:
                misspelt_id = misspelt_id or guess == "id"
                problems.append(_problem(path, line, col,
                                         f"unknown column {name!r} (did you mean {guess!r}?)"))
    if "id" not in seen and not misspelt_id:
        problems.append(_problem(path, first_line, 1, "no 'id' column in the header",
                                 "add an `id` column with a unique id for each contact"))
    return problems


def _read_rows(path, lines, k, columns, delim, sep, problems, known=None, matched=None):
    """The data rows from physical line k on: (rows, start lines, {row: last line}).

    A one-line row whose text `known` holds is taken as it is: None in `rows`, its id from
    `known`, its text appended to `matched`.
    """
    rows, starts, ends = [], [], {}
    known = known or {}
    ncols = len(columns)
    id_at = columns.index("id") if "id" in columns else -1
    seen = {}
    strip_cr = sep == "\n"
    n = len(lines)
    # Runs of rows that `known` vouches for are taken whole: a morning's ledger is mostly
    # such rows, and a Python step each cost more than the rest of `due`.
    hits = list(map(known.get, lines)) if known else None
    while k < n:
        if hits is not None and hits[k] is not None:
            try:
                j = hits.index(None, k)
            except ValueError:
                j = n
            ids = hits[k:j]
            if seen.keys().isdisjoint(ids) and len(set(ids)) == len(ids):
                seen.update(zip(ids, range(k + 1, j + 1)))
                rows.extend([None] * (j - k))
                starts.extend(range(k, j))
                matched.extend(lines[k:j])
                k = j
                continue
            hits = None  # an id twice: row by row from here, to report it where it is
        line = lines[k]
        if strip_cr and line[-1:] == "\r":
            line = line[:-1]
        nk = k + 1
        key = known.get(line)
        if key is not None and key not in seen:
            seen[key] = nk
            rows.append(None)
            starts.append(k)
            matched.append(line)
            k = nk
            continue  # (a second row with that id is read in full below, to report it)
        if '"' not in line:  # the fast path: most rows hold no quote at all
            values = line.split(delim)
        else:
            values = _quoted_values(line, delim)
            if values is None:  # a quoted cell goes on to the next line
                try:
                    s, cells, nk = _split_record(lines, k, delim, sep)
                except _Unclosed as exc:
                    where = _offset_position(exc.text, exc.offset, sep, k + 1)
                    problems.append(_unclosed(path, *where))
                    break
                values = [c[2] for c in cells]
        if len(values) != ncols or (id_at >= 0 and not values[id_at].strip()):
            if not "".join(values).strip():
                k = nk  # a blank line (or one of only delimiters): not a row, kept as it is
                continue
            problems.append(_row_problem(path, lines, k, values, ncols, id_at, delim, sep))
            k = nk
            continue
        if id_at >= 0:
            key = values[id_at].strip()
            first = seen.get(key)
            if first is None:
                seen[key] = k + 1
            else:
                line_no, col = _cell_position(lines, k, id_at, delim, sep)
                problems.append(_problem(path, line_no, col,
                                         f"duplicate id {key!r} (first at line {first})", ID_HINT))
        if nk - 1 != k:
            ends[len(rows)] = nk - 1
        rows.append(dict(zip(columns, values)))
        starts.append(k)
        k = nk
    return rows, starts, ends


def _cell_position(lines, k: int, j: int, delim: str, sep: str) -> tuple:
    s, cells, _ = _split_record(lines, k, delim, sep)
    return _offset_position(s, cells[j][0], sep, k + 1)


def _row_problem(path, lines, k, values, ncols, id_at, delim, sep) -> Problem:
    count = len(values)
    if count > ncols:
        line, col = _cell_position(lines, k, ncols, delim, sep)
        return _problem(path, line, col, f"row has {count} cells, the header has {ncols}",
                        f"a cell holding the delimiter {delim!r} must be quoted")
    if count < ncols:
        return _problem(path, k + 1, 0, f"row has {count} cells, the header has {ncols}",
                        "add the missing cells (they may be empty)")
    line, col = _cell_position(lines, k, id_at, delim, sep)
    return _problem(path, line, col, "empty id", ID_HINT)

"""The CSV ledger, read and written back losslessly.

The reader is written here on purpose: the stdlib csv module throws away what a lossless writer
needs (which cells were quoted, the raw text of a row) and, on an unclosed quote, silently
swallows the rest of the file into one cell instead of saying where the quote opened. So each
row's raw text is kept and only rows that change are tokenized again to be written.

Longer than most modules: the reader, the positions it reports and the writer that splices
changed cells into the raw text share one tokenizer and its offsets.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Optional

from .ledger_file import (
    ID_HINT, PLAIN, Header, LedgerFile, LedgerWriteError, check_encodable, map_hint, misspelling,
    problem,
)
from .model import Problem, count as _count, duplicate_id, id_key


class _StrayText(Exception):
    """Text after a quoted cell's closing quote, before the delimiter."""

    def __init__(self, text: str, offset: int, opened: int = 0):
        self.text = text  # the record so far, from its first line
        self.offset = offset  # where the stray text begins
        self.opened = opened  # where the cell's quote opened


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
            if s[pos:end].strip(" \t"):
                raise _StrayText(s, pos, start)  # `"Ann"x`: not a cell any writer makes
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


# a quoted cell: `"a""` must not close at `a"`, so the closing quote is one no quote follows
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"(?!")')


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
        if part[end:].strip(" \t"):
            return None  # text after the closing quote: _split_record says where
        values.append(part[1:end - 1].replace('""', '"'))
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


_SEP_LINE = re.compile(r'^"?sep=([,;\t|])"?\s*$', re.IGNORECASE)


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


@dataclass(frozen=True)
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
    short: dict  # row index -> its number of cells, for rows that leave out the last ones
    names: tuple = ()  # the header's cells, a column without a name as "" (it holds nothing)

    def cell_position(self, row: int, column: str):
        if column not in self.index:
            return None
        return _cell_position(self.lines, self.starts[row], self.index[column],
                              self.delimiter, self.sep)

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
            # quoted as the record is when it quotes every cell (LibreOffice's "quote all
            # text cells"), else where needed
            names = "".join(d + _csv_cell(c, d, self._every(self.header[0], out))
                            for c in new_columns)
            self._append(out, self.header[1], names)
            for i, start in enumerate(self.starts):
                if i in self.short and i not in changed:
                    self._rewrite_row(out, ends, i, {})  # its missing cells first, then the new
                changes = updates.get(i, {})
                every = self._every(start, out)
                extra = "".join(d + _csv_cell(changes.get(c, ""), d, every) for c in new_columns)
                self._append(out, ends.get(i, start), extra)
        return self.sep.join(line for line in out if line is not None)

    def append(self, ledger: LedgerFile, cells) -> str:
        """The text with a row added after the last record (before any blank lines that end
        the file), quoted as the last row is when it quotes every cell, else where needed."""
        d = self.delimiter
        values = [cells.get(c, "") if c else "" for c in self.names]
        for column, value in zip(self.names, values):
            _check_csv_value(value, ledger._codec, ledger, None, column)
        # (the reader leaves a spreadsheet's empty `;;;` rows out of `starts`: they stay last)
        last = self.ends.get(len(self.starts) - 1, self.starts[-1]) if self.starts \
            else self.header[1]
        first = self.starts[-1] if self.starts else self.header[0]
        _, tokens, _ = _split_record(self.lines, first, d, self.sep)
        every = all(quoted for _, _, _, quoted in tokens)
        line = d.join(_csv_cell(v, d, every) for v in values)
        text = self.sep.join(self.lines)
        end = sum(len(part) for part in self.lines[:last + 1]) + len(self.sep) * last
        if last + 1 < len(self.lines):
            at = end + len(self.sep)
            return text[:at] + line + self.newline + text[at:]
        return text + self.newline + line  # the file ends without a line break: so does it now

    def _record(self, i: int, cells: dict) -> tuple:
        """(record text, lines it spanned) of row i with `cells` ({position: value}) written:
        unchanged cells keep their raw text, quotes and all."""
        k = self.starts[i]
        line = self.lines[k]
        if '"' not in line and i not in self.ends:  # most rows: no quote, one line
            end = "\r" if self.sep == "\n" and line[-1:] == "\r" else ""
            raw = (line[:-1] if end else line).split(self.delimiter)
            raw += [""] * (len(self.names) - len(raw))  # a short row is written whole
            for j, value in cells.items():
                raw[j] = _csv_cell(value, self.delimiter, False)
            return self.delimiter.join(raw) + end, k + 1
        s, tokens, nk = _split_record(self.lines, k, self.delimiter, self.sep)
        raw = [s[a:b] for a, b, _, _ in tokens]
        every = all(quoted for _, _, _, quoted in tokens)  # the cells a short row adds too
        raw += [_csv_cell("", self.delimiter, every)] * (len(self.names) - len(raw))
        for j, value in cells.items():
            raw[j] = _csv_cell(value, self.delimiter, tokens[j][3] if j < len(tokens) else every)
        return self.delimiter.join(raw) + s[tokens[-1][1]:], nk

    def _rewrite_row(self, out: list, ends: dict, i: int, cells: dict) -> None:
        """Rebuild one record: unchanged cells keep their raw text, quotes and all."""
        k = self.starts[i]
        out[k], nk = self._record(i, cells)
        for j in range(k + 1, nk):
            out[j] = None
        ends.pop(i, None)  # the rebuilt record now lives in out[k]: new cells go there too

    def _every(self, k: int, out: list) -> bool:
        """Does the record starting on line k (as `out` holds it now) quote every cell?"""
        if not out[k].startswith('"'):
            return False  # most records: decided by the first character
        lines = self.lines if out[k] == self.lines[k] else out
        _, tokens, _ = _split_record(lines, k, self.delimiter, self.sep)
        return all(quoted for _, _, _, quoted in tokens)

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
    check_encodable(value, codec, where)


def parse_csv(text: str, path: str, rules: Header = PLAIN):
    problems = []
    if not text.strip():
        problems.append(problem(path, 1, 1, "the ledger is empty", "it needs a header line "
                                 "with an `id` column, e.g. `id,name,email`"))
        return (), (), (), None, problems
    sep, newline = _line_mode(text)
    lines = text.split(sep)
    k = 0
    while not lines[k].strip():
        k += 1
    named = _SEP_LINE.match(lines[k].lstrip("\ufeff"))
    if named and k + 1 < len(lines):  # Excel's `sep=;` line: it names the delimiter, kept as is
        k += 1
        while k + 1 < len(lines) and not lines[k].strip():
            k += 1
        delim = named.group(1)
    else:
        delim = _detect_delimiter(lines[k])
    try:
        s, cells, nk = _split_record(lines, k, delim, sep)
    except (_Unclosed, _StrayText) as exc:
        problems.append(_bad_quote(path, exc, sep, k + 1))
        return (), (), (), None, problems
    header = (k, nk - 1)
    columns = tuple(value.strip() for _, _, value, _ in cells)
    problems += _check_header(path, s, cells, columns, sep, k + 1, rules)
    index = {c: j for j, c in enumerate(columns) if c}
    rows, starts, ends, short = _read_rows(path, lines, nk, columns, delim, sep, problems, rules)
    layout = _CsvLayout(path, tuple(lines), sep, newline, delim, header, tuple(starts), ends,
                        index, short, columns)
    # a column without a name holds nothing (Excel's `;;` at the end of every line, where
    # cells were once used): kept in the file as it is, and no column of the ledger
    return tuple(c for c in columns if c), tuple(rows), tuple(k + 1 for k in starts), layout, \
        problems


def _bad_quote(path: str, exc, sep: str, first_line: int) -> Problem:
    line, col = _offset_position(exc.text, exc.offset, sep, first_line)
    if isinstance(exc, _StrayText):
        opened, at = _offset_position(exc.text, exc.opened, sep, first_line)
        if opened != line:  # a quote left open lines before: it swallowed the rows between
            return problem(path, line, col, "text after a quoted cell's closing quote; the "
                           f"cell's quote opened at line {opened}, column {at}",
                           'close the quote that opened there, or double it ("") to write a '
                           "quote inside a cell")
        return problem(path, line, col, "text after a quoted cell's closing quote",
                       'put the whole cell in quotes (a quote inside is written "")')
    return problem(path, line, col, "quote opened here is never closed",
                   'close the quote, or double it ("") to write a quote inside a quoted cell')


def _next_record(lines, k: int, delim: str, sep: str) -> int:
    """The line after a record that cannot be read: where its quotes balance."""
    open_quotes = lines[k].count('"') % 2
    k += 1
    while open_quotes and k < len(lines):
        open_quotes = (open_quotes + lines[k].count('"')) % 2
        k += 1
    return k


MAX_COLUMNS = 16_384  # as many as Excel has: a wider header is not a ledger


class _LazyPosition:
    """(line, column) of a header cell, worked out only for a cell that has a problem (counting
    from the start for each of a wide header's cells took quadratic time)."""

    def __init__(self, s: str, offset: int, sep: str, first_line: int):
        self.args = (s, offset, sep, first_line)

    def __iter__(self):
        return iter(_offset_position(*self.args))


def _check_header(path: str, s: str, cells, columns, sep: str, first_line: int,
                  header: Header = PLAIN) -> list:
    if len(columns) > MAX_COLUMNS:
        return [problem(path, first_line, 1, f"the header has {len(columns)} columns; a ledger "
                        f"has at most {MAX_COLUMNS}", "is this file the contact list?")]
    problems = []
    seen = {}
    # looked up once a column: a set, or a wide header is slow
    present = frozenset(header.canonical(c) for c in columns)
    misspelt_id = False
    for j, name in enumerate(columns):
        # a cell's line and column are worked out only when it has a problem: counting from
        # the start for every cell of a wide header took quadratic time
        def at(j=j):
            return _offset_position(s, cells[j][0], sep, first_line)

        if not name:
            continue  # a column without a name: an error only where a row fills it (_read_rows)
        if name in seen:
            message = f"duplicate column {name!r} (first at column {seen[name] + 1})"
            problems.append(problem(path, *at(), message, "rename or delete one of them"))
        else:
            seen[name] = j
            guess = None if header.loose or header.own or name in header.names \
                else misspelling(name, present)
            if guess:
                misspelt_id = misspelt_id or guess == "id"
                problems.append(problem(path, *at(),
                                        f"unknown column {name!r} (did you mean {guess!r}?)",
                                        map_hint(guess, name)))
    if "id" not in present and not misspelt_id and header.ids and not header.loose:
        problems.append(problem(path, first_line, 1, "no 'id' column in the header",
                                 "add an `id` column with a unique id for each contact"))
    return problems


def _read_rows(path, lines, k, columns, delim, sep, problems, header: Header = PLAIN):
    """The data rows from physical line k on: (rows, start lines, {row: last line},
    {row: its number of cells, for a row shorter than the header})."""
    rows, starts, ends, short = [], [], {}, {}
    ncols = len(columns)
    id_column = header.id_column(columns)
    id_at = columns.index(id_column) if id_column is not None else -1
    need_id = id_at if header.ids and not header.loose else -1  # else: one is made for it
    seen = {}
    strip_cr = sep == "\n"
    n = len(lines)
    unnamed = [j for j, c in enumerate(columns) if not c]
    while k < n:
        line = lines[k]
        if strip_cr and line[-1:] == "\r":
            line = line[:-1]
        nk = k + 1
        if '"' not in line:  # the fast path: most rows hold no quote at all
            values = line.split(delim)
        else:
            values = _quoted_values(line, delim)
            if values is None:  # a quoted cell goes on to the next line
                try:
                    s, cells, nk = _split_record(lines, k, delim, sep)
                except _Unclosed as exc:
                    problems.append(_bad_quote(path, exc, sep, k + 1))
                    break
                except _StrayText as exc:
                    problems.append(_bad_quote(path, exc, sep, k + 1))
                    k = _next_record(lines, k, delim, sep)
                    continue
                values = [c[2] for c in cells]
        if not "".join(values).strip():
            k = nk  # a blank line (or one of only delimiters): not a row, kept as it is
            continue
        if len(values) < ncols:  # Excel leaves out the delimiters of empty cells at a row's end
            short[len(rows)] = len(values)
            values = values + [""] * (ncols - len(values))
        if len(values) > ncols or (need_id >= 0 and not values[need_id].strip()):
            problems.append(_row_problem(path, lines, k, values, ncols, id_at, delim, sep))
            short.pop(len(rows), None)
            k = nk
            continue
        if id_at >= 0:
            key = values[id_at].strip()
            first = seen.get(id_key(key))
            if not key:
                pass
            elif first is None:
                seen[id_key(key)] = (k + 1, key)
            else:
                line_no, col = _cell_position(lines, k, id_at, delim, sep)
                problems.append(problem(path, line_no, col, duplicate_id(key, *first), ID_HINT))
        if nk - 1 != k:
            ends[len(rows)] = nk - 1
        if unnamed:
            filled = [j for j in unnamed if values[j].strip()]
            if filled:
                line_no, col = _cell_position(lines, k, filled[0], delim, sep)
                problems.append(problem(path, line_no, col, f"a value in column {filled[0] + 1}"
                                        ", which has no name", "name the column in the header "
                                        "line, or move the value"))
            rows.append({c: v for c, v in zip(columns, values) if c})
        else:
            rows.append(dict(zip(columns, values)))
        starts.append(k)
        k = nk
    return rows, starts, ends, short


def _cell_position(lines, k: int, j: int, delim: str, sep: str) -> tuple:
    """Where cell j of the record on line k begins; for a cell a short row leaves out, where
    it would begin: the record's end."""
    s, cells, _ = _split_record(lines, k, delim, sep)
    if j >= len(cells):
        return _offset_position(s, len(s.rstrip("\r")), sep, k + 1)
    return _offset_position(s, cells[j][0], sep, k + 1)


def cells(n: int) -> str:
    return _count(n, "cell")


def _row_problem(path, lines, k, values, ncols, id_at, delim, sep) -> Problem:
    count = len(values)
    if count > ncols:
        line, col = _cell_position(lines, k, ncols, delim, sep)
        return problem(path, line, col, f"row has {cells(count)}, the header has {ncols}",
                        f"a cell holding the delimiter {delim!r} must be quoted")
    line, col = _cell_position(lines, k, id_at, delim, sep)
    return problem(path, line, col, "empty id", ID_HINT)

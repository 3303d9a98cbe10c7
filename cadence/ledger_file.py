"""The ledger as read: its columns, rows and where each cell stands, and the helpers both
readers (CSV and YAML) share. Every cell is text: dates, numbers and booleans are parsed
elsewhere (cadence.contacts)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Optional

from .model import EXIT_DATA, KNOWN_COLUMNS, Problem, Source

ID_HINT = "every contact needs a unique `id`"


class LedgerWriteError(ValueError):
    """A new value cannot be written into the ledger file as it is (e.g. its encoding); `hint`
    says what the user can do."""

    def __init__(self, message: str, hint: str = "leave that character out of the value"):
        super().__init__(message)
        self.hint = hint


def encoding_hint() -> str:
    """What to do when a value has no encoding in the ledger's: naming `encoding: utf-8` alone
    would leave the file's own bytes unreadable."""
    return ("save the ledger in UTF-8 (a spreadsheet's \"CSV UTF-8\"), then set "
            "`encoding: utf-8` in cadence.yaml; or write the value without that character")


@dataclass(frozen=True)
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

    def dialect(self) -> tuple:
        """(delimiter, line ending, BOM) of the spreadsheet that saved the file, for what
        cadence exports (`due --csv`): a CSV ledger's own; for a YAML ledger, commas."""
        delimiter = getattr(self._layout, "delimiter", ",")
        newline = getattr(self._layout, "newline", "\n")
        # a UTF-8 BOM when the file has one, or is in a code page (cp1252, cp1251) or UTF-16:
        # cadence writes UTF-8, and the BOM is how Excel knows it
        bom = self._bom == b"\xef\xbb\xbf" or self._codec.replace("_", "-").lower() not in (
            "utf-8", "utf8", "utf-8-sig")
        return delimiter, newline, "\ufeff" if bom else ""

    def source(self, index: int, column: Optional[str] = None) -> Source:
        """Where row `index` (0-based) starts, or where its cell in `column` starts."""
        line = self.lines[index]
        if column is not None:
            where = self._layout.cell_position(index, column)
            if where:
                return Source(self.path, *where)
        return Source(self.path, line)


def text_position(text: str, index: int) -> tuple:
    """1-based (line, column) of a character offset, counting LF (or lone CR) line breaks."""
    brk = "\n" if "\n" in text or "\r" not in text else "\r"
    line = text.count(brk, 0, index) + 1
    return line, index - (text.rfind(brk, 0, index) + 1) + 1


def problem(path: str, line: int, col: int, message: str, hint: str = "") -> Problem:
    return Problem(Source(path, line, col), message, hint, code=EXIT_DATA)


class Header(NamedTuple):
    """How a reader checks the header: `names` maps the file's headers to cadence's columns
    (the `ledger:` mapping); without `ids`, rows may lack an id (cadence makes one); `loose`
    checks nothing about the names (someone else's sheet, before it has a mapping)."""

    names: Mapping = {}
    ids: bool = True
    loose: bool = False
    own: bool = False  # a `ledger:` mapping describes the sheet: the headers it does not map
    #                    are the sheet's own (`Status` is not taken for a misspelt `status`)

    def canonical(self, column: str) -> str:
        return self.names.get(column, column)

    def id_column(self, columns) -> Optional[str]:
        """The file's column that holds the ids, or None."""
        return next((c for c in columns if self.canonical(c) == "id"), None)


PLAIN = Header()


def map_hint(column: str, header: str) -> str:
    """How to keep a sheet's own header for one of cadence's columns."""
    return (f"rename it, or keep the sheet as it is and map it in cadence.yaml: "
            f"`ledger: {{columns: {{{column}: {header}}}}}`")


def misspelling(name: str, present) -> Optional[str]:
    """The known column that `name` probably meant, if the ledger lacks that column."""
    if name in KNOWN_COLUMNS:
        return None
    missing = [c for c in KNOWN_COLUMNS if c not in present]
    match = difflib.get_close_matches(name.lower(), missing, n=1, cutoff=0.8)
    return match[0] if match else None


# ---------------------------------------------------------------- CSV

def check_encodable(value: str, codec: str, where: str) -> None:
    try:
        value.encode(codec)
    except UnicodeEncodeError as exc:
        bad = value[exc.start:exc.end]
        raise LedgerWriteError(
            f"cannot write {value!r} to {where}: {bad!r} has no encoding in {codec}",
            encoding_hint()) from None

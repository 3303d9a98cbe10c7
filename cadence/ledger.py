"""Read and write the ledger (contacts.csv or contacts.yaml) losslessly: bytes to a
LedgerFile (cadence.ledger_csv, cadence.ledger_yaml), and a LedgerFile with changed cells back
to bytes that differ from the file only where the cells changed."""
from __future__ import annotations

import codecs
from typing import Mapping, Optional

from .ledger_file import PLAIN, Header, LedgerFile, LedgerWriteError, encoding_hint, problem, text_position
from .model import EXIT_CONFIG, Problem, Source

__all__ = ["LedgerFile", "LedgerWriteError", "append_row", "dump_ledger", "parse_ledger"]

ENCODING_HINT = "set `encoding:` in cadence.yaml to the file's encoding, e.g. `encoding: cp1251`"
_CODEPAGE_HINT = ("set `encoding:` in cadence.yaml to the file's encoding; it looks like "
                  "`encoding: {}` ({} Excel)")


def parse_ledger(data: bytes, path: str, encoding: str = "utf-8",
                 kind: Optional[str] = None,
                 header: Header = PLAIN,
                 partial: bool = False) -> tuple[Optional[LedgerFile], list[Problem]]:
    """(LedgerFile, problems), or (None, problems) when any problem is an error; with
    `partial`, the rows that could be read despite errors, for their cells to be checked too
    (every mistake of a file reported at once), never to be written back.

    `kind` is "csv" or "yaml"; by default .yaml/.yml files are YAML and anything else CSV.
    `header` says which of the file's headers are cadence's columns (the `ledger:` mapping)
    and whether every row needs an id.
    """
    if kind is None:
        kind = "yaml" if path.lower().endswith((".yaml", ".yml")) else "csv"
    decoded = _decode(data, path, encoding)
    if isinstance(decoded, Problem):
        return None, [decoded]
    text, codec, bom = decoded
    if kind == "yaml":
        from .ledger_yaml import parse_yaml

        columns, rows, lines, layout, problems = parse_yaml(text, path, header)
    else:
        from .ledger_csv import parse_csv

        columns, rows, lines, layout, problems = parse_csv(text, path, header)
    if any(not p.warning for p in problems) and not (partial and columns):
        return None, problems
    return LedgerFile(path, kind, columns, rows, lines, data, codec, bom, layout), problems


def dump_ledger(ledger: LedgerFile, updates: Mapping[int, Mapping[str, str]]) -> bytes:
    """The file's new bytes with `updates` ({row index: {column: text}}) applied; given the
    sheet's view (cadence.sheet), `updates` name cadence's columns and ISO dates."""
    file = getattr(ledger, "file", None)
    if file is not None:
        ledger, updates = file, ledger.to_file(updates)
    for index in updates:
        if not 0 <= index < len(ledger.rows):
            raise IndexError(f"no row {index} in the ledger ({len(ledger.rows)} rows)")
    text = ledger._layout.dump(ledger, updates)
    if text is None:  # nothing changed: the original bytes, never a re-encoding
        return ledger._data
    try:
        return ledger._bom + text.encode(ledger._codec)
    except UnicodeEncodeError as exc:  # values are checked one by one first: a backstop
        raise LedgerWriteError(f"cannot write the ledger in {ledger._codec}: {exc.reason}",
                               encoding_hint()) from None


def guess_encoding(data: bytes) -> str:
    """The encoding a spreadsheet's file most likely has: UTF-8 (with or without a BOM, or
    UTF-16 by its BOM), else the Windows code page its bytes suggest (see _codepage_hint)."""
    if data.startswith(_UTF32_BOMS):
        return "utf-32"
    if data.startswith(_UTF16_BOMS):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1251" if "cp1251" in _codepage_hint(data) else "cp1252"
    return "utf-8"
def append_row(ledger: LedgerFile, cells: Mapping[str, str]) -> bytes:
    """The file's new bytes with one row added after the last, in the file's own format (CSV:
    its delimiter, quoting, line endings; YAML: a list item like the last one): the bytes
    before it are the file's, unchanged. `cells` ({column: text}) name columns it has."""
    text = ledger._layout.append(ledger, cells)
    try:
        return ledger._bom + text.encode(ledger._codec)
    except UnicodeEncodeError as exc:  # values are checked one by one first: a backstop
        raise LedgerWriteError(f"cannot write the ledger in {ledger._codec}: {exc.reason}",
                               encoding_hint()) from None


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)  # before UTF-16's: FF FE 00 00
WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # a zip (.xlsx, .ods), an old .xls


def _decode(data: bytes, path: str, encoding: str):
    """(text, codec to write with, BOM bytes) or a Problem."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return Problem(Source(path), f"unknown encoding {encoding!r}",
                       "set `encoding:` in cadence.yaml to a codec name such as utf-8 or cp1251",
                       code=EXIT_CONFIG)
    codec, bom = name, b""
    if data.startswith(WORKBOOKS):
        return problem(path, 1, 1, "the ledger is a spreadsheet workbook, not a CSV file",
                       "save the sheet as CSV (Excel: Save As > CSV UTF-8; Google Sheets: "
                       "File > Download > CSV)")
    if data.startswith(_UTF32_BOMS) and name != "utf-32":
        return problem(path, 1, 1, f"the ledger is UTF-32 text, but the encoding is {encoding}",
                       'save it as "CSV UTF-8", or set `encoding: utf-32` in cadence.yaml')
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
        return problem(path, 1, 1, f"the ledger is UTF-16 text, but the encoding is {encoding}",
                        'save it as "CSV UTF-8", or set `encoding: utf-16` in cadence.yaml')
    elif data.startswith(codecs.BOM_UTF8):
        if name not in ("utf-8", "utf-8-sig"):
            return problem(path, 1, 1, "the ledger starts with a UTF-8 byte order mark, "
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
        line, col = text_position(before, len(before))
        message = f"cannot decode byte 0x{body[exc.start]:02x} as {encoding}"
        hint = _codepage_hint(body) if codec == "utf-8" else ENCODING_HINT
        return problem(path, line, col, message, hint)
    nul = text.find("\x00")
    if nul >= 0:
        return problem(path, *text_position(text, nul), "NUL byte in the ledger",
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



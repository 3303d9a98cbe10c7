"""CSV for people's spreadsheets (`due --csv`, `forecast --csv`, `stats --csv`), safe from
formula injection whatever the spreadsheet's list separator.

A spreadsheet in a semicolon locale (Swedish, German Excel) splits a line on `;` even when the
file was written with commas, and starts a formula at a cell that begins with `=` after spaces
or a line break. So every cell holding any of `,`, `;`, a tab, a quote or a line break is
quoted, whatever the delimiter; and a cell whose first character other than white space starts
a formula gets a leading apostrophe, which spreadsheets show as text. The ledger is not written
here: it is the user's own data, written back as it was.
"""
from __future__ import annotations

from .model import FORMULA_STARTS as _FORMULA

_QUOTE = (",", ";", "\t", '"', "\r", "\n")


def cell(value) -> str:
    """A cell a spreadsheet shows as text: never a formula, even after leading white space."""
    text = "" if value is None else str(value)
    if text.lstrip(" \t\r\n").startswith(_FORMULA) or text.startswith(("\t", "\r")):
        return "'" + text
    return text


def _quoted(text: str) -> str:
    if any(mark in text for mark in _QUOTE):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_csv(header, rows, delimiter: str = ",", newline: str = "\n", bom: str = "") -> str:
    """The rows as CSV text: `header` first, each value made safe by `cell` and quoted when it
    holds a separator a spreadsheet may split on. `delimiter`, `newline` and `bom` are the
    ledger's (`LedgerFile.dialect`): the spreadsheet that saved it splits the columns so."""
    lines = [delimiter.join(_quoted(cell(v)) for v in row) for row in [header, *rows]]
    return bom + "".join(line + newline for line in lines)

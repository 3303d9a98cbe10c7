"""CSV for spreadsheets, safe from formula injection."""
from __future__ import annotations

import csv
import io

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """A cell a spreadsheet shows as text: never starts with =, +, -, @, tab or CR."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA):
        return "'" + text
    return text


def to_csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()

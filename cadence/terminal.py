"""Tables for people: rich on a terminal, plain aligned text in a pipe or for long lists.

rich lays out a table cell by cell, which takes seconds for thousands of rows; cron mail and
`| less` need no colours, so they get the plain form at once.
"""
from __future__ import annotations

import functools
import os
import sys
import unicodedata

RICH_ROWS = 300  # above this many rows even a terminal gets the plain table


def console(stderr: bool = False):
    from rich.console import Console

    width = None
    if not os.isatty(1 if not stderr else 2):
        width = int(os.environ.get("COLUMNS", "120") or 120)
    # NO_COLOR (no-color.org): rich drops colours but keeps bold; no styles at all is meant
    plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False, **plain)


# C0 controls but tab and line feed, DEL and C1: a cell or a name from a shared book could
# otherwise move the cursor, recolour or retitle the user's terminal. Shown as \x1b.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f,
                                         *range(0x80, 0xa0))}
# and the embeddings, overrides and isolates that reorder what follows them on the line (a
# name `Bob\u202eevil` shown backwards: Trojan Source), spelt out as well. The plain marks
# (LRM, RLM, ALM) stay: they only place a comma or a digit beside right-to-left words, and
# Hebrew or Arabic names and notes carry them
_CONTROLS.update({c: f"\\u{c:04x}" for c in (*range(0x202a, 0x202f), *range(0x2066, 0x206a))})


def visible(text: str) -> str:
    """`text` with every control character but tab and line feed spelt out (`\x1b`), and
    every mark that reorders text (`\u202e`)."""
    return text if text.isprintable() else text.translate(_CONTROLS)


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    """Columns a character takes in a terminal: names repeat their letters, so each is
    looked up once."""
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1


CELL_LIMIT = 120  # characters of a cell a table shows: one long name widens no other row


def _cell(value) -> str:
    text = " ".join(str(value).split())
    return visible(text if len(text) <= CELL_LIMIT else text[:CELL_LIMIT - 1] + "…")


def _plain(title: str, columns, rows) -> None:
    cells = [[_cell(c) for c in row] for row in rows]
    sizes = [[_width(value) for value in row] for row in cells]
    widths = [max([_width(h)] + [s[i] for s in sizes]) for i, h in enumerate(columns)]
    right = [c in ("late", "#") for c in columns]

    def line(values, measured) -> str:
        out = []
        for value, size, width, flush in zip(values, measured, widths, right):
            pad = " " * (width - size)
            out.append(pad + value if flush else value + pad)
        return "  ".join(out).rstrip()

    text = [visible(title), line(list(columns), [_width(c) for c in columns]),
            "  ".join("-" * w for w in widths)]
    text.extend(map(line, cells, sizes))
    sys.stdout.write("\n".join(text) + "\n")


def table(title: str, columns, rows) -> None:
    rows = list(rows)
    if not os.isatty(1) or len(rows) > RICH_ROWS:
        _plain(title, columns, rows)
        return
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(Text(visible(title), style="bold"), overflow="fold")
    grid = Table(show_edge=False, pad_edge=False)
    for column in columns:
        justify = "right" if column in ("late", "#") else "left"
        grid.add_column(column, justify=justify, overflow="fold")
    for row in rows:  # Text, not markup: a name like `[/b]` is a name, not a style
        grid.add_row(*[Text(_cell(c)) for c in row])
    out.print(grid)


class Progress:
    """A progress bar on stderr while a long read goes on (`sync`'s first), transient: none
    when not `enabled` (quiet, JSON), when stderr is not a terminal, or for a short read."""

    FROM = 200  # items a read must have for a bar

    def __init__(self, enabled: bool):
        self.enabled = enabled and os.isatty(2)
        self.bar = self.task = None

    def start(self, what: str, total: int) -> None:
        self.task = None
        if not self.enabled or total < self.FROM:
            return
        if self.bar is None:
            from rich.progress import Progress as Bar

            self.bar = Bar(console=console(stderr=True), transient=True)
            self.bar.start()
        self.task = self.bar.add_task(f"reading {what or 'the inbox'}", total=total)

    def advance(self, count: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, count)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

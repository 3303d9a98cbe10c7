"""Tables for people, through rich, imported only when a table is printed."""
from __future__ import annotations

import os


def console(stderr: bool = False):
    from rich.console import Console

    width = None
    if not os.isatty(1 if not stderr else 2):
        width = int(os.environ.get("COLUMNS", "120") or 120)
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


def table(title: str, columns, rows) -> None:
    from rich.table import Table

    out = console()
    out.print(title, style="bold", overflow="fold")
    grid = Table(show_edge=False, pad_edge=False)
    for column in columns:
        justify = "right" if column in ("late", "#") else "left"
        grid.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        grid.add_row(*[str(c) for c in row])
    out.print(grid)

"""The `cadence` command: the app with its commands on it.

Typer works out the parameters of every registered command when the app starts, so the
`cadence` command loads only the module of the command its command line names
(cadence.commands); `app` has every command, for tests and for embedding.
"""
from __future__ import annotations

import sys


def __getattr__(name: str):
    if name == "app":
        from .cli import APP
        from .commands import load_all

        load_all()
        return APP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """The `cadence` command: loads the module of the command named, then runs it."""
    from .cli import APP
    from .commands import load_for

    load_for(sys.argv[1:])
    APP(prog_name="cadence")

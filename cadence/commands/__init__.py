"""The commands, one module each: importing a module registers its commands on `cli.APP`.

Typer works out the parameters of every registered command when the app starts, so the
`cadence` command loads only the module of the command its command line names. Help, or a
name that is no command, loads them all: help lists them, and a typo gets a suggestion.
"""
from __future__ import annotations

from importlib import import_module
from typing import Optional

MODULES = ("add", "check", "doctor", "due", "forecast", "init", "mail", "notes", "plan", "render", "reply",
           "run", "skip", "stats", "undo")
COMMANDS = {  # command name -> module
    "add": "add", "check": "check", "doctor": "doctor", "done": "notes", "due": "due", "forecast": "forecast",
    "init": "init", "log": "reply", "mark": "reply", "note": "notes", "optout": "reply",
    "pause": "reply", "plan": "plan", "push": "mail", "render": "render", "reply": "reply",
    "run": "run", "skip": "skip", "stats": "stats", "sync": "mail", "undo": "undo",
}
_TAKES_VALUE = ("-C",)  # global options followed by a value


def load_all() -> None:
    for module in MODULES:
        import_module(f"{__name__}.{module}")


def named_command(argv) -> Optional[str]:
    """The command a command line names, after the global options; None for help."""
    args = iter(argv)
    for arg in args:
        if arg == "--":
            return next(args, None)
        if arg in _TAKES_VALUE:
            next(args, None)
        elif arg in ("--help", "-h"):
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def load_for(argv) -> None:
    """Load what the command line `argv` (without the program name) needs."""
    module = COMMANDS.get(named_command(argv) or "")
    if module is None:
        load_all()
    else:
        import_module(f"{__name__}.{module}")

"""`--help` as people read it: plain text, argument names as the README writes them (`ID`,
`[DIR]`, `CHANNEL...`, never `{ID}` or `<list[str]>`), each command's summary whole (wrapped,
never cut mid-word), and the commands grouped by what they are for.

The panels are named here, once: a command names its panel (`@app.command(rich_help_panel=
DAILY)`), and a command that names none is listed under "Other commands".
"""
from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup

DAILY = "Daily"
CONTACTS = "Contacts"
INSIGHT = "Insight"
SETUP = "Setup"
PANELS = (DAILY, CONTACTS, INSIGHT, SETUP)
OTHER = "Other commands"
# the order within a panel; a command not named here follows, in the order it was added
ORDER = ("due", "run", "sync", "push", "add", "reply", "log", "done", "skip", "note", "undo",
         "mark", "pause", "optout", "plan", "render", "forecast", "stats", "check", "init",
         "doctor")


# each command in one line of `cadence --help` (80 columns); `cadence COMMAND --help` says more
SUMMARIES = {
    "due": "Who to contact today, how, and how late. Writes nothing.",
    "run": "Write today's drafts, append the journal, update the ledger.",
    "sync": "Read replies, junk, bounces and sent mail into the journal.",
    "push": "Put the day's email drafts in the mail program's Drafts folder.",
    "add": "Add a contact to the ledger, in the ledger's own format.",
    "reply": "Record a reply and act on it (stop, pause, move, call back).",
    "log": "Record a touch you made by hand.",
    "done": "Say the drafted touch went out, with a note; no second touch.",
    "skip": "Skip a contact's next touch; they move on as if it was made.",
    "note": "Add a note for the contact's next call sheet.",
    "undo": "Take back the latest run, or a contact's latest touch or skip.",
    "mark": "Set a contact's status (won, lost, paused --until, ...).",
    "pause": "Pause a contact until a date.",
    "optout": "Never use these channels for a contact again (or `all`).",
    "plan": "A contact's coming touches, with dates, if nobody replies.",
    "render": "Print a contact's next draft without writing it.",
    "forecast": "Touches a day and channel ahead, and the overdue backlog.",
    "stats": "Touches by channel, step and playbook; reply rates.",
    "check": "Validate the book; lint playbooks and templates.",
    "init": "Write a new book: the example, or one around your own sheet.",
    "doctor": "Is the book ready for cron on this machine? And the crontab line.",
}


def summary(command, name: str = "") -> str:
    """A command's line in the app's help: its SUMMARIES entry, else the first paragraph of
    its help."""
    if name in SUMMARIES:
        return SUMMARIES[name]
    text = command.short_help or command.help or ""
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def _argument(param) -> str:
    name = param.metavar or param.name.upper()
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if param.required else f"[{name}]"


def _option(param) -> str:
    names = ", ".join(sorted(param.opts, key=lambda o: (o.startswith("--"), o))
                      + list(param.secondary_opts))
    if param.is_flag or getattr(param, "count", False):
        return names
    return f"{names} {param.metavar or 'TEXT'}"


def _default(param) -> str:
    if param.required or getattr(param, "is_flag", False):
        return ""
    default = param.default
    if default in (None, "", (), []) or callable(default):
        return ""
    shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
    return f"  (default: {shown})" if "default:" not in (param.help or "") else ""


def _params(ctx, command) -> tuple:
    arguments, options = [], []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            arguments.append((_argument(param).strip("[]"), (param.help or "")))
        else:
            options.append((_option(param), (param.help or "") + _default(param)))
    return arguments, options


def write_help(ctx, command, formatter) -> None:
    """Usage, the help text, arguments, options, and for the app its commands by panel."""
    group = isinstance(command, TyperGroup)
    pieces = ["[OPTIONS]"]
    if group:
        pieces.append("COMMAND [ARGS]...")
    else:
        pieces += [_argument(p) for p in command.get_params(ctx)
                   if p.param_type_name == "argument" and not getattr(p, "hidden", False)]
    formatter.write_usage(ctx.command_path, " ".join(pieces))
    if command.help:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(command.help.strip())
    arguments, options = _params(ctx, command)
    for title, rows in (("Arguments", arguments), ("Options", options)):
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
    if group:
        panels = {}
        names = command.list_commands(ctx)
        for name in sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER),
                                                 names.index(n))):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            panel = getattr(sub, "rich_help_panel", None)
            panels.setdefault(panel if panel in PANELS else OTHER, []).append(
                (name, summary(sub, name)))
        for panel in PANELS + (OTHER,):
            if panels.get(panel):
                with formatter.section(panel):
                    formatter.write_dl(panels[panel])


class Command(TyperCommand):
    """A command whose help is written by `write_help`."""

    def format_help(self, ctx, formatter) -> None:
        write_help(ctx, self, formatter)

    def format_usage(self, ctx, formatter) -> None:
        pieces = ["[OPTIONS]"] + [_argument(p) for p in self.get_params(ctx)
                                  if p.param_type_name == "argument"]
        formatter.write_usage(ctx.command_path, " ".join(pieces))


class Group(TyperGroup):
    """The app: its help by `write_help`, its commands by panel."""

    def format_help(self, ctx, formatter) -> None:
        write_help(ctx, self, formatter)

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] COMMAND [ARGS]...")


class App(typer.Typer):
    """The Typer app whose commands write their help by `write_help`, whichever module adds
    them."""

    def command(self, *args, **kwargs):
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)

"""The command line: resolves today, paths and output format; maps failures to exit codes.

Everything below this layer is given `today` as a value; the clock is read here, once.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from typing import Optional

import typer

from .model import EXIT_USAGE, Failure, Problem, Source

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help="Follow-up cadences over plain files: who to contact today, and how.",
)


class Options:
    """Global options, shared by every command."""

    directory: str = "."
    debug: bool = False
    quiet: bool = False


OPTIONS = Options()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    directory: str = typer.Option(".", "-C", help="Run as if started in DIR.", metavar="DIR"),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        from . import __version__

        typer.echo(f"cadence {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(EXIT_USAGE)
    OPTIONS.directory, OPTIONS.debug, OPTIONS.quiet = directory, debug, quiet


# --- shared helpers --------------------------------------------------------------------------

def fail(problems, code: Optional[int] = None, as_json: bool = False) -> None:
    """Report problems on stderr (and one JSON document on stdout with --json), then exit."""
    failure = problems if isinstance(problems, Failure) else Failure(problems, code)
    for problem in failure.problems:
        typer.echo(str(problem), err=True)
    if as_json:
        typer.echo(json.dumps({"error": {"code": failure.code, "problems": [
            {"source": str(p.source), "message": p.message, "hint": p.hint,
             "warning": p.warning} for p in failure.problems]}}, ensure_ascii=False, indent=2))
    raise typer.Exit(failure.code)


def guarded(as_json: bool = False):
    """Run a command body, turning a Failure into its message and exit code."""

    class _Guard:
        def __enter__(self):
            return self

        def __exit__(self, kind, err, tb):
            if isinstance(err, Failure):
                if OPTIONS.debug:
                    return False
                fail(err, as_json=as_json)
            if isinstance(err, KeyboardInterrupt):
                typer.echo("interrupted", err=True)
                raise typer.Exit(130)
            return False

    return _Guard()


def config():
    from .config import load_config

    folder = os.path.abspath(OPTIONS.directory)
    if not os.path.isdir(folder):
        raise Failure(Problem(Source(OPTIONS.directory), "no such folder", code=66))
    return load_config(folder)


def resolve_today(text: Optional[str], cfg) -> date:
    """--today, else CADENCE_TODAY, else today in the book's timezone (the one clock read)."""
    text = text or os.environ.get("CADENCE_TODAY", "")
    if text:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise Failure(Problem(Source("--today"), f"expected a date as YYYY-MM-DD, got {text!r}",
                                  code=EXIT_USAGE)) from None
    if cfg.timezone:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(cfg.timezone)).date()
    return date.today()


def parse_on(text: Optional[str], today: date, option: str = "--on") -> date:
    if not text:
        return today
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Failure(Problem(Source(option), f"expected a date as YYYY-MM-DD, got {text!r}",
                              code=EXIT_USAGE)) from None


def emit_json(document) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def say(text: str) -> None:
    """A message for people: stderr-free stdout, silenced by --quiet."""
    if not OPTIONS.quiet:
        typer.echo(text)


TODAY = typer.Option(None, "--today", help="The date to act on (YYYY-MM-DD); default: today.",
                     metavar="DATE")
JSON = typer.Option(False, "--json", help="Print JSON.")
QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing on success.")


def quiet(flag: bool) -> None:
    if flag:
        OPTIONS.quiet = True


from . import commands  # noqa: E402,F401  (registers the commands on `app`)


def run() -> None:
    app(prog_name="cadence")

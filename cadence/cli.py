"""The command line: resolves today, paths and output format; maps failures to exit codes.

Everything below this layer is given `today` as a value; the clock is read here, once.
"""
from __future__ import annotations

import gc
import os
import re
import sys
from datetime import date, datetime
from typing import Optional

import typer

from .helptext import App, Group
from .model import EXIT_IO, EXIT_USAGE, Failure, Problem, Source
from .terminal import visible

EXIT_SOFTWARE = 70  # sysexits' EX_SOFTWARE: a bug in cadence, not in the book
EXIT_PIPE = 141  # what the shell reports for a program that SIGPIPE ended: stdout was closed


class _Answered(Group):
    """Every way a command can go wrong ends in a message and an exit code, never a traceback.

    A traceback may show contact data, so it is for `--debug` only; with `--json`, stdout gets
    its one JSON document even when the command line itself is wrong.
    """

    def invoke(self, ctx):
        outer, OPTIONS.frozen = OPTIONS.frozen, ("caller's" if gc.get_freeze_count() else "")
        try:
            return self._answered(ctx)
        finally:
            if OPTIONS.frozen == "book":
                gc.unfreeze()  # the book `load_book` froze is the collector's again
            OPTIONS.frozen = outer

    def _answered(self, ctx):
        wants_json = "--json" in [*ctx._protected_args, *ctx.args]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:  # noqa: BLE001  (sorted out below)
            if not _is_usage_error(err):
                return self._unforeseen(err, wants_json)
            if not wants_json:
                raise
            err.show()
            where = Source(err.ctx.command_path if err.ctx else "cadence")
            _json_error(err.exit_code, [Problem(where, err.format_message(), code=err.exit_code)])
            raise typer.Exit(err.exit_code) from None

    @staticmethod
    def _unforeseen(err: Exception, wants_json: bool):
        """The one handler for what no command foresaw: a message, not a traceback."""
        if isinstance(err, BrokenPipeError):
            _stdout_closed()
            raise typer.Exit(EXIT_PIPE)
        if OPTIONS.debug:
            raise err
        if isinstance(err, OSError):
            where = Source(str(err.filename) if err.filename else "cadence")
            problem = Problem(where, f"I/O error: {err.strerror or err}",
                              "check the file and the disk, then try again", EXIT_IO)
        else:
            problem = Problem(Source("cadence"), f"internal error ({type(err).__name__})",
                              "a bug in cadence; run again with --debug to see the traceback "
                              "(it may show contact data)", EXIT_SOFTWARE)
        fail(problem, as_json=wants_json)


def _stdout_closed() -> None:
    """`cadence run | head -1`: the reader left. What was done stays done, and what is left to
    print goes nowhere, so that Python's last flush at exit does not fail again (the Python
    documentation's recipe for SIGPIPE, `signal` module)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a file descriptor (a test runner's capture): nothing will flush to it


def _is_usage_error(err: Exception) -> bool:
    """A mistake on the command line, as Typer's parser reports it (click's `UsageError`,
    which Typer vendors from 0.26 on: known by its name, not by a private import)."""
    return any(kind.__name__ == "UsageError" for kind in type(err).__mro__) \
        and hasattr(err, "format_message") and hasattr(err, "exit_code")


APP = App(  # commands register here as their module is imported (commands/)
    add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
    rich_markup_mode=None, cls=_Answered,
    help="Follow-up cadences over plain files: who to contact today, and how.",
)


class Options:
    """Global options, shared by every command."""

    directory: str = "."
    debug: bool = False
    quiet: bool = False
    # what the running command froze ("" nothing, "caller's", "book"; None outside): load_book
    frozen: Optional[str] = None


OPTIONS = Options()


@APP.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    directory: str = typer.Option(".", "-C", help="Run as if started in DIR (default: the "
                                   "current folder).", metavar="DIR"),
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
    shown = [relative(p) for p in failure.problems]
    echo_problems(shown)
    if as_json:
        try:
            _json_error(failure.code, shown)
        except OSError:  # stdout itself failed (a full disk, a closed pipe): stderr said it
            _stdout_closed()
    raise typer.Exit(failure.code)


def echo_problems(problems) -> None:
    """Each problem on stderr, in order; a hint already shown above is not repeated (five
    ambiguous dates give five lines with their places and one hint). --json keeps every hint."""
    from dataclasses import replace

    hints = set()
    for problem in problems:
        if problem.hint in hints:
            problem = replace(problem, hint="")
        hints.add(problem.hint)
        typer.echo(visible(str(problem)), err=True)


def relative(problem: Problem) -> Problem:
    """A problem whose path is shown as people typed it (see `display_path`), a line break
    in a file's name spelt out (`\\n`), as every other control character is."""
    from dataclasses import replace

    shown = display_path(problem.source.path).replace("\n", "\\n")
    if shown == problem.source.path:
        return problem
    return replace(problem, source=replace(problem.source, path=shown))


def display_path(path: str) -> str:
    """Paths in messages: relative to the current folder when inside it."""
    if not os.path.isabs(path):
        return path
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _json_error(code: int, problems) -> None:
    import json

    typer.echo(json.dumps({"error": {"code": code, "problems": [
        {"source": str(p.source), "message": p.message, "hint": p.hint,
         "warning": p.warning} for p in problems]}}, ensure_ascii=False, indent=2))


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


def one_format(as_json: bool, as_csv: bool) -> None:
    """--json and --csv are two answers to one question: asking for both is a usage error."""
    if as_json and as_csv:
        raise Failure(Problem(Source("--csv"), "--json and --csv print the same thing two ways",
                              "give one of them", EXIT_USAGE))


def cache_folder() -> Optional[str]:
    """Where the journal's fold is kept between commands (cadence.cache): CADENCE_CACHE_DIR,
    else the user's cache folder; None when CADENCE_NO_CACHE is set to anything but 0."""
    if os.environ.get("CADENCE_NO_CACHE", "") not in ("", "0"):
        return None
    folder = os.environ.get("CADENCE_CACHE_DIR", "")
    if folder:
        return os.path.abspath(folder)
    base = os.environ.get("XDG_CACHE_HOME", "") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cadence")


def write_outside() -> tuple:
    """The places outside a book that the user allows cadence to write to: the folders in
    CADENCE_WRITE_OUTSIDE (separated like PATH). A book cannot allow them itself."""
    return tuple(p for p in os.environ.get("CADENCE_WRITE_OUTSIDE", "").split(os.pathsep) if p)


def program() -> str:
    """How to call cadence again, for a hint: `cadence` when that is what the shell finds,
    else the path it was started by (`.venv/bin/cadence` from a virtualenv not activated)."""
    import shutil

    started = sys.argv[0] if sys.argv and sys.argv[0] else "cadence"
    if os.path.basename(started) != "cadence":
        return "cadence"  # python -m cadence, a test runner
    found = shutil.which("cadence")
    if found and os.path.realpath(found) == os.path.realpath(started):
        return "cadence"
    return started if os.sep in started else "cadence"


def load_book(cfg, **options):
    """The book, loaded with the journal's cache where the environment allows it.

    The cycle collector is paused while the book loads, and the loaded book is frozen
    (`gc.freeze`) until the command ends (`_Answered.invoke` gives it back). A large book is
    millions of small containers and no cycles, and each full collection would scan them all
    again: on the Monday of the benchmark's week at 100,000 contacts, `due` made 12 of them and
    took 6.3 to 6.4 s against 5.0 to 5.1 s paused and frozen, `run` (16,149 drafts) 16.8 to
    16.9 s against 14.7 to 15.2 s, at the same peak memory (docs/benchmarks.md). What the
    command makes after the load is collected as usual, and a caller that paused the collector
    keeps it paused. The freeze is left out when something is frozen already (a caller's heap,
    or the few hundred objects Python 3.12 starts with): a thaw at the end would thaw that too.
    The command knows what it froze (`OPTIONS.frozen`): asking walks every frozen object.
    """
    from .book import load

    enabled = gc.isenabled()
    gc.disable()
    try:
        loaded = load(cfg, cache=cache_folder(), **options)
    finally:
        if enabled:
            gc.enable()
    if OPTIONS.frozen == "" or (OPTIONS.frozen is None and not gc.get_freeze_count()):
        gc.freeze()
        OPTIONS.frozen = "book" if OPTIONS.frozen == "" else None
    return loaded


def config():
    from .book import load_config

    folder = os.path.abspath(OPTIONS.directory)
    if not os.path.isdir(folder):
        raise Failure(Problem(Source(OPTIONS.directory), "no such folder", code=66))
    return load_config(folder)


def _date_option(text: str, option: str) -> date:
    """A date given on the command line, within the years a ledger may hold."""
    from .model import FIRST_YEAR, LAST_YEAR
    from .sheet_dates import day_first

    # not 20261204, not 2026-W49-5, not digits of another script
    shape = re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip())
    try:
        if not shape:
            raise ValueError
        day = date.fromisoformat(text.strip())
    except ValueError:
        message = f"impossible date {text!r}" if shape else \
            f"expected a date as YYYY-MM-DD, got {text!r}"
        meant = day_first(text)
        hint = f"did you mean {meant}?" if meant and FIRST_YEAR <= meant.year <= LAST_YEAR \
            else ""
        raise Failure(Problem(Source(option), message, hint, EXIT_USAGE)) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Failure(Problem(Source(option), f"date out of range: {text!r}",
                              f"dates run from {FIRST_YEAR} to {LAST_YEAR}", EXIT_USAGE))
    return day


def resolve_today(text: Optional[str], cfg) -> date:
    """--today, else CADENCE_TODAY, else today in the book's timezone (the one clock read)."""
    if text is not None and not text.strip():
        raise Failure(Problem(Source("--today"), "no date given",
                              "give a date as YYYY-MM-DD, or leave --today out", EXIT_USAGE))
    if text:
        return _date_option(text, "--today")
    if os.environ.get("CADENCE_TODAY", ""):
        return _date_option(os.environ["CADENCE_TODAY"], "CADENCE_TODAY")
    return clock_today(cfg)


def clock_today(cfg) -> date:
    """The clock's date in the book's timezone (the machine's local date without one)."""
    if cfg.timezone:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(cfg.timezone)).date()
    return date.today()


def machine_timezone() -> str:
    """This machine's IANA timezone (TZ, tzlocal, else the link /etc/localtime), or ""."""
    import zoneinfo

    name = os.environ.get("TZ", "").lstrip(":")  # what tzlocal reads first, but uncached
    if "/" not in name:
        try:
            import tzlocal

            name = tzlocal.get_localzone_name() or ""
        except Exception:  # noqa: BLE001  (tzlocal raises its own kinds on odd machines)
            name = ""
    if not name:
        try:
            target = os.path.realpath("/etc/localtime")
        except OSError:
            target = ""
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return ""
    return name
FAR_DAYS = 7  # a --today further than this from the clock needs --yes (commands that write)


def near_the_clock(text: Optional[str], day: date, cfg, yes: bool,
                   does: str = "`run` drafts, journals and moves contacts for it") -> None:
    """A `--today` more than FAR_DAYS days from the clock is refused without `--yes`: a typo
    in the date would draft, journal and move contacts for the wrong day (`does` says what
    the command would do). CADENCE_TODAY, set on purpose (to replay days, in tests), and no
    --today at all (cron) are never asked."""
    if not text or yes:
        return
    now = clock_today(cfg)
    apart = abs((day - now).days)
    if apart > FAR_DAYS:
        side = "after" if day > now else "before"
        raise Failure(Problem(
            Source("--today"), f"{day} is {apart} days {side} today ({now})",
            f"add --yes if you mean that day; {does}", EXIT_USAGE))


def parse_on(text: Optional[str], today: date, option: str = "--on") -> date:
    return _date_option(text, option) if text else today


def parse_date(text: str, option: str) -> date:
    """A date typed for an option (`--until`, `--callback`), in the ledger's years."""
    return _date_option(text, option)


def not_after(when: date, day: date, option: str = "--on") -> date:
    """A date typed for something that happened: not after today (a typo would stop one)."""
    if when > day:
        raise Failure(Problem(Source(option), f"{when} is after today ({day})",
                              "give the date it happened", EXIT_USAGE))
    return when


def emit_json(document) -> None:
    import json

    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def say(text: str) -> None:
    """A message for people: stderr-free stdout, silenced by --quiet."""
    if not OPTIONS.quiet:
        typer.echo(visible(text))


TODAY = typer.Option(None, "--today", help="The date to act on (YYYY-MM-DD); default: today.",
                     metavar="DATE")
JSON = typer.Option(False, "--json", help="Print JSON.")
CSV = typer.Option(False, "--csv", help="Print CSV for a spreadsheet (no cell starts a formula).")
QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing on success.")
CONTACT = typer.Argument(..., metavar="ID", help="The contact's id.")
ON = typer.Option(None, "--on", help="The date it happened (YYYY-MM-DD); default: today.",
                  metavar="DATE")
NOTE = typer.Option("", "--note", help="A note for the journal (topics, agreements).")
YES = typer.Option(False, "--yes", "-y", help="Go ahead without asking: take back more than "
                   "one contact's rows at once.")
FAR = typer.Option(False, "--yes", "-y", help="Act on a --today more than 7 days from the "
                   "clock's date (asked, in case the date is a typo).")
DRY_RUN = typer.Option(False, "--dry-run", "-n", help="Show what would be done; write nothing.")


def quiet(flag: bool) -> None:
    if flag:
        OPTIONS.quiet = True

"""The Jinja sandbox: one environment for drafts, `if` rules and `check` (the only module that
makes a Jinja environment).

Templates run in Jinja's sandbox with StrictUndefined: a variable that does not exist is an
error naming the template, line, contact and step, never an empty string. The environment is
given a loader by its caller (cadence.book: the book's templates folder, contained), so that
nothing here opens a file.
"""
from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import date, datetime
from typing import Optional

from jinja2 import StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from .bounds import MAX_OUTPUT, BoundedSandbox, Runaway, bound
from .lookup import SUFFIX
from .model import EXIT_CONFIG, Failure, Overtime, Problem, Source


def environment(loader, autoescape: bool = False) -> SandboxedEnvironment:
    """The sandbox every template and expression runs in."""
    # optimized=False: Jinja would work out constant expressions when it compiles a template,
    # outside any bound of time (`{{ [] | slice(10**8) | list }}`) and swallowing its errors
    env = BoundedSandbox(loader=loader, undefined=StrictUndefined, keep_trailing_newline=True,
                         autoescape=autoescape, auto_reload=False, optimized=False)
    env.filters["date"] = format_day
    return bound(env)


def render(template, context: dict) -> str:
    """A template's text, no longer than MAX_OUTPUT characters."""
    parts, size = [], 0
    for part in template.generate(context):
        size += len(part)
        if size > MAX_OUTPUT:
            raise Runaway(f"the draft would be longer than {MAX_OUTPUT} characters")
        parts.append(part)
    return "".join(parts)


# -- the `date` filter ------------------------------------------------------------------------

def format_day(value, format: str = "long", locale: str = "en") -> str:
    """`{{ touch.due | date("d MMMM", locale="ru") }}`: a date in the reader's language.

    Babel (CLDR) does the work; it is imported on first use, so books that never format a date
    never load it. An empty cell formats as an empty string; anything else that is not a date
    is an error with the template's line.
    """
    if value is None or value == "":
        return ""
    day = _as_date(value)
    from babel.core import Locale, UnknownLocaleError
    from babel.dates import format_date

    try:
        where = Locale.parse(str(locale).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"date: unknown locale {locale!r} (try 'en', 'ru', 'sv' or 'de_AT')") from None
    try:
        return format_date(day, format=format, locale=where)
    except AttributeError:
        raise ValueError(f"date: the format {format!r} asks for a time; it formats dates only") from None
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"date: bad format {format!r}: {err}") from None


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"date: expected a date as YYYY-MM-DD, got {value!r}") from None


# -- `if` rules ---------------------------------------------------------------------------------

class _Row(dict):
    """A contact for `if` expressions: a column the ledger lacks reads as empty."""

    def __missing__(self, key):
        return ""


def check_expr(env: SandboxedEnvironment, expr: str) -> Optional[str]:
    """Why an `if` expression does not compile, or None."""
    try:
        env.compile_expression(expr)
    except TemplateSyntaxError as err:
        return f"the `if` expression does not compile: {err.message}"
    return None


def condition(env: SandboxedEnvironment, guard=nullcontext):
    """The `if` rules' test for the engine (model.Condition).

    An expression that reads `contact` only as `contact.col` or `contact['col']` depends on
    those cells alone: its answers are kept by their values for the command, so a ledger of
    100,000 contacts with 50 ages runs Jinja 50 times. Each run of it is within `guard()` (the
    caller's deadline and memory ceiling, as a draft's rendering).
    """
    compiled = {}

    def compile_once(expr: str) -> tuple:
        found = compiled.get(expr)
        if found is None:
            found = compiled[expr] = (env.compile_expression(expr), columns_read(env, expr), {})
        return found

    def holds(rule, contact) -> bool:
        test, columns, answers = compile_once(rule.expr)
        key = None
        if columns is not None:
            key = tuple(contact.row.get(c, "") for c in columns)
            if key in answers:
                return answers[key]
        try:
            with guard():
                answer = bool(test(contact=_Row(contact.row)))
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError,
                RuntimeError, MemoryError, Overtime) as err:
            said = ("it needs more memory than there is" if isinstance(err, MemoryError)
                    else f"it {err}" if isinstance(err, Overtime) else str(err))
            raise Failure(Problem(
                rule.source, f"the `if` expression failed for contact {contact.id!r}: {said}",
                code=EXIT_CONFIG)) from None
        if key is not None:
            answers[key] = answer
        return answer

    # the columns an expression reads (None: `contact` whole), for `plan`
    holds.reads = lambda expr: compile_once(expr)[1]
    return holds


def columns_read(env: SandboxedEnvironment, expr: str):
    """The columns an expression reads, or None when it uses `contact` any other way."""
    from jinja2 import nodes
    from jinja2.parser import Parser

    tree = Parser(env, expr, state="variable").parse_expression()  # as compile_expression reads it
    names = [n for n in tree.find_all(nodes.Name) if n.name == "contact"]
    columns, methods = [], set()
    for call in tree.find_all(nodes.Call):
        method = call.node
        if isinstance(method, nodes.Getattr) and isinstance(method.node, nodes.Name) \
                and method.node.name == "contact":
            # `contact.get('vip')` reads the column vip; any other call of the row, who knows
            if method.attr != "get" or not call.args or not isinstance(call.args[0], nodes.Const) \
                    or not isinstance(call.args[0].value, str):
                return None
            columns.append(call.args[0].value)
            methods.add(id(method))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in methods:
            continue
        if isinstance(node.node, nodes.Name) and node.node.name == "contact":
            if isinstance(node, nodes.Getattr):
                columns.append(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                columns.append(node.arg.value)
            else:
                return None
    if len(columns) != len(names):
        return None  # `contact` passed whole to a filter or a test: no telling what it reads
    return tuple(sorted(set(columns)))


# -- errors, with the template's line -----------------------------------------------------------

class located:
    """Turns a template error into a Problem naming the file, line, contact and step.

    `path` is the template's path as messages show it.
    """

    def __init__(self, path: str, where: str, lines=None):
        self.path, self.where, self.lines = path, where, lines
        self.timed_out = False

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is None or isinstance(err, Failure):
            return False
        if isinstance(err, TemplateSyntaxError):  # an included template's names itself
            raise Failure(Problem(Source(err.filename or self.path, err.lineno or 0),
                                  f"{err.message} {self.where}", code=EXIT_CONFIG)) from None
        if isinstance(err, (MemoryError, Overtime)):
            self.timed_out = isinstance(err, Overtime)
            path, line = template_line(tb, self.path)
            message = ("the template needs more memory than there is"
                       if isinstance(err, MemoryError) else f"the template {err}")
            raise Failure(Problem(Source(path, line), f"{message} {self.where}",
                                  code=EXIT_CONFIG)) from None
        if isinstance(err, UnicodeDecodeError) and hasattr(err, "path"):
            from .template_lint import not_utf8

            # the file that is not UTF-8: an included one names itself
            raise Failure(not_utf8(err.path, err, f" {self.where}")) from None
        if isinstance(err, (UndefinedError, SecurityError, TemplateError, TypeError, ValueError,
                            ArithmeticError, RuntimeError, LookupError)):  # RecursionError too
            path, line = template_line(tb, self.path)
            message = getattr(err, "message", None) or str(err)
            if isinstance(err, UndefinedError) and self.lines is not None:
                message = _undefined_message(message, self.lines(path), line)
            elif isinstance(err, TemplateNotFound) and not str(err.name).endswith(SUFFIX):
                message = (f"included file {err.name!r} is not a template: only .j2 files "
                           "in the templates folder are")
            elif isinstance(err, TemplateNotFound):
                message = (f"included template {err.name!r} not found (includes are looked up "
                           "inside the templates folder)")
            raise Failure(Problem(Source(path, line), f"{message} {self.where}",
                                  code=EXIT_CONFIG)) from None
        return False


def template_line(tb, path: str) -> tuple:
    """(file, line) of an error: the innermost template in the traceback Jinja rewrites, so a
    mistake in an included piece names that piece, not the line that includes it."""
    found, line = path, 0
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(SUFFIX):  # Jinja gives a template's code its file name
            found, line = name, tb.tb_lineno
            template = tb.tb_frame.f_globals.get("__jinja_template__")
            if template is not None:  # its compiled code, not rewritten (model.Overtime)
                line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return found, line


_NO_KEY = re.compile(r"^'dict object' has no attribute '([^']+)'$")


def _undefined_message(message: str, lines, line: int) -> str:
    """Jinja's "'dict object' has no attribute 'x'" said the way `check` says it."""
    from .template_lint import column, judge

    match = _NO_KEY.match(message)
    if not match or not line or lines is None or not 0 < line <= len(lines):
        return message
    text = [lines[line - 1]]
    for head in ("contact", "sender", "playbook"):
        key = f"{head}.{match.group(1)}"
        if column(text, 1, key):
            return judge(key, set(), set())[0]
    return message

"""Templates and drafts: the only module that imports Jinja.

Templates run in Jinja's sandbox with StrictUndefined: a variable that does not exist is an
error naming the template, line, contact and step, never an empty string. `check` reads the
same templates statically (`lint_template`) so that such a mistake shows before a run.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
from datetime import date, datetime, time, timezone
from typing import Optional

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from . import mime
from .lookup import SUFFIX, template_file, template_names
from .model import EXIT_CONFIG, EXIT_DATA, Failure, Problem, Source, Touch
from .records import frozen

_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
_UNSAFE = re.compile(r"[^\w.-]+")

HTML = ".html"  # `T.email.j2` has its HTML twin in `T.email.html.j2`, `T.j2` in `T.html.j2`

# What every template sees (SPEC section 6), and the fields `check` knows of each.
CONTEXT = ("contact", "touch", "playbook", "sender", "today", "history")
FIELDS = {
    "touch": tuple(f.name for f in dataclasses.fields(Touch)) + ("as_json",),
    "playbook": ("name", "description"),
    "sender": ("name", "email", "phone", "address"),
}
_MAPPING_METHODS = ("get", "items", "keys", "values")


def safe_name(text: str, limit: int = 60) -> str:
    """A file-name part that cannot leave its folder, and distinct on any disk: a name that was
    altered or has capitals gets a hash of the original."""
    name = _UNSAFE.sub("_", text).strip("._-")[:limit]
    # capitals get the hash too: `Ann` and `ann` must not share a file on macOS or Windows;
    # so does `--`, the separator of contact and step in a draft's name
    if name != text or not name or name != name.lower() or "--" in name \
            or name.split(".")[0].lower() in _RESERVED:
        name = f"{name or 'x'}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return name


def draft_name(contact_id: str, step: str, channel: str) -> str:
    """The draft's file name in drafts/<today>/: from ids only, so the index can link to it."""
    return f"{safe_name(contact_id)}--{safe_name(step)}" + (".eml" if channel == "email" else ".md")


def fold(text: str) -> str:
    """One line: a line break in ledger data never becomes a header or a new line."""
    return " ".join(str(text).split())


def html_twin(filename: str) -> str:
    """The HTML twin's file name of a text template's file name."""
    return filename[: -len(SUFFIX)] + HTML + SUFFIX


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


# -- the environments -------------------------------------------------------------------------

class _ContainedLoader(FileSystemLoader):
    """A file loader that refuses files whose real path lies outside the templates folder."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        root = os.path.realpath(self.searchpath[0])
        if os.path.commonpath([root, os.path.realpath(filename)]) != root:
            raise TemplateNotFound(template)
        return source, filename, uptodate


def _environment(loader, autoescape: bool, bytecode_cache=None) -> SandboxedEnvironment:
    # auto_reload off: a command's templates do not change while it runs (no stat a draft)
    env = SandboxedEnvironment(loader=loader, undefined=StrictUndefined,
                               keep_trailing_newline=True, autoescape=autoescape,
                               bytecode_cache=bytecode_cache, auto_reload=False)
    env.filters["date"] = format_day
    return env


class _Row(dict):
    """A contact for `if` expressions: a column the ledger lacks reads as empty."""

    def __missing__(self, key):
        return ""


@frozen
class Draft:
    name: str  # file name inside drafts/<today>/
    data: bytes


@frozen
class _Rendered:
    subject: object  # str, or None when the template has no `Subject:` line
    text: str
    path: str
    html: object = None  # the HTML twin's output, email only


class Renderer:
    """Renders drafts for one book; built once a run."""

    def __init__(self, folder: str, sender: dict, tz: str = "", bytecode: Optional[str] = None):
        """`bytecode`: a folder where compiled templates are kept between runs (Jinja's
        FileSystemBytecodeCache; a template whose text changed is compiled again)."""
        self.folder = folder
        self.sender = {k: sender.get(k, "") for k in ("name", "email", "phone", "address")}
        self.tz = tz
        self._bytecode_folder = bytecode
        self.bytecode = _bytecode_cache(bytecode, "text")
        self.env = _environment(_ContainedLoader(folder), autoescape=False,
                                bytecode_cache=self.bytecode)
        self._html_env = None
        self.names = template_names(folder)
        self._compiled = {}
        self._read = {}  # `check`'s parsed trees and readings, by file name

    @property
    def html_env(self) -> SandboxedEnvironment:
        """A second sandbox that escapes every value: ledger data never becomes markup."""
        if self._html_env is None:
            # its own folder: code compiled to escape must never serve plain text, nor back
            self._html_env = _environment(self.env.loader, autoescape=True,
                                          bytecode_cache=_bytecode_cache(self._bytecode_folder,
                                                                         "html"))
        return self._html_env

    # -- `if` rules ---------------------------------------------------------------------------
    def check_expr(self, expr: str):
        try:
            self.env.compile_expression(expr)
        except TemplateSyntaxError as err:
            return f"the `if` expression does not compile: {err.message}"
        return None

    def condition(self, stored: Optional[dict] = None, changed=None):
        """The `if` rules' test. An expression that reads `contact` only as `contact.col` or
        `contact['col']` depends on those cells alone: its answers are remembered by their
        values, so a ledger of 100,000 contacts with 50 ages runs Jinja 50 times.

        `stored` ({expr: (columns read, {cell values: answer})}) holds answers from earlier
        commands (the cache) and receives new ones; `changed()` is called when it grows.
        """
        compiled = {}
        stored = {} if stored is None else stored

        def holds(rule, contact) -> bool:
            found = compiled.get(rule.expr)
            if found is None:
                found = compiled[rule.expr] = self.env.compile_expression(rule.expr)
                if rule.expr not in stored:
                    stored[rule.expr] = (_columns_read(self.env, rule.expr), {})
            columns, answers = stored[rule.expr]
            key = None
            if columns is not None:
                key = tuple(contact.row.get(c, "") for c in columns)
                if key in answers:
                    return answers[key]
            try:
                answer = bool(found(contact=_Row(contact.row)))
            except (TemplateError, TypeError, ValueError, ArithmeticError) as err:
                raise Failure(Problem(
                    rule.source, f"the `if` expression failed for contact {contact.id!r}: {err}",
                    code=EXIT_CONFIG)) from None
            if key is not None:
                answers[key] = answer
                if changed is not None:
                    changed()
            return answer

        return holds

    # -- drafts -------------------------------------------------------------------------------
    def _templates_for(self, filename: str, path: str, email: bool) -> tuple:
        """(subject template or None, body template), compiled once a run.

        An email's `Subject:` line is rendered on its own and folded, so that a line break
        in ledger data can never end the header and start the body.
        """
        key = (filename, email)
        if key not in self._compiled:
            source, _, _ = self.env.loader.get_source(self.env, filename)
            first, newline, rest = source.partition("\n")
            if email and first.startswith("Subject:"):
                # the body keeps its line numbers: the subject's line becomes an empty line
                self._compiled[key] = (self._compile(first, filename, path, "subject"),
                                       self._compile(newline + rest, filename, path, "body"))
            else:
                self._compiled[key] = (None, self.env.get_template(filename))
        return self._compiled[key]

    def _compile(self, source: str, name: str, path: str, part: str):
        bucket = None
        if self.bytecode is not None:
            bucket = self.bytecode.get_bucket(self.env, f"{name}#{part}", path, source)
        code = bucket.code if bucket is not None else None
        if code is None:
            code = self.env.compile(source, name=name, filename=path)
            if bucket is not None:
                bucket.code = code
                try:
                    self.bytecode.set_bucket(bucket)
                except OSError:
                    pass  # a cache that cannot be written only costs time
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None))

    def _render(self, touch, contact, playbook, history, today) -> _Rendered:
        """The subject, body text and HTML body of a touch, errors named by file and line."""
        filename = template_file(touch.template, touch.channel, self.names)
        where = f"(contact {contact.id}, step {touch.step})"
        if not filename:
            raise Failure(Problem(
                Source(display_path(os.path.join(self.folder, touch.template + SUFFIX))),
                f"template {touch.template!r} not found for {touch.channel} {where}",
                code=EXIT_CONFIG))
        path = os.path.join(self.folder, filename)
        context = {
            "contact": dict(contact.row), "touch": touch, "today": today,
            "playbook": {"name": playbook.name, "description": playbook.description},
            "sender": dict(self.sender), "history": list(history),
        }
        with _located(path, where):
            subject, body = self._templates_for(filename, path, touch.channel == "email")
            text = body.render(context)
            if subject is not None:
                subject = fold(subject.render(context)[len("Subject:"):])
        html = None
        twin = html_twin(filename)
        if touch.channel == "email" and twin[: -len(SUFFIX)] in self.names:
            with _located(os.path.join(self.folder, twin), where):
                html = self.html_env.get_template(twin).render(context)
        return _Rendered(subject, text, path, html)

    def draft(self, touch, contact, playbook, history, today: date) -> Draft:
        done = self._render(touch, contact, playbook, history, today)
        name = draft_name(contact.id, touch.step, touch.channel)
        if touch.channel == "email":
            return Draft(name, self._email(done, touch, contact, playbook, today))
        text = done.text
        if text.startswith("Subject:"):
            # an email template used by another channel: its subject becomes a heading
            first, _, rest = text.partition("\n")
            text = f"**{fold(first[len('Subject:'):])}**\n{rest}"
        if touch.channel == "letter":
            return Draft(name, self._letter(text, contact, today).encode("utf-8"))
        return Draft(name, self._sheet(text, touch, contact, history).encode("utf-8"))

    def _email(self, done: _Rendered, touch, contact, playbook, today) -> bytes:
        """An RFC 5322 message that mail clients open as a draft; every byte from the inputs."""
        from email.message import EmailMessage
        from email.policy import SMTP
        from email.utils import format_datetime

        subject, body = done.subject, done.text
        if subject is None:
            first, _, body = body.partition("\n")
            if not first.startswith("Subject:"):
                raise Failure(Problem(
                    Source(display_path(done.path), 1), "an email template begins with a "
                    f"`Subject: ...` line (contact {contact.id}, step {touch.step})",
                    code=EXIT_CONFIG))
            subject = fold(first[len("Subject:"):])
        body = body.lstrip("\r\n")
        seed = "\x1f".join((contact.id, playbook.name, touch.step, today.isoformat()))
        digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()
        boundary = _boundary(digest, body + done.html) if done.html is not None else ""
        headers = [
            ("Subject", subject), ("Date", format_datetime(self.nine_am(today))),
            ("Message-ID", f"<{digest[:32]}@{self.domain}>"), ("X-Unsent", "1"),
            ("X-Cadence-Contact", fold(contact.id)), ("X-Cadence-Playbook", fold(playbook.name)),
            ("X-Cadence-Step", fold(touch.step)),
        ]
        addresses = self._addresses(contact)
        if addresses is not None:
            fast = mime.message(addresses + headers, body, done.html, boundary)
            if fast is not None:
                return fast
        message = EmailMessage(policy=SMTP)  # what the fast path declines: the stdlib judges
        self._address(message, done.path, contact)
        for name, value in headers:
            message[name] = value
        message.set_content(body, charset="utf-8")
        if done.html is not None:
            message.add_alternative(done.html, subtype="html", charset="utf-8")
            for part in message.iter_parts():
                del part["MIME-Version"]  # once, at the top, is what RFC 2045 asks for
            message.set_boundary(boundary)
        try:
            return message.as_bytes(policy=SMTP)
        except (ValueError, UnicodeError) as err:
            raise Failure(Problem(Source(display_path(done.path)), "cannot write the email to "
                                  f"contact {contact.id!r}: {err}", code=EXIT_DATA)) from None

    def _addresses(self, contact):
        """[("From", (name, addr)), ("To", ...)] as `_address` writes them, for `mime`; None
        when an address needs IDNA that fails."""
        sender, to = self.sender, fold(contact.row.get("email", ""))
        found = []
        try:
            if sender["email"]:
                found.append(("From", (fold(sender["name"]), _ascii(sender["email"]))))
            if to:
                found.append(("To", (fold(contact.name), _ascii(to))))
        except UnicodeError:
            return None
        return found

    def _address(self, message, path: str, contact) -> None:
        """From and To, folded: a line break in the ledger cannot add a header."""
        from email.headerregistry import Address

        sender, to = self.sender, fold(contact.row.get("email", ""))
        try:
            if sender["email"]:
                message["From"] = Address(fold(sender["name"]), addr_spec=_ascii(sender["email"]))
            if to:  # `run` never drafts an email without one; `render --step` may preview it
                message["To"] = Address(fold(contact.name), addr_spec=_ascii(to))
        except (ValueError, IndexError, UnicodeError) as err:
            raise Failure(Problem(Source(display_path(path)), "cannot address the email to "
                                  f"contact {contact.id!r}: {err}", code=EXIT_DATA)) from None

    @property
    def domain(self) -> str:
        """The right-hand side of Message-IDs and calendar UIDs: the sender's domain."""
        domain = fold(self.sender["email"].rpartition("@")[2]).replace(" ", "")
        try:
            return _ascii("@" + domain)[1:] if domain else "cadence.invalid"
        except UnicodeError:
            return "cadence.invalid"

    def nine_am(self, today: date) -> datetime:
        """09:00 of the day in the book's timezone (UTC without one): the drafts' timestamp."""
        return datetime.combine(today, time(9, 0), tzinfo=self.zone())

    def zone(self):
        if self.tz:
            from zoneinfo import ZoneInfo

            return ZoneInfo(self.tz)
        return timezone.utc

    def _sheet(self, text, touch, contact, history) -> str:
        row = contact.row
        when = touch.due.isoformat() + (f" at {touch.time}" if touch.time else "")
        if touch.overdue:
            when += f" ({touch.overdue} day{'s' if touch.overdue != 1 else ''} late)"
        lines = [f"# {touch.channel.capitalize()}: {fold(contact.name) or contact.id}", "",
                 f"- Phone: {fold(row.get('phone', '')) or '(none)'}",
                 f"- When: {when}",
                 f"- Why: {_why(touch)}",
                 f"- Playbook: {touch.playbook} / {touch.phase} / {touch.step}", ""]
        topics = [e for e in history if e.note and e.event in ("touch", "reply", "note")][-5:]
        if topics:
            lines += ["## Last topics", ""]
            lines += [f"- {e.date} {e.event} {e.channel}: {fold(e.note)}".replace("  ", " ")
                      for e in topics]
            lines.append("")
        lines += ["## Script", "", text.strip(), ""]
        return "\n".join(lines)

    def _letter(self, text, contact, today) -> str:
        """The sender's and the contact's address blocks, the date, the text: ready to print."""
        block = _lines(self.sender["name"]) + _lines(self.sender["address"])
        to = _lines(contact.name) + _lines(contact.row.get("address", ""))
        parts = ["  \n".join(block), "  \n".join(to), today.isoformat(), text.strip()]
        return "\n\n".join(p for p in parts if p) + "\n"

    # -- `check`: templates read without rendering ----------------------------------------------
    def compile_problem(self, name: str):
        """A syntax error, unknown filter or unreadable file in one template, or None."""
        path = os.path.join(self.folder, name + SUFFIX)
        shown = display_path(path)
        try:
            self._reading(name + SUFFIX)  # first: compiling optimizes the parsed tree in place
            self.env.compile(self._tree(name + SUFFIX), name=name + SUFFIX, filename=path)
        except TemplateSyntaxError as err:
            return Problem(Source(shown, err.lineno or 0), err.message, code=EXIT_CONFIG)
        except (OSError, UnicodeDecodeError) as err:
            return Problem(Source(shown), f"unreadable template: {err}", code=EXIT_CONFIG)
        return None

    def _source(self, filename: str) -> str:
        source, _, _ = self.env.loader.get_source(self.env, filename)
        return source

    def _tree(self, filename: str):
        """The parsed template, once a command: `check` reads each file several ways."""
        key = ("tree", filename)
        if key not in self._read:
            source = self._source(filename)
            self._read[key] = (source, self.env.parse(source, name=filename))
        return self._read[key][1]

    def _reading(self, filename: str) -> tuple:
        """(source lines, undeclared names, uses, refs, names set) of a template, cached."""
        key = ("reading", filename)
        if key not in self._read:
            from jinja2 import meta, nodes

            tree = self._tree(filename)
            uses = []
            _walk(tree, frozenset(), uses)
            refs = sorted({(n.template.value, n.lineno) for n in tree.find_all(
                (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport))
                if isinstance(n.template, nodes.Const) and isinstance(n.template.value, str)
                and not getattr(n, "ignore_missing", False)})
            sets = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
            sets |= {n.name for n in tree.find_all(nodes.Macro)}
            lines = self._read[("tree", filename)][0].splitlines()
            self._read[key] = (lines, meta.find_undeclared_variables(tree), uses, refs,
                               frozenset(sets))
        return self._read[key]

    def lint_template(self, filename: str, columns, inherited=frozenset()) -> tuple:
        """(findings, [(template it includes or extends, line)], names it sets) for one file.

        A finding is (line, col, message, hint): a variable that is not in the context, or a
        `contact.<column>` the ledger lacks, used where no `is defined` test or `default`
        filter guards it. `inherited` holds the names an including template has set.
        """
        lines, undeclared, uses, refs, sets = self._reading(filename)
        undeclared = undeclared - set(CONTEXT) - set(inherited) - set(self.env.globals)
        columns = set(columns)
        findings, seen = [], set()
        for key, line in uses:
            if key in seen:
                continue
            found = _judge(key, undeclared, columns)
            if found is None:
                continue
            seen.add(key)
            findings.append((line, _column(lines, line, key)) + found)
        return findings, refs, sets | frozenset(inherited)

    def has_subject(self, filename: str) -> bool:
        """Does a template file begin with the `Subject:` line an email needs?"""
        try:
            return self._source(filename).startswith("Subject:")
        except (OSError, UnicodeDecodeError, TemplateNotFound):
            return False


class _located:
    """Turns a template error into a Problem naming the file, line, contact and step."""

    def __init__(self, path: str, where: str):
        self.path, self.where = path, where

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is None or isinstance(err, Failure):
            return False
        if isinstance(err, TemplateSyntaxError):
            raise Failure(Problem(Source(display_path(self.path), err.lineno or 0),
                                  f"{err.message} {self.where}", code=EXIT_CONFIG)) from None
        if isinstance(err, (UndefinedError, SecurityError, TemplateError, TypeError, ValueError,
                            ArithmeticError, RecursionError, LookupError)):
            path, line = _template_line(tb, self.path)
            message = getattr(err, "message", None) or str(err)
            if isinstance(err, UndefinedError):
                message = _undefined_message(message, path, line)
            elif isinstance(err, TemplateNotFound):
                message = (f"included template {err.name!r} not found (includes are looked up "
                           "inside the templates folder)")
            raise Failure(Problem(Source(display_path(path), line), f"{message} {self.where}",
                                  code=EXIT_CONFIG)) from None
        return False


_NO_KEY = re.compile(r"^'dict object' has no attribute '([^']+)'$")


def _undefined_message(message: str, path: str, line: int) -> str:
    """Jinja's "'dict object' has no attribute 'x'" said the way `check` says it."""
    match = _NO_KEY.match(message)
    if not match or not line:
        return message
    try:
        with open(path, encoding="utf-8") as handle:
            text = [handle.read().splitlines()[line - 1]]
    except (OSError, UnicodeDecodeError, IndexError):
        return message
    for head in ("contact", "sender", "playbook"):
        key = f"{head}.{match.group(1)}"
        if _column(text, 1, key):
            return _judge(key, set(), set())[0]
    return message


def _bytecode_cache(folder: Optional[str], kind: str):
    """Jinja's cache of compiled templates in `folder`/`kind`, or None."""
    if folder is None:
        return None
    from jinja2 import FileSystemBytecodeCache

    folder = os.path.join(folder, kind)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(folder)


def _ascii(address: str) -> str:
    """An address whose domain is in IDNA form: a header has no room for `bücher.de`."""
    local, at, domain = fold(address).rpartition("@")
    if at and not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return f"{local}{at}{domain}"


def display_path(path: str) -> str:
    """Paths in messages: relative to the current folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _boundary(digest: str, text: str) -> str:
    """A MIME boundary from the message's hash (the library's default is random)."""
    boundary = f"=_cadence_{digest[:24]}"
    while boundary in text:
        boundary += "_"
    return boundary


def _lines(text: str) -> list:
    """The non-empty lines of a cell, each folded: an address block line by line."""
    return [fold(line) for line in re.split(r"\r\n|\r|\n", text or "") if line.strip()]


def _columns_read(env, expr: str):
    """The columns an expression reads, or None when it uses `contact` any other way."""
    from jinja2 import nodes

    tree = env.parse("{{ " + expr + " }}")
    names = [n for n in tree.find_all(nodes.Name) if n.name == "contact"]
    columns = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
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


def _why(touch) -> str:
    if touch.reason == "step":
        return f"step {touch.step} of {touch.playbook}"
    return touch.detail or touch.reason


def _template_line(tb, path: str) -> tuple:
    """(file, line) of an error: the innermost template in the traceback Jinja rewrites, so a
    mistake in an included piece names that piece, not the line that includes it."""
    found, line = path, 0
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(SUFFIX):  # Jinja gives a template's code its file name
            found, line = name, tb.tb_lineno
        tb = tb.tb_next
    return found, line


# -- static reading: which names a template uses, and which of them are guarded ----------------

def _key(node):
    """'contact.company' for `contact.company` or `contact['company']`, 'x' for `x`, else None."""
    from jinja2 import nodes

    if isinstance(node, nodes.Name) and node.ctx == "load":
        return node.name
    if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name) \
            and node.node.name in ("contact",) + tuple(FIELDS) and node.ctx == "load":
        if isinstance(node, nodes.Getattr):
            return f"{node.node.name}.{node.attr}"
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return f"{node.node.name}.{node.arg.value}"
    return None


def _proven(test) -> tuple:
    """(names defined when `test` holds, names defined when it does not)."""
    from jinja2 import nodes

    if isinstance(test, nodes.Test) and test.name in ("defined", "undefined"):
        key = _key(test.node)
        if key is None:
            return frozenset(), frozenset()
        return (frozenset({key}), frozenset()) if test.name == "defined" else (frozenset(), frozenset({key}))
    if isinstance(test, nodes.Not):
        yes, no = _proven(test.node)
        return no, yes
    if isinstance(test, (nodes.And, nodes.Or)):
        left, right = _proven(test.left), _proven(test.right)
        if isinstance(test, nodes.And):
            return left[0] | right[0], left[1] & right[1]
        return left[0] & right[0], left[1] | right[1]
    return frozenset(), frozenset()


def _walk(node, guarded: frozenset, uses: list) -> None:
    """Collect (key, line) of every unguarded use of a name or a `contact.<column>`."""
    from jinja2 import nodes

    if isinstance(node, nodes.If):
        yes, no = _proven(node.test)
        _walk(node.test, guarded, uses)
        _walk_all(node.body, guarded | yes, uses)
        otherwise = guarded | no
        for branch in node.elif_:
            yes, no = _proven(branch.test)
            _walk(branch.test, otherwise, uses)
            _walk_all(branch.body, otherwise | yes, uses)
            otherwise |= no
        _walk_all(node.else_, otherwise, uses)
        return
    if isinstance(node, nodes.CondExpr):
        yes, no = _proven(node.test)
        _walk(node.test, guarded, uses)
        _walk(node.expr1, guarded | yes, uses)
        if node.expr2 is not None:
            _walk(node.expr2, guarded | no, uses)
        return
    if isinstance(node, (nodes.And, nodes.Or)):
        yes, no = _proven(node.left)
        _walk(node.left, guarded, uses)
        _walk(node.right, guarded | (yes if isinstance(node, nodes.And) else no), uses)
        return
    if isinstance(node, (nodes.Test, nodes.Filter)) and node.node is not None and (
            (isinstance(node, nodes.Test) and node.name in ("defined", "undefined"))
            or (isinstance(node, nodes.Filter) and node.name in ("default", "d"))) \
            and _key(node.node) is not None:
        _walk_all(list(node.args) + [kw.value for kw in node.kwargs], guarded, uses)
        return
    if isinstance(node, nodes.Getattr) and node.attr in _MAPPING_METHODS \
            and isinstance(node.node, nodes.Name) and node.node.name in ("contact", "playbook", "sender"):
        return
    key = _key(node)
    if key is not None:
        if key not in guarded:
            uses.append((key, node.lineno))
        if not isinstance(node, nodes.Name):
            _walk_all(list(node.iter_child_nodes())[1:], guarded, uses)
        return
    _walk_all(node.iter_child_nodes(), guarded, uses)


def _walk_all(children, guarded, uses) -> None:
    for child in children:
        _walk(child, guarded, uses)


def _judge(key: str, undeclared: set, columns: set):
    """(message, hint) when a use is an error, else None."""
    head, _, field = key.partition(".")
    if not field:
        if key not in undeclared:
            return None
        return (f"{key!r} is not defined",
                "a template sees " + ", ".join(CONTEXT) + ", and the names it sets")
    if head == "contact":
        if field in columns:
            return None
        close = difflib.get_close_matches(field, sorted(columns), 1)
        hint = f"did you mean 'contact.{close[0]}'? Otherwise a" if close else "a"
        return (f"{key!r} is not a column of the ledger",
                hint + f"dd the column, or guard its use with {{% if {key} is defined %}}")
    if field in FIELDS[head]:
        return None
    close = difflib.get_close_matches(field, FIELDS[head], 1)
    return (f"{key!r} is not a field of {head}",
            f"did you mean '{head}.{close[0]}'?" if close else f"{head} has " + ", ".join(FIELDS[head]))


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_GUARD = re.compile(r"\s*(?:is\s+(?:not\s+)?(?:un)?defined\b|\|\s*d(?:efault)?\b)")


def _column(lines, line: int, key: str) -> int:
    """The column (from 1) of a use on its line: Jinja keeps lines only, so look for it."""
    if not 0 < line <= len(lines):
        return 0
    head, _, field = key.partition(".")
    if field:
        name = re.escape(field)
        pattern = re.compile(rf"\b{re.escape(head)}\s*(?:\.\s*{name}\b|\[\s*(['\"]){name}\1\s*\])")
    else:
        pattern = re.compile(rf"(?<![\w.]){re.escape(head)}\b")
    text = lines[line - 1]
    found = [m for tag in _TAG.finditer(text) for m in pattern.finditer(text, tag.start(), tag.end())]
    unguarded = [m for m in found if not _GUARD.match(text, m.end())]
    found = unguarded or found or list(pattern.finditer(text))
    return found[0].start() + 1 if found else 0

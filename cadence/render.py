"""Templates and drafts: the only module that imports Jinja.

Templates run in Jinja's sandbox with StrictUndefined: a variable that does not exist is an
error naming the template, line and contact, never an empty string.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from .lookup import SUFFIX, template_file, template_names
from .model import EXIT_CONFIG, EXIT_DATA, Failure, Problem, Source

_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
_UNSAFE = re.compile(r"[^\w.-]+")


def safe_name(text: str, limit: int = 60) -> str:
    """A file-name part that cannot leave its folder; altered names get a hash to stay distinct."""
    name = _UNSAFE.sub("_", text).strip("._-")[:limit]
    if name != text or not name or name.split(".")[0].lower() in _RESERVED:
        name = f"{name or 'x'}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return name


def fold(text: str) -> str:
    """One line: a line break in ledger data never becomes a header or a new line."""
    return " ".join(str(text).split())


class _ContainedLoader(FileSystemLoader):
    """A file loader that refuses files whose real path lies outside the templates folder."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        root = os.path.realpath(self.searchpath[0])
        if os.path.commonpath([root, os.path.realpath(filename)]) != root:
            raise TemplateNotFound(template)
        return source, filename, uptodate


class _Row(dict):
    """A contact for `if` expressions: a column the ledger lacks reads as empty."""

    def __missing__(self, key):
        return ""


@dataclass(frozen=True)
class Draft:
    name: str  # file name inside drafts/<today>/
    data: bytes


class Renderer:
    """Renders drafts for one book; built once a run."""

    def __init__(self, folder: str, sender: dict, tz: str = ""):
        self.folder = folder
        self.sender = {k: sender.get(k, "") for k in ("name", "email", "phone", "address")}
        self.tz = tz
        self.env = SandboxedEnvironment(
            loader=_ContainedLoader(folder), undefined=StrictUndefined,
            keep_trailing_newline=True, autoescape=False,
        )
        self.names = template_names(folder)
        self._compiled = {}

    # -- `if` rules ---------------------------------------------------------------------------
    def check_expr(self, expr: str):
        try:
            self.env.compile_expression(expr)
        except TemplateSyntaxError as err:
            return f"the `if` expression does not compile: {err.message}"
        return None

    def condition(self):
        compiled = {}

        def holds(rule, contact) -> bool:
            test = compiled.get(rule.expr)
            if test is None:
                test = compiled[rule.expr] = self.env.compile_expression(rule.expr)
            try:
                return bool(test(contact=_Row(contact.row)))
            except (TemplateError, TypeError, ValueError, ArithmeticError) as err:
                raise Failure(Problem(
                    rule.source, f"the `if` expression failed for contact {contact.id!r}: {err}",
                    code=EXIT_CONFIG)) from None

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
                self._compiled[key] = (self._compile(first, filename, path),
                                       self._compile(newline + rest, filename, path))
            else:
                self._compiled[key] = (None, self.env.get_template(filename))
        return self._compiled[key]

    def _compile(self, source: str, name: str, path: str):
        code = self.env.compile(source, name=name, filename=path)
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None))

    def _render(self, touch, contact, playbook, history, today) -> tuple:
        """(subject or None, body text, template path) for a touch."""
        filename = template_file(touch.template, touch.channel, self.names)
        where = f"(contact {contact.id}, step {touch.step})"
        if not filename:
            raise Failure(Problem(
                Source(os.path.join(self.folder, touch.template + SUFFIX)),
                f"template {touch.template!r} not found for {touch.channel} {where}",
                code=EXIT_CONFIG))
        path = os.path.join(self.folder, filename)
        context = {
            "contact": dict(contact.row), "touch": touch, "today": today,
            "playbook": {"name": playbook.name, "description": playbook.description},
            "sender": dict(self.sender), "history": list(history),
        }
        try:
            subject, body = self._templates_for(filename, path, touch.channel == "email")
            text = body.render(context)
            if subject is not None:
                subject = fold(subject.render(context)[len("Subject:"):])
        except TemplateSyntaxError as err:
            raise Failure(Problem(Source(path, err.lineno or 0), f"{err.message} {where}",
                                  code=EXIT_CONFIG)) from None
        except (UndefinedError, SecurityError, TemplateError, TypeError, ValueError) as err:
            line = _template_line(sys.exc_info()[2], path)
            message = getattr(err, "message", None) or str(err)
            raise Failure(Problem(Source(path, line), f"{message} {where}",
                                  code=EXIT_CONFIG)) from None
        return subject, text, path

    def draft(self, touch, contact, playbook, history, today: date) -> Draft:
        subject, text, path = self._render(touch, contact, playbook, history, today)
        base = f"{safe_name(contact.id)}--{safe_name(touch.step)}"
        if touch.channel == "email":
            return Draft(base + ".eml",
                         self._email(subject, text, path, touch, contact, playbook, today))
        if text.startswith("Subject:"):
            # an email template used by another channel: its subject becomes a heading
            first, _, rest = text.partition("\n")
            text = f"**{fold(first[len('Subject:'):])}**\n{rest}"
        if touch.channel == "letter":
            return Draft(base + ".md", self._letter(text, contact, today).encode("utf-8"))
        return Draft(base + ".md", self._sheet(text, touch, contact, history).encode("utf-8"))

    def _email(self, subject, body, path, touch, contact, playbook, today) -> bytes:
        from email.headerregistry import Address
        from email.message import EmailMessage
        from email.policy import SMTP
        from email.utils import format_datetime

        if subject is None:
            first, _, body = body.partition("\n")
            if not first.startswith("Subject:"):
                raise Failure(Problem(
                    Source(path, 1), "an email template begins with a `Subject: ...` line "
                    f"(contact {contact.id}, step {touch.step})", code=EXIT_CONFIG))
            subject = fold(first[len("Subject:"):])
        body = body.lstrip("\r\n")
        message = EmailMessage(policy=SMTP)
        sender = self.sender
        try:
            if sender["email"]:
                message["From"] = Address(fold(sender["name"]), addr_spec=fold(sender["email"]))
            message["To"] = Address(fold(contact.name), addr_spec=fold(contact.row.get("email", "")))
        except (ValueError, IndexError) as err:
            raise Failure(Problem(Source(path), f"cannot address the email to contact "
                                  f"{contact.id!r}: {err}", code=EXIT_DATA)) from None
        message["Subject"] = subject
        message["Date"] = format_datetime(self._nine_am(today))
        domain = (sender["email"].rpartition("@")[2] or "cadence.invalid").strip() or "cadence.invalid"
        seed = "\x1f".join((contact.id, playbook.name, touch.step, today.isoformat()))
        message["Message-ID"] = f"<{hashlib.sha256(seed.encode('utf-8')).hexdigest()[:32]}@{fold(domain)}>"
        message["X-Unsent"] = "1"
        message["X-Cadence-Contact"] = fold(contact.id)
        message["X-Cadence-Playbook"] = fold(playbook.name)
        message["X-Cadence-Step"] = fold(touch.step)
        message.set_content(body, charset="utf-8")
        return message.as_bytes(policy=SMTP)

    def _nine_am(self, today: date) -> datetime:
        tz = timezone.utc
        if self.tz:
            from zoneinfo import ZoneInfo

            tz = ZoneInfo(self.tz)
        return datetime.combine(today, time(9, 0), tzinfo=tz)

    def _sheet(self, text, touch, contact, history) -> str:
        row = contact.row
        when = touch.due.isoformat() + (f" at {touch.time}" if touch.time else "")
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
        sender = self.sender
        block = [line for line in (sender["name"], *sender["address"].splitlines()) if line.strip()]
        to = [fold(contact.name)] + [l.strip() for l in re.split(r"\r?\n|\r", contact.row.get("address", "")) if l.strip()]
        parts = ["  \n".join(block), "  \n".join(to), today.isoformat(), text.strip()]
        return "\n\n".join(p for p in parts if p) + "\n"


def _why(touch) -> str:
    if touch.reason == "step":
        return f"step {touch.step} of {touch.playbook}"
    return touch.detail or touch.reason


def _template_line(tb, path: str) -> int:
    """The template line of an error, from the traceback Jinja rewrites for templates."""
    line = 0
    real = os.path.realpath(path)
    while tb is not None:
        frame = tb.tb_frame
        if os.path.realpath(frame.f_code.co_filename) == real:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

"""Drafts: a touch rendered through its template into an .eml email, a call sheet or a letter.

The file's name comes from ids only (`<contact>--<step>`), made safe so that no id can leave
the day's folder; every byte of a draft comes from the book and the day.
"""
from __future__ import annotations

import os
import re
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, timezone
from typing import Optional

from . import emails
from .emails import fold, markdown_text
from .labels import Words
from .lookup import SUFFIX, draft_name, html_twin, template_file
from .ladder import FELL_BACK, RULE_NAMED
from .state import SET_IN_THE_LEDGER
from .model import EXIT_CONFIG, EXIT_DATA, KNOWN_COLUMNS, Failure, Overtime, Problem, Source
from .sandbox import environment, format_day, located, render

SENDER_KEYS = ("name", "email", "phone", "address")


@dataclass(frozen=True, slots=True)
class Draft:
    name: str  # file name inside drafts/<today>/
    data: bytes


@dataclass(frozen=True, slots=True)
class _Rendered:
    subject: Optional[str]  # None when the template has no `Subject:` line
    text: str
    path: str
    html: Optional[str] = None  # the HTML twin's output, email only


class Renderer:
    """Renders the drafts of one book: its templates (through `loader`), sender and timezone."""

    def __init__(self, loader, folder: str, names, sender: dict, zone=None, tzid: str = "",
                 guard=nullcontext, locale: str = ""):
        """`loader` is a Jinja loader over the templates `folder`, which holds the templates
        `names`; `zone` is the book's timezone (None: UTC) and `tzid` its IANA name. `guard()`
        is entered around each rendering: the caller's deadline (it raises model.Overtime).
        `locale` is the book's language, for the date of letters ("": ISO) and the words of
        call sheets, the day's index and calendar (English when cadence has none of it)."""
        self.folder = folder
        self.locale = locale
        self.words = Words(locale)
        self.names = frozenset(names)
        self.sender = {k: sender.get(k, "") for k in SENDER_KEYS}
        self.zone, self.tzid = zone or timezone.utc, tzid
        self.guard = guard
        self._stuck = {}  # template path -> the problem of its first run out of time
        self.env = environment(loader)
        self._html_env = None
        self._compiled = {}

    @property
    def domain(self) -> str:
        return emails.domain_of(self.sender["email"])

    @property
    def html_env(self):
        """A second sandbox that escapes every value: ledger data never becomes markup."""
        if self._html_env is None:
            self._html_env = environment(self.env.loader, autoescape=True)
        return self._html_env

    def lines(self, path: str):
        """The lines of a template file, by its path; None when it cannot be read."""
        name = os.path.relpath(path, self.folder).replace(os.sep, "/")
        try:
            return self.env.loader.get_source(self.env, name)[0].splitlines()
        except Exception:  # noqa: BLE001  (only for wording an error better)
            return None

    def _templates_for(self, filename: str, email: bool) -> tuple:
        """(subject template or None, body template), compiled once a command.

        An email's `Subject:` line is rendered on its own and folded, so that a line break
        in ledger data can never end the header and start the body.
        """
        key = (filename, email)
        if key not in self._compiled:
            source, path, _ = self.env.loader.get_source(self.env, filename)
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

    def _render(self, touch, contact, playbook, history, today) -> _Rendered:
        """The subject, body text and HTML body of a touch, errors named by file and line."""
        filename = template_file(touch.template, touch.channel, self.names)
        where = f"(contact {contact.id}, step {touch.step})"
        if not filename:
            raise Failure(Problem(
                Source(os.path.join(self.folder, touch.template + SUFFIX)),
                f"template {touch.template!r} not found for {touch.channel} {where}",
                f"add {touch.template}.{touch.channel}{SUFFIX} to the templates folder "
                "(`cadence check` lists every variant the playbooks may need)", code=EXIT_CONFIG))
        path = os.path.join(self.folder, filename)
        context = {
            "contact": dict(contact.row), "touch": touch, "today": today,
            "playbook": {"name": playbook.name, "description": playbook.description},
            "sender": dict(self.sender), "history": list(history),
        }
        with self._watched(path, where):
            subject, body = self._templates_for(filename, touch.channel == "email")
            text = render(body, context)
            if subject is not None:
                subject = fold(render(subject, context)[len("Subject:"):])
        html = None
        twin = html_twin(filename)
        if touch.channel == "email" and twin[: -len(SUFFIX)] in self.names:
            with self._watched(os.path.join(self.folder, twin), where):
                html = render(self.html_env.get_template(twin), context)
        return _Rendered(subject, text, path, html)

    def _watched(self, path: str, where: str) -> "_Watched":
        """Errors named by the template's line, within the caller's deadline. Once a template
        ran out of time, no template is run again this command: a later draft of that
        template gets the same problem at once, a draft of another template says it was not
        run and why, rather than each its own wait (a piece that many templates include,
        `_signature.j2`, would otherwise hold the book's lock ten seconds a template)."""
        stuck = self._stuck.get(path)
        if stuck is not None:
            raise Failure(replace(stuck, message=stuck.message.rsplit(" (contact", 1)[0]
                                  + f" {where}"))
        earlier = next(iter(self._stuck.values()), None)
        if earlier is not None:
            # named from the templates folder's own name, as the first message shows it
            slow = os.path.relpath(earlier.source.path, os.path.dirname(self.folder))
            raise Failure(Problem(Source(path), f"not run {where}: {slow} ran out of time "
                                  "earlier in this command", code=EXIT_CONFIG))
        return _Watched(self, path, located(path, where, self.lines))

    def draft(self, touch, contact, playbook, history, today: date) -> Draft:
        """The draft of `touch` for `contact`; `history` is the contact's journal rows."""
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
        subject, body = done.subject, done.text
        if subject is None:
            first, _, body = body.partition("\n")
            if not first.startswith("Subject:"):
                raise Failure(Problem(
                    Source(done.path, 1), "an email template begins with a "
                    f"`Subject: ...` line (contact {contact.id}, step {touch.step})",
                    code=EXIT_CONFIG))
            subject = fold(first[len("Subject:"):])
        body = body.lstrip("\r\n")
        to = fold(contact.row.get("email", ""))
        try:
            sender = (self.sender["name"], emails.ascii_address(self.sender["email"])
                      if self.sender["email"] else "")
            # `run` never drafts an email without an address; `render --step` may preview it
            recipient = (contact.name, emails.ascii_address(to) if to else "")
        except UnicodeError as err:
            raise Failure(Problem(Source(done.path), "cannot address the email to "
                                  f"contact {contact.id!r}: {err}", code=EXIT_DATA)) from None
        msgid = emails.message_id(contact.id, playbook.name, touch.step, today, self.domain)
        headers = [("X-Unsent", "1"), ("X-Cadence-Contact", contact.id),
                   ("X-Cadence-Playbook", playbook.name), ("X-Cadence-Step", touch.step)]
        return emails.build(sender, recipient, subject, emails.nine_am(today, self.zone), msgid,
                            headers, body, done.html)

    def _sheet(self, text, touch, contact, history) -> str:
        row, words = contact.row, self.words
        when = touch.due.isoformat()
        if touch.time:
            when += " " + words.say("at", time=touch.time)
        if touch.overdue:
            when += f" ({words.late(touch.overdue)})"
        heading = words["call_sheet"].get(touch.channel, touch.channel.capitalize())
        # the ledger's cells are shown as text, never as Markdown (markdown_text)
        lines = [f"# {heading}: {markdown_text(contact.name or contact.id)}", "",
                 f"- {words['phone']}: {markdown_text(row.get('phone', '')) or words['none']}",
                 f"- {words['when']}: {when}",
                 f"- {words['why']}: {words.why(_reason(touch), touch.step, touch.playbook)}",
                 f"- {words['playbook']}: {touch.playbook} / {touch.phase} / {touch.step}"]
        # the sheet's own columns (Company, Notes, ...): what the caller knows of the contact
        lines += [f"- {markdown_text(column)}: {markdown_text(value)}"
                  for column, value in row.items()
                  if column not in KNOWN_COLUMNS and value.strip()]
        lines.append("")
        topics = [(e, note) for e, note in ((e, topic(e)) for e in history) if note][-5:]
        if topics:
            lines += [f"## {words['last_topics']}", ""]
            lines += [f"- {e.date} {words.row_kind(e.event, e.channel)}: "
                      f"{markdown_text(note)}" for e, note in topics]
            lines.append("")
        lines += [f"## {words['script']}", "", text.strip(), ""]
        return "\n".join(lines)

    def _letter(self, text, contact, today) -> str:
        """The sender's and the contact's address blocks, the date, the text: ready to print."""
        block = _lines(self.sender["name"]) + _lines(self.sender["address"])
        to = [markdown_text(line) for line in _lines(contact.name)
              + _lines(contact.row.get("address", ""))]  # the ledger's: text, not Markdown
        dated = format_day(today, "long", self.locale) if self.locale else today.isoformat()
        parts = ["  \n".join(block), "  \n".join(to), dated, text.strip()]
        return "\n\n".join(p for p in parts if p) + "\n"


def _lines(text: str) -> list:
    """The non-empty lines of a cell, each folded: an address block line by line."""
    return [fold(line) for line in re.split(r"\r\n|\r|\n", text or "") if line.strip()]


# what cadence itself writes into a note (the rest of a note is what a person typed)
_AUTOMATIC = re.compile(r"^(no reply since .*|the email of \d{4}-\d{2}-\d{2} .*|"
                        r"call-back agreed for .*|birthday on .*|"
                        r"reply: \S+.*|reply on \d{4}-\d{2}-\d{2}|opted out of .*|started|"
                        r"active again after .*|callback \d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?|junk:.*|"
                        r"<[^>]*>.*)$")


def topic(entry) -> str:
    """What a person noted in a journal row, for a call sheet's last topics ("" for none): of a
    touch, a reply or a note, without what cadence writes itself (the reason of a touch it made,
    "reply: stop", "reply on ...", a value set in the ledger, a message's id)."""
    if entry.event not in ("touch", "reply", "note") or not entry.note:
        return ""
    parts = [p.strip() for p in entry.note.split("; ")]
    return "; ".join(p for p in parts if p and not _AUTOMATIC.match(p)
                     and not (entry.step == "no_reply"
                              and (FELL_BACK.fullmatch(p) or RULE_NAMED.fullmatch(p)))
                     and not p.endswith(SET_IN_THE_LEDGER))


def _reason(touch) -> str:
    """The reason a call sheet gives, as the journal notes it ("" for a step: its step's)."""
    return "" if touch.reason == "step" else touch.detail or touch.reason


class _Watched:
    """A rendering within the renderer's guard, its errors named by `located`. A class, not a
    generator: the deadline that comes as the rendering ends (in the guard's own exit) is
    still a template error, never a traceback."""

    def __init__(self, renderer: Renderer, path: str, watch):
        self.renderer, self.path, self.watch = renderer, path, watch
        self.guarded = renderer.guard()

    def __enter__(self):
        self.guarded.__enter__()
        return self

    def __exit__(self, kind, err, tb):
        try:
            self.guarded.__exit__(kind, err, tb)
        except Overtime as late:  # the deadline came as the rendering ended
            kind, err, tb = type(late), late, late.__traceback__
        try:
            return self.watch.__exit__(kind, err, tb)
        except Failure as failure:
            if self.watch.timed_out:
                self.renderer._stuck[self.path] = failure.problems[0]
            raise

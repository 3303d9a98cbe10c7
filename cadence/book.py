"""Load a book: config, playbooks, ledger and journal, every problem collected first."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from .files import journal_limit, read_bytes
from .lookup import template_names
from .model import (
    EXIT_CONFIG, EXIT_DATA, EXIT_IO, EXIT_MISSING, Book, Failure, Problem, Source,
)


@dataclass(frozen=True)
class Loaded:
    """A book read from disk, with what is needed to write it back."""

    config: object
    ledger: object  # LedgerFile
    ledger_bytes: bytes
    book: Book
    templates: frozenset
    warnings: tuple = ()

    def contact(self, contact_id: str):
        """(row index, Contact), or a Failure naming the unknown id (exit 65)."""
        for index, contact in enumerate(self.book.contacts):
            if contact.id == contact_id:
                return index, contact
        ids = [c.id for c in self.book.contacts]
        import difflib

        close = difflib.get_close_matches(contact_id, ids, 1)
        raise Failure(Problem(
            Source(_show(self.config, self.config.ledger)), f"unknown contact {contact_id!r}",
            f"did you mean {close[0]!r}?" if close else "the id is the ledger's `id` column",
            EXIT_DATA))


def _read_text(path: str, what: str, limit=None) -> str:
    data = read_bytes(path, what)
    if limit is not None:
        data = data[:limit]
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise Failure(Problem(Source(path, line), f"{what} is not UTF-8 text",
                              code=EXIT_CONFIG if what != "journal" else EXIT_DATA)) from None


def load_playbooks(config, templates, check_expr=None) -> tuple:
    """({name: Playbook}, problems) for every `*.yaml` in the playbooks folder."""
    from .playbook import parse_playbook

    folder = config.playbooks
    if not os.path.isdir(folder):
        raise Failure(Problem(Source(folder), "playbooks folder not found",
                              "set `playbooks:` in cadence.yaml or create the folder",
                              EXIT_MISSING))
    playbooks, problems = {}, []
    for filename in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(filename)
        if ext not in (".yaml", ".yml") or stem.startswith("."):
            continue
        path = os.path.join(folder, filename)
        if stem in playbooks:
            problems.append(Problem(Source(path), f"a second playbook named {stem!r}"))
            continue
        playbook, found = parse_playbook(_read_text(path, "playbook"), _show(config, path),
                                         stem, templates, check_expr)
        problems.extend(found)
        if playbook is not None:
            playbooks[stem] = playbook
    for playbook in playbooks.values():
        target = playbook.on_reply.playbook
        if playbook.on_reply.action == "move" and target not in playbooks:
            problems.append(Problem(playbook.on_reply.source,
                                    f"`move` names playbook {target!r}, which no file has",
                                    _known(playbooks), EXIT_CONFIG))
    return playbooks, problems


def _known(playbooks) -> str:
    return "playbooks: " + (", ".join(sorted(playbooks)) or "(none)")


def _show(config, path: str) -> str:
    """Paths in messages: relative to the current folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def load(config, check_expr=None, condition_factory=None, today=None) -> Loaded:
    """Read and validate the whole book; raise Failure with every problem found.

    With `today`, only the journal rows the engine reads on that day are loaded (see
    `engine.history_since`); without it, the whole journal.
    """
    from .contacts import parse_contacts
    from .journal import parse_journal, read_window
    from .ledger import parse_ledger

    templates = frozenset(template_names(config.templates))
    if check_expr is None:
        check_expr = _lazy_check_expr(config)  # every command validates `if` rules
    playbooks, problems = load_playbooks(config, templates, check_expr)

    ledger_path = _show(config, config.ledger)
    data = read_bytes(config.ledger, "ledger")
    ledger, found = parse_ledger(data, ledger_path, config.encoding)
    problems.extend(found)
    contacts = ()
    if ledger is not None:
        contacts, found = parse_contacts(ledger)
        problems.extend(found)
        for index, contact in enumerate(contacts):
            if contact.playbook and contact.playbook not in playbooks and not any(
                    p.source.path.endswith(contact.playbook + ".yaml") for p in problems):
                problems.append(Problem(
                    ledger.source(index, "playbook"),
                    f"contact {contact.id!r} follows playbook {contact.playbook!r}, which no file has",
                    _known(playbooks), EXIT_DATA))

    history = {}
    if os.path.exists(config.history):
        # a run that died midway left rows that the next run takes back: do not count them
        limit = journal_limit(config.root, config.history, data)
        if today is None:
            history, found = parse_journal(_read_text(config.history, "journal", limit),
                                           _show(config, config.history))
        else:
            history, found = read_window(config.history, _windows(contacts, today), limit,
                                         _show(config, config.history))
        problems.extend(found)

    errors = [p for p in problems if not p.warning]
    if errors:
        raise Failure(problems)
    condition = condition_factory() if condition_factory and any(
        p.ifs for p in playbooks.values()) else None
    book = Book(playbooks=playbooks, contacts=contacts, history=history, condition=condition)
    return Loaded(config, ledger, data, book, templates,
                  tuple(p for p in problems if p.warning))


def _windows(contacts, today) -> dict:
    """Contact id -> the earliest journal date the engine reads of it today."""
    from .engine import history_since

    # replied, won, lost, unsubscribed and stopped contacts get nothing: the engine reads
    # none of their rows (and their old touches must not stretch the window)
    return {c.id: history_since(c.last_touch, c.last_reply, c.callback, today).isoformat()
            for c in contacts if c.playbook and c.status in ("active", "paused")}


def full_history(config, ids) -> dict:
    """Every journal row of these contacts, oldest first: the `history` their drafts show."""
    from .journal import read_contacts

    return read_contacts(config.history, ids) if os.path.exists(config.history) else {}


_RENDERERS: dict = {}  # id(config) -> (config, Renderer): one Renderer a command


def renderer_for(config):
    """The command's Renderer, made once: listing templates and importing Jinja cost time."""
    made = _RENDERERS.get(id(config))
    if made is None or made[0] is not config:
        from .render import Renderer

        _RENDERERS.clear()  # one command, one config: keep no other alive
        made = _RENDERERS[id(config)] = (config, Renderer(config.templates, config.sender,
                                                          config.timezone))
    return made[1]


def _lazy_check_expr(config):
    """Compile an `if` expression; Jinja is imported only when a playbook has one."""

    def check(expr: str):
        return renderer_for(config).check_expr(expr)

    return check


def lazy_condition(config):
    """A factory for the `if` test that imports Jinja only when a playbook has `if` rules."""

    def factory():
        return renderer_for(config).condition()

    return factory

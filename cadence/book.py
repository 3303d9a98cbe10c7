"""Load a book: config, playbooks, ledger and journal, every problem collected first."""
from __future__ import annotations

import gc
import os
from typing import Optional

from .files import journal_limit, read_bytes
from .lookup import template_names
from .model import (
    EXIT_CONFIG, EXIT_DATA, EXIT_MISSING, Book, Failure, Problem, Source,
)
from .records import frozen


@frozen
class Loaded:
    """A book read from disk, with what is needed to write it back."""

    config: object
    ledger: object  # LedgerFile
    ledger_bytes: bytes
    book: Book
    templates: frozenset
    warnings: tuple = ()
    rows_key: Optional[tuple] = None  # (book key, header, journal state) when rows are cached
    past: Optional[dict] = None  # every journal row of book.contacts, when read by the index

    def contact(self, contact_id: str):
        """(row index, Contact), or a Failure naming the unknown id (exit 65)."""
        for contact in self.book.contacts:
            if contact.id == contact_id:
                return contact.index, contact
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
    return _decode(data, path, what)


def _decode(data: bytes, path: str, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise Failure(Problem(Source(path, line), f"{what} is not UTF-8 text",
                              code=EXIT_CONFIG if what != "journal" else EXIT_DATA)) from None


def _playbook_files(folder: str) -> list:
    """[(stem, path)] of the playbooks folder's `*.yaml`, in name order."""
    found = []
    for filename in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(filename)
        if ext in (".yaml", ".yml") and not stem.startswith("."):
            found.append((stem, os.path.join(folder, filename)))
    return found


def load_playbooks(config, templates, check_expr=None, cache=None) -> tuple:
    """({name: Playbook}, problems, key) for every `*.yaml` in the playbooks folder.

    `key` names what they were read from (bytes, template names, config): with a `cache`,
    playbooks read before from the same are taken from it.
    """
    folder = config.playbooks
    if not os.path.isdir(folder):
        raise Failure(Problem(Source(folder), "playbooks folder not found",
                              "set `playbooks:` in cadence.yaml or create the folder",
                              EXIT_MISSING))
    files = [(stem, path, read_bytes(path, "playbook")) for stem, path in _playbook_files(folder)]
    key = None
    if cache is not None:
        from .cache import key as cache_key

        parts = [repr((sorted(templates), os.getcwd(), config)).encode("utf-8", "surrogatepass")]
        for stem, path, data in files:
            parts += [path.encode("utf-8", "surrogatepass"), data]
        key = cache_key(*parts)
        found = cache.get("playbooks", key)
        if found is not None:
            return found[0], list(found[1]), key
    from .playbook import parse_playbook

    playbooks, problems = {}, []
    for stem, path, data in files:
        if stem in playbooks:
            problems.append(Problem(Source(path), f"a second playbook named {stem!r}"))
            continue
        playbook, found = parse_playbook(_decode(data, path, "playbook"), _show(config, path),
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
    if cache is not None and not any(not p.warning for p in problems):
        cache.put("playbooks", key, (playbooks, tuple(problems)))
    return playbooks, problems, key


def _known(playbooks) -> str:
    return "playbooks: " + (", ".join(sorted(playbooks)) or "(none)")


def _show(config, path: str) -> str:
    """Paths in messages: relative to the current folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def load(config, check_expr=None, condition_factory=None, today=None,
         quiet_rows: bool = False, drafts: bool = False) -> Loaded:
    """Read and validate the whole book; raise Failure with every problem found.

    With `today`, only the journal rows the engine reads on that day are loaded (see
    `engine.history_since`); without it, the whole journal. With `quiet_rows` too, the rows
    that the cache knows nothing can happen to today are left out of `book.contacts` (see
    `cadence.cache`; `due` and `run`). With `drafts` (`run`), the journal rows of those
    contacts are read whole, through the cache's index, for the drafts' `history` (`past`).

    The cycle collector is paused meanwhile: reading a large book makes a million objects and
    no cycles, and each of its full collections would scan them all again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(config, check_expr, condition_factory, today, quiet_rows, drafts)
    finally:
        if enabled:
            gc.enable()


def _load(config, check_expr, condition_factory, today, quiet_rows: bool, drafts: bool) -> Loaded:
    from .cache import open_for
    from .contacts import parse_contacts
    from .journal import parse_journal, read_window
    from .ledger import parse_ledger

    cache = open_for(config)
    if not cache.enabled:
        cache = None
    templates = frozenset(template_names(config.templates))
    if check_expr is None:
        check_expr = _lazy_check_expr(config)  # every command validates `if` rules
    playbooks, problems, book_key = load_playbooks(config, templates, check_expr, cache)

    ledger_path = _show(config, config.ledger)
    data = read_bytes(config.ledger, "ledger")
    known, rows_key = None, None
    if cache is not None and quiet_rows and today is not None:
        rows_key = _rows_key(config, book_key, data)
        if rows_key is not None:
            known = cache.quiet_rows(rows_key[0], rows_key[1], today.toordinal(),
                                     config.history, rows_key[2][0], run=drafts) or {}
    ledger, found = parse_ledger(data, ledger_path, config.encoding, known=known)
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

    history, past = {}, None
    if os.path.exists(config.history):
        # a run that died midway left rows that the next run takes back: do not count them
        limit = journal_limit(config.root, config.history, data)
        if today is None:
            history, found = parse_journal(_read_text(config.history, "journal", limit),
                                           _show(config, config.history))
        else:
            windows = _windows(contacts, today)
            # through the index when the cache left few contacts to read (else the tail,
            # then a draft's history for the touched ones only: far less to parse)
            if drafts and rows_key is not None and limit is None and ledger is not None \
                    and ledger.known:
                past = _indexed(config, cache, windows)
            if past is not None:
                history = {cid: tuple(r for r in past[cid] if r.date >= since)
                           for cid, since in windows.items() if cid in past}
                found = []
            else:
                history, found = read_window(config.history,
                                             {cid: day.isoformat() for cid, day in windows.items()},
                                             limit, _show(config, config.history))
        problems.extend(found)

    errors = [p for p in problems if not p.warning]
    if errors:
        raise Failure(problems)
    condition = condition_factory() if condition_factory and any(
        p.ifs for p in playbooks.values()) else None
    book = Book(playbooks=playbooks, contacts=contacts, history=history, condition=condition)
    if ledger is None or not ledger.keyed:
        rows_key = None  # a YAML ledger: its rows are not cached
    if cache is not None:
        cache.save()  # the config and playbooks, for the next command
    return Loaded(config, ledger, data, book, templates,
                  tuple(p for p in problems if p.warning), rows_key, past)


def _indexed(config, cache, windows: dict):
    """Every journal row of the contacts in `windows`, through the cache's index, or None
    (no index, or a row that does not parse: `read_window` then reports it with its line)."""
    from .journal import lines_of

    lines = cache.journal_lines(config.history, windows)
    if lines is None:
        return None
    bad = []
    past = lines_of(lines, config.history, bad)
    return None if bad else past


def _rows_key(config, book_key, data: bytes):
    """(book key, header, journal state) that the rows cache must match, or None."""
    from .cache import journal_state
    from .files import MARKER_NAME

    if book_key is None or os.path.exists(os.path.join(config.root, MARKER_NAME)):
        return None  # a run died midway: the next one settles it first
    state = journal_state(config.history)
    if state is None:
        return None
    return book_key, data.split(b"\n", 1)[0], state


def remember_quiet(loaded: Loaded, today, quiet: dict, state=None, updates=None,
                   save: bool = True) -> None:
    """Keep, for the next `due` or `run`, the rows nothing can happen to before some day.

    `quiet` is {row index: date} for the contacts worked out today (`engine.due`, `Outcome`);
    rows the cache already vouched for keep their entries. After a run, `updates` are the
    cells it wrote (a row is known by its new text) and `state` the journal's state then
    (default: as it was read).
    """
    from .cache import open_for

    if loaded.rows_key is None:
        return
    ledger = loaded.ledger
    if state is None and not any(ledger.row_text(i) is not None for i in quiet):
        return  # `due` learnt nothing new: the cache stays as it is
    cache = open_for(loaded.config)
    updates = updates or {}
    added = {}
    ids = {c.index: c.id for c in loaded.book.contacts}
    for index, until in quiet.items():
        text = ledger.row_text(index, updates.get(index, {}))
        if text is not None and until > today:
            added[text] = (ids[index], until.toordinal())
    book_key, header, read_state = loaded.rows_key
    cache.put_rows(book_key, header, today.toordinal(), state or read_state,
                   ledger.known_texts, added, ran=state is not None)
    if save:  # (`run` saves once, after its journal index has taken in today's rows)
        cache.save()


def _windows(contacts, today) -> dict:
    """Contact id -> the earliest journal date the engine reads of it today."""
    from .engine import history_since

    # replied, won, lost, unsubscribed and stopped contacts get nothing: the engine reads
    # none of their rows (and their old touches must not stretch the window)
    return {c.id: history_since(c.last_touch, c.last_reply, c.callback, today)
            for c in contacts if c.playbook and c.status in ("active", "paused")}


def full_history(config, ids) -> dict:
    """Every journal row of these contacts, oldest first: the `history` their drafts show.

    With the cache, an index of where each contact's rows are spares reading the journal's
    years of rows of other contacts.
    """
    from .cache import open_for
    from .journal import lines_of, read_contacts

    if not os.path.exists(config.history):
        return {}
    lines = open_for(config).journal_lines(config.history, ids)
    if lines is None:
        return read_contacts(config.history, ids)
    return lines_of(lines, config.history)


_RENDERERS: dict = {}  # id(config) -> (config, Renderer): one Renderer a command


def renderer_for(config):
    """The command's Renderer, made once: listing templates and importing Jinja cost time."""
    made = _RENDERERS.get(id(config))
    if made is None or made[0] is not config:
        from .cache import open_for
        from .render import Renderer

        _RENDERERS.clear()  # one command, one config: keep no other alive
        made = _RENDERERS[id(config)] = (config, Renderer(
            config.templates, config.sender, config.timezone, open_for(config).templates))
    return made[1]


def _lazy_check_expr(config):
    """Compile an `if` expression; Jinja is imported only when a playbook has one."""

    def check(expr: str):
        return renderer_for(config).check_expr(expr)

    return check


def lazy_condition(config):
    """A factory for the `if` test that imports Jinja only when a playbook has `if` rules and
    the cache does not already hold the answer (it keeps them by the cells they read)."""

    def factory():
        from .cache import open_for

        cache = open_for(config)
        stored = cache.answers() if cache.enabled else {}
        made = []

        def holds(rule, contact) -> bool:
            entry = stored.get(rule.expr)
            if entry is not None and entry[0] is not None:
                answer = entry[1].get(tuple(contact.row.get(c, "") for c in entry[0]))
                if answer is not None:
                    return answer
            if not made:
                made.append(renderer_for(config).condition(stored, cache.answers_changed))
            return made[0](rule, contact)

        return holds

    return factory

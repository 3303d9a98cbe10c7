"""Load a book from disk: config paths, playbooks, templates, ledger and journal, with every
problem collected before any is reported.

This module reads the disk and cadence.files, cadence.commit and cadence.draftfiles write it;
the parsers below them take bytes and text.

Longer than most modules: it is the one place where a book is read, a short loader for each
of its files and the problems of a book not found; split, the edge would be in several.
"""
from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass, replace
from typing import Optional

from .commit import journal_limit
from .files import owned_here, read_bytes, regular_file
from .lookup import SUFFIX
from .model import (EXIT_CONFIG, EXIT_DATA, EXIT_IO, EXIT_MISSING, Book, Failure, Problem, Source,
                    id_key)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A book read from disk, with what is needed to write it back."""

    config: object
    ledger: object  # LedgerFile
    ledger_bytes: bytes
    book: Book
    templates: frozenset  # the names of the book's templates
    warnings: tuple = ()

    def contact(self, contact_id: str):
        """(row index, Contact), or a Failure naming the unknown id (exit 65)."""
        for contact in self.book.contacts:
            if contact.id == contact_id:
                return contact.index, contact
        # typed in another Unicode form (macOS hands `Ö` on as O and a combining mark): the
        # id it looks like, when only one does
        typed = id_key(contact_id)
        alike = [c for c in self.book.contacts if id_key(c.id) == typed]
        if len(alike) == 1:
            return alike[0].index, alike[0]
        close = difflib.get_close_matches(contact_id, [c.id for c in self.book.contacts], 1)
        raise Failure(Problem(
            Source(self.config.ledger), f"unknown contact {contact_id!r}",
            f"did you mean {close[0]!r}?" if close else "the id is the ledger's `id` column",
            EXIT_DATA))


def _decode(data: bytes, path: str, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise Failure(Problem(Source(path, line), f"{what} is not UTF-8 text",
                              "save it as UTF-8", code=EXIT_CONFIG)) from None


# --- the config --------------------------------------------------------------------------------

def find_config(start: str) -> Optional[str]:
    """cadence.yaml in `start` or the nearest of its parents, or None."""
    from .config import CONFIG_NAME

    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, CONFIG_NAME)
        if os.path.isfile(candidate):
            return candidate
        if os.path.lexists(candidate):
            raise Failure(Problem(Source(candidate), f"{CONFIG_NAME} is not a file",
                                  "the book's settings are a YAML file of that name",
                                  EXIT_CONFIG))
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def default_config(root: str):
    """The settings of a book without cadence.yaml: contacts.csv, unless only contacts.yaml
    exists (SPEC: "or contacts.yaml")."""
    from .config import DEFAULT_PATHS, LEDGER_ALTERNATIVES, default_config as defaults

    root = os.path.abspath(root)
    ledger = DEFAULT_PATHS["ledger"]
    if not os.path.exists(os.path.join(root, ledger)):
        ledger = next((name for name in LEDGER_ALTERNATIVES
                       if os.path.exists(os.path.join(root, name))), ledger)
    return defaults(root, ledger, os.path.expanduser("~"))


def load_config(cwd: str):
    """The config that applies in `cwd`: found, read and parsed; raises Failure on problems."""
    from .config import parse_config

    path = find_config(cwd)
    if path is None:
        return default_config(cwd)
    try:
        # opened without waiting (a fifo swapped in would block a plain open), then judged
        # by what was opened: a regular file, and above the book one of ours or root's
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            opened = os.fstat(handle.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise Failure(Problem(Source(path), f"{os.path.basename(path)} is not a file",
                                      "the book's settings are a YAML file of that name",
                                      EXIT_CONFIG))
            if os.path.dirname(path) != os.path.abspath(cwd):
                # a parent's: not one another user planted above the book
                owned_here(path, opened.st_uid, "give the book a cadence.yaml of its own")
            data = handle.read()
    except FileNotFoundError:
        raise Failure(Problem(Source(path), "cannot read the config: the file is gone",
                              code=EXIT_MISSING)) from None
    except OSError as error:
        raise Failure(Problem(Source(path), f"cannot read the config: {error.strerror}",
                              code=EXIT_IO)) from None
    text = _decode(data, path, "the config")
    config, problems = parse_config(text, path, default_config(os.path.dirname(path)),
                                    os.path.expanduser("~"))
    if problems:
        raise Failure(problems)
    return config


# --- templates ---------------------------------------------------------------------------------

MAX_TEMPLATE_ENTRIES = 20_000


def template_names(folder: str, problems: Optional[list] = None) -> set:
    """Names of the templates in `folder` (relative, `/`-separated, without `.j2`).

    A file whose real path lies outside the folder (a symlink pointing out) is not a template,
    and `problems` gets an error for it, as for a playbook (a fallback template would stand in
    for it unseen); folders that are symlinks are not entered, and one that leads out is an
    error too.
    """
    found, names = [], set()
    if not os.path.isdir(folder):
        return names
    root, seen = os.path.realpath(folder), 0
    stack = [("", folder)]
    while stack:
        prefix, path = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        seen += len(entries)
        if seen > MAX_TEMPLATE_ENTRIES:  # `templates: /` in a pushed config: not a walk of it all
            raise Failure(Problem(Source(folder), f"the templates folder holds more than "
                                  f"{MAX_TEMPLATE_ENTRIES} files and folders", "is `templates:`"
                                  " in cadence.yaml the book's templates folder?", EXIT_CONFIG))
        for entry in entries:
            out = entry.is_symlink() and os.path.commonpath(
                [root, os.path.realpath(entry.path)]) != root
            if entry.is_dir(follow_symlinks=False):
                stack.append((prefix + entry.name + "/", entry.path))
            elif out and (entry.name.endswith(SUFFIX) or entry.is_dir()):
                found.append(Problem(Source(entry.path), "a link out of the templates folder "
                                        "is not read", "copy the template into the folder, or "
                                        "name its folder in cadence.yaml (`templates:`)",
                                        EXIT_CONFIG))
            elif entry.name.endswith(SUFFIX) and entry.is_file():
                names.add(prefix + entry.name[: -len(SUFFIX)])
    if problems is not None:  # in the order of their paths, not the file system's walk
        problems.extend(sorted(found, key=lambda p: p.source.path))
    return names


class TemplateNotUtf8(UnicodeDecodeError):
    """A template (an included one too) in another encoding, with its file's name."""

    def __init__(self, path: str, err: UnicodeDecodeError):
        super().__init__(err.encoding, err.object, err.start, err.end, err.reason)
        self.path = path


def template_loader(folder: str):
    """A Jinja loader over the templates folder that refuses files whose real path lies
    outside it (a symlink pointing out, `../` in an include)."""
    from jinja2 import FileSystemLoader, TemplateNotFound
    from jinja2.loaders import split_template_path

    class ContainedLoader(FileSystemLoader):
        def get_source(self, environment, template):
            # where it leads is known before a byte is read: a link out, a fifo, a device
            # is not a template of the book
            filename = os.path.join(self.searchpath[0], *split_template_path(template))
            root, real = os.path.realpath(self.searchpath[0]), os.path.realpath(filename)
            # only a `.j2` file is a template: a templates folder that a shared book made
            # a link to a wider one (`templates -> ..`) cannot pour a key or a password
            # file into a draft
            if not real.endswith(".j2") or os.path.commonpath([root, real]) != root or \
                    not os.path.isfile(real):
                raise TemplateNotFound(template)
            try:
                return super().get_source(environment, template)
            except UnicodeDecodeError as err:
                raise TemplateNotUtf8(filename, err) from None

    return ContainedLoader(folder, encoding="utf-8-sig")  # a BOM (Windows Notepad) is no text


def sandbox(config):
    """The book's Jinja sandbox (imports Jinja: only when a template or `if` rule is used)."""
    from .sandbox import environment

    return environment(template_loader(config.templates))


def renderer(config, names):
    """The book's draft renderer, each draft rendered within cadence.guard's bounds of time
    and memory."""
    from .drafts import Renderer
    from .guard import Guard

    zone = None
    if config.timezone:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(config.timezone)
    return Renderer(template_loader(config.templates), config.templates, names, config.sender,
                    zone, config.timezone, Guard(), config.locale)


class _Expressions:
    """`if` rules checked and tested in one sandbox, made on first use: a book without `if`
    rules never imports Jinja for them."""

    def __init__(self, config):
        self.config, self.env, self.test = config, None, None

    def sandbox(self):
        if self.env is None:
            self.env = sandbox(self.config)
        return self.env

    def check(self, expr: str):
        from .sandbox import check_expr

        return check_expr(self.sandbox(), expr)

    def condition(self):
        from .guard import Guard
        from .sandbox import condition

        return condition(self.sandbox(), Guard())


# --- playbooks ---------------------------------------------------------------------------------

def _playbook_files(folder: str) -> list:
    """[(stem, path)] of the playbooks folder's `*.yaml`, in name order."""
    found = []
    for filename in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(filename)
        if ext in (".yaml", ".yml") and not stem.startswith("."):
            found.append((stem, os.path.join(folder, filename)))
    return found


def _no_playbooks(config, folder: str) -> Problem:
    if not config.source and not os.path.lexists(folder):  # no cadence.yaml either
        return Problem(Source(config.root), "no book here: no cadence.yaml in this folder or a "
                       "folder above it, and no playbooks folder", "cd into your book, give "
                       "-C FOLDER, or make one: cadence init FOLDER", EXIT_MISSING)
    if os.path.islink(folder):  # a copy that kept a relative link (cp -r of the example)
        return Problem(Source(folder), f"the playbooks folder is a link to "
                       f"{os.readlink(folder)}, which is not there", "copy a book with its "
                       "links followed (cp -rL), or set `playbooks:` in cadence.yaml", EXIT_MISSING)
    return Problem(Source(folder), "playbooks folder not found",
                   "set `playbooks:` in cadence.yaml or create the folder", EXIT_MISSING)


def load_playbooks(config, templates, check_expr=None) -> tuple:
    """({name: Playbook}, problems) for every `*.yaml` in the playbooks folder."""
    from .playbook import parse_playbook

    folder = config.playbooks
    if not os.path.isdir(folder):
        raise Failure(_no_playbooks(config, folder))
    playbooks, problems, root = {}, [], os.path.realpath(folder)
    files = _playbook_files(folder)
    # the templates folder as messages name it: from the book's folder, else as configured
    shown = os.path.relpath(config.templates, config.root)
    shown = config.templates if shown.startswith("..") else shown.replace(os.sep, "/")
    for stem, path in files:
        if stem in playbooks:
            problems.append(Problem(Source(path), f"a second playbook named {stem!r}"))
            continue
        if os.path.islink(path) and os.path.commonpath([root, os.path.realpath(path)]) != root:
            problems.append(Problem(Source(path), "a link out of the playbooks folder is not "
                                    "read", "copy the playbook into the folder, or name its "
                                    "folder in cadence.yaml (`playbooks:`)", EXIT_CONFIG))
            continue
        if "\n" in stem or "\r" in stem:
            # contacts name it in the journal's rows, one line each: never found again
            problems.append(Problem(Source(path), f"playbook name {stem!r} holds a line break",
                                    "a playbook's name is one line: rename the file",
                                    EXIT_CONFIG))
            continue
        regular_file(path, "playbook", "a playbook is a YAML file")
        text = _decode(read_bytes(path, "playbook"), path, "playbook")
        playbook, found = parse_playbook(text, path, stem, templates, check_expr, shown)
        problems.extend(found)
        if playbook is not None:
            playbooks[stem] = playbook
    for playbook in playbooks.values():
        target = playbook.on_reply.playbook
        # a file of that name that did not load has its own problems, reported above
        if playbook.on_reply.action == "move" and target not in {stem for stem, _ in files}:
            problems.append(Problem(playbook.on_reply.source,
                                    f"`move` names playbook {target!r}, which no file has",
                                    _known(playbooks), EXIT_CONFIG))
    return playbooks, problems


def _known(playbooks) -> str:
    return "playbooks: " + (", ".join(sorted(playbooks)) or "(none)")


# --- the journal -------------------------------------------------------------------------------

def open_journal(path: str):
    """The journal opened for reading, or None when there is none yet."""
    regular_file(path, "journal")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise Failure(Problem(Source(path), "journal is a folder", code=EXIT_MISSING)) from None
    except OSError as err:
        raise Failure(Problem(Source(path), f"cannot read journal: {err.strerror}",
                              code=EXIT_IO)) from None


def journal_lines(path: str, limit: Optional[int] = None):
    """The journal's lines as bytes, up to `limit` bytes (None: all), read as they are used."""
    handle = open_journal(path)
    if handle is None:
        return
    with handle:
        if limit is None:
            yield from handle
            return
        from .cache import upto

        yield from upto(handle, limit)


def _is_file(path: str) -> bool:
    """A journal the cache may read: a plain file (a folder or a device is an error that the
    plain read reports)."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def read_history(config, ids, ledger_bytes: bytes, undone: bool = False) -> dict:
    """The journal rows of the contacts `ids` that stand, oldest first: the `history` their
    drafts show. A row an `undo` row took back is left out, and so is the `undo` row (with
    `undone`, every row is kept: the journal's own record)."""
    from .journal import read_rows
    from .trail import standing

    limit = journal_limit(config.root, config.history, ledger_bytes)
    rows, _ = read_rows(journal_lines(config.history, limit), config.history, set(ids))
    if undone:
        return rows
    for cid, contact_rows in rows.items():
        if any(e.event == "undo" for e in contact_rows):
            rows[cid] = tuple(e for e in standing(contact_rows) if e.event != "undo")
    return rows


def journal_rows(config, ledger_bytes: bytes):
    """Every journal row, as read from the file (a report's pass over them)."""
    from .journal import entries

    limit = journal_limit(config.root, config.history, ledger_bytes)
    return entries(journal_lines(config.history, limit), config.history)


def rows_after(config, ledger_bytes: bytes, day) -> list:
    """[(line number, date)] of the journal's rows dated after `day` (`check` warns: a touch
    dated ahead counts as made already, a status or bounce holds from now on, and `undo` takes
    back the latest run first), but for what cadence dates ahead itself: a skip made ahead
    (dated on its touch's day), a start set for a day to come, an `undo` (dated as what it undoes)."""
    from .journal import first_word, records

    limit = journal_limit(config.root, config.history, ledger_bytes)
    return [(number, when) for number, when, cells, _ in
            records(journal_lines(config.history, limit), config.history, [])
            if when > day and cells[2] not in ("skip", "undo")
            and not (cells[2] == "status" and first_word(cells[7]) == "started")]


# --- the whole book ----------------------------------------------------------------------------

def load(config, expressions: Optional[_Expressions] = None, conditions: bool = True,
         cache: Optional[str] = None) -> Loaded:
    """Read and validate the whole book; raise Failure with every problem found.

    `expressions` checks and tests `if` rules (made here when not given); with `conditions`
    off, the book has no `if` test (the commands that never ask which channel a touch takes).
    `cache` is the folder of the journal's cache (cadence.cache), None for none.
    """
    from .trail import fold

    expressions = expressions or _Expressions(config)
    links_out = []
    templates = frozenset(template_names(config.templates, links_out))
    playbooks, problems = load_playbooks(config, templates, expressions.check)
    problems[:0] = links_out

    try:
        regular_file(config.ledger, "ledger")
        data = read_bytes(config.ledger, "ledger")
    except Failure as failed:
        raise _named_in_config(failed, config.places.get("ledger")) from None
    from .sheet import read_ledger

    # The journal is folded before the ledger's rows are read: the fold's passing values are
    # gone by then, and a large book's peak memory is the larger of the two, not their sum.
    # A run that died midway left rows that the next run takes back: they do not count.
    limit = journal_limit(config.root, config.history, data)
    if cache is not None and limit is None and _is_file(config.history):
        from .cache import journal_trails

        handle = open_journal(config.history)
        with handle:
            trails, journal_problems = journal_trails(handle, config.history, cache)
    else:
        trails, journal_problems = fold(lambda: journal_lines(config.history, limit),
                                        config.history)

    ledger, contacts, found = read_ledger(config, data, playbooks, problems)
    contacts = _journal_optouts(contacts, trails)
    problems.extend(found)
    problems.extend(journal_problems)

    errors = [p for p in problems if not p.warning]
    if errors:
        raise Failure(problems)
    condition = expressions.condition() if conditions and any(
        p.ifs for p in playbooks.values()) else None
    book = Book(playbooks=playbooks, contacts=contacts, trails=trails, condition=condition)
    return Loaded(config, ledger, data, book, templates,
                  tuple(p for p in problems if p.warning))


def _named_in_config(failed: Failure, place) -> Failure:
    """A file that cadence.yaml names and that cannot be read: said where the config names it
    too (the path shown may be far from anything the user typed: `../../x.csv`)."""
    if place is None:
        return failed
    named = f"named in {os.path.basename(place.path)}, line {place.line}"
    return Failure([replace(p, hint=(p.hint + "; " if p.hint else "") + named)
                    for p in failed.problems])


def _journal_optouts(contacts, trails: dict):
    """The contacts with the channels the journal says they opted out of added to their
    `optout` (README "Semantics": an opt-out outlives a sheet downloaded again, and only
    `cadence optout --withdraw` takes one back). Their `row` keeps the cell as read, so that
    the cell a run writes back (engine.changes_of) is the one that lost them."""
    held = {cid: trail.optout for cid, trail in trails.items() if trail.optout}
    if not held:
        return contacts
    return tuple(_with_optouts(contact, held.get(contact.id, ())) for contact in contacts)


def _with_optouts(contact, said: tuple):
    extra = tuple(c for c in said if c not in contact.optout)
    return contact._replace(optout=contact.optout + extra) if extra else contact


def expressions(config) -> _Expressions:
    """The `if` rules' checker and test for `load`, to share one sandbox with `check`."""
    return _Expressions(config)

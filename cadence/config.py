"""The book's settings: cadence.yaml (SPEC section 1), parsed (cadence.book finds and reads it).

Paths are resolved against the config's folder once, here, so that nothing else needs to know
where the config was found.
"""
from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from .mailconfig import Mail
from .model import KNOWN_COLUMNS, Problem, email_problem
from .sheet import NO_MAP, LedgerMap

if TYPE_CHECKING:
    from yaml.nodes import Node

    from .yamlnodes import Checker

CONFIG_NAME = "cadence.yaml"

PATH_KEYS = ("ledger", "history", "playbooks", "templates", "drafts")
KEYS = PATH_KEYS + ("timezone", "encoding", "sender", "locale", "mail")
SENDER_KEYS = ("name", "email", "phone", "address")
# `ledger:` as a mapping: the user's own sheet, described (cadence.sheet)
LEDGER_KEYS = ("file", "columns", "dates", "default_playbook", "ids")
IDS = ("required", "generate")

DEFAULT_PATHS = {
    "ledger": "contacts.csv",
    "history": "history.csv",
    "playbooks": "playbooks",
    "templates": "templates",
    "drafts": "drafts",
}
LEDGER_ALTERNATIVES = ("contacts.yaml", "contacts.yml")


@dataclass(frozen=True)
class Config:
    """Settings with every path absolute; `source` is the config file, "" when there is none."""

    root: str
    ledger: str
    history: str
    playbooks: str
    templates: str
    drafts: str
    timezone: str = ""
    encoding: str = "utf-8"
    sender: dict = field(default_factory=lambda: {key: "" for key in SENDER_KEYS})
    sheet: LedgerMap = NO_MAP  # the `ledger:` mapping: the sheet's headers, dates, defaults
    locale: str = ""  # the language letters are dated in (`de`, `sv_SE`); "": ISO dates
    source: str = ""
    mail: Optional[Mail] = None  # the mailbox `sync` reads and `push` writes to (SPEC 10)
    # where each key set in the file stands: {key: Source}, for messages about its value
    places: dict = field(default_factory=dict, compare=False)


def default_config(root: str, ledger: str = DEFAULT_PATHS["ledger"], home: str = "") -> Config:
    """The settings of a book in `root` without cadence.yaml; `ledger` is the ledger's name
    there, `home` the user's home folder (for `~` in paths)."""
    paths = {key: _resolve(root, value, home) for key, value in DEFAULT_PATHS.items()}
    paths["ledger"] = _resolve(root, ledger, home)
    return Config(root=root, **paths)


def _resolve(root: str, path: str, home: str) -> str:
    if home and (path == "~" or path.startswith("~/")):
        path = home + path[1:]
    return os.path.normpath(os.path.join(root, path))


def parse_config(text: str, path: str, defaults: Optional[Config] = None,
                 home: str = "") -> tuple[Optional[Config], list[Problem]]:
    """The config in `text`, read from `path` (absolute), or None and every problem, sorted.

    `defaults` are the settings without it (default_config of its folder); `home` is the
    user's home folder, for `~` in paths.
    """
    from .yamlnodes import compose_yaml

    node, problems = compose_yaml(text, path)
    if problems:
        return None, sorted(problems)
    defaults = defaults or default_config(os.path.dirname(path), home=home)
    if node is None:
        return _with_source(defaults, path), []
    from .yamlnodes import Checker

    checker = Checker(path)
    config = _read(checker, node, defaults, path, home)
    if checker.problems:
        return None, sorted(checker.problems)
    return config, []


def _with_source(config: Config, path: str) -> Config:
    return Config(**{**config.__dict__, "source": path})


def _read(c: Checker, node: Node, defaults: Config, path: str, home: str) -> Optional[Config]:
    from yaml.nodes import MappingNode

    from .yamlnodes import is_empty, source_of

    fields = c.mapping(node, "the config", KEYS, hint="keys: " + ", ".join(KEYS))
    if fields is None:
        return None
    settings = dict(defaults.__dict__, source=path, places={})
    for key, (key_node, value) in fields.items():
        if key == "mail" and not is_empty(value):
            from .mailconfig import read_mail

            settings[key] = read_mail(c, key_node, value, defaults.root, home)
            settings["places"] = {**settings["places"], key: source_of(key_node)}
            continue
        if is_empty(value):
            continue  # `timezone:` with nothing: the default
        if key in ("sender", "timezone"):
            settings["places"] = {**settings["places"], key: source_of(key_node)}
        if key == "ledger" and isinstance(value, MappingNode):
            settings["sheet"], path_node = _ledger_map(c, value)
            if path_node is not None:
                text = c.text("ledger.file", path_node)
                if text is not None:
                    settings[key] = _resolve(defaults.root, text.strip(), home)
                    settings["places"] = {**settings["places"], key: source_of(path_node)}
        elif key in PATH_KEYS:
            text = c.text(key, value)
            if text is not None:
                settings[key] = _resolve(defaults.root, text.strip(), home)
                settings["places"] = {**settings["places"], key: source_of(value)}
        elif key == "timezone":
            settings[key] = _timezone(c, value)
        elif key == "encoding":
            settings[key] = _encoding(c, value)
        elif key == "sender":
            settings[key] = _sender(c, value)
        elif key == "locale":
            settings[key] = _locale(c, value)
    return Config(**settings)


def _timezone(c: Checker, node: Node) -> str:
    name = c.text("timezone", node)
    if name is None:
        return ""
    name = name.strip()
    if _is_zone(name):
        return name
    import zoneinfo

    from .yamlnodes import did_you_mean

    guess = did_you_mean(name, zoneinfo.available_timezones())
    message = f"unknown timezone {name!r}"
    if guess:
        message += f" (did you mean {guess!r}?)"
    c.report(node, message, "an IANA name such as Europe/Berlin or America/New_York")
    return ""


def _is_zone(name: str) -> bool:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


# codecs of names and escapes, not of files: they fail on a sheet's text as no other does
_NOT_FOR_FILES = ("idna", "punycode", "unicode-escape", "raw-unicode-escape")


def _encoding(c: Checker, node: Node) -> str:
    """A text codec, by its canonical name, so `UTF8` and `utf-8` mean one thing downstream."""
    name = c.text("encoding", node)
    if name is None:
        return "utf-8"
    name = name.strip()
    try:
        info = codecs.lookup(name)
    except LookupError:
        c.report(node, f"unknown encoding {name!r}", "a codec such as utf-8, cp1251 or latin-1")
        return "utf-8"
    try:  # `undefined` is a codec that refuses every text
        usable = "id".encode(info.name).decode(info.name) == "id"
    except (UnicodeError, ValueError, LookupError):
        usable = False
    if not usable or not getattr(info, "_is_text_encoding", True) \
            or info.name in _NOT_FOR_FILES:
        c.report(node, f"{name!r} is not a text encoding",
                 "a codec such as utf-8, cp1251 or latin-1")
        return "utf-8"
    return info.name


def _sender(c: Checker, node: Node) -> dict:
    sender = {key: "" for key in SENDER_KEYS}
    fields = c.mapping(node, "`sender`", SENDER_KEYS)
    for key, (_, value) in (fields or {}).items():
        text = c.text(f"sender.{key}", value, required=False)
        if text is not None:
            sender[key] = text.strip()
            problem = email_problem(sender[key]) if key == "email" and sender[key] else ""
            if problem:
                c.report(value, f"sender.email: {problem}", "the address drafts come from, "
                         "such as eva@konsult.example")
    return sender


def _ledger_map(c: Checker, node: Node) -> tuple:
    """(LedgerMap, the `file:` node or None) of `ledger:` written as a mapping."""
    from .sheet_dates import date_format
    from .yamlnodes import did_you_mean, is_empty, source_of

    fields = c.mapping(node, "`ledger`", LEDGER_KEYS, hint="keys: " + ", ".join(LEDGER_KEYS))
    if fields is None:
        return NO_MAP, None
    settings = {"places": {"ledger": source_of(node)}}
    for key, (key_node, value) in fields.items():
        if is_empty(value):
            continue
        settings["places"][key] = source_of(key_node)
        if key == "columns":
            columns = []
            for name, (name_node, header_node) in (c.mapping(value, "`ledger.columns`") or {}).items():
                header = c.text(f"ledger.columns.{name}", header_node)
                guess = did_you_mean(name, KNOWN_COLUMNS) if name not in KNOWN_COLUMNS else ""
                if guess and guess.lower() != name.lower():
                    c.report(name_node, f"`ledger.columns`: unknown column {name!r} "
                             f"(did you mean {guess!r}?)", "map a cadence column to the "
                             "sheet's header: `email: E-mail`")
                elif header is not None:
                    columns.append((name, header.strip()))
                    settings["places"][f"columns.{name}"] = source_of(header_node)
            taken = {}
            for name, header in columns:
                if header in taken:
                    c.report(settings["places"][f"columns.{name}"], f"`ledger.columns`: "
                             f"{taken[header]!r} and {name!r} both read the column {header!r}")
                taken.setdefault(header, name)
            settings["columns"] = tuple(columns)
        elif key == "dates":
            text = c.text("ledger.dates", value)
            if text is not None:
                found, why = date_format(text)
                if found is None:
                    c.report(value, f"`ledger.dates`: {why}", 'e.g. "%d.%m.%Y" for 14.03.1975, '
                             '"%m/%d/%Y" for 03/14/1975, "%Y-%m-%d" (the default) for ISO')
                else:
                    settings["dates"] = found
        elif key == "default_playbook":
            text = c.text("ledger.default_playbook", value)
            if text is not None:
                settings["default_playbook"] = text.strip()
        elif key == "ids":
            text = c.text("ledger.ids", value)
            if text is not None and text.strip() not in IDS:
                c.report(value, f"`ledger.ids` must be {' or '.join(IDS)}, got {text.strip()!r}",
                         "generate: a row without an id gets one made from its name, written "
                         "back in the `id` column")
            elif text is not None:
                settings["generate_ids"] = text.strip() == "generate"
    path_node = fields.get("file", (None, None))[1]
    return LedgerMap(**settings), None if path_node is None or is_empty(path_node) else path_node


# country codes written where a language is meant, which Babel does not know as languages
COUNTRY_LANGUAGE = {"ua": "uk", "dk": "da", "cz": "cs", "gr": "el", "jp": "ja", "cn": "zh",
                    "kr": "ko", "by": "be", "rs": "sr", "at": "de", "us": "en", "gb": "en"}


def _locale(c: Checker, node: Node) -> str:
    """A language for dates in letters, as Babel knows it (`sv`, `de_AT`, `pt-BR`)."""
    name = c.text("locale", node)
    if name is None:
        return ""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(name.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        country = name.strip().lower()
        c.report(node, f"unknown locale {name.strip()!r}",
                 f"{country!r} is a country; its language is {COUNTRY_LANGUAGE[country]!r}"
                 if country in COUNTRY_LANGUAGE else "a language such as sv, de or en_GB")
        return ""
    return name.strip().replace("-", "_")

"""The book's settings: cadence.yaml (SPEC section 1), found in the working folder or above.

Paths are resolved against the config's folder once, here, so that nothing else needs to know
where the config was found.
"""
from __future__ import annotations

import codecs
import os
from dataclasses import field
from typing import TYPE_CHECKING, Optional

from .model import EXIT_CONFIG, EXIT_IO, EXIT_MISSING, Failure, Problem, Source
from .records import frozen

if TYPE_CHECKING:  # YAML is read only when the cache does not know the config
    from yaml.nodes import Node

    from .yamlnodes import Checker

CONFIG_NAME = "cadence.yaml"

PATH_KEYS = ("ledger", "history", "playbooks", "templates", "drafts")
KEYS = PATH_KEYS + ("timezone", "encoding", "sender")
SENDER_KEYS = ("name", "email", "phone", "address")

DEFAULT_PATHS = {
    "ledger": "contacts.csv",
    "history": "history.csv",
    "playbooks": "playbooks",
    "templates": "templates",
    "drafts": "drafts",
}
LEDGER_ALTERNATIVES = ("contacts.yaml", "contacts.yml")


@frozen
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
    source: str = ""


def find_config(start: str) -> Optional[str]:
    """cadence.yaml in `start` or the nearest of its parents, or None."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, CONFIG_NAME)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def default_config(root: str) -> Config:
    """The settings of a book without cadence.yaml."""
    root = os.path.abspath(root)
    paths = {key: _resolve(root, value) for key, value in DEFAULT_PATHS.items()}
    paths["ledger"] = _default_ledger(root)
    return Config(root=root, **paths)


def _default_ledger(root: str) -> str:
    """contacts.csv, unless only contacts.yaml exists (SPEC: "or contacts.yaml")."""
    csv = _resolve(root, DEFAULT_PATHS["ledger"])
    if not os.path.exists(csv):
        for name in LEDGER_ALTERNATIVES:
            if os.path.exists(os.path.join(root, name)):
                return os.path.join(root, name)
    return csv


def _resolve(root: str, path: str) -> str:
    return os.path.normpath(os.path.join(root, os.path.expanduser(path)))


def parse_config(text: str, path: str) -> tuple[Optional[Config], list[Problem]]:
    """The config in `text` (read from `path`), or None and every problem, sorted."""
    from .yamlnodes import compose_yaml

    node, problems = compose_yaml(text, path)
    if problems:
        return None, sorted(problems)
    root = os.path.dirname(os.path.abspath(path))
    defaults = default_config(root)
    if node is None:
        return _with_source(defaults, path), []
    from .yamlnodes import Checker

    checker = Checker(path)
    config = _read(checker, node, defaults, path)
    if checker.problems:
        return None, sorted(checker.problems)
    return config, []


def _with_source(config: Config, path: str) -> Config:
    return Config(**{**config.__dict__, "source": os.path.abspath(path)})


def _read(c: Checker, node: Node, defaults: Config, path: str) -> Optional[Config]:
    from .yamlnodes import is_empty

    fields = c.mapping(node, "the config", KEYS, hint="keys: " + ", ".join(KEYS))
    if fields is None:
        return None
    settings = dict(defaults.__dict__, source=os.path.abspath(path))
    for key, (_, value) in fields.items():
        if is_empty(value):
            continue  # `timezone:` with nothing: the default
        if key in PATH_KEYS:
            text = c.text(key, value)
            if text is not None:
                settings[key] = _resolve(defaults.root, text.strip())
        elif key == "timezone":
            settings[key] = _timezone(c, value)
        elif key == "encoding":
            settings[key] = _encoding(c, value)
        elif key == "sender":
            settings[key] = _sender(c, value)
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
    if not getattr(info, "_is_text_encoding", True):
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
    return sender


def load_config(cwd: str) -> Config:
    """The config that applies in `cwd`: found, read and parsed; raises Failure on problems."""
    from .cache import BookCache, adopt, key as cache_key

    path = find_config(cwd)
    if path is None:
        return default_config(cwd)
    shown = _shown(path)
    cache = BookCache(os.path.dirname(path))
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise Failure(Problem(Source(shown), "cannot read the config: the file is gone",
                              code=EXIT_MISSING))
    except OSError as error:
        raise Failure(Problem(Source(shown), f"cannot read the config: {error.strerror}",
                              code=EXIT_IO))
    key = cache_key(path.encode("utf-8", "surrogatepass"), shown.encode("utf-8", "surrogatepass"),
                    data)
    config = cache.get("config", key)
    if config is not None:
        adopt(config, cache)
        return config
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise Failure(Problem(Source(shown, line), "the config is not valid UTF-8",
                              "save it as UTF-8", code=EXIT_CONFIG))
    config, problems = parse_config(text, shown)
    if problems:
        raise Failure(problems)
    cache.put("config", key, config)
    adopt(config, cache)
    return config


def _shown(path: str) -> str:
    """The path for messages: relative to the current folder when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative

"""The YAML ledger (a list of mappings): read with positions, written back with comments,
key order and quoting kept. Imported only for a YAML ledger.

Longer than most modules: reading with positions and writing back by splicing text at those
positions are two halves of one format, and each depends on the other's offsets.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Optional

import yaml

from .ledger_file import (
    ID_HINT, PLAIN, Header, LedgerFile, map_hint, LedgerWriteError, check_encodable, misspelling, problem, text_position,
)
from .model import Problem, duplicate_id, id_key
from .yamlnodes import flow_too_deep


_LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_STR_TAGS = (None, "!", "tag:yaml.org,2002:str")
_MAX_DEPTH = 64  # deeper than any ledger; keeps the parser's per-level costs bounded
_TOO_DEEP = f"the ledger nests deeper than {_MAX_DEPTH} levels"
_TOO_DEEP_HINT = "a ledger is a list of contacts, each a mapping of column: value"
_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Single quotes fold line breaks (YAML 1.1 counts U+2028 and U+2029 as such) and have no escapes.
_NOT_SINGLE = re.compile(
    "[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


class _YamlStop(Exception):
    """Reading cannot go on: the nesting is too deep to be worth walking."""


@dataclass
class _Scalar:
    value: str  # as a cell: plain null spellings read as ""
    start: int  # character offsets of the node in the text
    end: int
    style: str  # "" plain, "'", '"', "|", ">"
    line: int
    col: int


@dataclass
class _Seq:
    items: list
    start: int
    end: int
    flow: bool
    line: int
    col: int

    @property
    def value(self) -> str:
        return ";".join(item.value for item in self.items)


@dataclass
class _Item:
    start: int
    close: int  # offset of the closing brace of a flow mapping
    flow: bool
    line: int
    col: int
    pairs: dict  # key -> (key _Scalar, value _Scalar or _Seq)


def _node_text(event) -> str:
    if not event.style and event.tag is None and event.value in _NULLS:
        return ""
    return event.value


def _mark(event) -> tuple:
    return event.start_mark.line + 1, event.start_mark.column + 1


class _YamlReader:
    """Walks the event stream; every nesting level is a loop, so depth costs no recursion."""

    def __init__(self, text: str, path: str):
        self.events = yaml.parse(text, Loader=_LOADER)
        self.path = path
        self.problems = []
        self.items = []
        self.root = None  # (flow, offset of the closing `]`) of the list of contacts

    def error(self, event, message: str, hint: str = "") -> None:
        self.problems.append(problem(self.path, *_mark(event), message, hint))

    def next(self):
        return next(self.events)

    def check_node(self, event) -> None:
        """Anchors and tags are refused: the ledger is plain text, not a serialised object."""
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            self.error(event, "anchors and aliases are not supported in the ledger",
                       "write the value out in full")
        tag = getattr(event, "tag", None)
        allowed = _STR_TAGS if isinstance(event, yaml.ScalarEvent) else (None,)
        if tag not in allowed:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self.error(event, f"tag {shown!r} is not supported in the ledger",
                       "remove the tag: every value is read as text")

    def skip(self, event) -> None:
        """Consume the rest of the node that `event` starts."""
        depth = 1 if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)) else 0
        while depth:
            event = self.next()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > _MAX_DEPTH:
                    self.error(event, _TOO_DEEP, _TOO_DEEP_HINT)
                    raise _YamlStop
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1

    def read(self) -> None:
        self.next()  # StreamStart
        event = self.next()
        if isinstance(event, yaml.StreamEndEvent):
            return
        root = self.next()  # after DocumentStart
        self.check_node(root)
        if isinstance(root, yaml.SequenceStartEvent):
            end = self.read_items()
            self.root = (bool(root.flow_style), end.start_mark.index)
        elif not (isinstance(root, yaml.ScalarEvent) and _node_text(root) == ""):
            self.error(root, "the ledger must be a list of contacts",
                       "write one item per contact: `- id: c1` then `  name: ...` indented")
            self.skip(root)
        self.next()  # DocumentEnd
        event = self.next()
        if not isinstance(event, yaml.StreamEndEvent):
            self.error(event, "the ledger must be a single YAML document",
                       "remove the `---` line and keep one list of contacts")

    def read_items(self):
        while True:
            event = self.next()
            if isinstance(event, yaml.SequenceEndEvent):
                return event
            self.check_node(event)
            if isinstance(event, yaml.MappingStartEvent):
                self.read_item(event)
                continue
            kind = "a list" if isinstance(event, yaml.SequenceStartEvent) else "a single value"
            self.error(event, f"contact {len(self.items) + 1} is {kind}, not a mapping",
                       "write each contact as `column: value` lines, e.g. `- id: c1`")
            self.skip(event)

    def read_item(self, start) -> None:
        pairs = {}
        while True:
            event = self.next()
            if isinstance(event, yaml.MappingEndEvent):
                break
            self.check_node(event)
            key = None
            if isinstance(event, yaml.ScalarEvent):
                key = self.scalar(event)
            else:
                self.error(event, "a key must be a single value", "write `column: value`")
                self.skip(event)
            value = self.read_value(self.next(), key)
            if key is None or value is None:
                continue
            if not key.value:
                self.error(event, "empty key", "write `column: value`")
            elif key.value in pairs:
                first = pairs[key.value][0].line
                self.error(event, f"duplicate key {key.value!r} (first at line {first})",
                           "keep one of them")
            else:
                pairs[key.value] = (key, value)
        self.items.append(_Item(start.start_mark.index, event.start_mark.index,
                                bool(start.flow_style), *_mark(start), pairs))

    def read_value(self, event, key):
        self.check_node(event)
        name = key.value if key else ""
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            return self.scalar(event)
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while True:
                item = self.next()
                if isinstance(item, yaml.SequenceEndEvent):
                    break
                self.check_node(item)
                if isinstance(item, (yaml.ScalarEvent, yaml.AliasEvent)):
                    items.append(self.scalar(item))
                else:
                    self.error(item, f"a list under {name!r} may hold only single values",
                               "write e.g. `channels: [email, call]`")
                    self.skip(item)
            return _Seq(items, event.start_mark.index, item.end_mark.index,
                        bool(event.flow_style), *_mark(event))
        self.error(event, f"nested mapping under {name!r} is not supported",
                   "give each value its own column")
        self.skip(event)
        return None

    def scalar(self, event) -> _Scalar:
        if isinstance(event, yaml.AliasEvent):
            return _Scalar("", event.start_mark.index, event.end_mark.index, "", *_mark(event))
        return _Scalar(_node_text(event), event.start_mark.index, event.end_mark.index,
                       event.style or "", *_mark(event))


def parse_yaml(text: str, path: str, header: Header = PLAIN):
    reader = _YamlReader(text, path)
    deep = flow_too_deep(text, _MAX_DEPTH)
    try:
        if deep is not None:
            reader.problems.append(problem(path, *deep, _TOO_DEEP, _TOO_DEEP_HINT))
            raise _YamlStop
        reader.read()
    except _YamlStop:
        pass
    except yaml.MarkedYAMLError as exc:
        reader.problems.append(_syntaxproblem(path, exc))
    except yaml.reader.ReaderError as exc:
        line, col = text_position(text, exc.position)
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        reader.problems.append(problem(path, line, col,
                                        f"character {char!r} is not allowed in YAML",
                                        "remove it, or write it as an escape in double quotes"))
    except RecursionError:  # a safety net: the reader itself does not recurse
        reader.problems.append(problem(path, 1, 1, "the ledger nests too deeply"))
    problems = reader.problems
    columns, first = [], {}
    for item in reader.items:
        for name, (key, _) in item.pairs.items():
            if name not in first:
                first[name] = key
                columns.append(name)
    present = {header.canonical(name) for name in first}
    for name, key in first.items():
        guess = None if header.loose or header.own or name in header.names \
            else misspelling(name, present)
        if guess:
            problems.append(problem(path, key.line, key.col,
                                     f"unknown column {name!r} (did you mean {guess!r}?)",
                                     map_hint(guess, name)))
    problems += _check_yaml_ids(path, reader.items, header.id_column(first) or "id",
                                header.ids and not header.loose)
    columns = tuple(columns) or ("id",)
    rows = tuple({c: (item.pairs[c][1].value if c in item.pairs else "") for c in columns}
                 for item in reader.items)
    lines = tuple(item.line for item in reader.items)
    newline = "\r\n" if "\r\n" in text[:text.find("\n") + 1] else "\n"
    layout = _YamlLayout(text, newline, tuple(reader.items), reader.root)
    return columns, rows, lines, layout, problems


def _syntaxproblem(path: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    message = exc.problem or "invalid YAML"
    if "tab" in message or "'\\t'" in message:
        hint = "indent with spaces: YAML does not allow tabs there"
    elif exc.context and exc.context_mark:
        hint = f"{exc.context} that starts at line {exc.context_mark.line + 1}"
    else:
        hint = exc.context or ""
    return problem(path, line, col, message, hint)


def _check_yaml_ids(path: str, items, column: str = "id", required: bool = True) -> list:
    """Every contact has an id, and no two the same; without `required`, a contact may have
    none (cadence makes one)."""
    problems = []
    seen = {}
    for item in items:
        pair = item.pairs.get(column)
        if pair is None:
            if required:
                problems.append(problem(path, item.line, item.col, "contact has no 'id'", ID_HINT))
            continue
        value = pair[1]
        key = value.value.strip()
        if isinstance(value, _Seq):  # `id: [1, 2]`: one contact, one id
            problems.append(problem(path, value.line, value.col, "an id is one value, not a "
                                    "list", ID_HINT))
        elif not key:
            if required:
                problems.append(problem(path, value.line, value.col, "empty id", ID_HINT))
        elif id_key(key) in seen:
            problems.append(problem(path, value.line, value.col,
                                    duplicate_id(key, *seen[id_key(key)]), ID_HINT))
        else:
            seen[id_key(key)] = (value.line, key)
    return problems


@functools.lru_cache(maxsize=4096)  # a run writes the same dates and statuses many times
def _plain_ok(value: str, flow: bool) -> bool:
    """Would `value` read back as itself, written as a plain scalar?"""
    if value in _NULLS or value != value.strip() or _NON_PRINTABLE.search(value):
        return False
    if value[0] in "-?:,[]{}#&*!|>'\"%@`" or value.endswith(":"):
        return False
    if ": " in value or " #" in value or "\t#" in value or ":\t" in value:
        return False
    if any(ch in value for ch in "\n\r\x85\u2028\u2029\ufeff"):
        return False
    if flow and any(ch in value for ch in ",[]{}"):
        return False
    # The rules above are the known traps; reading it back is the proof.
    probe = "{k: " + value + "}" if flow else "k: " + value
    try:
        events = list(yaml.parse(probe, Loader=_LOADER))
    except yaml.YAMLError:
        return False
    scalar = events[4] if len(events) == 8 else None
    return isinstance(scalar, yaml.ScalarEvent) and not scalar.style and scalar.value == value


def _double_quoted(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _NON_PRINTABLE.match(ch) or ch in "\x85\u2028\u2029\ufeff":
            code = ord(ch)
            out.append(f"\\x{code:02X}" if code < 0x100 else
                       f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _yaml_scalar(value: str, style: str, flow: bool) -> str:
    """A new value in the style of the one it replaces, when that style can hold it."""
    if value == "":
        return "''"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise LedgerWriteError(f"cannot write {value!r}: it holds a lone surrogate")
    if style == '"':
        return _double_quoted(value)
    if style == "'":
        if _NOT_SINGLE.search(value):  # line breaks would fold, control characters need escapes
            return _double_quoted(value)
        return "'" + value.replace("'", "''") + "'"
    return value if _plain_ok(value, flow) else _double_quoted(value)


@dataclass(frozen=True)
class _YamlLayout:
    text: str
    newline: str
    items: tuple
    root: Optional[tuple] = None  # (flow, offset of `]`) of the list; None: an empty file

    def cell_position(self, row: int, column: str):
        pair = self.items[row].pairs.get(column)
        return (pair[1].line, pair[1].col) if pair else None

    def dump(self, ledger: LedgerFile, updates) -> Optional[str]:
        edits = []  # (offset, sequence, end, text): spliced in offset order
        for i in sorted(updates):
            item, row = self.items[i], ledger.rows[i]
            inserts = []
            for column, value in updates[i].items():
                where = f"{column!r} of the contact at line {item.line}"
                if column in item.pairs:
                    if value != row[column]:
                        start, end, text = self._replace(item, item.pairs[column], value)
                        check_encodable(text, ledger._codec, where)
                        edits.append((start, len(edits), end, text))
                elif value != "":
                    key = _yaml_scalar(column, "", item.flow)
                    text = key + ": " + _yaml_scalar(value, "", item.flow)
                    check_encodable(text, ledger._codec, where)
                    inserts.append(text)
            if inserts:
                at, text = self._insert(item, inserts)
                edits.append((at, len(edits), at, text))
        if not edits:
            return None
        edits.sort()
        out, pos = [], 0
        for start, _, end, text in edits:
            out.append(self.text[pos:start])
            out.append(text)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)

    def append(self, ledger: LedgerFile, cells) -> str:
        """The text with a contact added after the last: a list item written like the last
        one (block or flow, its indentation), with the keys given a value, in the ledger's
        column order. Comments and everything before stay as they are."""
        text, flow_list = self.text, bool(self.root and self.root[0])
        last = self.items[-1] if self.items else None
        flow = flow_list or (last is not None and last.flow)
        pairs = []
        for column in list(ledger.columns) + [c for c in cells if c not in ledger.columns]:
            value = cells.get(column, "")
            if value != "":
                pair = _yaml_scalar(column, "", flow) + ": " + _yaml_scalar(value, "", flow)
                check_encodable(pair, ledger._codec, f"{column!r} of the new contact")
                pairs.append(pair)
        if flow_list:
            at = self.root[1]
            before = text[:at].rstrip()
            item = "{" + ", ".join(pairs) + "}"
            if before.endswith("[") or before.endswith(","):
                return before + (" " if before.endswith(",") else "") + item + text[len(before):]
            return before + ", " + item + text[len(before):]
        if last is None:
            lines = ["- " + pairs[0]] + ["  " + p for p in pairs[1:]]
            at = len(text)
        else:
            start = text.rfind("\n", 0, last.start) + 1
            prefix = text[start:last.start]
            if "-" not in prefix:  # `-` alone on the line before: indent as that line does
                prefix = " " * max(0, len(prefix) - 2) + "- "
            if last.flow:
                lines = [prefix + "{" + ", ".join(pairs) + "}"]
            else:
                indent = " " * len(prefix)
                lines = [prefix + pairs[0]] + [indent + p for p in pairs[1:]]
            if last.flow:
                at = text.find("\n", last.close)
                at = len(text) if at < 0 else at + 1
            else:
                at = self._insert(last, ["x"])[0]
        block = "".join(line + self.newline for line in lines)
        if at == len(text) and text and not text.endswith("\n"):
            return text + self.newline + block[:-len(self.newline)]
        return text[:at] + block + text[at:]

    def _colon(self, key: _Scalar) -> int:
        """Offset just after the `:` that follows a key, or -1 when there is none (`{key}`)."""
        pos = key.end
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        return pos + 1 if self.text.startswith(":", pos) else -1

    def _empty_span(self, key: _Scalar, node: _Scalar) -> tuple:
        """(just after the colon, end of the blanks after it) of an empty value: `key:  }`."""
        colon = self._colon(key)
        if colon < 0:
            return key.end, key.end
        gap = self.text[colon:node.start]
        return colon, (node.start if node.start >= colon and not gap.strip(" \t") else colon)

    def _value_end(self, key: _Scalar, value) -> int:
        """Offset just after a value's text, before any comment or blank line that follows."""
        if isinstance(value, _Scalar) and value.start == value.end:
            return self._empty_span(key, value)[0]
        if isinstance(value, _Seq) and not value.flow:
            # A block list ends where the next key starts: stop at its last item instead.
            value = value.items[-1]
        return value.start + len(self.text[value.start:value.end].rstrip())

    def _replace(self, item: _Item, pair, value: str) -> tuple:
        key, node = pair
        if isinstance(node, _Seq):
            return self._replace_seq(key, node, value)
        if node.start == node.end:  # `key:` with nothing after: the value goes after the colon
            text = _yaml_scalar(value, node.style, item.flow)
            if self._colon(key) < 0:  # `{key}`
                return key.end, key.end, ": " + text
            colon, gap_end = self._empty_span(key, node)
            return colon, gap_end, " " + text
        end = self._value_end(key, node)
        style = "" if node.style in ("|", ">") else node.style  # block scalars: plain or quoted
        return node.start, end, _yaml_scalar(value, style, item.flow)

    def _replace_seq(self, key: _Scalar, node: _Seq, value: str) -> tuple:
        """A list keeps its flow or block form; its items are the `;`-separated parts."""
        parts = value.split(";") if value else []
        end = self._value_end(key, node)
        if node.flow or not parts:
            return node.start, end, "[" + ", ".join(_yaml_scalar(p, "", True) for p in parts) + "]"
        indent = self.newline + " " * (node.col - 1)
        return node.start, end, indent.join("- " + _yaml_scalar(p, "", False) for p in parts)

    def _insert(self, item: _Item, inserts: list) -> tuple:
        """Where and what to add for keys the item lacks."""
        text = self.text
        if item.flow:
            if not item.pairs:
                return item.start + 1, ", ".join(inserts)
            key, node = list(item.pairs.values())[-1]
            if isinstance(node, _Scalar) and node.start == node.end:
                at = self._empty_span(key, node)[1]  # after `key: `: libyaml refuses `key:,`
            else:
                at = self._value_end(key, node)
            return at, ", " + ", ".join(inserts)
        key, node = list(item.pairs.values())[-1]
        first_key = next(iter(item.pairs.values()))[0]
        indent = " " * (first_key.col - 1)
        block_scalar = isinstance(node, _Scalar) and node.style in ("|", ">")
        if block_scalar and text[node.end - 1:node.end] == "\n":
            at = node.end  # a block scalar owns its trailing lines: add after them
        else:
            at = text.find("\n", self._value_end(key, node))
            at = len(text) if at < 0 else at + 1
        lines = "".join(indent + line + self.newline for line in inserts)
        if at == len(text) and not text.endswith("\n"):
            return at, self.newline + lines[:-len(self.newline)]
        return at, lines

"""Safe YAML with line marks, shared by the playbook and config parsers.

We compose YAML to nodes and never construct Python objects from it: every value keeps its
line and column for error messages, and each key's parser decides what its scalar means, so that
YAML 1.1 surprises (`on`, `no`, `010`) never silently change the meaning of a file.
"""
from __future__ import annotations

import datetime
import difflib
import io
import re
from typing import Iterable, Optional, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .durations import parse_date, parse_duration
from .model import EXIT_CONFIG, Duration, Problem, Source, shown

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 100  # libyaml's composer recurses in C: deeper input could crash the process
MAX_NODES = 100_000  # counted with aliases expanded: bounds "billion laughs"

_STANDARD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    ["!"] + [_STANDARD + name for name in
             ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge")]
)
_NULL = _STANDARD + "null"

TOO_LARGE = "the file is too large or uses too many aliases"
TOO_DEEP = "nesting too deep"


class _Named(io.StringIO):
    """A text stream with a name, so that PyYAML's marks carry the file's path."""

    def __init__(self, text: str, name: str):
        super().__init__(text)
        self.name = name


class _Refused(Exception):
    def __init__(self, mark, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


def source_of(node: Node) -> Source:
    """Where a node starts, 1-based, in the file it was composed from."""
    mark = node.start_mark
    return Source(mark.name, mark.line + 1, mark.column + 1)


# what flow_too_deep stops at; between two of them, only the last character that is not a space
# matters (a `[` opens a collection after `:` or `-`, not inside a plain scalar)
_MARKS = re.compile(r"""[#'"\[\]{}]""")
_BEFORE_A_QUOTE = ("", "-", ":", "?", ",", "[", "{")
_BEFORE_A_FLOW = ("", "-", ":", "?")


def flow_too_deep(text: str, limit: int) -> Optional[tuple]:
    """(line, column) of the first `[` or `{` that opens flow collection number `limit + 1`
    inside another, or None.

    PyYAML's scanner reads a flow collection to its end before the parser reports its first
    event, and stops on its own at a depth of its choosing: this guard runs first, so that the
    limit and the message are cadence's. Quoted scalars and comments are passed over; outside
    brackets, only a `[` or `{` where a node may begin counts. It goes from mark to mark
    (a bracket, a quote, a `#`), not character by character: a YAML ledger of 100,000
    contacts is 13 MB of text, which a loop over its characters took 3 s to read.
    """
    if text.count("[") + text.count("{") <= limit:
        return None  # each level is a bracket: too few of them to go past the limit
    depth = 0
    start = i = 0  # where the current line begins; where the last mark ended
    prev = ""  # the last character that was not a space on this line
    while True:
        found = _MARKS.search(text, i)
        if found is None:
            return None
        j = found.start()
        newline = text.rfind("\n", i, j)
        if newline >= 0:  # a line began since the last mark
            start = i = newline + 1
            prev = ""
        gap = text[i:j].rstrip(" \t\r")
        if gap:
            prev = gap[-1]
        ch, i = text[j], j + 1
        if ch == "#" and (j == start or text[j - 1] in " \t"):
            end = text.find("\n", j)  # a comment, to the end of its line
            if end < 0:
                return None
            i = end
            continue
        if ch in "'\"" and prev in _BEFORE_A_QUOTE:
            i = _quote_end(text, j)
            newline = text.rfind("\n", j, i)
            if newline >= 0:
                start = newline + 1
        elif ch in "[{" and (depth or prev in _BEFORE_A_FLOW):
            depth += 1
            if depth > limit:
                return text.count("\n", 0, j) + 1, j - start + 1
        elif ch in "]}" and depth:
            depth -= 1
        prev = ch


def _quote_end(text: str, i: int) -> int:
    """The offset just past the quoted scalar that opens at `i` (the text's end if unclosed)."""
    quote, j = text[i], i + 1
    while True:
        j = text.find(quote, j)
        if j < 0:
            return len(text)
        if quote == "'" and text.startswith("''", j):
            j += 2
            continue
        if quote == '"':
            slashes = 0
            while text[j - 1 - slashes] == "\\":
                slashes += 1
            if slashes % 2:
                j += 1
                continue
        return j + 1


def compose_yaml(text: str, path: str) -> tuple[Optional[Node], list[Problem]]:
    """One YAML document as nodes, or the problems that stop us reading it.

    An empty document (nothing, only comments, or a bare `---`) gives (None, []).
    """
    deep = flow_too_deep(text, MAX_DEPTH)
    if deep is not None:
        return None, [Problem(Source(path, *deep), TOO_DEEP)]
    try:
        first_alias = _scan(text, path)
        node = yaml.compose(_Named(text, path), Loader=_Loader)
    except _Refused as refused:
        return None, [_problem_at(path, refused.mark, refused.message)]
    except RecursionError:
        return None, [Problem(Source(path), TOO_DEEP)]
    except yaml.YAMLError as error:
        return None, [_syntax_problem(text, path, error)]
    if node is not None and is_empty(node):  # `---` alone, or `~`
        return None, []
    if node is not None and first_alias is not None and not _bounded(node):
        return None, [_problem_at(path, first_alias, TOO_LARGE, "write the values out in full")]
    return node, []


def _scan(text: str, path: str):
    """Check depth, size and tags on the event stream, before anything recurses.

    Stopping at the first offending event keeps hostile input cheap. Returns the mark of the
    first alias, or None: only with aliases can the composed graph be larger than the file.
    """
    loader = _Loader(_Named(text, path))
    depth = events = 0
    first_alias = None
    try:
        while loader.check_event():
            event = loader.get_event()
            events += 1
            if events > MAX_NODES:
                raise _Refused(event.start_mark, TOO_LARGE)
            if isinstance(event, yaml.AliasEvent):
                first_alias = first_alias or event.start_mark
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refused(event.start_mark, TOO_DEEP)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _ALLOWED_TAGS:
                raise _Refused(event.start_mark, f"tags are not allowed: {_short_tag(tag)!r}")
    finally:
        loader.dispose()
    return first_alias


def _bounded(root: Node) -> bool:
    """Walk the graph with aliases expanded (and cycles followed), at most MAX_NODES steps."""
    stack, visits = [root], 0
    while stack:
        node = stack.pop()
        visits += 1
        if visits > MAX_NODES:
            return False
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return True


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def _problem_at(path: str, mark, message: str, hint: str = "") -> Problem:
    return Problem(Source(path, mark.line + 1, mark.column + 1), message, hint, EXIT_CONFIG)


def _syntax_problem(text: str, path: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if mark is not None and problem:
        if "another document" in problem:
            return _problem_at(path, mark, "invalid YAML: a second document in one file",
                               "a file holds one YAML document: remove the extra `---`")
        hint = ""
        if context and context_mark is not None:
            hint = f"{context} (line {context_mark.line + 1})"
        lines = text.split("\n")
        line = lines[mark.line] if mark.line < len(lines) else ""
        if line[mark.column:mark.column + 1] == "\t" and not line[:mark.column].strip():
            problem, hint = "a tab character", "indent with spaces: YAML does not allow tabs there"
        return _problem_at(path, mark, f"invalid YAML: {problem}", hint)
    position = getattr(error, "position", None)  # a ReaderError: a character YAML refuses
    if isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
        reason = getattr(error, "reason", "") or "unreadable character"
        return Problem(Source(path, line, col), f"invalid YAML: {reason}")
    return Problem(Source(path), f"invalid YAML: {str(error).splitlines()[0]}")


def describe(node: Node) -> str:
    """A node as a message shows what it got."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    if is_empty(node):
        return "nothing"
    value = str(node.value)
    if len(value) > SHOWN or node.start_mark.line != node.end_mark.line:
        # a whole file read as one text (a planted link to a key file) is not shown back
        return f"a text of {len(value)} characters"
    return repr(value)


SHOWN = 60  # characters of a value that a message shows


def is_empty(node: Node) -> bool:
    """`key:` with nothing after it, `~` or `null`: the key is there but says nothing."""
    return isinstance(node, ScalarNode) and node.tag == _NULL and not node.style


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The closest choice, or ""."""
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return matches[0] if matches else ""


Where = Union[Node, Source]


class Checker:
    """Reads the nodes of one file and collects every problem it finds on the way.

    Each reader returns None when the value is wrong, after reporting why; the message names the
    key and says what was expected.
    """

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def report(self, where: Where, message: str, hint: str = "") -> None:
        source = where if isinstance(where, Source) else source_of(where)
        self.problems.append(Problem(source, message, hint, EXIT_CONFIG))

    def mapping(self, node: Node, what: str, allowed: Optional[Iterable[str]] = None,
                hint: str = "") -> Optional[dict[str, tuple[Node, Node]]]:
        """A mapping's keys, in order, as {key: (key node, value node)}.

        Reports a node that is not a mapping, keys that are not text and duplicate keys; with
        `allowed`, also unknown keys (see `restrict`).
        """
        if not isinstance(node, MappingNode):
            self.report(node, f"{what} must be a mapping, got {describe(node)}", hint)
            return None
        fields: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.report(key_node, f"a key must be text, got {describe(key_node)}")
                continue
            key = key_node.value
            if key_node.tag == _STANDARD + "merge":
                self.report(key_node, "merge keys (<<) are not supported",
                            "write the keys out, or use an alias (*name) for a whole value")
            elif key in fields:
                first = source_of(fields[key][0]).line
                self.report(key_node, f"duplicate key {key!r} (first at line {first})")
            else:
                fields[key] = (key_node, value_node)
        return fields if allowed is None else self.restrict(fields, allowed)

    def restrict(self, fields: dict, allowed: Iterable[str]) -> dict:
        """Report unknown keys; a misspelt key stands in for the key it resembles.

        The stand-in keeps one typo to one message: `channnel: email` does not also make the
        step "need a `channel`". The file has a problem either way, so nothing is accepted.
        """
        allowed = tuple(allowed)
        known = {key: value for key, value in fields.items() if key in allowed}
        for key, (key_node, value_node) in fields.items():
            if key not in allowed:
                guess = self.unknown_key(key_node, allowed)
                if guess and guess not in known:
                    known[guess] = (key_node, value_node)
        return known

    def unknown_key(self, key_node: Node, allowed: Iterable[str]) -> str:
        """Report an unknown key; returns the allowed key it resembles, or ""."""
        allowed = tuple(allowed)
        key = key_node.value
        guess = did_you_mean(key, allowed)
        if guess:
            self.report(key_node, f"unknown key {key!r} (did you mean {guess!r}?)")
        else:
            self.report(key_node, f"unknown key {key!r}", "keys here: " + ", ".join(allowed))
        return guess

    def text(self, key: str, node: Node, required: bool = True) -> Optional[str]:
        """A scalar as text; an empty one is an error when `required`."""
        if not isinstance(node, ScalarNode):
            self.report(node, f"`{key}` must be text, got {describe(node)}")
            return None
        value = "" if is_empty(node) else node.value
        if required and not value.strip():
            self.report(node, f"`{key}` must not be empty")
            return None
        if "\x00" in value:  # no path, name or command holds one (the OS refuses it)
            self.report(node, f"`{key}` holds a NUL character (\\0)")
            return None
        return value

    def scalar(self, key: str, node: Node, expected: str) -> Optional[str]:
        """The stripped text of a scalar meant to hold `expected`."""
        if not isinstance(node, ScalarNode) or is_empty(node):
            self.report(node, f"`{key}` must be {expected}, got {describe(node)}")
            return None
        if "\x00" in node.value:
            self.report(node, f"`{key}` holds a NUL character (\\0)")
            return None
        return node.value.strip()

    def boolean(self, key: str, node: Node) -> Optional[bool]:
        """Only `true` or `false`: YAML 1.1's yes/no/on/off are refused, not guessed."""
        value = self.scalar(key, node, "true or false")
        if value is None:
            return None
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.report(node, f"`{key}` must be true or false, got {value!r}")
        return None

    def positive_int(self, key: str, node: Node) -> Optional[int]:
        value = self.scalar(key, node, "a positive whole number")
        if value is None:
            return None
        if value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0:
            return int(value)
        self.report(node, f"`{key}` must be a positive whole number, got {shown(value)}")
        return None

    def date(self, key: str, node: Node) -> Optional[datetime.date]:
        value = self.scalar(key, node, "a date as YYYY-MM-DD")
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            self.report(node, f"`{key}` must be a date as YYYY-MM-DD, got {value!r}")
            return None

    def duration(self, key: str, node: Node, nonzero: bool = False) -> Optional[Duration]:
        value = self.scalar(key, node, "a duration such as '3 days'")
        if value is None:
            return None
        try:
            duration = parse_duration(value)
        except ValueError as error:
            self.report(node, f"`{key}`: {error}")
            return None
        if nonzero and not (duration.days or duration.months):
            self.report(node, f"`{key}` cannot be zero", "use a duration such as '1 week'")
            return None
        return duration

    def items(self, key: str, node: Node) -> Optional[list[Node]]:
        """A list's items; a single scalar counts as a list of one, an empty value as none."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode):
            return [] if is_empty(node) else [node]
        self.report(node, f"`{key}` must be a list, got {describe(node)}")
        return None

    def sequence(self, key: str, node: Node) -> Optional[list[Node]]:
        """A list's items; anything else is reported."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        self.report(node, f"`{key}` must be a list, got {describe(node)}")
        return None

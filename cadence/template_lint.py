"""`check`'s reading of templates without rendering them: syntax errors, and variables that
neither the context nor the ledger has, found before a run needs them."""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
from datetime import date
from typing import Optional

from jinja2 import TemplateNotFound, TemplateSyntaxError

from .lookup import SUFFIX
from .model import EXIT_CONFIG, Problem, Source, Touch, count

# What every template sees (SPEC section 6), and the fields `check` knows of each.
CONTEXT = ("contact", "touch", "playbook", "sender", "today", "history")
FIELDS = {
    "touch": tuple(f.name for f in dataclasses.fields(Touch)) + ("as_json",),
    "playbook": ("name", "description"),
    "sender": ("name", "email", "phone", "address"),
}
NOT_A_COLUMN = " is not a column of the ledger"  # once_a_column groups these
_MAPPING_METHODS = ("get", "items", "keys", "values")
_A_DAY = date(2026, 1, 5)  # any day does: a format or locale is refused whatever the date


def not_utf8(path: str, err: UnicodeDecodeError, where: str = "") -> Problem:
    """A template saved in another encoding (a code page), named by its line and column."""
    data, start = err.object, err.start
    line_start = data.rfind(b"\n", 0, start) + 1
    col = len(data[line_start:start].decode("utf-8", "replace")) + 1
    return Problem(Source(path, data.count(b"\n", 0, start) + 1, col),
                   f"the template is not UTF-8 text (byte 0x{data[start]:02x}){where}",
                   "save it as UTF-8 (in Notepad: Save as, Encoding: UTF-8)", EXIT_CONFIG)


class TemplateReader:
    """Reads a book's templates as `check` does; `env` is the book's sandbox (its loader)."""

    def __init__(self, env, folder: str, names):
        self.env, self.folder, self.names = env, folder, frozenset(names)
        self._read, self._dated = {}, {}  # readings and `date` findings, by file name

    def compile_problem(self, name: str):
        """A syntax error, unknown filter or unreadable file in one template, or None."""
        shown = os.path.join(self.folder, name + SUFFIX)
        try:
            self._reading(name + SUFFIX)
        except TemplateSyntaxError as err:
            return Problem(Source(shown, err.lineno or 0), err.message, code=EXIT_CONFIG)
        except UnicodeDecodeError as err:
            return not_utf8(shown, err)
        except OSError as err:
            return Problem(Source(shown), f"unreadable template: {err.strerror or err}",
                           code=EXIT_CONFIG)
        return None

    def _source(self, filename: str) -> str:
        source, _, _ = self.env.loader.get_source(self.env, filename)
        return source

    def _reading(self, filename: str) -> tuple:
        """(source lines, undeclared names, uses, refs, names set, `date` filters) of a
        template, read once a command: parsed, compiled (which finds what only compiling
        finds: an unknown filter, loops nested past Python's limits) and walked."""
        if filename not in self._read:
            from jinja2 import nodes

            source = self._source(filename)
            tree = self.env.parse(source, name=filename)
            undeclared = self.env.names_read(tree, filename, os.path.join(self.folder, filename))
            uses, refs, sets, dates = [], set(), set(), []
            _walk(tree, frozenset(), uses)
            for n in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport,
                                    nodes.Name, nodes.Macro, nodes.Filter)):
                if isinstance(n, nodes.Name):
                    if n.ctx in ("store", "param"):
                        sets.add(n.name)
                elif isinstance(n, nodes.Macro):
                    sets.add(n.name)
                elif isinstance(n, nodes.Filter):
                    if n.name == "date":
                        dates.append(n)
                elif isinstance(n.template, nodes.Const) and isinstance(n.template.value, str) \
                        and not getattr(n, "ignore_missing", False):
                    refs.add((n.template.value, n.lineno))
            self._read[filename] = (source.splitlines(), undeclared, uses, sorted(refs),
                                    frozenset(sets), dates)
        return self._read[filename]

    def lint_template(self, filename: str, columns, inherited=frozenset()) -> tuple:
        """(findings, [(template it includes or extends, line)], names it sets) for one file.

        A finding is (line, col, message, hint): a variable that is not in the context, or a
        `contact.<column>` the ledger lacks, used where no `is defined` test or `default`
        filter guards it. `inherited` holds the names an including template has set.
        `columns` None: the ledger's columns are not known (a YAML ledger with no contacts).
        """
        lines, undeclared, uses, refs, sets, _ = self._reading(filename)
        undeclared = undeclared - set(CONTEXT) - set(inherited) - set(self.env.globals)
        columns = None if columns is None else set(columns)
        findings, seen = [], set()
        for key, line in uses:
            if key in seen:
                continue
            found = judge(key, undeclared, columns)
            if found is None:
                continue
            seen.add(key)
            findings.append((line, column(lines, line, key)) + found)
        return findings + self._dates(filename), refs, sets | frozenset(inherited)

    def _dates(self, filename: str) -> list:
        """Findings for each `date` filter whose format or locale, written as a constant, every
        rendering would refuse (`date("HH:mm")`, `locale="zz"`): `check` says so, not the
        morning's run. Each is tried once on a fixed day by the filter itself."""
        from jinja2 import nodes

        if filename in self._dated:
            return self._dated[filename]
        lines, found, before = self._reading(filename)[0], [], {}
        for node in self._reading(filename)[5]:
            nth = before[node.lineno] = before.get(node.lineno, -1) + 1  # of its line's
            given = dict(zip(("format", "locale"), node.args))
            given.update((kw.key, kw.value) for kw in node.kwargs)
            fixed = {k: v.value for k, v in given.items() if isinstance(v, nodes.Const)}
            if not fixed:
                continue
            try:
                self.env.filters["date"](_A_DAY, **fixed)
            except ValueError as err:
                found.append((node.lineno, _filter_column(lines, node.lineno, nth),
                              str(err), "every rendering of this template would stop here"))
            except TypeError:
                pass  # an argument the filter does not take: rendering says so
        self._dated[filename] = found
        return found

    def has_subject(self, filename: str) -> bool:
        """Does a template file begin with the `Subject:` line an email needs?"""
        try:
            return self._source(filename).startswith("Subject:")
        except (OSError, UnicodeDecodeError, TemplateNotFound):
            return False


def once_a_column(problems: list) -> list:
    """A column the ledger lacks, named at the first template that uses it, with the count of
    the others: a sheet mapped without its name column would give one line a template (a
    hundred for the bundled ones)."""
    firsts, more = {}, {}
    for p in problems:
        if p.message.endswith(NOT_A_COLUMN):
            more[p.message] = more.get(p.message, -1) + 1
            if more[p.message]:
                continue
            firsts[p.message] = p
    out = []
    for p in problems:
        if firsts.get(p.message, p) is not p:
            continue
        if more.get(p.message):
            n = more[p.message]
            p = dataclasses.replace(p, hint=f"{p.hint}; {count(n, 'more template')} "
                                            f"{'uses' if n == 1 else 'use'} it too")
        out.append(p)
    return out


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


def judge(key: str, undeclared: set, columns: Optional[set]):
    """(message, hint) when a use is an error, else None."""
    head, _, field = key.partition(".")
    if not field:
        if key not in undeclared:
            return None
        return (f"{key!r} is not defined",
                "a template sees " + ", ".join(CONTEXT) + ", and the names it sets")
    if head == "contact":
        if columns is None or field in columns:
            return None
        close = difflib.get_close_matches(field, sorted(columns), 1)
        hint = f"did you mean 'contact.{close[0]}'? Otherwise a" if close else "a"
        return (f"{key!r}{NOT_A_COLUMN}",
                hint + f"dd the column, or guard its use with {{% if {key} is defined %}}")
    if field in FIELDS[head]:
        return None
    close = difflib.get_close_matches(field, FIELDS[head], 1)
    return (f"{key!r} is not a field of {head}",
            f"did you mean '{head}.{close[0]}'?" if close else f"{head} has " + ", ".join(FIELDS[head]))


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_DATE = re.compile(r"\|\s*(date)\b")
_GUARD = re.compile(r"\s*(?:is\s+(?:not\s+)?(?:un)?defined\b|\|\s*d(?:efault)?\b)")


def _filter_column(lines, line: int, nth: int) -> int:
    """The column (from 1) of the `nth` (from 0) `| date` on its line, else 0: within the
    line's tags, as `column` looks (all of the line when a tag spans lines)."""
    if not 0 < line <= len(lines):
        return 0
    text = lines[line - 1]
    found = [m for tag in _TAG.finditer(text) for m in _DATE.finditer(text, tag.start(), tag.end())]
    found = found or list(_DATE.finditer(text))
    return found[nth].start(1) + 1 if nth < len(found) else 0


def column(lines, line: int, key: str) -> int:
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

"""How deep one template may nest: a book shared through git is not trusted to be kind.

Jinja reads a template and writes its Python code by recursion, and Python compiles that code
within fixed limits (20 nested loops, 100 levels of indentation, 200 nested brackets). A
template nested past them (`{% if %}` two hundred times, a thousand brackets) would stop
`check` or `run` with Python's own error, at a depth that even depends on how deep the stack
already was. Here it is a template error at its line, as a syntax error is, found the same way
by every command:

- tags and brackets are counted as Jinja's reader takes them in (`DepthGuard`, a token filter:
  Jinja's documented way for an extension to see a template's tokens), so the reader stops
  at the one past MAX_DEPTH before its own recursion is deep;
- a parsed template deeper than MAX_DEPTH (a chain of filters or attributes) is refused before
  anything walks it (`past_the_limit`);
- what still gets past (loops nested 21 deep, which Python refuses; `not` written a thousand
  times) is named by the line where the template nests deepest.
"""
from __future__ import annotations

from typing import Optional

from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.parser import Parser

# tags, brackets and filters within each other; cadence's own templates nest 9 deep at most,
# and 40 levels stay well inside the stack that reading and compiling them needs
MAX_DEPTH = 40
_ADVICE = "move the inner part into a macro at the top of the file, or into a template it includes"
TOO_DEEP = (f"the template nests or chains tags, brackets, operators or filters more than "
            f"{MAX_DEPTH} deep here; {_ADVICE}")
EXPRESSION_TOO_DEEP = (f"it nests or chains brackets, operators or filters more than {MAX_DEPTH} "
                       "deep")

_OPENS = {"lparen", "lbracket", "lbrace"}
_CLOSES = {"rparen", "rbracket", "rbrace"}
_BLOCKS = {"for", "if", "with", "macro", "call", "filter", "block", "autoescape"}


def too_deep_for_python(reason: str) -> str:
    """The message for code that Python's compiler refused (`too many statically nested
    blocks`): the template's depth is within MAX_DEPTH, its loops are not."""
    return f"the template nests its loops or blocks too deeply here ({reason}); {_ADVICE}"


class DepthGuard(Extension):
    """Counts block tags and brackets as the reader takes them in, and stops it at the first
    one that goes past MAX_DEPTH. An `if` expression is read through here too."""

    def filter_stream(self, stream):
        blocks = brackets = 0
        after_begin = a_set = False  # `{% set x %}` (no `=`) is a block, up to `{% endset %}`
        for token in stream:
            kind = token.type
            if after_begin and kind == "name":
                if token.value in _BLOCKS:
                    blocks += 1
                elif token.value == "set":
                    a_set = True
                elif token.value.startswith("end") and token.value[3:] in _BLOCKS | {"set"} \
                        and blocks:
                    blocks -= 1
            elif a_set and kind in ("assign", "block_end"):
                blocks += kind == "block_end"
                a_set = False
            after_begin = kind == "block_begin"
            if kind in _OPENS:
                brackets += 1
            elif kind in _CLOSES and brackets:
                brackets -= 1
            if blocks + brackets > MAX_DEPTH:
                raise TemplateSyntaxError(TOO_DEEP, token.lineno, stream.name, stream.filename)
            yield token


def check_expression(env, source: str) -> None:
    """Refuses an `if` expression nested past MAX_DEPTH, read as `compile_expression` reads
    it; what else is wrong with it, Jinja's own reading says."""
    try:
        expression = Parser(env, source, state="variable").parse_expression()
    except RecursionError:
        expression = None
    except TemplateSyntaxError as err:
        if err.message != TOO_DEEP:
            return
        expression = None
    if expression is None or past_the_limit(expression) is not None:
        raise TemplateSyntaxError(EXPRESSION_TOO_DEEP, 1)


def _deepest(tree, limit: Optional[int] = None) -> tuple:
    """(greatest depth, line of the first node at it, in reading order), walked without
    recursion; the walk stops at the first node deeper than `limit`."""
    best, where = 0, 1
    stack = [(tree, 1, 1)]
    while stack:
        node, depth, line = stack.pop()
        line = getattr(node, "lineno", None) or line
        if depth > best:
            best, where = depth, line
            if limit is not None and depth > limit:
                break
        stack.extend((child, depth + 1, line) for child in reversed(list(node.iter_child_nodes())))
    return best, where


def past_the_limit(tree) -> Optional[int]:
    """The line of the first node (in reading order) deeper than MAX_DEPTH, or None."""
    depth, line = _deepest(tree, MAX_DEPTH)
    return line if depth > MAX_DEPTH else None


def deepest_line(tree) -> int:
    """The line of the first node (in reading order) at the tree's greatest depth."""
    return _deepest(tree)[1]


def longest_tag_line(env, source: str) -> int:
    """Where the reader ran out of stack within MAX_DEPTH tags and brackets (`not` a thousand
    times): the line of the tag with the most tokens, read from Jinja's tokens
    (`Environment.lex`), which come without recursion."""
    most, where, tag_line, tokens = -1, 1, 1, 0
    for line, kind, _ in env.lex(source):
        if kind in ("block_begin", "variable_begin"):
            tag_line, tokens = line, 0
        elif kind in ("block_end", "variable_end"):
            if tokens > most:
                most, where = tokens, tag_line
        elif kind != "whitespace":
            tokens += 1
    return where

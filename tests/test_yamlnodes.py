"""cadence's own nesting guard runs before PyYAML's, whatever PyYAML's limit."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.yamlnodes import _quote_end, flow_too_deep

CASES = [
    # (text, limit, first bracket past the limit or None)
    ("[" * 5, 4, (1, 5)),
    ("a: " + "[" * 5, 4, (1, 8)),
    ("a: '" + "[" * 9 + "'", 4, None),  # inside a single-quoted scalar
    ('a: "x\\"' + "[" * 9 + '"', 4, None),  # an escaped quote does not close it
    ("a: b [[[[[[", 4, None),  # a plain scalar may hold brackets
    ("# [[[[[[[[\na: 1", 4, None),  # a comment
    ("a: [b, {c: [[[d]]]}]", 4, (1, 14)),
    ("a: [b, {c: [[d]]}]", 4, None),
    ("a: don't [[[[[[", 4, None),  # an apostrophe inside a plain scalar opens nothing
    ("- [[\n   [[[", 4, (2, 6)),  # flow collections go on over lines
    ("a: 'x\n  y' [[[[[", 4, None),
]


@pytest.mark.parametrize("text, limit, expected", CASES)
def test_flow_depth(text, limit, expected):
    assert flow_too_deep(text, limit) == expected


def _one_by_one(text: str, limit: int):
    """flow_too_deep as first written, a character at a time: the reading it must keep."""
    depth, line, start, prev, i, n = 0, 1, 0, "", 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, start, prev = line + 1, i + 1, ""
        elif ch in " \t\r":
            pass
        elif ch == "#" and (i == start or text[i - 1] in " \t"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "'\"" and (prev in ("", "-", ":", "?", ",", "[", "{")):
            end = _quote_end(text, i)
            line += text.count("\n", i, end)
            newline = text.rfind("\n", i, end)
            if newline >= 0:
                start = newline + 1
            i, prev = end, ch
            continue
        elif ch in "[{" and (depth or prev in ("", "-", ":", "?")):
            depth += 1
            if depth > limit:
                return line, i - start + 1
        elif ch in "]}" and depth:
            depth -= 1
        if ch not in " \t\r\n":
            prev = ch
        i += 1
    return None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\r\n#'\"[]{}-:?,\\ab", max_size=60), st.integers(0, 6))
def test_flow_depth_reads_as_one_character_at_a_time(text, limit):
    """Going from mark to mark finds the bracket (and its line and column) that reading each
    character finds, in any text of the characters that matter."""
    assert flow_too_deep(text, limit) == _one_by_one(text, limit)


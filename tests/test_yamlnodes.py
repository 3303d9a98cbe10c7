"""cadence's own nesting guard runs before PyYAML's, whatever PyYAML's limit."""
import pytest

from cadence.yamlnodes import flow_too_deep

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

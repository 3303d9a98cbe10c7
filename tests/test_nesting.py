"""How deep a template may nest (cadence.nesting): every way of nesting a template past what Jinja
and Python can read is a template error at a line of the template, in `check`, in `render` and
in a run, never Python's own error; a template nested as deep as cadence allows works."""
from __future__ import annotations

import pytest

from cadence.nesting import MAX_DEPTH
from smallbook import TODAY, build, changed, invoke, snapshot

HEAD = "Subject: Hello\n\nHi {{ contact.name }},\n"  # the nesting starts on line 4


def _blocks(open_tag: str, close_tag: str):
    return lambda n: "".join(open_tag.format(i=i) + "\n" for i in range(n)) + "x" + close_tag * n


def _brackets(before: str, after: str):
    return lambda n: "{{ " + before * n + "contact.name" + after * n + " }}"


# each way to nest: {name: text of n levels}
NESTINGS = {
    "if": _blocks("{{% if contact.name %}}", "{% endif %}"),
    "for": _blocks("{{% for x{i} in [1] %}}", "{% endfor %}"),
    "with": _blocks("{{% with a{i} = 1 %}}", "{% endwith %}"),
    "macro": _blocks("{{% macro m{i}() %}}", "{% endmacro %}"),
    "filter block": _blocks("{{% filter upper %}}", "{% endfilter %}"),
    "set block": _blocks("{{% set s{i} %}}", "{% endset %}"),
    "call block": lambda n: "{% macro m() %}{{ caller() }}{% endmacro %}" + "".join(
        "{% call m() %}\n" for _ in range(n)) + "x" + "{% endcall %}" * n,
    "parentheses": _brackets("(", ")"),
    "lists": _brackets("[", "]"),
    "calls": _brackets("contact.get(", ")"),
    "not": _brackets("not ", ""),
    "minus": _brackets("-", ""),
    "attributes": lambda n: "{{ contact" + ".name" * n + " }}",
    "filters": lambda n: "{{ contact.name" + " | upper" * n + " }}",
    "conditionals": lambda n: "{{ " + "contact.name if contact.name else " * n + "'' }}",
    "and": lambda n: "{{ " + " and ".join(["contact.name"] * n) + " }}",
    "plus": lambda n: "{{ " + " + ".join(["1"] * n) + " }}",
}


def book_with(tmp_path, body: str) -> str:
    return build(tmp_path, {"templates/hello.j2": HEAD + body + "\n"})


@pytest.mark.parametrize("size", [MAX_DEPTH + 1, 3000], ids=["just-past", "far-past"])
@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_a_template_nested_too_deeply_is_an_error_at_its_line(tmp_path, kind, size):
    book = book_with(tmp_path, NESTINGS[kind](size))
    before = snapshot(book)
    for args in (["check"], ["render", "c1", "--today", TODAY], ["run", "--today", TODAY]):
        result = invoke("-C", book, *args)
        assert result.exit_code == 78, (args, result.output)
        first = result.output.splitlines()[0]
        where, _, message = first.partition(": ")
        path, line = where.rsplit(":", 1)
        assert path == f"{book}/templates/hello.j2", first
        assert int(line) >= 4, first
        assert "deep" in message and "Error" not in message, first
    assert changed(before, snapshot(book)) == []


@pytest.mark.parametrize("kind", sorted(set(NESTINGS) - {"for"}))
def test_a_template_as_deep_as_allowed_works(tmp_path, kind):
    """Reading stops past MAX_DEPTH levels of the template's tree (a tag or a bracket is one
    level or more): a template of half as many levels is read and compiled."""
    book = book_with(tmp_path, NESTINGS[kind](MAX_DEPTH // 2 - 2))
    result = invoke("-C", book, "check")
    assert result.exit_code == 0, result.output


def test_twenty_loops_within_each_other_work_and_twenty_one_say_why_not(tmp_path):
    """Python compiles at most 20 blocks within each other: 21 loops are within cadence's
    depth, and the error names the innermost loop's line and Python's reason."""
    book = book_with(tmp_path / "twenty", NESTINGS["for"](20))
    assert invoke("-C", book, "render", "c1", "--today", TODAY).exit_code == 0
    book = book_with(tmp_path / "more", NESTINGS["for"](21))
    result = invoke("-C", book, "check")
    assert result.exit_code == 78
    assert result.output.startswith(
        f"{book}/templates/hello.j2:24: the template nests its loops or blocks too deeply here "
        "(too many statically nested blocks)")


@pytest.mark.parametrize("expression", [
    "(" * 3000 + "contact.vip" + ")" * 3000,
    "not " * 3000 + "contact.vip",
    "not " * MAX_DEPTH + "contact.vip",
    "contact" + ".vip" * 300,
])
def test_an_if_expression_nested_too_deeply_is_refused_where_it_is_written(tmp_path, expression):
    from smallbook import PLAYBOOK

    book = build(tmp_path, {"playbooks/p.yaml": PLAYBOOK + f'rules:\n  - if: "{expression}"\n'
                                                          "    channel: letter\n"})
    result = invoke("-C", book, "check")
    assert result.exit_code == 78, result.output
    assert result.output.startswith(f"{book}/playbooks/p.yaml:17:9: invalid expression in `if`: ")
    assert result.output.splitlines()[0].endswith(f"more than {MAX_DEPTH} deep")


def test_an_if_expression_as_deep_as_allowed_runs(tmp_path):
    from smallbook import PLAYBOOK

    expression = "not " * (MAX_DEPTH - 3) + "contact.vip"
    book = build(tmp_path, {"playbooks/p.yaml": PLAYBOOK + f'rules:\n  - if: "{expression}"\n'
                                                          "    channel: email\n"})
    assert invoke("-C", book, "check").exit_code == 0
    assert invoke("-C", book, "run", "--today", TODAY).exit_code == 0


@pytest.mark.parametrize("kind", ["not", "parentheses", "with", "attributes"])
def test_the_error_is_the_same_whatever_the_stack_already_holds(tmp_path, kind):
    """Jinja's reader runs out of stack at a depth that depends on how deep the caller already
    is (a command, a test, an embedding program): cadence's answer does not."""
    book = book_with(tmp_path, NESTINGS[kind](600))

    def deeper(levels: int):
        return invoke("-C", book, "check") if levels == 0 else deeper(levels - 1)

    outputs = {deeper(levels).output for levels in (0, 300, 700)}
    assert len(outputs) == 1, outputs
    assert " more than 40 deep here" in outputs.pop()

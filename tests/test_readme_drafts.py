"""The README's "Templates and drafts" and `cadence render` examples are real output."""
from __future__ import annotations

import os
import re
import shutil
from datetime import date

import pytest
from typer.testing import CliRunner

from cadence.main import app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONSULTANT = os.path.join(ROOT, "examples", "consultant")


def readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def book(tmp_path, monkeypatch):
    target = tmp_path / "book"
    shutil.copytree(CONSULTANT, target)
    monkeypatch.chdir(target)
    return target


def edit(path, old: str, new: str) -> None:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert old in text
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace(old, new))


CONSOLE = re.compile(r"```console\n\$ cadence -C examples/consultant (render [^\n]*)\n(.*?)```", re.S)


def test_render_examples_show_real_output(book):
    examples = CONSOLE.findall(readme())
    assert len(examples) == 2
    for command, shown in examples:
        result = invoke("-C", book, *command.split())
        assert result.exit_code == 0, result.output
        assert result.stdout == shown, command


def test_date_filter_table(tmp_path):
    from cadence.model import Touch
    from helpers import make_renderer
    from helpers import build_tree, contact, playbook

    section = readme().split("### Dates in the reader's language")[1]
    block = section.split("```jinja\n")[1].split("```")[0]
    rows = [re.match(r"(\{\{.*?\}\})\s+(.*)$", line).groups() for line in block.splitlines()]
    assert len(rows) == 5
    build_tree(tmp_path, {f"t{n}.call.j2": f"{expr}\n" for n, (expr, _) in enumerate(rows)})
    renderer = make_renderer(str(tmp_path), {})
    pb = playbook("phases:\n  - name: a\n    steps:\n      - {at: 1 day, channel: call, template: t}\n")
    for n, (expr, shown) in enumerate(rows):
        touch = Touch("c1", "x", "p", "a", "a-1", "call", f"t{n}", date(2026, 11, 23), 0, "step")
        sheet = renderer.draft(touch, contact(callback="2026-11-25T14:30"), pb, (), touch.due).data
        assert sheet.decode().rstrip().endswith(shown.replace(" г.", "\u202fг.")), expr


def test_check_example_is_real(book):
    edit("templates/new-lead/thanks.j2", "Hello {{ first }},\n\n", "Hello {{ first }},\n{{ contact.nickname }} \n")
    with open("templates/_hello.j2", "w", encoding="utf-8") as handle:
        handle.write("Hello {{ first_name }},\n")
    os.remove("templates/new-lead/questions.email.j2")
    result = invoke("check", "--today", "2026-11-23")
    assert result.exit_code == 78
    shown = readme().split("`cadence check --today 2026-11-23` exits 78 with:\n\n```\n")[1].split("```")[0]
    assert result.stderr == shown
    run = invoke("run", "--today", "2026-11-23")
    assert run.exit_code == 78
    assert run.stderr.strip() in readme()

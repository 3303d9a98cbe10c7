"""The README's command examples on the example book print what the README shows."""
from __future__ import annotations

import os
import re
import shlex

import pytest
from typer.testing import CliRunner

from cadence.main import app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
    README = handle.read()

# ```\n$ cadence -C examples/consultant ARGS\nOUTPUT```  (render examples have their own test)
EXAMPLES = [(m.group(1), m.group(2)) for m in re.finditer(
    r"```\n\$ cadence -C examples/consultant ((?!render)[^\n]*)\n(.*?)```", README, re.S)]


def test_examples_are_found():
    assert {args.split()[0] for args, _ in EXAMPLES} >= {"plan", "forecast", "stats", "check"}


@pytest.mark.parametrize("args,shown", EXAMPLES, ids=[a for a, _ in EXAMPLES])
def test_readme_example(args, shown):
    result = CliRunner().invoke(app, ["-C", os.path.join(ROOT, "examples", "consultant"),
                                      *shlex.split(args)])
    assert result.exit_code == 0, result.output
    lines = shown.splitlines()
    if "..." in lines:  # the README shows the beginning only
        lines = lines[:lines.index("...")]
        assert result.stdout.splitlines()[:len(lines)] == lines
    else:
        assert result.stdout.splitlines() == lines


def test_every_command_has_a_readme_entry():
    from typer.main import get_command

    for name in get_command(app).commands:
        assert f"### `cadence {name}" in README, name


def test_render_examples_show_the_script_the_readme_shows():
    """The README's `render` blocks: their lines appear in the draft, the last one cut at `...`."""
    blocks = re.findall(r"`cadence -C examples/consultant (render [^`]*)`[^`]*?```text\n(.*?)```",
                        README, re.S)
    assert len(blocks) >= 2
    for args, shown in blocks:
        result = CliRunner().invoke(app, ["-C", os.path.join(ROOT, "examples", "consultant"),
                                          *shlex.split(args), "--quiet"])
        assert result.exit_code == 0, result.output
        for line in shown.strip().splitlines():
            line = line.rstrip(". ") if line.endswith("...") else line
            assert line in result.stdout, (args, line)


def test_due_json_example_is_an_item_of_the_example_book():
    import json

    result = CliRunner().invoke(app, ["-C", os.path.join(ROOT, "examples", "consultant"), "due",
                                      "--today", "2026-11-23", "--json"])
    items = json.loads(result.stdout)["due"]
    match = re.search(r'\[\.\.\., (\{"contact": "c016".*?\}), \.\.\.\]', README, re.S)
    assert json.loads(match.group(1).replace("\n  ", " ")) in items


def test_the_first_screen_holds_the_users_command_then_the_test_command_ci_runs():
    """The README opens with the command that runs `cadence due` on the example book, and
    holds the test command that `.ci/run` runs, word for word, before its first section."""
    first = README[:README.index("\n## ")]
    commands = re.findall(r"```sh\n(python3 -m venv[^\n]*)\n```", first)
    assert len(commands) == 2
    assert commands[0].endswith("cadence -C examples/consultant due --today 2026-11-23")
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        assert handle.read().rstrip("\n").splitlines()[-1] == commands[1]
    assert "never sends anything" in first and "--from" in first


def test_the_init_from_example_is_what_init_prints(tmp_path, monkeypatch):
    """README "Start from your own spreadsheet": the Swedish Excel export, as init reads it."""
    import shutil

    shown = re.search(r"```\n\$ cadence init mybook --from ~/Downloads/kunder.csv\n(.*?)```",
                      README, re.S).group(1)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Eva Konsult\n\temail = eva@konsult.example\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    shutil.copy(os.path.join(ROOT, "tests", "sheets", "swedish-excel.csv"), tmp_path / "kunder.csv")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init", "mybook", "--from", "kunder.csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout == shown


def test_the_mornings_commands_work_on_inits_book(tmp_path):
    """README "A morning with cadence": the commands after the day's run, on `init`'s book,
    each as written (exit 0)."""
    block = README.split("Then you send what you drafted", 1)[1].split("```sh\n", 1)[1]
    commands = [line.split("  #", 1)[0].strip() for line in block.split("```", 1)[0].splitlines()
                if line.startswith("cadence ")]
    assert len(commands) >= 10
    runner = CliRunner()
    book = str(tmp_path / "mybook")
    assert runner.invoke(app, ["init", book, "--sender-name", "Eva", "--sender-email",
                               "eva@konsult.example"]).exit_code == 0
    for day in ("2026-12-03", "2026-12-04"):
        assert runner.invoke(app, ["-C", book, "run"], env={"CADENCE_TODAY": day}).exit_code == 0
    for command in commands:
        result = runner.invoke(app, ["-C", book, *shlex.split(command)[1:]],
                               env={"CADENCE_TODAY": "2026-12-04"})
        assert result.exit_code == 0, (command, result.output)

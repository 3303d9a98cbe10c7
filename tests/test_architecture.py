"""The allowed import directions, written down as data (beancount's dependency constraints)."""
from __future__ import annotations

import ast
import os

import cadence

PACKAGE = os.path.dirname(cadence.__file__)

# module -> top-level packages it must never import, directly or lazily
FORBIDDEN = {
    "model": {"yaml", "jinja2", "typer", "rich", "click", "filelock"},
    "engine": {"yaml", "jinja2", "typer", "rich", "click", "filelock", "os", "time"},
    "durations": {"yaml", "jinja2", "typer", "rich", "click"},
    "contacts": {"yaml", "jinja2", "typer", "rich", "click"},
    "playbook": {"jinja2", "typer", "rich", "click"},
    "ledger": {"jinja2", "typer", "rich", "click"},
    "journal": {"yaml", "jinja2", "typer", "rich", "click"},
    "lookup": {"jinja2", "typer", "rich"},
    "book": {"typer", "rich", "click"},
    "files": {"typer", "rich", "jinja2", "yaml"},
}
# Cadence's own modules the pure core may not reach.
CORE_MAY_NOT_IMPORT = {"cli", "commands", "render", "files", "book", "playbook", "ledger", "config"}


def imports_of(module: str) -> set:
    with open(os.path.join(PACKAGE, module + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found |= {"." + (node.module or "")}
            else:
                found.add(node.module or "")
    return found


def test_forbidden_imports():
    for module, banned in FORBIDDEN.items():
        tops = {name.split(".")[0] for name in imports_of(module) if not name.startswith(".")}
        assert not tops & banned, f"{module}.py imports {sorted(tops & banned)}"


def test_core_stays_pure():
    for module in ("model", "engine"):
        local = {name[1:].split(".")[0] for name in imports_of(module) if name.startswith(".")}
        assert not local & CORE_MAY_NOT_IMPORT, f"{module}.py imports {sorted(local & CORE_MAY_NOT_IMPORT)}"


def test_nothing_below_the_cli_reads_the_clock():
    for filename in os.listdir(PACKAGE):
        if not filename.endswith(".py") or filename == "cli.py":
            continue
        with open(os.path.join(PACKAGE, filename), encoding="utf-8") as handle:
            text = handle.read()
        for call in ("date.today(", "datetime.now(", "time.time(", "datetime.utcnow("):
            assert call not in text, f"{filename} reads the clock with {call}"

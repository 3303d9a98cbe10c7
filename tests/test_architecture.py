"""The allowed import directions, written down as data and checked on every module (beancount's
tools/dependency_constraints.py is the model).

Data flows one way: files -> parsers -> a frozen model -> a pure engine -> renderers and
writers -> files. Only the edge (the CLI, its commands, the loader and the file writer) touches
the disk, the clock, the environment and the terminal.
"""
from __future__ import annotations

import ast
import os
import sys

import cadence

PACKAGE = os.path.dirname(cadence.__file__)

# module -> (cadence modules it may import, third-party packages it may import)
ALLOWED = {
    "__init__": (set(), set()),
    "skeleton.__init__": (set(), set()),
    "__main__": ({"main"}, set()),
    "main": ({"cli", "commands"}, set()),
    # the model and the pure engine
    "model": ({"addresses"}, set()),
    "addresses": (set(), {"idna"}),
    "durations": ({"model"}, set()),
    "steps": ({"model"}, set()),
    "ladder": ({"model"}, set()),
    "state": ({"model", "steps", "journal", "addresses", "ladder"}, set()),
    "candidates": ({"model", "steps", "state", "ladder"}, set()),
    "engine": ({"model", "steps", "state", "candidates", "ladder"}, set()),
    "takeback": ({"model", "engine", "journal", "state", "steps"}, set()),
    "report": ({"model", "engine", "steps", "trail"}, set()),
    "guess": ({"model", "sheet_dates"}, set()),
    # what the mailbox shows, weighed against the book
    "mailmatch": ({"model", "journal", "mailparse", "emails", "addresses"}, set()),
    "mailacts": ({"model", "journal", "mailmatch", "emails", "engine", "addresses", "trail"},
                 set()),
    "lint": ({"model"}, set()),
    "lint_contacts": ({"model", "lint", "engine", "steps"}, set()),
    "readiness": ({"model"}, set()),
    # parsers: bytes and text in, model values and problems out
    "yamlnodes": ({"model", "durations"}, {"yaml"}),
    "config": ({"model", "yamlnodes", "mailconfig", "sheet", "sheet_dates"}, {"yaml", "babel"}),
    "mailconfig": ({"model", "yamlnodes"}, {"yaml"}),
    "mailparse": ({"addresses"}, set()),
    "playbook": ({"model", "durations", "yamlnodes", "lint"}, {"yaml", "holidays"}),
    "ledger_file": ({"model"}, set()),
    "ledger_csv": ({"model", "ledger_file"}, set()),
    "ledger_yaml": ({"model", "ledger_file", "yamlnodes"}, {"yaml"}),
    "ledger": ({"model", "ledger_file", "ledger_csv", "ledger_yaml"}, set()),
    "sheet_dates": (set(), set()),
    "sheet": ({"model", "ledger_file", "ledger", "contacts", "sheet_dates"}, set()),
    "contacts": ({"model"}, set()),
    "journal": ({"model"}, set()),
    "trail": ({"model", "journal", "addresses"}, set()),
    # renderers: values in, bytes out
    "lookup": (set(), set()),
    "emails": ({"addresses"}, set()),
    "template_lint": ({"model", "lookup"}, {"jinja2"}),
    "nesting": (set(), {"jinja2"}),
    "bounds": ({"nesting"}, {"jinja2"}),
    "sandbox": ({"model", "lookup", "template_lint", "bounds"}, {"jinja2", "babel"}),
    "labels": (set(), {"babel"}),
    "drafts": ({"model", "lookup", "emails", "sandbox", "state", "ladder", "labels"}, set()),
    "overview": ({"lookup", "emails", "labels"}, {"icalendar"}),
    "export": ({"model"}, set()),
    # the edge: reading the book, writing files, what commands share, the terminal
    "files": ({"model"}, {"filelock"}),
    "draftfiles": ({"model", "files"}, set()),
    "commit": ({"model", "files", "draftfiles"}, set()),
    "guard": ({"model"}, set()),
    "cache": ({"journal", "trail"}, set()),
    "book": ({"model", "files", "commit", "lookup", "config", "playbook", "ledger", "sheet", "contacts", "journal",
              "trail", "sandbox", "drafts", "cache", "guard"}, {"jinja2"}),
    "places": ({"model"}, set()),
    "actions": ({"model", "engine", "journal", "ledger", "overview", "files", "commit", "lookup", "steps", "places",
                 "takeback", "trail"}, set()),
    "why": ({"engine", "actions", "steps", "state"}, set()),
    "terminal": (set(), {"rich"}),
    "helptext": (set(), {"typer"}),
    "mailbox": ({"model", "mailconfig", "mailparse", "mailpass"}, {"imapclient"}),
    "mailpass": ({"model", "mailconfig"}, set()),
    "cli": ({"model", "book", "helptext", "terminal", "sheet_dates"}, {"typer", "tzlocal"}),
}
# every command may use these; no command imports another
COMMAND = ({"cli", "terminal", "actions", "book", "config", "engine", "state", "steps", "export", "files", "commit", "lint", "lint_contacts", "lookup",
            "model", "report", "template_lint", "journal", "drafts", "emails", "takeback", "trail",
            "contacts", "durations", "ledger", "mailconfig", "mailbox", "mailmatch", "mailacts",
            "mailparse", "mailpass", "cache", "addresses", "guess", "sheet", "sheet_dates", "readiness", "ledger_file",
            "helptext", "why", "places"},
           {"typer", "tzlocal"})
EDGE = {"main", "cli", "book", "files", "commit", "draftfiles", "cache", "actions", "places", "terminal", "mailbox", "mailpass", "guard",
        "helptext", "why"}  # and every command

# what only the edge may call: the disk, the clock, the environment, the terminal
FORBIDDEN_CALLS = {
    "open", "print", "input", "os.environ", "os.getenv", "os.listdir", "os.scandir", "os.stat",
    "os.walk", "os.getcwd", "os.path.exists", "os.path.isfile", "os.path.isdir",
    "os.path.expanduser", "os.path.abspath", "os.path.realpath", "os.path.getsize",
    "date.today", "datetime.now", "datetime.utcnow", "datetime.today", "time.time",
    "time.monotonic", "sys.stdout", "sys.stderr", "sys.stdin", "sys.argv",
}


def modules() -> dict:
    """{module name relative to the package: path} of every module in the package."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, PACKAGE)[:-3].replace(os.sep, ".")
                found[rel] = path
    return found


def imports(module: str, path: str) -> tuple:
    """(cadence modules, top-level third-party packages) that a module imports, lazily too."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    package = module.split(".")[:-1] if not module.endswith("__init__") else module.split(".")[:-1]
    local, third = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top == "cadence":
                    local.add(alias.name.split(".", 1)[1])
                elif top not in sys.stdlib_module_names:
                    third.add(top)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
                if node.module:
                    local.add(name)
                else:
                    local.update(".".join(base + [a.name]) for a in node.names)
            else:
                top = node.module.split(".")[0]
                if top == "cadence":
                    local.add(node.module.split(".", 1)[1])
                elif top not in sys.stdlib_module_names:
                    third.add(top)
    local.discard("")
    return {name for name in local if name != "__version__"}, third


def allowed(module: str) -> tuple:
    if module.startswith("commands.") and module != "commands.__init__":
        return COMMAND
    if module == "commands.__init__":
        return (set(), set())
    return ALLOWED[module]


def test_every_module_is_in_the_allow_list():
    listed = set(ALLOWED) | {m for m in modules() if m.startswith("commands.")}
    assert set(modules()) == listed, "add the module to ALLOWED, with what it may import"


def test_the_readme_maps_every_module():
    """README "Development" draws the house: every module of the package has its place there."""
    import re

    with open(os.path.join(os.path.dirname(PACKAGE), "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = readme.split("## Development", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"\b([a-z_]+)\.py\b", block))
    missing = sorted(m for m in modules() if "." not in m and not m.startswith("__")
                     and m not in named)
    assert not missing, f"README's Development map lacks {missing}"


def test_every_import_is_allowed():
    wrong = []
    for module, path in sorted(modules().items()):
        local, third = imports(module, path)
        may_local, may_third = allowed(module)
        wrong += [f"{module} imports cadence.{name}" for name in sorted(local - may_local)]
        wrong += [f"{module} imports {name}" for name in sorted(third - may_third)]
    assert not wrong, "\n".join(wrong)


def test_no_command_imports_another():
    for module, path in modules().items():
        if module.startswith("commands."):
            local, _ = imports(module, path)
            assert not {n for n in local if n.startswith("commands")}, module


def test_the_allowed_imports_have_no_circle():
    graph = {module: {n for n in allowed(module)[0] if n in ALLOWED or n == "commands"}
             for module in ALLOWED}
    graph["commands"] = COMMAND[0]
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", " -> ".join(trail + [node])
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])
        state[node] = "done"

    for module in sorted(graph):
        visit(module, [])


def _calls(tree) -> set:
    """Dotted names of what a module calls or reads: `open`, `os.environ`, `date.today`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name):
                parts.append(node.id)
                name = ".".join(reversed(parts))
                found.update(".".join(name.split(".")[:i]) for i in range(2, name.count(".") + 2))
    return found


def test_only_the_edge_touches_the_disk_the_clock_the_environment_and_the_terminal():
    wrong = []
    for module, path in sorted(modules().items()):
        if module in EDGE or module.startswith("commands."):
            continue
        with open(path, encoding="utf-8") as handle:
            used = _calls(ast.parse(handle.read())) & FORBIDDEN_CALLS
        wrong += [f"{module} uses {name}" for name in sorted(used)]
    assert not wrong, "\n".join(wrong)


def test_modules_are_readable_in_one_sitting():
    """No module over ~400 lines without a reason written at its top."""
    for module, path in modules().items():
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if text.count("\n") > 420:
            assert "Longer than most" in text[:2000], f"{module} has {text.count(chr(10))} lines"

"""`cadence check`: validate the whole book, then lint it."""
from __future__ import annotations

import os

import typer

from ..cli import QUIET, quiet, JSON, OPTIONS, app, config, emit_json, fail, say
from ..model import EXIT_CONFIG, Failure, Problem, Source


def _template_problems(renderer) -> list:
    """Syntax errors in every template, found without rendering."""
    from jinja2 import TemplateSyntaxError

    problems = []
    for name in sorted(renderer.names):
        path = os.path.join(renderer.folder, name + ".j2")
        try:
            with open(path, encoding="utf-8") as handle:
                renderer.env.parse(handle.read(), name=name, filename=path)
        except TemplateSyntaxError as err:
            problems.append(Problem(Source(os.path.relpath(path), err.lineno or 0), err.message,
                                    code=EXIT_CONFIG))
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Problem(Source(os.path.relpath(path)), f"unreadable template: {err}",
                                    code=EXIT_CONFIG))
    return problems


def lint(loaded, renderer) -> list:
    """Warnings: what is valid but probably not meant."""
    from ..engine import is_stranded
    from ..lookup import template_file

    warnings = []
    for index, contact in enumerate(loaded.book.contacts):
        playbook = loaded.book.playbooks.get(contact.playbook)
        if playbook is not None and is_stranded(contact, playbook):
            warnings.append(Problem(
                loaded.ledger.source(index, "last_step"),
                f"contact {contact.id!r}: last_step {contact.last_step!r} is not in playbook "
                f"{playbook.name!r}", "cadence reads it as the last step dated on or before "
                "last_touch; set last_step to a step of the playbook", 65, warning=True))
    for playbook in loaded.book.playbooks.values():
        for phase in playbook.phases:
            uses = [(s.template, s.channel, s.source) for s in phase.steps]
            uses += [(t, phase.channel, phase.source) for t in phase.templates]
            for template, channel, source in uses:
                if channel != "email":
                    continue
                filename = template_file(template, channel, renderer.names)
                if filename and not _has_subject(os.path.join(renderer.folder, filename)):
                    warnings.append(Problem(source, f"template {filename!r} is used for email but "
                                            "does not begin with a `Subject:` line",
                                            code=EXIT_CONFIG, warning=True))
    return warnings


def _has_subject(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().startswith("Subject:")
    except (OSError, UnicodeDecodeError):
        return False


@app.command()
def check(
    as_json: bool = JSON,
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero on warnings too."),
    quiet_: bool = QUIET,
) -> None:
    """Validate config, playbooks, templates and ledger; lint the playbooks."""
    quiet(quiet_)
    from ..book import lazy_condition, load
    from ..render import Renderer

    try:
        cfg = config()
        renderer = Renderer(cfg.templates, cfg.sender, cfg.timezone)
        template_errors = _template_problems(renderer)
        try:
            loaded = load(cfg, renderer.check_expr, lazy_condition(cfg))
        except Failure as err:
            raise Failure(list(err.problems) + template_errors) from None
        if template_errors:
            raise Failure(template_errors)
        warnings = list(loaded.warnings) + lint(loaded, renderer)
    except Failure as err:
        if OPTIONS.debug:
            raise
        fail(err, as_json=as_json)
    warnings.sort()
    for problem in warnings:
        typer.echo(str(problem), err=True)
    if as_json:
        emit_json({"errors": [], "warnings": [
            {"source": str(p.source), "message": p.message, "hint": p.hint} for p in warnings]})
    else:
        book = loaded.book
        say(f"ok: {len(book.playbooks)} playbooks, {len(renderer.names)} templates, "
            f"{len(book.contacts)} contacts; {len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
    if strict and warnings:
        raise typer.Exit(1)

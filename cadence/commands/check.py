"""`cadence check`: validate the whole book, then lint it."""
from __future__ import annotations

import os
from typing import Optional

import typer

from ..cli import (load_book, QUIET, quiet, JSON, OPTIONS, TODAY, APP as app, config, echo_problems, emit_json, fail, relative, resolve_today, say, write_outside)
from ..helptext import INSIGHT
from ..model import EXIT_CONFIG, EXIT_DATA, Failure, Problem, Source, count, id_key

def _template_problems(renderer) -> list:
    """Syntax errors and unknown filters in every template, found without rendering."""
    return [p for p in (renderer.compile_problem(n) for n in sorted(renderer.names)) if p]


def _shown(renderer, filename: str) -> str:
    from ..cli import display_path

    return display_path(os.path.join(renderer.folder, filename))


def lint(loaded, renderer, day) -> list:
    """Warnings: what is valid but probably not meant, and playbooks that go against the
    practice of the seeds (cadence.lint, cadence.lint_contacts)."""
    from ..lint_contacts import book_warnings

    return book_warnings(loaded.book, loaded.ledger, day) + _twin_warnings(renderer) + \
        _outside_warnings(loaded.config) + _setup_warnings(loaded)


def _future_warnings(loaded, day) -> list:
    """One warning for the journal's rows dated after `day`, at the first of them."""
    from ..book import rows_after

    later = rows_after(loaded.config, loaded.ledger_bytes, day)
    if not later:
        return []
    number, when = later[0]
    return [Problem(Source(loaded.config.history, number, 1),
                    f"{count(len(later), 'journal row')} dated after {day}, the first on "
                    f"{when}: a touch dated ahead counts as made, a status holds from now on, "
                    "and `undo` takes the latest run back first", "if a date is a "
                    "typo, correct it in the journal (cadence only appends to it)", EXIT_DATA,
                    warning=True)]


def _setup_warnings(loaded) -> list:
    """A placeholder sender; call-backs with a time in a book without a timezone."""
    from ..readiness import as_warnings, sender_findings, timezone_findings

    cfg = loaded.config
    return as_warnings(sender_findings(cfg) + timezone_findings(cfg, loaded.book.contacts,
                                                                loaded.ledger))


def _outside_warnings(cfg) -> list:
    """Paths in cadence.yaml that lead out of the book's folder: a place to read (a shared
    templates folder), or one to write that the user allowed (CADENCE_WRITE_OUTSIDE: drafts
    in the mail client's folder), said, since cadence reads or writes there. A place to write
    that is not allowed is an error (`actions.places_outside`), as `run` finds it."""
    from ..places import places_outside
    from ..config import PATH_KEYS

    refused = {p.source for p in places_outside(cfg, write_outside())}
    warnings, said = [], set()
    for key in PATH_KEYS:
        place = cfg.places.get(key)
        path = getattr(cfg, key)
        if place is None or os.path.commonpath([cfg.root, path]) == cfg.root or place in refused:
            continue
        verb = "writes" if key in ("drafts", "history", "ledger") else "reads"
        shown = os.path.relpath(path, cfg.root)
        said.add(key)
        warnings.append(Problem(place, f"`{key}` leads out of the book's folder, to {shown}",
                                f"cadence {verb} there; keep it so if that is meant",
                                EXIT_CONFIG, warning=True))
    book = os.path.realpath(cfg.root)
    root = _repository(book)
    for key in ("playbooks", "templates"):  # a folder read through a link the book holds
        path = getattr(cfg, key)
        real = os.path.realpath(path)
        # a folder that holds the book itself (`templates -> ..`, a home folder kept in git)
        # is no shared folder of the repository: said wherever it is
        widened = real != book and os.path.commonpath([book, real]) == real
        if key not in said and (widened or os.path.commonpath([root, real]) != root):
            warnings.append(Problem(Source(path), f"the {key} folder is a link out of the book's "
                                    f"folder, to {real}",
                                    f"cadence reads the {key} there"
                                    + (" (only .j2 files are templates)" if key == "templates"
                                       else "") + "; keep it so if that is meant", EXIT_CONFIG,
                                    warning=True))
    return warnings


def _repository(root: str) -> str:
    """The git working tree that holds the book (a book inside a repository, as the bundled
    examples link to the repository's own playbooks and templates), else the book's folder:
    where a link in the book may lead without a warning."""
    folder = root
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return root
        folder = parent


def _twin_warnings(renderer) -> list:
    """HTML twins that no text template has, or that repeat the subject line."""
    from ..lookup import HTML, SUFFIX

    warnings = []
    for name in sorted(n for n in renderer.names if n.endswith(HTML)):
        text = name[: -len(HTML)]
        if text not in renderer.names:
            warnings.append(Problem(Source(_shown(renderer, name + SUFFIX)),
                                    f"HTML twin of {text + SUFFIX!r}, which does not exist",
                                    "name it after its text template: T.email.j2 -> "
                                    "T.email.html.j2", EXIT_CONFIG, warning=True))
        elif renderer.has_subject(name + SUFFIX):
            warnings.append(Problem(Source(_shown(renderer, name + SUFFIX), 1),
                                    "an HTML twin holds the body only; the subject comes from "
                                    f"{text + SUFFIX!r}", "remove the `Subject:` line",
                                    EXIT_CONFIG, warning=True))
    return warnings


# -- which templates the playbooks use, by which channels ---------------------------------------

def _uses(playbook) -> list:
    """(template, channel, source, label, channels, ruled) for each template a playbook may
    render: `channels` are the use's own, then those an `if` rule may give a scheduled touch
    (`ruled`) and those it may fall back to (SPEC section 5)."""
    ruled = tuple(dict.fromkeys(rule.channel for rule in playbook.ifs))

    def use(template, wanted, source, label, fallback, scheduled=False):
        channels = _channels(playbook, wanted, fallback)
        given = tuple(c for c in ruled if c != wanted) if scheduled else ()
        return (template, wanted, source, label,
                channels[:1] + list(given) + [c for c in channels[1:] if c not in given], given)

    uses = []
    for phase in playbook.phases:
        uses += [use(s.template, s.channel, s.source, f"step {s.id!r}",
                     s.fallback if s.fallback is not None else phase.fallback, True)
                 for s in phase.steps]
        uses += [use(t, phase.channel, phase.source, f"phase {phase.name!r}", phase.fallback, True)
                 for t in phase.templates]
    uses += [use(r.template, r.then, r.source, "the no_reply rule", r.fallback)
             for r in playbook.no_reply]
    if playbook.birthday is not None:
        uses.append(use(playbook.birthday.template, playbook.birthday.channel,
                        playbook.birthday.source, "the birthday rule", playbook.birthday.fallback))
    return uses


def _channels(playbook, wanted: str, fallback=None) -> list:
    """The use's channel, then those it may fall back to (SPEC section 5; a step's or phase's
    `fallback`)."""
    others = fallback if fallback is not None else playbook.channels
    return [wanted] + [c for c in others if c != wanted]


def _unusable(renderer, template: str, channel: str) -> Optional[str]:
    """Why template T cannot be rendered for a channel, or None when it can."""
    from ..lookup import template_file

    filename = template_file(template, channel, renderer.names)
    if not filename:
        return f"neither {template}.{channel}.j2 nor {template}.j2 exists"
    if channel == "email" and not renderer.has_subject(filename):
        return f"{_shown(renderer, filename)} does not begin with a `Subject:` line"
    return None


def used_templates(loaded, renderer) -> set:
    """Template files a playbook may render (every fallback channel), with their HTML twins."""
    from ..lookup import html_twin, template_file

    used = set()
    for playbook in loaded.book.playbooks.values():
        uses = _uses(playbook) + [(playbook.callback_template, "call", playbook.source, "",
                                   _channels(playbook, "call"), ())]
        for template, _, _, _, channels, _ in uses:
            for channel in channels:
                filename = template_file(template, channel, renderer.names)
                if filename:
                    used.add(filename)
                    if channel == "email" and html_twin(filename)[:-3] in renderer.names:
                        used.add(html_twin(filename))
    return used


def variant_problems(loaded, renderer, day) -> tuple:
    """(errors, warnings) of SPEC section 6: a template with no variant a channel can use.

    A warning for each step and channel it may fall back to; an error when a contact's next
    touch (as of `day`) needs that variant.
    """
    from ..actions import next_touch

    warnings = []
    for name in sorted(loaded.book.playbooks):
        playbook = loaded.book.playbooks[name]
        for template, wanted, source, label, channels, ruled in _uses(playbook):
            for channel in channels:
                misread = _read_out(renderer, template, channel, wanted)
                if misread:
                    written = "an email" if renderer.has_subject(f"{template}.j2") else \
                        f"written for {wanted}"
                    warnings.append(Problem(
                        source, f"{label} of playbook {name!r}: template {template!r} is "
                        f"{written}, and falling back to {channel} it would be {misread}",
                        _read_out_hint(renderer, template, channel, label), EXIT_CONFIG,
                        warning=True))
                reason = _unusable(renderer, template, channel)
                if reason is None:
                    continue
                how = "its channel" if channel == wanted else \
                    "the channel an `if` rule gives it" if channel in ruled else \
                    "a channel it may fall back to"
                warnings.append(Problem(
                    source, f"{label} of playbook {name!r}: template {template!r} has no variant "
                    f"for {channel}, {how}: {reason}", f"add {_variant(renderer, template, channel)}",
                    EXIT_CONFIG, warning=True))
    book, needs = loaded.book, {}
    for contact in book.contacts:
        found = next_touch(book, contact, day)
        if found is None:
            continue
        touch = found[0]
        reason = _unusable(renderer, touch.template, touch.channel)
        if reason is not None:
            needs.setdefault((touch.template, touch.channel, reason), []).append(touch)
    errors = []
    for (template, channel, reason), touches in sorted(needs.items()):
        touches.sort(key=lambda t: (t.due, t.contact))
        first, many = touches[0], len(touches) > 1
        who = ", ".join(repr(t.contact) for t in touches)
        article = "an" if channel[0] in "aeiou" else "a"
        errors.append(Problem(
            _template_source(renderer, template, channel, book.playbooks[first.playbook]),
            f"contact{'s' if many else ''} {who} need{'' if many else 's'} {article} {channel} "
            f"variant of template {template!r} for the next touch ({first.step} on "
            f"{first.due}): {reason}", f"add {_variant(renderer, template, channel)}", EXIT_CONFIG))
    return errors, warnings


_SPOKEN = {"call": "read out as a call script", "sms": "sent as a text message",
           "messenger": "sent as a messenger message"}


def _read_out(renderer, template: str, channel: str, wanted: str) -> str:
    """How a text written for another channel would be misused when a touch falls back to a
    spoken one (a call, a text message) that has no variant of its own: an email, or the letter
    of a touch meant for email or paper, read out as a call script. "" when it would not."""
    from ..lookup import template_file

    if channel not in _SPOKEN:
        return ""
    filename = template_file(template, channel, renderer.names)
    if filename != f"{template}.j2":
        return ""  # none at all (another warning says so), or its own variant
    if channel == wanted and not renderer.has_subject(filename):
        return ""  # written for this very channel
    return _SPOKEN[channel]


def _read_out_hint(renderer, template: str, channel: str, label: str) -> str:
    kind = "rule" if label.startswith("the ") else label.split()[0]
    return (f"add {_variant(renderer, template, channel)}, or give the {kind} a `fallback` "
            f"without {channel} (`fallback: skip` skips the touch)")


def _variant(renderer, template: str, channel: str) -> str:
    return _shown(renderer, f"{template}.{channel}.j2")


def _template_source(renderer, template: str, channel: str, playbook) -> Source:
    """The template's file when there is one, else the step or rule that names it."""
    from ..lookup import template_file

    filename = template_file(template, channel, renderer.names)
    if filename:
        return Source(_shown(renderer, filename), 1)
    return next((source for name, _, source, _, channels, _ in _uses(playbook)
                 if name == template and channel in channels), playbook.source)


def variable_problems(loaded, renderer, used) -> tuple:
    """(errors, warnings): variables a template uses that neither the context nor the ledger has.

    Errors in the templates the playbooks use and in what they include or extend (which sees
    the names its includer sets); warnings in the others.
    """
    from ..template_lint import once_a_column

    columns = loaded.ledger.columns
    if not loaded.ledger.rows and loaded.ledger.kind == "yaml":
        columns = None  # a YAML ledger without contacts has no columns to judge templates by
    errors = _lint_from(renderer, sorted(used), columns, warning=False)
    reached = _reached(renderer, used)
    rest = sorted(n + ".j2" for n in renderer.names if n + ".j2" not in reached)
    return once_a_column(errors), once_a_column(
        _lint_from(renderer, rest, columns, warning=True, follow=False))


def _reached(renderer, used) -> set:
    """The used templates and everything they include, import or extend."""
    seen, stack = set(), list(used)
    while stack:
        filename = stack.pop()
        if filename in seen or filename[:-3] not in renderer.names:
            continue
        seen.add(filename)
        stack += [ref for ref, _ in renderer.lint_template(filename, ())[1]]
    return seen


def _lint_from(renderer, start, columns, warning: bool, follow: bool = True) -> list:
    """Problems of the `start` templates and, with `follow`, of what they include or extend."""
    problems, seen = set(), set()
    stack = [(filename, frozenset()) for filename in reversed(start)]
    while stack:
        filename, inherited = stack.pop()
        if (filename, inherited) in seen:
            continue
        seen.add((filename, inherited))
        findings, refs, names = renderer.lint_template(filename, columns, inherited)
        shown = _shown(renderer, filename)
        for line, col, message, hint in findings:
            problems.add(Problem(Source(shown, line, col), message, hint, EXIT_CONFIG, warning))
        for ref, line in refs:
            if ref[:-3] in renderer.names and ref.endswith(".j2"):
                if follow:
                    stack.append((ref, names))
            else:
                problems.add(Problem(Source(shown, line), f"includes {ref!r}, which is not a "
                                     "template of the book", "template names count from the "
                                     "templates folder, e.g. \"_signature.j2\"", EXIT_CONFIG, warning))
    return sorted(problems)


@app.command(rich_help_panel=INSIGHT)
def check(
    today: Optional[str] = TODAY,
    as_json: bool = JSON,
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero on warnings too."),
    quiet_: bool = QUIET,
) -> None:
    """Validate config, playbooks, templates and ledger; lint the playbooks and templates."""
    quiet(quiet_)
    from ..places import places_outside
    from ..book import expressions, template_names
    from ..template_lint import TemplateReader

    try:
        cfg = config()
        day = resolve_today(today, cfg)
        exprs = expressions(cfg)
        renderer = TemplateReader(exprs.sandbox(), cfg.templates, template_names(cfg.templates))
        template_errors = _template_problems(renderer)
        try:
            loaded = load_book(cfg, expressions=exprs)
        except Failure as err:
            raise Failure(list(err.problems) + template_errors) from None
        if template_errors:
            raise Failure(template_errors)
        errors, warnings = variable_problems(loaded, renderer, used_templates(loaded, renderer))
        needed, fallbacks = variant_problems(loaded, renderer, day)
        errors += needed + places_outside(cfg, write_outside())  # what `run` refuses too
        warnings = list(loaded.warnings) + lint(loaded, renderer, day) + warnings + \
            fallbacks + _future_warnings(loaded, day)
        if errors:
            raise Failure(errors + warnings)
    except Failure as err:
        if OPTIONS.debug:
            raise
        fail(err, as_json=as_json)
    warnings = sorted(set(relative(p) for p in warnings))
    if not OPTIONS.quiet or strict:
        echo_problems(warnings)
    from ..lint_contacts import ledger_news

    restored, gone, renamed = ledger_news(loaded.book, loaded.ledger.made_ids)
    if as_json:
        emit_json({"errors": [], "warnings": [
            {"source": str(p.source), "message": p.message, "hint": p.hint} for p in warnings],
            "restorable": restored, "not_in_ledger": gone,
            "renamed": [{"journal": old, "ledger": new} for old, new in renamed]})
    else:
        book = loaded.book
        say(f"ok: {count(len(book.playbooks), 'playbook')}, "
            f"{count(len(renderer.names), 'template')}, {count(len(book.contacts), 'contact')}; "
            f"{count(len(warnings), 'warning')}")
        if restored:
            say(f"The ledger lost the state of {count(restored, 'row')} "
                "(a fresh download?): the next run gives it back from the journal.")
        if gone:
            shown = ", ".join(gone[:5]) + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
            say(f"The journal holds {count(len(gone), 'contact')} the ledger does not ({shown}): "
                "their rows are kept, and a row put back with its id gets its state from them.")
            for old, new in renamed[:5]:
                if id_key(old) == id_key(new):
                    say(f"Row {new!r} and the journal's {old!r} are the same letters in "
                        "another Unicode form (typed on another system): the journal's rows "
                        "are not its history until the ids match; copy the id from the "
                        "journal into the ledger's cell.")
                    continue
                say(f"Renamed? Row {new!r} has an id made from its name, and {old!r} a "
                    f"history in the journal: if they are one person, give that row the id "
                    f"{old} (an `id` column in the sheet) to keep it.")
            if len(renamed) > 5:
                say(f"And {len(renamed) - 5} more such rows (`check --json` lists them).")
    if strict and warnings:
        raise typer.Exit(1)

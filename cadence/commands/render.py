"""`cadence render ID`: a contact's next draft on stdout, to preview a template. Writes nothing."""
from __future__ import annotations

import re
from typing import Optional

import typer

from ..cli import (load_book, QUIET, quiet, OPTIONS, TODAY, APP as app, config, guarded,
                   resolve_today)
from ..terminal import visible
from ..helptext import INSIGHT
from ..model import EXIT_USAGE, Failure, Problem, Source, Touch

NOTHING = 1  # exit code: the contact has no touch to render
_NUMBERED = re.compile(r"^(.*)-([0-9]{1,18})$")  # as steps.find_step counts


@app.command(rich_help_panel=INSIGHT)
def render(
    contact_id: str = typer.Argument(..., metavar="ID", help="The contact's id."),
    step: Optional[str] = typer.Option(None, "--step", metavar="STEP",
                                       help="Render this step of the contact's playbook instead."),
    today: Optional[str] = TODAY,
    raw: bool = typer.Option(False, "--raw", help="Print the draft's bytes exactly as `run` "
                             "writes them (an .eml with its MIME encoding)."),
    quiet_: bool = QUIET,
) -> None:
    """Print a contact's next draft (due today, else the next planned) without writing it."""
    quiet(quiet_)
    from ..book import read_history, renderer as make_renderer

    with guarded():
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)
        renderer = make_renderer(cfg, loaded.templates)
        index, contact = loaded.contact(contact_id)
        if step is None:
            touch, extra, when = _next(loaded, index, contact, day)
        else:
            touch, extra, when = _step(loaded, index, contact, step, day)
        playbook = loaded.book.playbooks[touch.playbook]
        history = read_history(cfg, {contact.id}, loaded.ledger_bytes).get(contact.id, ())
        draft = renderer.draft(touch, contact, playbook, history + extra, when)
    if not OPTIONS.quiet:
        typer.echo(f"{contact.id}: {touch.step} by {touch.channel} on {when}, from "
                   f"{_used(renderer, touch)}, as {draft.name}", err=True)
    if raw:
        typer.echo(draft.data, nl=False)  # the draft's bytes, as written, for a program
    elif not draft.name.endswith(".eml"):
        typer.echo(visible(draft.data.decode("utf-8", "replace")), nl=False)
    else:
        typer.echo(visible(readable(draft.data)), nl=False)


def _used(renderer, touch) -> str:
    """The template file (and HTML twin) a draft comes from, as a path people can open."""
    import os

    from ..cli import display_path
    from ..lookup import html_twin, template_file

    filename = template_file(touch.template, touch.channel, renderer.names)
    shown = display_path(os.path.join(renderer.folder, filename))
    twin = html_twin(filename)
    if touch.channel == "email" and twin[:-3] in renderer.names:
        shown += " and " + display_path(os.path.join(renderer.folder, twin))
    return shown


def _next(loaded, index, contact, day) -> tuple:
    """(touch, journal rows today's run adds first, day to render on), or a Failure when
    nothing is planned."""
    from ..actions import next_touch
    from ..why import nothing_planned

    _enrolled(loaded, index, contact)
    book = loaded.book
    found = next_touch(book, contact, day)
    if found is None:
        raise Failure(Problem(
            loaded.ledger.source(index, "status"),
            f"contact {contact.id!r} has no touch planned: {nothing_planned(book, contact, day)}",
            "--step STEP renders a step of the playbook anyway", NOTHING))
    return found


def _enrolled(loaded, index, contact) -> None:
    if not contact.playbook:
        raise Failure(Problem(loaded.ledger.source(index, "playbook"),
                              f"contact {contact.id!r} follows no playbook: no draft to render",
                              "set the contact's `playbook` column", NOTHING))


def _step(loaded, index, contact, step: str, day) -> tuple:
    """(touch, no extra journal rows, day) for a named step of the contact's playbook, made
    today."""
    from .. import engine, steps

    _enrolled(loaded, index, contact)
    book = loaded.book
    playbook = book.playbooks[contact.playbook]
    state = engine.state_of(contact, book.trails.get(contact.id), book.playbooks)
    found = _find(playbook, step, state, day)
    if found is None:
        raise _unknown_step(playbook, step)
    phase, wanted, template, reason, detail = found
    made = step if reason == "step" else reason  # a rule's touch has the rule's kind as its step
    channel = _channel(playbook, contact, wanted, reason, book.condition)
    touch = Touch(
        contact=contact.id, name=contact.name, playbook=playbook.name,
        phase=phase or steps.phase_at(playbook, state.started, day).name, step=made,
        channel=channel, template=template, due=day, overdue=0, reason=reason,
        number=state.touches + 1, detail=detail,
        time=contact.callback_time if reason == "callback" else "")
    return touch, (), day


def _birthday(contact, day) -> str:
    """A birthday touch's detail as a run gives it: `birthday on` the nearest birthday that a
    greeting on `day` may be for (this year's, or next year's once this one's week is over)."""
    from ..engine import birthday_near

    if contact.birthday is None:
        return "birthday"
    return f"birthday on {birthday_near(contact.birthday, day)}"


def _find(playbook, step: str, state, day) -> Optional[tuple]:
    """(phase or "", channel, template, reason, detail) of a step id, or None.

    Besides the playbook's steps: `<phase>-<n>` of a periodic phase, and the rules' touches
    `callback`, `birthday`, `no_reply` (the first rule) or `no_reply-<n>`.
    """
    for phase in playbook.phases:
        for item in phase.steps:
            if item.id == step:
                return phase.name, item.channel, item.template, "step", ""
    contact = state.contact
    if step == "callback":
        agreed = f"call-back agreed for {contact.callback}" if contact.callback else "call-back"
        time = f" at {contact.callback_time}" if contact.callback_time else ""
        return "", "call", playbook.callback_template, "callback", agreed + time
    if step == "birthday" and playbook.birthday is not None:
        return ("", playbook.birthday.channel, playbook.birthday.template, "birthday",
                _birthday(contact, day))
    match = _NUMBERED.match(step)
    name, n = (match.group(1), int(match.group(2))) if match else (step, 1)
    if name == "no_reply" and 1 <= n <= len(playbook.no_reply):
        rule = playbook.no_reply[n - 1]
        since = (f"no reply since {state.last_touch} ({state.last_channel})"
                 if state.last_touch else "no reply")
        return "", rule.then, rule.template, "no_reply", since
    for phase in playbook.phases:
        if phase.periodic and phase.name == name and match and n >= 1:
            return phase.name, phase.channel, phase.templates[(n - 1) % len(phase.templates)], "step", ""
    return None


def _channel(playbook, contact, wanted: str, reason: str, condition) -> str:
    """The channel `run` would use for the contact: `if` rules, opt-outs, fallbacks."""
    from .. import steps

    if reason == "step" and condition is not None:
        wanted = next((r.channel for r in playbook.ifs if condition(r, contact)), wanted)
    channel, why = steps.resolve_channel(wanted, contact, playbook, agreed=reason == "callback")
    if not channel:
        if not OPTIONS.quiet:
            typer.echo(f"note: {why}; rendered for {wanted} anyway", err=True)
        return wanted
    return channel


def _unknown_step(playbook, step: str) -> Failure:
    import difflib

    ids = [s.id for phase in playbook.phases for s in phase.steps]
    ids += [f"{phase.name}-N" for phase in playbook.phases if phase.periodic]
    ids.append("callback")
    if len(playbook.no_reply) > 1:
        ids += [f"no_reply-{n}" for n in range(1, len(playbook.no_reply) + 1)]
    elif playbook.no_reply:
        ids.append("no_reply")
    if playbook.birthday is not None:
        ids.append("birthday")
    close = difflib.get_close_matches(step, ids, 1)
    hint = (f"did you mean {close[0]!r}? " if close else "") + "steps: " + ", ".join(ids)
    return Failure(Problem(Source("--step"), f"playbook {playbook.name!r} has no step {step!r}",
                           hint, EXIT_USAGE))


def _shown_header(value: str) -> str:
    """A header as mail programs show it: unfolded, its encoded words decoded and those side by
    side joined, as RFC 2047 says (the email package's newer parser keeps the space between
    two words of one name split across lines: `Петро вич`)."""
    import re
    from email.header import decode_header, make_header

    return str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", str(value)))))


def readable(data: bytes) -> str:
    """An .eml for reading: the headers a person checks, the text, then the HTML part."""
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.default)
    written = email.message_from_bytes(data)  # the headers as they stand in the file
    lines = [f"{name}: {_shown_header(written[name])}" for name in ("From", "To", "Subject", "Date")
             if written[name] is not None]
    out = "\n".join(lines) + "\n\n"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    if text is not None:
        out += text.get_content().replace("\r\n", "\n").rstrip() + "\n"
    if html is not None:
        out += "\n--- HTML part ---\n\n" + html.get_content().replace("\r\n", "\n").rstrip() + "\n"
    return out

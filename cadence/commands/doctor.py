"""`cadence doctor`: is the book ready to run by itself (from cron) on this machine? The book,
the clock, the timezone, the sender, the mailbox; and the crontab line to run it with."""
from __future__ import annotations

import os
import shlex
import sys
from datetime import datetime
from typing import Optional

import typer

from ..cli import (APP as app, JSON, OPTIONS, QUIET, quiet, TODAY, config, emit_json,
                   guarded, load_book, machine_timezone, relative, resolve_today, say)
from ..helptext import SETUP
from ..terminal import visible
from ..model import Failure, count

LOG = "cron.log"


def _book_findings(cfg) -> tuple:
    """(findings, loaded or None): the book loads without errors, and cadence may write it."""
    from ..readiness import Finding

    try:
        loaded = load_book(cfg)
    except Failure as err:
        first = relative([p for p in err.problems if not p.warning][0])
        errors = sum(1 for p in err.problems if not p.warning)
        return [Finding("book", False, f"{count(errors, 'error')} in the book, the first: "
                        f"{first.source}: {first.message}", "run `cadence check`")], None
    book = loaded.book
    findings = [Finding("book", True, f"{cfg.root}: {count(len(book.contacts), 'contact')}, "
                        f"{count(len(book.playbooks), 'playbook')}")]
    from ..places import places_outside
    from ..cli import write_outside

    for problem in places_outside(cfg, write_outside()):  # what `run` refuses
        findings.append(Finding("book", False, problem.message, problem.hint))
    for what, path in (("the ledger", cfg.ledger), ("the journal", cfg.history),
                       ("the drafts folder", cfg.drafts)):
        place = path if os.path.exists(path) else os.path.dirname(path)
        if not os.access(place, os.W_OK):
            findings.append(Finding("book", False, f"cadence cannot write {what} ({place})",
                                    "run cadence as the user who owns the book"))
    return findings, loaded


def _clock(cfg, today: Optional[str]) -> list:
    from ..readiness import Finding, clock_findings

    if today or os.environ.get("CADENCE_TODAY", ""):
        day = resolve_today(today, cfg)
        return [Finding("clock", True, f"today is {day.isoformat()} (given, not the clock's)")]

    if cfg.timezone:
        from zoneinfo import ZoneInfo

        now = datetime.now(ZoneInfo(cfg.timezone))
    else:
        now = datetime.now()
    return clock_findings(now, cfg.timezone, resolve_today(today, cfg), machine_timezone())


def cron_line(root: str, program: str, email: str, mail: bool = False) -> str:
    """The crontab lines that run the book every weekday morning: each step's messages go to
    the log, and a step that fails prints one line, which cron mails to MAILTO. With a mailbox,
    `sync` comes first (the replies it finds stop the day's touches); `run` runs even when the
    mailbox cannot be reached."""
    log = shlex.quote(os.path.join(root, LOG))
    steps = (["sync"] if mail else []) + ["run"]
    body = "; ".join(f"{shlex.quote(program)} {step} --quiet >> {log} 2>&1 || "
                     f'echo "cadence {step} failed (exit $?): see "{log}'
                     for step in steps)
    # cron makes a `%` a line break unless it is escaped (crontab(5)); the shell gets the rest
    line = f"0 7 * * 1-5  cd {shlex.quote(root)} && {{ {body}; }}".replace("%", "\\%")
    return f"MAILTO={email or 'you@example.com'}\n{line}"


@app.command(rich_help_panel=SETUP)
def doctor(today: Optional[str] = TODAY, as_json: bool = JSON, quiet_: bool = QUIET) -> None:
    """Tell whether the book, the clock, the timezone, the sender and the mailbox are ready for
    cron, and print the crontab line (exit 1 when something stops a run)."""
    quiet(quiet_)
    from ..mailbox import found_maildir
    from ..readiness import mail_findings, sender_findings, timezone_findings

    with_json = as_json
    with guarded(as_json):
        cfg = config()
        clock = _clock(cfg, today)
    findings, loaded = _book_findings(cfg)
    findings += clock
    contacts = loaded.book.contacts if loaded else None
    findings += timezone_findings(cfg, contacts, loaded.ledger if loaded else None)
    findings += sender_findings(cfg) + mail_findings(
        cfg, bool(os.environ.get("CADENCE_IMAP_PASSWORD")),
        not (cfg.mail and cfg.mail.maildir) or found_maildir(cfg.mail))
    program = os.path.abspath(sys.argv[0]) if os.path.basename(sys.argv[0]) == "cadence" \
        else "cadence"
    line = cron_line(cfg.root, program, cfg.sender.get("email", ""), cfg.mail is not None)
    blocking = [f for f in findings if not f.ok and f.blocking]
    if with_json:
        emit_json({"ready": not blocking, "findings": [
            {"topic": f.topic, "ok": f.ok, "text": f.text, "hint": f.hint} for f in findings],
            "cron": line})
    elif not OPTIONS.quiet:
        for f in findings:
            say(f"{f.topic:<9} {f.label:<3} {f.text}")
            if f.hint:
                say(f"{'':<13}hint: {f.hint}")
        say("\nTo run it every weekday at 07:00, `crontab -e` and add (a failed run mails you "
            "one line; its messages are in the log):\n")
        say("\n".join("  " + part for part in line.splitlines()))
    if blocking and OPTIONS.quiet and not with_json:
        # --quiet prints nothing on success; what stops a run still says why, on stderr
        for f in blocking:
            typer.echo(visible(f"{f.topic}: {f.text}" + (f"\n  hint: {f.hint}" if f.hint else "")),
                       err=True)
    if blocking:
        raise typer.Exit(1)

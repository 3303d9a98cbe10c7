"""Is the book ready where it runs? What `check` warns about in the settings, and what
`cadence doctor` reports: the sender, the timezone, the clock, the mailbox.

Pure: the config, the contacts and what the edge read from the machine (the clock, the zone)
come in; findings go out. A finding is (name, ok, what it says, hint), so that `doctor` prints
it and `check` makes a warning of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Optional

from .model import EXIT_CONFIG, Problem, Source

PLACEHOLDER_NAMES = ("your name", "name surname", "firstname lastname")
PLACEHOLDER_EMAILS = ("you@example.com", "your@email.com", "name@example.com")
PLACEHOLDER_PHONE = "+46 70 000 00 00"  # what `init` writes (commands/init.py)
PLACEHOLDER_ADDRESS = "Your Company AB"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing `doctor` looked at: `ok` or not, in words, with a hint when it is not."""

    topic: str  # book | clock | timezone | sender | mailbox
    ok: bool
    text: str
    hint: str = ""
    source: Optional[Source] = None
    blocking: bool = True  # False: something off that the daily run does without

    @property
    def label(self) -> str:
        return "ok" if self.ok else ("NO" if self.blocking else "off")


def sender_findings(config) -> list:
    """The sender: set, and not the placeholder `init` writes when it knows no better."""
    name, email = config.sender.get("name", "").strip(), config.sender.get("email", "").strip()
    where = config.places.get("sender") or Source(config.source or "cadence.yaml")
    found = []  # every problem at once: one fix, one `check`
    if name.lower() in PLACEHOLDER_NAMES or email.lower() in PLACEHOLDER_EMAILS:
        found.append(Finding("sender", False, f"the sender is a placeholder ({name} <{email}>): "
                             "drafts would be signed so", "set `sender: {name: ..., email: "
                             "...}` in cadence.yaml to your own name and address", where))
    elif not name or not email:
        missing = " and ".join(k for k, v in (("name", name), ("email", email)) if not v)
        found.append(Finding("sender", False, f"the sender has no {missing}: drafts come from "
                             "nobody", "set `sender: {name: ..., email: ...}` in cadence.yaml",
                             where))
    elif any(word in email.lower() for word in ("noreply", "no-reply", "donotreply")):
        found.append(Finding("sender", False, f"the sender's address {email} takes no replies: "
                             "answers to the drafts would be lost", "set `sender: {email: ...}` "
                             "in cadence.yaml to the address you read (git's user.email is "
                             "often a no-reply one)", where))
    phone, address = config.sender.get("phone", ""), config.sender.get("address", "")
    examples = [key for key, placeholder in (("phone", phone.strip() == PLACEHOLDER_PHONE),
                                             ("address", PLACEHOLDER_ADDRESS in address))
                if placeholder]
    if examples:
        found.append(Finding("sender", False, f"the sender's {' and '.join(examples)} "
                             f"{'are' if len(examples) > 1 else 'is'} init's example: drafts "
                             "would show them", "set them in cadence.yaml under `sender:` to "
                             "your own (the bundled templates sign emails with the phone; "
                             "letters carry the address)", where))
    return found or [Finding("sender", True, f"drafts come from {name} <{email}>")]


def timezone_findings(config, contacts, ledger) -> list:
    """A call-back agreed with a time needs the book's timezone: without it the time is UTC.
    `contacts` is None when the book could not be read."""
    if config.timezone:
        return [Finding("timezone", True, f"the book's timezone is {config.timezone}")]
    timed = [(i, c) for i, c in enumerate(contacts or ()) if c.callback is not None
             and c.callback_time]
    if not timed:
        return [Finding("timezone", True, "no `timezone:`: dates follow the machine's clock, "
                        "times in drafts are UTC" + (" (no call-back has a time)"
                                                     if contacts is not None else ""))]
    index, first = timed[0]
    many = len(timed) - 1
    others = f" (and {many} more)" if many else ""
    return [Finding("timezone", False, f"contact {first.id!r} has a call-back at "
                    f"{first.callback_time}{others}, but the book has no `timezone:`: the "
                    "calendar and the drafts read it as UTC",
                    "set `timezone:` in cadence.yaml to yours, e.g. `timezone: Europe/Stockholm`",
                    ledger.source(index, "callback") if ledger is not None else None)]


def clock_findings(now: datetime, zone_name: str, today: date, machine_zone: str = "") -> list:
    """The clock the book runs by: the date cadence takes for today, in which zone; and the
    zone cron's hours are in (the machine's), when it is another."""
    where = zone_name or "the machine's local time"
    if now.year < 2000:
        return [Finding("clock", False, f"the clock says {now:%Y-%m-%d %H:%M}: it is not set",
                        "set the machine's clock (NTP), or run with --today")]
    text = f"today is {today.isoformat()} ({now:%H:%M} in {where})"
    if zone_name and machine_zone and machine_zone != zone_name:
        text += f"; cron's hours are the machine's ({machine_zone})"
    return [Finding("clock", True, text)]


MAIL_EXAMPLE = ("mail: {maildir: ~/Mail/work}, or mail: {imap: imap.example.com, user: you@..., "
                "password_command: pass show mail}")


def mail_findings(config, password_in_environment: bool = False,
                  maildir_found: bool = True) -> list:
    """Whether the mailbox is named, and how `sync` will log in (never connects: `sync` does).
    The section itself is checked when cadence.yaml is read (SPEC section 10)."""
    mail = config.mail
    where = config.places.get("mail") or Source(config.source or "cadence.yaml")
    if mail is None:
        return [Finding("mailbox", False, "no `mail:` section: `sync` and `push` cannot reach "
                        "your mailbox (drafts are still written)", MAIL_EXAMPLE, where,
                        blocking=False)]
    if mail.maildir and not maildir_found:
        return [Finding("mailbox", False, f"{mail.maildir} is not a Maildir (no cur/ folder, nor "
                        "folders that hold one): "
                        "`sync` and `push` would fail", "name the folder your mail program "
                        "(mbsync, offlineimap) keeps the account in", where)]
    if mail.maildir:
        return [Finding("mailbox", True, f"the Maildir {mail.maildir}")]
    if password_in_environment:  # it wins: the command is not run (cadence.mailpass)
        how = "password from CADENCE_IMAP_PASSWORD"
    elif mail.password_command:
        # the program the book's cadence.yaml would have cadence run, named for review
        program = _program(mail.password_command)
        if program is None:
            return [Finding("mailbox", False, f"IMAP {mail.where}: `password_command` cannot "
                            "be split into words (an unclosed quote?): `sync` would fail",
                            "quote it as in a shell", where)]
        how = f"password from `password_command`, which runs `{program}`"
    else:
        return [Finding("mailbox", False, f"IMAP {mail.where}: no password (neither "
                        "`password_command` nor CADENCE_IMAP_PASSWORD): `sync` would fail",
                        "add `password_command:` to `mail:`, or set CADENCE_IMAP_PASSWORD in "
                        "cron's environment", where)]
    return [Finding("mailbox", True, f"IMAP {mail.where} ({mail.security}, {how})")]


def as_warnings(findings) -> list:
    """The findings that are not ok, as `check`'s warnings."""
    return [Problem(f.source or Source("cadence.yaml"), f.text, f.hint, EXIT_CONFIG,
                    warning=True) for f in findings if not f.ok]


def _program(command: str) -> Optional[str]:
    """The program `password_command` runs, split as cadence.mailpass splits it (a shell's
    words), or None when it cannot be; its arguments are not shown (`echo PASSWORD` would
    show the password)."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return None
    return words[0] if words else None

"""A book for the mailbox tests (`cadence sync`, `cadence push`; SPEC section 10), and the
helpers that run it.

The book's dates meet the harness's messages (tests/mail/messages.py, dated 2026-12-03 10:15
Stockholm): three contacts start on 2026-12-01, `run` drafts their first email (decide-1) on
DRAFTED, 2026-12-02. The playbook has one `no_reply` rule (a call 5 days after an email, so
on 2026-12-07 without an answer), a second email step that falls back to a letter and a
third that is skipped when email cannot go, and `reply: stop`.

The mailbox stands beside the book (tmp_path/Mail for a Maildir), never inside it, so that a
snapshot of the book says whether `sync` wrote to it and a snapshot of the mailbox whether it
changed the mail.
"""
from __future__ import annotations

import csv
import email
import io
import json
import os
import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from cadence.emails import message_id
from mail.messages import make
from smallbook import build, invoke, snapshot

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc
DRAFTED = "2026-12-02"  # the day `run` drafts decide-1 for every contact
AFTER = "2026-12-04"  # a day for `sync` after the harness's messages (2026-12-03)
DOMAIN = "konsult.example"  # the sender's: the right-hand side of the drafts' Message-IDs

CONFIG = """\
timezone: Europe/Stockholm
sender:
  name: Eva Lind
  email: eva@konsult.example
"""

PLAYBOOK = """\
description: The mailbox tests' playbook.
channels: [email, call, letter]
limits:
  min_gap: 1 day
  per_week: 5
phases:
  - name: decide
    until: 60 days
    steps:
      - {at: 1 day, channel: email, template: hello}
      - {at: 14 days, channel: email, template: hello, fallback: [letter]}
      - {at: 21 days, channel: email, template: hello, fallback: skip}
rules:
  - no_reply: 5 days
    after: [email]
    then: call
    template: call
  - reply: stop
"""

HEADER = "id,name,email,phone,address,playbook,started\n"
JONAS = 'c1,Jonas Ek,jonas.ek@nordbygg.example,+46701234567,"Storgatan 1, Stockholm",p,2026-12-01\n'
KARIN = 'c2,Karin Dahl,karin@dahlredovisning.example,+46701234568,"Kungsgatan 2, Uppsala",p,2026-12-01\n'
ANNA = "c3,Anna Berg,anna.berg@gmail.com,+46701234569,,p,2026-12-01\n"
LEDGER = HEADER + JONAS + KARIN + ANNA
JONAS_MAIL = "jonas.ek@nordbygg.example"
KARIN_MAIL = "karin@dahlredovisning.example"
ANNA_MAIL = "anna.berg@gmail.com"
SUBJECT = "Thank you for the meeting"  # the drafts' subject, and the harness's messages'
JOURNAL = "date,contact,event,playbook,step,channel,template,note\n"

FILES = {
    "cadence.yaml": CONFIG,
    "playbooks/p.yaml": PLAYBOOK,
    "templates/hello.j2": "Subject: Thank you for the meeting\n\nHello {{ contact.name }},\n"
                          "this is {{ touch.step }}.\n",
    "templates/hello.letter.j2": "Dear {{ contact.name }},\nthis is {{ touch.step }}.\n",
    "templates/call.j2": "Call {{ contact.name }}: no answer to the email.\n",
    "contacts.csv": LEDGER,
    "history.csv": JOURNAL,
}


def maildir_section(path: str = "../Mail", extra: str = "") -> str:
    return f"mail:\n  maildir: {path}\n" + extra


def imap_section(address: str, login: str, extra: str = "") -> str:
    return f"mail:\n  imap: {address}\n  user: {login}\n" + extra


def make_book(root, mail: str = "", ledger: str = LEDGER, run: bool = True,
              overrides: dict | None = None) -> str:
    """The book under `root` with the `mail:` section `mail`; with `run`, decide-1 drafted on
    DRAFTED for every contact."""
    files = dict(FILES, **{"cadence.yaml": CONFIG + mail, "contacts.csv": ledger})
    files.update(overrides or {})
    root = build(root, files)
    if run:
        result = invoke("-C", root, "run", "--today", DRAFTED)
        assert result.exit_code == 0, result.output
    return root


def draft_id(contact: str, step: str = "decide-1", day: str = DRAFTED,
             playbook: str = "p") -> str:
    """The Message-ID of the draft `run` made for the touch."""
    return message_id(contact, playbook, step, date.fromisoformat(day), DOMAIN)


def at(day: str, hour: int = 10, minute: int = 15, zone=STOCKHOLM) -> datetime:
    """A message's moment: `day` at hour:minute in Stockholm."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=zone)


def cadence(root, *args):
    """cadence -C ROOT ARGS, in this process."""
    return invoke("-C", root, *args)


def sync(root, today: str = AFTER, *args, code: int = 0):
    result = invoke("-C", root, "sync", "--today", today, *args)
    assert result.exit_code == code, (result.exit_code, result.output)
    return result


def journal(root) -> str:
    with open(os.path.join(root, "history.csv"), encoding="utf-8", newline="") as handle:
        return handle.read()


def ledger(root) -> list:
    """The ledger's rows as dicts."""
    with open(os.path.join(root, "contacts.csv"), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def row_of(root, contact: str) -> dict:
    return next(row for row in ledger(root) if row["id"] == contact)


def new_lines(before: str, after: str) -> list:
    """The lines appended to the journal: what `after` holds past `before`."""
    assert after.startswith(before), "the journal was rewritten, not appended to"
    return after[len(before):].splitlines()


def cells(text: str) -> list:
    """The journal's (or ledger's) rows as lists of cells."""
    return list(csv.reader(io.StringIO(text)))


def due_json(root, today: str) -> dict:
    result = cadence(root, "due", "--today", today, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def plan_json(root, contact: str, today: str, days: int = 30) -> list:
    result = cadence(root, "plan", contact, "--today", today, "--days", str(days), "--json")
    assert result.exit_code == 0, result.output
    return [(t["date"], t["step"], t["channel"], t["reason"])
            for t in json.loads(result.stdout)["touches"]]


def book_files(root) -> dict:
    """The book's bytes, the lock aside (smallbook.snapshot)."""
    return snapshot(root)


def tree_state(root) -> dict:
    """{relative path: (bytes, mtime in ns)} of every file under a Maildir tree, and the
    folders: a mailbox that `sync` must leave as it was, names, bytes and times."""
    found = {}
    for base, dirs, names in os.walk(str(root)):
        dirs.sort()
        for name in sorted(dirs):
            found[os.path.relpath(os.path.join(base, name), str(root))] = "folder"
        for name in sorted(names):
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, str(root))] = (handle.read(), os.stat(path).st_mtime_ns)
    return found


def mid(data: bytes) -> str:
    """A message's Message-ID as the stdlib reads it (not as cadence does), from the lines
    before the first empty one: a 50 MiB attachment has nothing to say of it."""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    return email.message_from_bytes(head)["Message-ID"].strip()


# --- a fixed morning, for the golden tests of both back ends ---------------------------------

def morning(add) -> dict:
    """A morning's mailbox, stored by `add(folder, bytes)` (folders INBOX, Junk, Sent): a
    threaded reply, a reply in junk, an out-of-office, a bounce, a sent draft, a stranger and a
    delay warning. Returns {name: bytes}."""
    found = {
        "reply": make("outlook_reply", in_reply_to=draft_id("c1"), date=at("2026-12-03", 9, 1)),
        "junk": make("junk_reply", from_addr=ANNA_MAIL, in_reply_to=draft_id("c3"),
                     date=at("2026-12-03", 14, 2)),
        "autoreply": make("autoreply_x_autoreply", in_reply_to=draft_id("c2"),
                          date=at("2026-12-02", 9, 3)),
        "bounce": make("postfix_bounce", recipient=KARIN_MAIL, in_reply_to=draft_id("c2"),
                       date=at("2026-12-03", 11, 4)),
        "sent": make("sent_copy", message_id=draft_id("c1"), to_addr=JONAS_MAIL,
                     date=at(DRAFTED, 9, 5)),
        "stranger": make("stranger"),
        "delayed": make("delayed_dsn", in_reply_to=draft_id("c3")),
    }
    folders = {"junk": "Junk", "sent": "Sent"}
    for name, data in found.items():
        add(folders.get(name, "INBOX"), data)
    return found


def expected_rows(found: dict) -> list:
    return [
        f"2026-12-02,c1,sent,p,decide-1,email,,{draft_id('c1')} {SUBJECT}",
        f"2026-12-03,c1,reply,p,,email,,{mid(found['reply'])} RE: {SUBJECT}",
        "2026-12-03,c1,status,p,,,,replied (a reply by email)",
        f"2026-12-02,c2,autoreply,p,,email,,{mid(found['autoreply'])} Re: {SUBJECT}",
        f"2026-12-03,c2,bounce,p,,email,,{mid(found['bounce'])} Undelivered Mail Returned to "
        f"Sender [address {KARIN_MAIL}]",
        f"2026-12-03,c3,reply,p,,email,,junk: {mid(found['junk'])} Re: {SUBJECT}",
        "2026-12-03,c3,status,p,,,,replied (a reply by email)",
    ]


def expected_json(found: dict) -> dict:
    def item(contact, event, day, folder, name, subject):
        return {"contact": contact, "event": event, "date": day, "folder": folder,
                "message_id": draft_id("c1") if name == "sent" else mid(found[name]),
                "subject": subject}
    return {"today": AFTER, "found": [
        item("c1", "sent", "2026-12-02", "sent", "sent", SUBJECT),
        item("c2", "autoreply", "2026-12-02", "inbox", "autoreply", f"Re: {SUBJECT}"),
        item("c1", "reply", "2026-12-03", "inbox", "reply", f"RE: {SUBJECT}"),
        item("c2", "bounce", "2026-12-03", "inbox", "bounce", "Undelivered Mail Returned to Sender"),
        item("c3", "reply", "2026-12-03", "junk", "junk", f"Re: {SUBJECT}"),
    ]}


def redraft_mended(root, *contacts: str) -> None:
    """Take back the contacts' drafts of DRAFTED, mend the `hello` template (Hello -> Hi
    there) and draft the day again: the same Message-IDs, another text."""
    for contact in contacts:
        assert cadence(root, "undo", contact, "--today", DRAFTED).exit_code == 0
    template = os.path.join(str(root), "templates", "hello.j2")
    with open(template, encoding="utf-8") as handle:
        text = handle.read()
    with open(template, "w", encoding="utf-8") as out:
        out.write(text.replace("Hello {{ contact.name }},", "Hi there {{ contact.name }},"))
    assert cadence(root, "run", "--today", DRAFTED, "--quiet").exit_code == 0

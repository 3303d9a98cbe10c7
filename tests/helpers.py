"""Builders shared by the tests: contacts from cells, playbooks from YAML, trees from dicts."""
from __future__ import annotations

import os
import textwrap
from datetime import date

from cadence.contacts import parse_contacts
from cadence.journal import parse_journal
from cadence.model import KNOWN_COLUMNS, Source
from cadence.playbook import parse_playbook


# The playbook of SPEC section 4, as written there.
SPEC_EXAMPLE = """\
description: Seven touches in the decision window, then weekly lessons, then monthly.
channels: [email, call, letter]        # channels this playbook may use
calendar:
  business_days: true
  holidays: [2026-12-31, 2027-01-01]
limits:
  min_gap: 2 days
  per_week: 3
phases:
  - name: decide
    until: 30 days
    steps:
      - {at: 1 day, channel: email, template: thanks}
      - {after: 2 days, channel: call, template: questions}
      - {id: offer, at: 21 days, channel: letter, template: offer}
  - name: learn
    until: 90 days
    every: 1 week
    channel: email
    templates: [lesson-1, lesson-2, lesson-3]
  - name: remind
    every: 1 month
    channel: email
    template: monthly
rules:
  - no_reply: 5 days
    after: [email]
    in: [decide]
    then: call
    template: no-reply-call
  - no_reply: 7 days
    after: [call]
    then: letter
    template: registered-letter
  - reply: stop
  - if: "contact.age | int >= 50"
    channel: letter
  - birthday: email
    template: birthday
"""


class RowsLedger:
    """A stand-in for a parsed ledger file: the columns and rows a test names."""

    def __init__(self, rows):
        columns = list(KNOWN_COLUMNS)
        for row in rows:
            columns += [c for c in row if c not in columns]
        self.columns = tuple(columns)
        self.rows = tuple({c: str(row.get(c, "")) for c in columns} for row in rows)
        self.lines = tuple(range(2, len(rows) + 2))

    def source(self, index, column=None):
        col = self.columns.index(column) + 1 if column else 0
        return Source("contacts.csv", index + 2, col)


def contact(**cells):
    cells.setdefault("id", "c1")
    cells.setdefault("name", "Ann Lind")
    cells.setdefault("email", "ann@example.com")
    cells.setdefault("phone", "+46701234567")
    cells.setdefault("address", "Storgatan 1, Stockholm")
    cells.setdefault("playbook", "p")
    contacts, problems = parse_contacts(RowsLedger([cells]))
    assert not problems, problems
    return contacts[0]


def playbook(text: str, name: str = "p"):
    found, problems = parse_playbook(textwrap.dedent(text), f"{name}.yaml", name, None, None)
    assert not problems, [str(p) for p in problems]
    return found


def journal(text: str) -> dict:
    header = "date,contact,event,playbook,step,channel,template,note\n"
    rows, problems = parse_journal(header + textwrap.dedent(text).strip() + "\n", "history.csv")
    assert not problems, problems
    return rows


def d(text: str) -> date:
    return date.fromisoformat(text)


def build_tree(root, files: dict) -> None:
    """Write {relative path: text or bytes} under root (copier's build_file_tree)."""
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(content if isinstance(content, bytes) else textwrap.dedent(content))


def make_renderer(folder, sender, tz=""):
    """The draft renderer of a templates folder, as a book builds it."""
    from zoneinfo import ZoneInfo

    from cadence.book import template_loader, template_names
    from cadence.drafts import Renderer

    folder = str(folder)
    return Renderer(template_loader(folder), folder, template_names(folder), sender,
                    ZoneInfo(tz) if tz else None, tz)


def trail(history: str = "", contact_id: str = "c1"):
    """The Trail of one contact's rows in a journal written as CSV lines (no header)."""
    from cadence.trail import trail_of

    return trail_of(journal(history).get(contact_id, ())) if history else None

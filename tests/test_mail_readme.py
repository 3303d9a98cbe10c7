"""The README's worked example of `cadence sync` (section "The mailbox"), run for real.

The book and the Maildir are built here as the README tells them; each `$ cadence ...` line of
the README's block is run in the book and must print exactly the lines that follow it.
"""
from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil

from mail.maildir import make_maildir
from mail.messages import make
from smallbook import invoke

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
STOCKHOLM = dt.timezone(dt.timedelta(hours=1))

CONFIG = """\
sender:
  name: Eva Lind
  email: eva@konsult.example
timezone: Europe/Stockholm
mail:
  maildir: ~/Mail/work
"""
LEDGER = """\
id,name,email,phone,company,playbook,started
jonas,Jonas Ek,jonas.ek@nordbygg.example,+46701110001,Nordbygg,new-lead,2026-11-29
anna,Anna Berg,anna.berg@gmail.com,+46701110002,Berg Design,new-lead,2026-11-29
karin,Karin Dahl,karin@dahlredovisning.example,+46701110003,Dahl Redovisning,new-lead,2026-11-29
olof,Olof Sand,olof@sandsbyra.example,,Sands byrå,new-lead,2026-11-29
"""


def _block() -> str:
    text = open(README, encoding="utf-8").read()
    section = text.split("### A worked example", 1)[1]
    return section.split("```text\n", 1)[1].split("```", 1)[0]


def _commands(block: str) -> list:
    """[(argv, expected output)] of the block's `$ cadence ...` lines."""
    found = []
    for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
        line, _, output = part.partition("\n")
        assert line.startswith("cadence "), line
        found.append((line.split()[1:], output))
    return found


def _book(tmp_path) -> str:
    home = tmp_path / "home"
    root = str(tmp_path / "book")
    os.makedirs(root)
    for name, text in (("cadence.yaml", CONFIG), ("contacts.csv", LEDGER),
                       ("history.csv", "date,contact,event,playbook,step,channel,template,note\n")):
        with open(os.path.join(root, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    shutil.copytree(os.path.join(ROOT, "playbooks"), os.path.join(root, "playbooks"))
    shutil.copytree(os.path.join(ROOT, "templates"), os.path.join(root, "templates"))
    env = {"HOME": str(home)}
    result = invoke("-C", root, "run", "--today", "2026-11-30", env=env)
    assert result.exit_code == 0, result.output
    ids = {}
    for path in glob.glob(os.path.join(root, "drafts", "2026-11-30", "*.eml")):
        with open(path, "rb") as handle:
            head = handle.read().split(b"\r\n\r\n", 1)[0].decode()
        contact = os.path.basename(path).split("--")[0]
        ids[contact] = re.search(r"^Message-ID: (<[^>]+>)", head, re.M).group(1)
    tree = make_maildir(home / "Mail" / "work")
    at = lambda day, hour: dt.datetime(2026, 12, day, hour, 5, tzinfo=STOCKHOLM)  # noqa: E731
    sent = lambda day: dt.datetime(2026, 11, 30, day, 40, tzinfo=STOCKHOLM)  # noqa: E731
    tree.add("Sent", make("sent_copy", message_id=ids["jonas"], to_addr="jonas.ek@nordbygg.example",
                          date=sent(9)), flags="S")
    tree.add("Sent", make("sent_copy", message_id=ids["anna"], to_addr="anna.berg@gmail.com",
                          date=sent(10)), flags="S")
    tree.add("Sent", make("sent_copy", message_id=ids["karin"],
                          to_addr="karin@dahlredovisning.example", date=sent(11)), flags="S")
    tree.add("INBOX", make("gmail_bounce", in_reply_to=ids["anna"], recipient="anna.berg@gmail.com",
                           date=dt.datetime(2026, 11, 30, 10, 41, tzinfo=STOCKHOLM)))
    tree.add("INBOX", make("autoreply_exchange", from_addr="karin@dahlredovisning.example",
                           from_name="Karin Dahl", in_reply_to=ids["karin"], date=at(1, 8)))
    tree.add("Junk", make("junk_reply", in_reply_to=ids["jonas"], date=at(2, 16)))
    tree.add("INBOX", make("stranger", date=at(2, 9)))
    return root, env


def test_the_readme_worked_example(tmp_path):
    root, env = _book(tmp_path)
    commands = _commands(_block())
    assert [argv[0] for argv in (c for c, _ in commands)] == ["sync", "due"]
    for argv, expected in commands:
        result = invoke("-C", root, *argv, env={**env, "COLUMNS": "100"})
        assert result.exit_code == 0, result.output
        # the Maildir as cadence.yaml names it (`~/Mail/work`), not the home folder's path
        assert str(tmp_path / "home") not in result.stdout
        assert result.stdout == expected, "\n" + result.stdout

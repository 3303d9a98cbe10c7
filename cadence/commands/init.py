"""`cadence init [DIR]`: write a working example book a new user can run at once."""
from __future__ import annotations

import os
import shutil

import typer

from ..cli import APP as app, guarded, say
from ..model import EXIT_CANTCREAT, EXIT_MISSING, Failure, Problem, Source

CONFIG = """\
# cadence book settings; every key is optional. See the README for all of them.
ledger: contacts.csv
history: history.csv
playbooks: playbooks
templates: templates
drafts: drafts
# timezone: Europe/Stockholm     # without it: the machine's date, and drafts dated in UTC
sender:
  name: Your Name
  email: you@example.com
  phone: "+46 70 000 00 00"
  address: |
    Your Company AB
    Street 1
    111 22 Stockholm
"""

CONTACTS = """\
id,name,email,phone,address,company,age,playbook,started,status,paused_until,channels,optout,callback,birthday,last_reply,touches,last_touch,last_channel,last_step,next_due
ann,Ann Lind,ann@example.com,+46701234567,"Storgatan 1
111 22 Stockholm",Lind Konsult,34,new-lead,,,,,,,,,,,,,
boris,Борис Петров,boris@example.com,+79161234567,,Петров и партнёры,58,new-lead,,,,,,,,,,,,,
carla,Carla Mendes,carla@example.com,+351912345678,"Rua Augusta 10
Lisboa",,,stay-in-touch,,,,,,,,,,,,,
dan,Dan Berg,dan@example.com,0701234567,"Kungsgatan 5
411 19 Göteborg",,61,ladder,,,,,,,,,,,,,
"""

HISTORY = "date,contact,event,playbook,step,channel,template,note\n"

# the lock, the marker of a run in progress, and the temporary files of a write in progress
# (a copy of the ledger among them): none of them belongs in a commit
GITIGNORE = "drafts/\n.cadence.lock\n.cadence-pending\n.*.cadence-*.tmp\n"


def _copy_bundled(name: str, target: str) -> None:
    """Copy the bundled playbooks/ or templates/ (cadence.skeleton) into `target`."""
    from importlib.resources import as_file, files

    with as_file(files("cadence.skeleton") / name) as source:
        if not os.path.isdir(source):
            raise Failure(Problem(Source(name), "the bundled example files are missing from "
                                  "this install", "reinstall cadence", EXIT_MISSING))
        shutil.copytree(source, target)


@app.command()
def init(directory: str = typer.Argument(".", metavar="[DIR]", help="Where to write the book.")) -> None:
    """Write a working example book: config, ledger, journal, playbooks, templates."""
    with guarded():
        target = os.path.abspath(directory)
        if os.path.exists(os.path.join(target, "cadence.yaml")):
            raise Failure(Problem(Source(os.path.join(directory, "cadence.yaml")),
                                  "a book is already here", "choose an empty folder", EXIT_CANTCREAT))
        taken = [n for n in ("contacts.csv", "history.csv", "playbooks", "templates")
                 if os.path.exists(os.path.join(target, n))]
        if taken:
            raise Failure(Problem(Source(directory), "would overwrite " + ", ".join(taken),
                                  "choose an empty folder", EXIT_CANTCREAT))
        try:
            os.makedirs(target, exist_ok=True)
            for name in ("playbooks", "templates"):
                _copy_bundled(name, os.path.join(target, name))
            for name, text in (("cadence.yaml", CONFIG), ("contacts.csv", CONTACTS),
                               ("history.csv", HISTORY), (".gitignore", GITIGNORE)):
                with open(os.path.join(target, name), "w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
        except OSError as err:
            from ..files import write_failure

            raise write_failure(err.filename or directory, err) from None
    say(f"Wrote a cadence book to {directory}. Try: cadence -C {directory} due")

"""`cadence init [DIR] [--from FILE]`: write a working book a new user can run at once: the
example book, or a book around the user's own spreadsheet, set for this machine's timezone."""
from __future__ import annotations

import os
import shutil
from typing import Optional

import typer

from ..cli import (APP as app, echo_problems, guarded, machine_timezone, program, relative,
                   say)
from ..helptext import SETUP
from ..model import (EXIT_CANTCREAT, EXIT_DATA, EXIT_MISSING, EXIT_USAGE, Failure, Problem,
                     Source, count, email_problem)

PLACEHOLDER_NAME, PLACEHOLDER_EMAIL = "Your Name", "you@example.com"

SETTINGS = """\
history: history.csv
playbooks: playbooks
templates: templates
drafts: drafts
{timezone}
sender:                 # who the drafts come from
  name: {name}
  email: {email}
{rest}"""

EXAMPLE_LEDGER = "ledger: contacts.csv\n"
# the placeholders `check` and `doctor` warn about (readiness.PLACEHOLDER_*): the bundled
# templates sign with the phone and letters carry the address
EXAMPLE_SENDER_REST = """\
  phone: "+46 70 000 00 00"
  address: |
    Your Company AB
    Street 1
    111 22 Stockholm
"""
HEADER = "# cadence book settings; every key is optional. See the README for all of them.\n"

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
GITIGNORE = "drafts/\n.cadence.lock\n.cadence-pending\n.*.cadence-*.tmp\ncron.log\n"

DEFAULT_PLAYBOOK = "new-lead"
PLAYBOOK_OF = {"sv": "new-lead-sv", "ru": "new-lead-ru"}  # by the language of a sheet's headers


def _playbook_for(guess) -> str:
    return PLAYBOOK_OF.get(guess.language, DEFAULT_PLAYBOOK)
BOOK_NAMES = ("history.csv", "cadence.yaml", ".gitignore", "cron.log", ".cadence.lock",
              ".cadence-pending")  # files init writes or cadence keeps in a book


def _copy_bundled(name: str, target: str) -> None:
    """Copy the bundled playbooks/ or templates/ (cadence.skeleton) into `target`."""
    from importlib.resources import as_file, files

    with as_file(files("cadence.skeleton") / name) as source:
        if not os.path.isdir(source):
            raise Failure(Problem(Source(name), "the bundled example files are missing from "
                                  "this install", "reinstall cadence", EXIT_MISSING))
        shutil.copytree(source, target)


def git_identity() -> tuple:
    """(user.name, user.email) from git's config, "" for what is not set."""
    import subprocess

    found = []
    for key in ("user.name", "user.email"):
        try:
            done = subprocess.run(["git", "config", "--get", key], capture_output=True,
                                  text=True, timeout=5, check=False)
            found.append(done.stdout.strip() if done.returncode == 0 else "")
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
            found.append("")
    return tuple(found)


def _quoted(text: str) -> str:
    """A YAML scalar that stays text whatever it holds."""
    import json

    return json.dumps(text, ensure_ascii=False)


def _settings(ledger: str, zone: str, name: str, email: str, rest: str) -> str:
    timezone = (f"timezone: {zone}            # this machine's; times in drafts and the "
                "calendar use it") if zone else (
        "# timezone: Europe/Stockholm   # not found on this machine: without it, drafts are "
        "dated in UTC")
    return HEADER + ledger + SETTINGS.format(timezone=timezone, name=_quoted(name),
                                             email=_quoted(email), rest=rest)


def _sheet_settings(filename: str, guess, encoding: str) -> str:
    """The `ledger:` mapping of a book around someone else's sheet."""
    lines = ["ledger:", f"  file: {_quoted(filename)}"]
    if guess.columns:
        lines.append("  columns:                  # cadence's column: the sheet's header")
        lines += [f"    {name}: {_quoted(header)}" for name, header in guess.columns]
    lines.append(f"  dates: {_quoted(guess.dates.pattern)}"
                 "          # as the sheet writes dates; cadence writes them so too")
    lines.append(f"  default_playbook: {_playbook_for(guess)}   # for every row without a playbook")
    if not guess.has_ids:
        lines.append("  ids: generate             # rows without an id get one from the name, "
                     "written back in an `id` column")
    out = "\n".join(lines) + "\n"
    if encoding != "utf-8":
        out += f"encoding: {encoding}\n"
    if guess.language:
        out += f"locale: {guess.language}                 # letters are dated in this language\n"
    return out


def _read_sheet(source: str):
    """(filename in the book, bytes, LedgerFile, encoding, the file's own name) of the
    spreadsheet `init --from` was given."""
    from ..files import read_bytes
    from ..ledger import WORKBOOKS, guess_encoding, parse_ledger
    from ..ledger_file import Header

    if os.path.isdir(source):
        raise Failure(Problem(Source(source), "is a folder, not a contact list", "give the path "
                              "of the CSV or YAML file your spreadsheet saved", EXIT_USAGE))
    if not os.path.isfile(source):
        what = "not a regular file (a device or a pipe)" if os.path.exists(source) else \
            "no such file"
        raise Failure(Problem(Source(source), what, "give the path of the CSV or YAML file "
                              "your spreadsheet saved", EXIT_MISSING))
    data = read_bytes(source, "spreadsheet")
    if data.startswith(WORKBOOKS):
        raise Failure(Problem(Source(source), "a spreadsheet workbook, not a CSV file",
                              "save the sheet as CSV (Excel: Save As > CSV UTF-8; Google "
                              "Sheets: File > Download > CSV) and give that file", EXIT_DATA))
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise Failure(Problem(Source(source), "the file is empty", "export the sheet with its "
                              "header line and at least one row", EXIT_DATA))
    encoding = guess_encoding(data)
    ledger, problems = parse_ledger(data, source, encoding, header=Header(loose=True))
    if ledger is None:  # no book yet: the way out is another save of the sheet, not a setting
        from dataclasses import replace

        raise Failure([replace(p, hint=_SAVE_AS_UTF8) if "cadence.yaml" in p.hint else p
                       for p in problems])
    if not ledger.rows:
        raise Failure(Problem(Source(source), "the sheet has no contacts", "export the sheet "
                              "with its header line and at least one row", EXIT_DATA))
    return os.path.basename(source), data, ledger, encoding, os.path.basename(source)


_SAVE_AS_UTF8 = ('save the sheet as "CSV UTF-8" (Excel: Save As; Google Sheets: File > '
                 'Download > CSV) and give that file')


@app.command(rich_help_panel=SETUP)
def init(
    directory: str = typer.Argument(".", metavar="DIR", help="Where to write the book "
                                    "(default: the current folder)."),
    source: Optional[str] = typer.Option(
        None, "--from", metavar="FILE", help="Your own contact list (CSV or YAML): it becomes "
        "the book's ledger, as it is."),
    sender_name: Optional[str] = typer.Option(
        None, "--sender-name", metavar="NAME", help="Who the drafts come from; default: git's "
        "user.name."),
    sender_email: Optional[str] = typer.Option(
        None, "--sender-email", metavar="EMAIL", help="The address drafts come from; default: "
        "git's user.email."),
) -> None:
    """Write a book: the working example, or one around your own contact list (--from)."""
    with guarded():
        target = os.path.abspath(directory)
        if os.path.lexists(target) and not os.path.isdir(target):
            raise Failure(Problem(Source(directory), "a file is there, not a folder",
                                  "give the name of a folder to make, or of an empty one",
                                  EXIT_CANTCREAT))
        if os.path.exists(os.path.join(target, "cadence.yaml")):
            raise Failure(Problem(Source(os.path.join(directory, "cadence.yaml")),
                                  "a book is already here", "choose an empty folder", EXIT_CANTCREAT))
        sheet = _read_sheet(source) if source else None
        ledger_name = sheet[0] if sheet else "contacts.csv"
        in_place = sheet is not None and os.path.dirname(os.path.abspath(source)) == target
        if ledger_name in BOOK_NAMES:  # the copy must not take the journal's or config's name
            if in_place:
                raise Failure(Problem(Source(source), f"a contact list named {ledger_name} "
                                      "would be the book's own file of that name",
                                      "rename the file (e.g. contacts.csv) and run init again",
                                      EXIT_USAGE))
            ledger_name = "contacts" + os.path.splitext(ledger_name)[1]
            sheet = (ledger_name,) + tuple(sheet[1:])
        names = ([] if in_place else [ledger_name]) + ["history.csv", "playbooks", "templates"]
        taken = [n for n in names if os.path.exists(os.path.join(target, n))]
        if taken:
            raise Failure(Problem(Source(directory), "would overwrite " + ", ".join(taken),
                                  "choose an empty folder", EXIT_CANTCREAT))
        git_name, git_email = git_identity() if not (sender_name and sender_email) else ("", "")
        name = (sender_name or git_name or PLACEHOLDER_NAME).strip()
        if sender_email and email_problem(sender_email.strip()):
            # every command would refuse the book init wrote (78): said now, nothing written
            raise Failure(Problem(Source("--sender-email"), email_problem(sender_email.strip()),
                                  "give the address you send from and read, e.g. "
                                  "eva@konsult.example", EXIT_USAGE))
        if git_email and email_problem(git_email.strip()):
            git_email = ""  # git's user.email is no address: the placeholder, which check names
        email = (sender_email or git_email or PLACEHOLDER_EMAIL).strip()
        zone = machine_timezone()
        if sheet is None:
            config = _settings(EXAMPLE_LEDGER, zone, name, email, EXAMPLE_SENDER_REST)
            files = [("cadence.yaml", config.encode("utf-8")),
                     ("contacts.csv", CONTACTS.encode("utf-8"))]
        else:
            from ..guess import guess_sheet

            guess = guess_sheet(sheet[2].columns, sheet[2].rows)
            config = _settings(_sheet_settings(ledger_name, guess, sheet[3]), zone, name,
                               email, EXAMPLE_SENDER_REST)
            files = [("cadence.yaml", config.encode("utf-8"))]
            if not in_place:
                files.append((ledger_name, sheet[1]))  # byte for byte: it is the user's own
        history = HISTORY
        if sheet is not None:  # the journal opens in the spreadsheet that saved the ledger
            delimiter, _, bom = sheet[2].dialect()
            history = bom + HISTORY.replace(",", delimiter)
        files += [("history.csv", history.encode("utf-8")), (".gitignore", GITIGNORE.encode())]
        try:
            os.makedirs(target, exist_ok=True)
            for folder in ("playbooks", "templates"):
                _copy_bundled(folder, os.path.join(target, folder))
            for filename, data in files:
                if filename == ".gitignore" and os.path.exists(os.path.join(target, filename)):
                    continue  # the folder's own, kept
                with open(os.path.join(target, filename), "wb") as handle:
                    handle.write(data)
        except OSError as err:
            from ..files import write_failure

            raise write_failure(err.filename or directory, err) from None
    refused = _refused(target) if sheet is not None else []
    _tell(directory, sheet, guess if sheet else None, zone, name, email,
          sender_name, sender_email, refused)
    if refused:
        echo_problems([relative(p) for p in refused])


def _refused(target: str) -> list:
    """What `check` would refuse in the book just written around the user's sheet (a date
    no format reads, a duplicate id): said at once, while the sheet is fresh in mind."""
    from ..book import load, load_config

    try:
        load(load_config(target))
    except Failure as failure:
        return [p for p in failure.problems if not p.warning]
    return []


def _tell(directory, sheet, guess, zone, name, email, given_name, given_email,
          refused=()) -> None:
    """What init wrote and guessed, and what to run next."""
    from ..guess import described

    here = "" if directory in (".", "") else f" -C {directory}"
    where = "here" if directory in (".", "") else f"to {directory}"
    if sheet is None:
        say(f"Wrote a cadence book {where}.")
    else:
        copied = f", copied as {sheet[0]}" if sheet[0] != sheet[4] else ""
        say(f"Wrote a cadence book around {sheet[4]} ({count(guess.rows, 'contact')}{copied}) "
            f"{where}. Guessed from the sheet:")
        for line in described(guess, _playbook_for(guess)):
            say(f"  {line}")
        if sheet[3] != "utf-8":
            say(f"  encoding: {sheet[3]} (the file is not UTF-8)")
    say(f"  timezone: {zone} (this machine's)" if zone else
        "  timezone: not found on this machine; set `timezone:` in cadence.yaml")
    if name == PLACEHOLDER_NAME or email == PLACEHOLDER_EMAIL:
        say(f"  sender: {name} <{email}>: a placeholder; set `sender:` in cadence.yaml "
            "(or init with --sender-name and --sender-email)")
    else:
        origin = "given" if given_name or given_email else "from git"
        if "noreply" in email.lower() or "no-reply" in email.lower():
            origin += "; a no-reply address, which loses the answers: set your own in " \
                      "cadence.yaml"
        say(f"  sender: {name} <{email}> ({origin})")
    me = program()
    if refused:
        ledger = sheet[0] if directory in (".", "") else os.path.join(directory, sheet[0])
        say(f"The sheet has {count(len(refused), 'problem')} that `check` refuses (below): fix "
            f"{'it' if len(refused) == 1 else 'them'} in {ledger}, then {me}{here} check.")
        return
    say(f"Next: {me}{here} check, then {me}{here} due, then {me}{here} run")

"""`cadence sync` and `cadence push`: the mailbox read into the journal, drafts put where the
mail program shows them (SPEC section 10)."""
from __future__ import annotations

import os
from typing import NamedTuple, Optional

import typer

from ..cli import (APP as app, JSON, OPTIONS, QUIET, TODAY, cache_folder, config, emit_json,
                   guarded, load_book, quiet, resolve_today, say, write_outside)
from ..helptext import DAILY
from ..model import EXIT_CONFIG, Failure, Problem, Source, count
from ..terminal import Progress, visible

DRY_RUN = typer.Option(False, "--dry-run", help="Show what would be done; write nothing.")
ROLES_READ = ("inbox", "junk", "sent")


def _mail(cfg):
    """The book's `mail:` section, or exit 78 with one to copy."""
    from ..mailconfig import EXAMPLE

    if cfg.mail is None:
        where = Source(cfg.source or os.path.join(cfg.root, "cadence.yaml"))
        raise Failure(Problem(where, "no `mail:` section: cadence does not know your mailbox",
                              "add one to cadence.yaml, for example\n  " + EXAMPLE, EXIT_CONFIG))
    return cfg.mail


def _open(mail):
    from ..mailbox import open_mailbox
    from ..mailpass import password, run_password_command

    secret = None if mail.maildir else password(mail, os.environ, run_password_command)
    return open_mailbox(mail, secret)


def _read(box, cursors: dict, progress: Progress) -> tuple:
    """(reads, new cursors, folders, junk ids): the inbox and sent folder from their cursors,
    the junk folder whole (each sync says which replies still sit there)."""
    folders = box.folders()
    reads, moved, junk_ids = [], {}, set()
    for role in ROLES_READ:
        name = folders.get(role)
        if name is None:
            continue
        cursor = cursors.get(name) if role != "junk" else None
        found, after = box.read(role, name, cursor, progress.start, progress.advance)
        reads.extend(found)
        if after is not None and role != "junk":
            moved[name] = after
        if role == "junk":
            junk_ids = {r.message.id for r in found}
    return reads, moved, folders, junk_ids


@app.command(rich_help_panel=DAILY)
def sync(today: Optional[str] = TODAY,
         dry_run: bool = DRY_RUN,
         as_json: bool = JSON,
         quiet_: bool = QUIET) -> None:
    """Read the mailbox into the journal: replies (junk folder too), bounces, sent mail."""
    quiet(quiet_)
    from ..cache import mail_cursors, save_mail_cursors
    from ..commit import recover
    from ..files import Lock

    with guarded(as_json):
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)  # a book with mistakes stops here, before any mail is read
        mail = _mail(cfg)
        store, key = cache_folder(), _cursor_key(cfg, mail)
        saved = mail_cursors(store, key)
        cursors = saved.get("folders", {}) if _still(saved.get("basis"), cfg, loaded) else {}
        progress = Progress(not (OPTIONS.quiet or as_json))
        box = _open(mail)
        try:
            reads, moved, folders, junk_ids = _read(box, cursors, progress)
        finally:
            progress.stop()
            box.close()
        with Lock(cfg.root):
            if not dry_run:
                recover(cfg.root, cfg.history, cfg.ledger)
            loaded = load_book(cfg)
            result, later = _weigh(cfg, loaded, reads, junk_ids, day)
            if not dry_run:
                from ..actions import write

                write(loaded, [], result.entries, result.updates, write_outside())
                # the contacts as read before this sync's writes: a move it made (a new
                # playbook and start) makes the next sync read everything again, which is right
                save_mail_cursors(store, key, _basis(cfg, loaded),
                                  _cursors_after(cursors, moved, later))
    if as_json:
        emit_json({"today": day.isoformat(), "found": result.found_json()})
        for line in result.junk_lines() + result.crossed_lines():
            typer.echo(visible(line), err=True)
        return
    _report(result, len(reads), folders, mail, dry_run)


def _weigh(cfg, loaded, reads, junk_ids, day) -> tuple:
    """(mailacts.Synced, the reads left for a later sync) of what was read."""
    from .. import mailacts, mailmatch
    from ..book import journal_rows

    known = mailmatch.known(journal_rows(cfg, loaded.ledger_bytes))
    weighed = mailmatch.weigh(reads, _people(loaded), known, _own(cfg), _zone(cfg), day)
    later = [read for read in reads if (read.role, read.place) in set(weighed.later)]
    from ..book import read_history

    history = lambda ids: read_history(cfg, ids, loaded.ledger_bytes, undone=True)  # noqa: E731
    return mailacts.synced(loaded.book, weighed, known.junk, junk_ids, day, history), later


def _people(loaded) -> list:
    """The contacts as mail is matched to them, in the ledger's order."""
    from .. import engine
    from ..mailmatch import Person
    from ..addresses import address_key

    book, people = loaded.book, []
    for contact in book.contacts:
        email = contact.row.get("email", "").strip()
        started = None
        if email and contact.playbook:
            started = engine.state_of(contact, book.trails.get(contact.id), book.playbooks).started
        people.append(Person(contact.id, contact.name, address_key(email) if email else "",
                             contact.playbook, started))
    return people


def _own(cfg) -> tuple:
    """The user's own addresses: the sender's and the mailbox login, when it is one."""
    return tuple(a for a in (cfg.sender.get("email", ""), cfg.mail.user) if "@" in a)


def _zone(cfg):
    from zoneinfo import ZoneInfo

    return ZoneInfo(cfg.timezone) if cfg.timezone else None


def _cursor_key(cfg, mail) -> str:
    return "\x1f".join((os.path.realpath(cfg.root), mail.maildir or mail.host, str(mail.port),
                        mail.user))


def _basis(cfg, loaded) -> dict:
    """What the cursors were saved against: the journal's bytes and the contacts' addresses."""
    from ..cache import journal_prefix

    return {"journal": journal_prefix(cfg.history), "people": _people_digest(cfg, loaded)}


def _people_digest(cfg, loaded) -> str:
    """A digest of what matching mail to contacts depends on besides the journal."""
    import hashlib

    people = hashlib.sha256()
    for person in _people(loaded):
        people.update("\x1f".join((person.id, person.email, person.playbook,
                                    str(person.started))).encode("utf-8", "surrogatepass"))
        people.update(b"\x1e")
    people.update("\x1f".join(_own(cfg) + (cfg.timezone,)).encode("utf-8", "surrogatepass"))
    return people.hexdigest()


def _still(saved, cfg, loaded) -> bool:
    """Do the cursors saved against `saved` still hold: does the journal begin with the bytes
    it had, are the contacts' addresses and starts as they were?"""
    from ..cache import journal_prefix

    if not isinstance(saved, dict) or not isinstance(saved.get("journal"), list):
        return False
    size, digest = (saved["journal"] + [None, None])[:2]
    if not isinstance(size, int) or journal_prefix(cfg.history, size) != [size, digest]:
        return False
    return saved.get("people") == _people_digest(cfg, loaded)


def _cursors_after(cursors: dict, moved: dict, later: list) -> dict:
    """The cursors for the next sync: past what was read, but before any message left for
    later (dated after today), which the next sync reads again."""
    after = dict(cursors)
    after.update(moved)
    for read in later:
        if isinstance(read.place, int) and read.folder in after:
            validity, uid = after[read.folder]
            after[read.folder] = (validity, min(uid, read.place - 1))
    return after


def _report(result, read: int, folders, mail, dry_run: bool) -> None:
    from ..terminal import table

    if OPTIONS.quiet:
        for line in result.junk_lines() + result.crossed_lines():
            typer.echo(visible(line), err=True)
        return
    shown = ", ".join("the inbox" if role == "inbox" and mail.maildir and folders.get(role).upper()
                      in ("", "INBOX") else folders.show(role) or "the inbox"
                      for role in ROLES_READ if folders.get(role) is not None)
    say(f"Read {read} message{'s' if read != 1 else ''} from {mail.where}: {shown}.")
    missing = [role for role in ROLES_READ if folders.get(role) is None]
    for role in missing:
        say(f"No {role} folder found: name it in cadence.yaml (mail: folders: {role}: ...).")
    counts = result.counts()
    table("Found", ["replies", "in junk", "auto-replies", "bounces", "sent"], [counts])
    if result.found:
        table("New in the journal", ["date", "contact", "name", "event", "folder", "subject"],
              result.found_rows())
    for line in result.dated_lines():
        say(line)
    for line in result.junk_lines() + result.crossed_lines():
        say(line)
    if dry_run:
        say("Dry run: nothing was written.")


@app.command(rich_help_panel=DAILY)
def push(today: Optional[str] = TODAY,
         dry_run: bool = DRY_RUN,
         as_json: bool = JSON,
         quiet_: bool = QUIET) -> None:
    """Put the day's email drafts in the mailbox's Drafts folder, once each."""
    quiet(quiet_)
    with guarded(as_json):
        cfg = config()
        mail = _mail(cfg)
        day = resolve_today(today, cfg)
        drafts = _day_drafts(cfg, day)
        if not drafts:
            stored, kept, sent, other = [], [], [], []
        else:
            box = _open(mail)
            try:
                folder = box.folders().get("drafts")
                if folder is None:
                    where = ("a Drafts folder" if getattr(box, "subfolders", None)
                             else "a .Drafts folder")
                    raise Failure(Problem(mail.source, "the mailbox has no drafts folder",
                                          f"create {where} (with cur/, new/, tmp/) in the "
                                          "Maildir, or name yours in cadence.yaml: mail: "
                                          "folders: drafts: ..." if mail.maildir else
                                          "name it in cadence.yaml: mail: folders: drafts: ...",
                                          EXIT_CONFIG))
                there = box.drafts(folder)
                sent_folder = box.folders().get("sent")
                # a draft already sent (its copy in the sent folder) never goes back to Drafts
                gone = box.found_ids(sent_folder, [d.message_id for d in drafts
                                                   if d.message_id not in there]) \
                    if sent_folder else set()
                stored, kept, sent, other = [], [], [], []
                for draft in drafts:
                    if draft.message_id in there:
                        # one Message-ID, another text: the day's draft was made again
                        # (`undo`, a template mended, `run`) after the copy went there
                        (kept if there[draft.message_id] == draft.compared() else other
                         ).append(draft)
                        continue
                    if draft.message_id in gone:
                        sent.append(draft)
                        continue
                    if not dry_run:
                        box.store_draft(folder, draft.data)
                    there[draft.message_id] = draft.compared()
                    stored.append(draft)
            finally:
                box.close()
    if as_json:
        emit_json({"today": day.isoformat(), "dry_run": dry_run,
                   "stored": [d.json() for d in stored], "already": [d.json() for d in kept],
                   "sent": [d.json() for d in sent], "changed": [d.json() for d in other]})
        _other_text(other)
        return
    verb = "Would store" if dry_run else "Stored"
    if not drafts:
        folder = os.path.join(cfg.drafts, day.isoformat())
        say(f"No email drafts for {day}: the day's drafts are calls and letters." if
            os.path.isdir(folder) else f"No email drafts for {day}: run `cadence run` first.")
        return
    say(f"{verb} {count(len(stored), 'draft')} in the drafts folder of {mail.where}"
        + (f"; {len(kept)} already there" if kept else "")
        + (f"; {len(sent)} already sent" if sent else "")
        + (f"; {len(other)} not stored, another text is there (below)" if other else "") + ".")
    for draft in stored:
        say(f"  {draft.name}  {draft.subject}")
    _other_text(other)


def _other_text(other: list) -> None:
    """The drafts whose Message-ID the drafts folder holds with another text: not stored
    (a second copy could go out), said on stderr, which cron mails."""
    for draft in other:
        typer.echo(visible(f"{draft.name}: not stored: the drafts folder holds another text "
                           "under its Message-ID (a copy pushed before this draft was made "
                           "again, or edited there); if that copy is the old one, delete it in "
                           "your mail program, then push again"), err=True)


class Draft(NamedTuple):
    name: str  # the file's name in the day's folder
    data: bytes
    message_id: str
    subject: str

    def json(self) -> dict:
        return {"file": self.name, "message_id": self.message_id, "subject": self.subject}

    def compared(self) -> tuple:
        """(subject, text) as `drafts()` gives them for a copy in the mailbox."""
        from ..mailbox import draft_text
        from ..mailparse import header_block, parse

        return parse(header_block(self.data)).subject, draft_text(self.data)


DRAFT_LIMIT = 32 * 1024 * 1024  # bytes of an .eml that push reads at most


def _day_drafts(cfg, day) -> list:
    """The day's .eml drafts, by name; a link or anything but a regular file is refused."""
    import stat

    from ..mailparse import DIGEST_DOMAIN, header_block, parse

    folder = os.path.join(cfg.drafts, day.isoformat())
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".eml"))
    except FileNotFoundError:
        return []
    except OSError as err:
        raise Failure(Problem(Source(folder), f"cannot read the drafts: {err.strerror or err}",
                              code=74)) from None
    drafts = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as err:
            raise Failure(Problem(Source(path), "not a draft cadence wrote (a link or unreadable: "
                                  f"{err.strerror or err})", "remove it, then run push again",
                                  EXIT_CONFIG)) from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Failure(Problem(Source(path), "not a regular file", code=EXIT_CONFIG))
            data = handle.read(DRAFT_LIMIT + 1)
        if len(data) > DRAFT_LIMIT:
            raise Failure(Problem(Source(path), "too large for a draft cadence wrote",
                                  code=EXIT_CONFIG))
        head = parse(header_block(data))
        if head.id.endswith(f"@{DIGEST_DOMAIN}>"):
            # no Message-ID of its own (emptied or edited by hand): neither sync nor the
            # next push would know it
            raise Failure(Problem(Source(path), "not a draft cadence wrote (no Message-ID header)",
                                  "remove it, or have it written again: `cadence undo ID`, "
                                  "then `cadence run`", EXIT_CONFIG))
        drafts.append(Draft(name, data, head.id, head.subject))
    return drafts

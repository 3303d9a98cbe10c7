"""The user's mailbox, read by `sync` and written to by `push` (SPEC section 10): a Maildir
tree (Maildir++, or one Maildir a folder) through the stdlib's `mailbox`, or an IMAP server
over TLS through IMAPClient.

This is the edge of the house that touches the network. What is read is the header block of
each message (and, for a delivery report, the first part of its body): never an attachment
whole. Nothing is deleted, moved or flagged: folders are opened read-only and fetched with
BODY.PEEK, which leaves `\\Seen` alone. The only write is `push`'s: a draft added to the drafts
folder, after looking for its Message-ID there.

Failures come out as cadence's own: a network failure or a certificate that does not verify
as exit 74, a rejected login as 77 with the server's words. The password never appears in a
message, a traceback's values or the journal.

Longer than most modules: the Maildir (in its two layouts) and the IMAP session are two
halves that answer the same questions (folders, read, message ids, store a draft) with the
same values and wording; each half reads in one sitting, and keeping them side by side keeps
them alike.
"""
from __future__ import annotations

import os
import socket
import ssl
from datetime import datetime, timezone
from typing import Callable, NamedTuple, Optional

from .mailconfig import MAILDIR_FOLDERS, PASSWORD_VARIABLE, ROLES, Mail
from .mailpass import Secret
from .mailparse import REPORT_LIMIT, HEADER_LIMIT, header_block, needs_body, parse, Message
from .model import EXIT_CONFIG, EXIT_IO, Failure, Problem

EXIT_NOPERM = 77  # sysexits' EX_NOPERM: the server refused the login
BATCH = 200  # messages fetched by one IMAP command
_SPECIAL = {"junk": b"\\Junk", "sent": b"\\Sent", "drafts": b"\\Drafts"}


def _nothing(*args) -> None:
    pass


class Read(NamedTuple):
    """One message read from a folder."""

    role: str  # inbox | junk | sent
    folder: str  # the folder's name in the mailbox ("" for a Maildir++ inbox)
    place: object  # its IMAP UID, or its Maildir key
    message: Message


def open_mailbox(mail: Mail, secret: Optional[Secret]):
    """The mailbox `mail` names, open: a Maildir or an IMAP session (close it when done)."""
    if mail.maildir:
        return Maildir(mail)
    return Imap(mail, secret)


TEXT_LIMIT = 256 * 1024  # bytes of a draft read to compare its copy in the mailbox with it


def draft_text(data: bytes) -> tuple:
    """What tells two copies of a draft with one Message-ID apart: the decoded text of its
    text parts, line ends made LF, spaces at their ends dropped. Decoded, so that a server
    that stores a draft in another transfer encoding (quoted-printable for 8bit, CRLF for LF)
    keeps it the same draft. Reads at most HEADER_LIMIT + 2 * TEXT_LIMIT bytes."""
    from email.parser import BytesParser
    from email.policy import compat32

    texts = []
    try:
        message = BytesParser(policy=compat32).parsebytes(data[:HEADER_LIMIT + 2 * TEXT_LIMIT])
        parts = list(message.walk())[:100] if message.is_multipart() else [message]
        for part in parts:
            if part.get_content_maintype() != "text":
                continue
            payload = part.get_payload(decode=True) or b""
            try:
                text = payload.decode(part.get_content_charset() or "utf-8", "replace")
            except LookupError:
                text = payload.decode("utf-8", "replace")
            texts.append("\n".join(line.rstrip() for line in text.splitlines()).strip())
    except (RecursionError, ValueError, TypeError, LookupError, AssertionError, IndexError):
        return ("(a message that does not parse)",)
    return tuple(texts)


class Folders(NamedTuple):
    """The folder of each role that the mailbox has: {role: name}."""

    names: dict
    shown: Optional[dict] = None  # {role: name as people read it}, where it differs

    def get(self, role: str) -> Optional[str]:
        return self.names.get(role)

    def show(self, role: str) -> Optional[str]:
        return (self.shown or {}).get(role) or self.names.get(role)


# --- Maildir ----------------------------------------------------------------------------------

class Maildir:
    """A Maildir tree, in either layout mail programs leave: Maildir++ (the inbox is the
    tree's root, other folders `.Name` beside it: Dovecot's, mbsync's with `SubFolders
    Maildir++`) or one Maildir a folder (`INBOX/`, `Junk/`, ... each with cur/ new/ tmp/,
    side by side: offlineimap's default; folders in folders: mbsync's `SubFolders
    Verbatim`)."""

    def __init__(self, mail: Mail):
        import mailbox

        self.mail, root = mail, mail.maildir
        self.subfolders = {}  # one Maildir a folder: {name: its path}; empty for Maildir++
        not_one = Problem(mail.source, f"mail.maildir: {root} is not a Maildir (no cur/ "
                          "folder)", "name the folder your mail program syncs to: the one that "
                          "holds cur/, new/ and tmp/, or the one that holds a Maildir a folder "
                          "(INBOX/, Junk/, ...)", EXIT_CONFIG)
        try:
            os.listdir(os.path.join(root, "cur"))
        except OSError:
            self.subfolders = _subfolders(root)
            if _in_any_case(self.subfolders, mail.folder("inbox") or "INBOX") is None:
                raise Failure(not_one) from None
        # a Maildir++ root may keep its folders as directories too: Dovecot's LAYOUT=fs,
        # mbsync's `SubFolders Verbatim` with the inbox at the root (`Junk/cur`, not `.Junk/cur`)
        self.nested = {}
        if not self.subfolders:
            self._complete(root)
            self.nested = _subfolders(root)
        try:
            self.box = None if self.subfolders else mailbox.Maildir(root, factory=None,
                                                                     create=False)
        except (OSError, mailbox.Error):  # gone since
            raise Failure(not_one) from None
        self.where = root

    def _complete(self, path: str) -> None:
        """A Maildir++ root lacking new/ or tmp/ is a problem now: the mailbox module would
        fail later with a bare I/O error. (A folder of a tree without them is no folder.)"""
        linked = [d for d in ("cur", "new", "tmp") if os.path.islink(os.path.join(path, d))]
        if linked:  # read through, it would be mail from elsewhere; a draft stored, put there
            raise Failure(Problem(self.mail.source, f"mail.maildir: {path}/{linked[0]} is a "
                                  "link, and cadence reads only the Maildir's own folders",
                                  "name the Maildir it leads to in mail.maildir instead",
                                  EXIT_CONFIG))
        missing = [d for d in ("new", "tmp") if not os.path.isdir(os.path.join(path, d))]
        if missing:
            raise Failure(Problem(self.mail.source, f"mail.maildir: {path} lacks "
                                  + " and ".join(f"{d}/" for d in missing) + " (a Maildir has "
                                  "cur/, new/ and tmp/)", "let the mail program sync it again, "
                                  "or create the empty folders", EXIT_CONFIG))

    def close(self) -> None:
        pass

    def folders(self) -> Folders:
        """Each role's folder: as `folders` names it, else Junk, Sent, Drafts when present
        (and, in a tree of one Maildir a folder, INBOX for the inbox)."""
        tree = bool(self.subfolders)
        present = set(self.subfolders) if tree else {
            name for name in self.box.list_folders()
            if _is_maildir(os.path.join(self.where, "." + name))}
        if not tree:  # a `.Name` folder first, then a `Name/` one
            present |= {name for name in self.nested if _in_any_case(present, name) is None}
        # Dovecot and offlineimap keep a name beyond ASCII on disk in IMAP's modified UTF-7
        # (`Skr&AOQ-ppost`): it is named, and shown, as people read it (`Skräppost`)
        readable = {}
        for name in sorted(present):
            readable.setdefault(_readable(name), name)
        found, shown = {}, {}
        for role in ROLES:
            named = self.mail.folder(role)
            if role == "inbox" and not tree and (named is None or named.upper() == "INBOX"):
                found[role] = ""
            elif named is not None or (tree and role == "inbox"):
                wanted = named if named is not None else "INBOX"
                name = _in_any_case(present, wanted) if tree else (
                    wanted if wanted in present else None)
                if name is None:
                    name = readable.get(_in_any_case(readable, wanted) if tree else wanted)
                if name is None:
                    place = wanted if tree else f".{wanted} or {wanted}/"
                    hint = "folders here: " + (", ".join(sorted(readable)) or "none but the inbox")
                    link = next((c for c in ([wanted] if tree else ["." + wanted, wanted])
                                 if os.path.islink(os.path.join(self.where, c))), None)
                    if link is not None:
                        hint = (f"{link} is a link, and cadence reads only the Maildir's own "
                                "folders; " + hint)
                    raise Failure(Problem(self.mail.at(f"folders.{role}"),
                                          f"mail.folders.{role}: the Maildir has no folder "
                                          f"{place}", hint, EXIT_CONFIG))
                found[role] = name
            elif MAILDIR_FOLDERS[role] in present:
                found[role] = MAILDIR_FOLDERS[role]
            if found.get(role) and _readable(found[role]) != found[role]:
                shown[role] = _readable(found[role])
        return Folders(found, shown)

    def _folder(self, name: str):
        import mailbox

        if self.subfolders:
            return mailbox.Maildir(self.subfolders[name], factory=None, create=False)
        if name in self.nested and not _is_maildir(os.path.join(self.where, "." + name)):
            return mailbox.Maildir(self.nested[name], factory=None, create=False)
        return self.box if not name else self.box.get_folder(name)

    def read(self, role: str, name: str, cursor=None, start: Callable = _nothing,
             advance: Callable = _nothing) -> tuple:
        """([Read], None): every message of the folder (a Maildir has no UIDs to go on from;
        reading the header blocks of a folder is quick). `start(folder, count)` and
        `advance(count)` report progress."""
        folder = self._folder(name)
        keys = _messages(folder)
        start(name, len(keys))
        found = []
        for key in keys:
            data, moment = self._head(folder, key)
            advance(1)
            if data is None:
                continue
            found.append(Read(role, name, key, parse(data, moment, "file")))
        return found, None

    def _head(self, folder, key, whole: int = 0) -> tuple:
        """(header bytes, or the start of a report, the file's time) of one message; (None,
        None) when it vanished meanwhile (a mail program moved it) or is not a regular file.

        The file's path comes from the Maildir's own table of contents (`_lookup`): the
        public `get_file` hides the file's time, and `get_message` would read the whole
        message, attachments and all, to give it."""
        import stat

        try:
            path = os.path.join(folder._path, folder._lookup(key))
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (OSError, KeyError):
            return None, None
        with os.fdopen(fd, "rb") as handle:
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    return None, None
                data = handle.read(whole or HEADER_LIMIT)
                if not whole and needs_body(header_block(data)):
                    data += handle.read(REPORT_LIMIT - len(data))
            except OSError:
                return None, None
        return data, datetime.fromtimestamp(info.st_mtime, timezone.utc)

    def message_ids(self, name: str) -> set:
        folder = self._folder(name)
        ids = set()
        for key in _messages(folder):
            data, _ = self._head(folder, key)
            if data is not None:
                ids.add(parse(header_block(data)).id)
        return ids

    def drafts(self, name: str) -> dict:
        """{Message-ID: (subject, draft_text)} of the folder's messages (a draft folder)."""
        folder = self._folder(name)
        found = {}
        for key in _messages(folder):
            data, _ = self._head(folder, key, HEADER_LIMIT + 2 * TEXT_LIMIT)
            if data is not None:
                message = parse(header_block(data))
                found.setdefault(message.id, (message.subject, draft_text(data)))
        return found

    def found_ids(self, name: str, wanted) -> set:
        """Which of the Message-IDs `wanted` the folder holds."""
        return self.message_ids(name) & set(wanted)

    def store_draft(self, name: str, data: bytes) -> None:
        """A draft into the drafts folder: a file in its cur/ with the D flag."""
        import mailbox

        message = mailbox.MaildirMessage(data)
        message.set_subdir("cur")
        message.set_flags("D")
        self._folder(name).add(message)


def found_maildir(mail: Mail) -> bool:
    """Does `mail.maildir` hold a Maildir tree that `sync` opens, in either layout (`doctor`
    asks, without opening it)?"""
    path = mail.maildir
    return os.path.isdir(os.path.join(path, "cur")) or \
        _in_any_case(_subfolders(path), mail.folder("inbox") or "INBOX") is not None


def _subfolders(root: str, depth: int = 4) -> dict:
    """{name: path} of the Maildirs in `root`: a tree of one Maildir a folder. A folder is a
    directory of the tree itself, not a link, and so are its cur/, new/, tmp/. A folder inside
    another (mbsync's `SubFolders Verbatim`: `[Gmail]/Sent Mail`, whether `[Gmail]` is a Maildir
    or a plain directory) is named by its path from `root` with `/`, up to `depth` levels;
    hidden directories and a Maildir's cur/, new/, tmp/ are not looked into."""
    found = {}
    todo = [("", root, 1)]
    while todo:
        prefix, folder, level = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        inside = _is_maildir(folder)
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False) or (
                    inside and entry.name in ("cur", "new", "tmp")):
                continue
            name = prefix + entry.name
            if _is_maildir(entry.path):
                found[name] = entry.path
            if level < depth:
                todo.append((name + "/", entry.path, level + 1))
    return found


def _readable(name: str) -> str:
    """A Maildir folder's name as people read it: decoded from IMAP's modified UTF-7 (RFC 3501
    5.1.3) when it is written so, else as it is."""
    if "&" not in name or not name.isascii():
        return name
    from imapclient import imap_utf7

    try:
        decoded = imap_utf7.decode(name.encode("ascii"))
    except (UnicodeError, ValueError):
        return name
    return decoded if decoded.isprintable() else name


def _in_any_case(names, wanted: str) -> Optional[str]:
    """The folder `wanted` of a tree of one Maildir a folder: as named, else in any case (the
    server's INBOX is `Inbox` on some disks); None when there is none."""
    if wanted in names:
        return wanted
    return next((name for name in sorted(names) if name.upper() == wanted.upper()), None)


def _messages(folder) -> list:
    """The keys of a Maildir folder's messages, sorted: a file whose name begins with a dot is
    none (the Maildir convention; Dovecot does not show it either)."""
    return sorted(key for key in folder.iterkeys() if not key.startswith("."))


def _is_maildir(path: str) -> bool:
    """A folder of the tree: itself and its cur/, new/ and tmp/ directories, not links (a
    draft stored through a link would land outside the mailbox)."""
    import stat

    try:
        return all(stat.S_ISDIR(os.lstat(os.path.join(path, *part)).st_mode)
                   for part in ((), ("cur",), ("new",), ("tmp",)))
    except OSError:
        return False


# --- IMAP -------------------------------------------------------------------------------------

class Imap:
    """A session with the IMAP server: TLS (implicit, or STARTTLS), verified unless
    `tls_verify: false`, timing out after `timeout` seconds of silence."""

    def __init__(self, mail: Mail, secret: Optional[Secret]):
        from imapclient import IMAPClient
        from imapclient.exceptions import LoginError

        self.mail = mail
        self.where = f"{mail.host}:{mail.port}"
        context = ssl.create_default_context()
        if not mail.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.client = None
        with self.failures("connecting to"):
            client = IMAPClient(mail.host, mail.port, ssl=mail.security == "tls",
                                ssl_context=context, timeout=mail.timeout)
            self.client = client
            client.normalise_times = False
            if mail.security == "starttls":
                client.starttls(context)
            try:
                _login(client, mail.user, secret)
            except LoginError as err:
                words = _server_words(err)
                raise Failure(Problem(mail.at("user"), f"the server refused the login of "
                                      f"{mail.user}: {words}",
                                      "check mail.user and the password (password_command or "
                                      f"{PASSWORD_VARIABLE})", EXIT_NOPERM)) from None

    def failures(self, doing: str):
        """Network and protocol failures, while `doing` something, as exit 74."""
        return _Failures(self, doing)

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001  (the session is over either way)
            try:
                self.client.shutdown()
            except Exception:  # noqa: BLE001
                pass
        self.client = None

    def folders(self) -> Folders:
        """Each role's folder: as `folders` names it, else by SPECIAL-USE (RFC 6154), else by
        the names servers commonly give them."""
        with self.failures("listing the folders of"):
            listed = self.client.list_folders()
            names = {name for _, _, name in listed}
            found = {}
            for role in ROLES:
                named = self.mail.folder(role)
                if named is not None:
                    if named not in names and named.upper() != "INBOX":
                        raise Failure(Problem(self.mail.at(f"folders.{role}"),
                                              f"mail.folders.{role}: the server has no "
                                              f"folder {named!r}",
                                              "folders there: " + ", ".join(sorted(names)[:20]),
                                              EXIT_CONFIG))
                    found[role] = named
                elif role == "inbox":
                    found[role] = "INBOX"
                else:
                    flagged = [name for flags, _, name in listed if _SPECIAL[role] in flags]
                    found_name = flagged[0] if flagged else \
                        self.client.find_special_folder(_SPECIAL[role])
                    if found_name:
                        found[role] = found_name
        return Folders(found)

    def read(self, role: str, name: str, cursor=None, start: Callable = _nothing,
             advance: Callable = _nothing) -> tuple:
        """([Read], (uidvalidity, highest uid)) of the folder's messages after `cursor`
        ((uidvalidity, uid) of an earlier read, or None: all of them). A cursor of another
        UIDVALIDITY counts for nothing: the server renumbered the folder."""
        with self.failures(f"reading {name} on"):
            selected = self.client.select_folder(name, readonly=True)
            validity = int(selected.get(b"UIDVALIDITY", 0))
            after = cursor[1] if cursor and cursor[0] == validity else 0
            uids = sorted(u for u in self.client.search(["UID", f"{after + 1}:*"]) if u > after)
            start(name, len(uids))
            found = []
            for start in range(0, len(uids), BATCH):
                batch = uids[start:start + BATCH]
                fetched = self.client.fetch(batch, ["BODY.PEEK[HEADER]", "INTERNALDATE"])
                reports = [uid for uid in batch
                           if needs_body(fetched.get(uid, {}).get(b"BODY[HEADER]", b"") or b"")]
                bodies = self.client.fetch(reports, [f"BODY.PEEK[]<0.{REPORT_LIMIT}>"]) \
                    if reports else {}
                for uid in batch:
                    item = fetched.get(uid)
                    if item is None:
                        continue  # expunged meanwhile
                    data = bodies.get(uid, {}).get(b"BODY[]<0>") or item.get(b"BODY[HEADER]") or b""
                    moment = _aware(item.get(b"INTERNALDATE"))
                    found.append(Read(role, name, uid, parse(data, moment, "internaldate")))
                advance(len(batch))
            top = max(uids) if uids else after
        return found, (validity, top)

    def drafts(self, name: str) -> dict:
        """{Message-ID: (subject, draft_text)} of the folder's messages (a draft folder)."""
        with self.failures(f"reading {name} on"):
            self.client.select_folder(name, readonly=True)
            uids = self.client.search(["ALL"])
            found = {}
            for start in range(0, len(uids), BATCH):
                batch = uids[start:start + BATCH]
                fetched = self.client.fetch(batch, ["BODY.PEEK[HEADER]",
                                                    f"BODY.PEEK[TEXT]<0.{2 * TEXT_LIMIT}>"])
                for uid in batch:
                    item = fetched.get(uid, {})
                    head = item.get(b"BODY[HEADER]") or b""
                    message = parse(head)
                    whole = head + (item.get(b"BODY[TEXT]<0>") or b"")
                    found.setdefault(message.id, (message.subject, draft_text(whole)))
        return found

    def found_ids(self, name: str, wanted) -> set:
        """Which of the Message-IDs `wanted` the folder holds: a SEARCH by each, so that a
        sent folder of years is not read whole."""
        found = set()
        with self.failures(f"reading {name} on"):
            self.client.select_folder(name, readonly=True)
            for message_id in sorted(set(wanted)):
                if self.client.search(["HEADER", "Message-ID", message_id]):
                    found.add(message_id)
        return found

    def store_draft(self, name: str, data: bytes) -> None:
        """A draft into the drafts folder with the \\Draft flag, dated as the draft is."""
        moment = parse(header_block(data)).date
        with self.failures(f"storing a draft in {name} on"):
            self.client.append(name, data, flags=[b"\\Draft"], msg_time=moment)


def _login(client, user: str, secret: Optional[Secret]) -> None:
    """Log in. LOGIN's strings are ASCII (imaplib cannot even send others): a user or
    password with other characters goes by AUTHENTICATE PLAIN, which carries UTF-8 (RFC
    4616)."""
    if user.isascii() and (secret is None or secret.reveal().isascii()):
        client.login(user, secret.reveal() if secret else "")
    else:
        client.plain_login(user, secret.reveal() if secret else "")


class _Failures:
    """Turns what the network and the IMAP library raise into cadence's failures."""

    def __init__(self, session: Imap, doing: str):
        self.session, self.doing = session, doing

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is None or isinstance(err, Failure):
            return False
        problem = network_problem(err, self.session.mail, self.doing)
        if problem is None:
            return False
        raise Failure(problem) from None


def network_problem(err: BaseException, mail: Mail, doing: str) -> Optional[Problem]:
    """What went wrong on the way to the server, as a problem (exit 74); None for anything
    that is not a network or protocol failure."""
    from imapclient.exceptions import IMAPClientError

    where = f"{mail.host}:{mail.port}"
    source = mail.source
    if isinstance(err, ssl.SSLCertVerificationError):
        return Problem(source, f"{doing} {where}: the server's TLS certificate does not verify "
                       f"({err.verify_message or err.reason})",
                       "if the server uses a certificate of its own, add its CA to the system's "
                       "store (or SSL_CERT_FILE); `tls_verify: false` in the mail section turns "
                       "the check off, and anyone on the way could then read your password",
                       EXIT_IO)
    if isinstance(err, ssl.SSLError):
        return Problem(source, f"{doing} {where}: TLS failed ({err.reason or err})",
                       "is it the right port? 993 speaks TLS at once; 143 needs "
                       "`security: starttls`", EXIT_IO)
    if isinstance(err, (socket.timeout, TimeoutError)):
        hint = "check the network, or raise `timeout` in the mail section"
        if mail.security == "starttls":  # a TLS port waits for TLS, and says nothing
            hint = ("with `security: starttls` a server on a TLS port (993) waits for TLS and "
                    "says nothing: leave `security` out for such a port, or use the port for "
                    "STARTTLS (143); else " + hint)
        return Problem(source, f"{doing} {where}: no answer in {mail.timeout} seconds", hint,
                       EXIT_IO)
    if isinstance(err, ConnectionRefusedError):
        return Problem(source, f"{doing} {where}: connection refused",
                       "check mail.imap (host and port)", EXIT_IO)
    if isinstance(err, socket.gaierror):
        return Problem(source, f"{doing} {where}: unknown host ({err.strerror or err})",
                       "check mail.imap and the network", EXIT_IO)
    if isinstance(err, OSError):
        return Problem(source, f"{doing} {where}: {err.strerror or err}",
                       "check the network, then run sync again: nothing was written", EXIT_IO)
    if isinstance(err, IMAPClientError):
        return Problem(source, f"{doing} {where}: {_server_words(err)}",
                       "the server broke off or answered unexpectedly; run sync again: nothing "
                       "was written", EXIT_IO)
    if isinstance(err, EOFError):
        return Problem(source, f"{doing} {where}: the connection was closed",
                       "run sync again: nothing was written", EXIT_IO)
    return None


def _server_words(err: Exception) -> str:
    """The server's words in an IMAP error, as text, one line, not too long."""
    value = err.args[0] if err.args else err
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).split())
    for prefix in ("b'", 'b"'):
        if text.startswith(prefix) and text.endswith(prefix[-1]):
            text = text[2:-1]
    return text[:300] or type(err).__name__


def _aware(moment) -> Optional[datetime]:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


"""A real Dovecot 2.3 IMAP server on 127.0.0.1 for the tests, and helpers to fill and read it.

The server runs the ``dovecot`` binary of the machine (``apt-get install dovecot-imapd``) with a
configuration of its own in a temporary folder: its own ``base_dir``, ``state_dir``, log file,
users and mail, on free ports of 127.0.0.1, never 143 or 993.  A system Dovecot, running or not,
is neither used nor disturbed.  Without the binary the fixtures fail (the project skips no test).

In a test::

    from mail.fixtures import *  # noqa: F401,F403  (mail_server, mail_user, ...)
    from mail.server import append, messages

    def test_something(mail_server, mail_user, monkeypatch):
        uid = append(mail_server, mail_user, "Junk", data, flags=[r"\\Seen"])
        # cadence.yaml: imap: 127.0.0.1:<port>, user: <login>; the password by environment
        address = f"{mail_server.host}:{mail_server.imaps_port}"
        monkeypatch.setenv("CADENCE_IMAP_PASSWORD", mail_user.password)
        # ssl.create_default_context() trusts the throwaway CA (and only it) through OpenSSL's
        # SSL_CERT_FILE, so the code under test keeps verification on, as in production:
        monkeypatch.setenv("SSL_CERT_FILE", str(mail_server.ca_file))
        ...
        assert [m.flags for m in messages(mail_server, mail_user, "Drafts")] == [(r"\\Draft",)]

Fixtures:

``mail_server`` (session)
    the running ``MailServer``: ``host`` ("127.0.0.1"), ``imaps_port`` (implicit TLS),
    ``imap_port`` (plain IMAP, STARTTLS offered), ``ca_file`` (PEM of the throwaway CA that
    signed the server's certificate for ``localhost`` and ``127.0.0.1``), ``root`` (the temporary
    folder), ``log_file``, ``user`` (a ``MailUser`` ``eva@konsult.example`` shared by the whole
    session), ``ssl_context()``, ``connect(user)``, ``connect_starttls(user)``, ``add_user()``,
    ``log()``.  One Dovecot per test process, even when several modules import the fixture; it is
    stopped when the session ends.
``mail_user`` (function)
    a fresh ``MailUser`` for the test alone (login ``eva.N@konsult.example``, password
    ``PASSWORD``), whose folders INBOX, Junk, Sent, Drafts, Archive and Trash exist on disk and
    are empty: tests cannot see each other's mail.

Outside pytest, ``with dovecot_server() as server: ...`` does the same as ``mail_server``.

Helpers (each opens its own verified TLS connection and logs out, so they never share state with
the code under test): ``append``, ``messages``, ``status``, ``uidvalidity``,
``change_uidvalidity``, ``special_use``, ``empty_folders``.  Folder names are the IMAP names
("INBOX", "Junk", ...); ``MailUser.folder_path(name)`` gives the Maildir++ folder on disk
(``<home>/Maildir`` for INBOX, ``<home>/Maildir/.Junk`` for Junk), whose ``cur/``, ``new/``
files a test may read (they belong to the mail user, see ``MailServer.mail_uid``).

Dovecot facts worth knowing when writing ``sync``/``push`` against it:

* The greeting carries the capabilities (``STARTTLS`` on the plain port); after LOGIN they
  include ``SPECIAL-USE``, ``UIDPLUS`` (APPEND answers ``[APPENDUID <uidvalidity> <uid>]``),
  ``LIST-EXTENDED``, ``LIST-STATUS``, ``MOVE``, ``CONDSTORE``.  A plain ``LIST "" "*"`` already
  shows the special-use attributes (``(\\HasNoChildren \\Junk) "." Junk``);
  ``LIST (SPECIAL-USE) "" "*"`` lists only those folders.  The hierarchy separator is ".".
* A wrong password: ``NO [AUTHENTICATIONFAILED] Authentication failed.``; imaplib raises
  ``imaplib.IMAP4.error`` whose ``args[0]`` is those words as *bytes* (Python 3.11).  Failed
  logins are not slowed down here (``auth_failure_delay = 0``, no auth penalty).
* Dovecot treats connections from 127.0.0.1 as secure, so it allows LOGIN on the plain port
  before STARTTLS: a test cannot rely on the server to refuse a plaintext password.
* FETCH gives messages with CRLF line ends; Dovecot's Maildir files hold them with LF.
  ``\\Recent`` is left out of ``StoredMessage.flags`` (it depends on who looked first).
* A message's INTERNALDATE is its file's mtime; ``append(date=...)`` sets it.
* UIDVALIDITY of a fresh folder is about the time it was made (seconds since 1970).
  ``change_uidvalidity`` gives a folder a greater one, as a server does when it rebuilds a
  folder: same messages (bytes, flags, INTERNALDATE), UIDs from 1 again, new UIDVALIDITY.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import grp
import imaplib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

import pytest

from .tls import Pair, make_ca, make_cert

HOST = "127.0.0.1"
DOMAIN = "konsult.example"
DEFAULT_LOGIN = f"eva@{DOMAIN}"
PASSWORD = "pigeon-post-2026"
# Folder name -> SPECIAL-USE attribute (RFC 6154), all made with `auto = create`.
SPECIAL_FOLDERS = {"Junk": r"\Junk", "Sent": r"\Sent", "Drafts": r"\Drafts",
                   "Archive": r"\Archive", "Trash": r"\Trash"}
FOLDERS = ("INBOX", *SPECIAL_FOLDERS)
INSTALL_HINT = ("the dovecot binary is missing: run `apt-get install dovecot-imapd` "
                "(Debian/Ubuntu; .ci/run does it) to run the mail tests")
START_TIMEOUT = 15.0


class DovecotError(RuntimeError):
    """Dovecot is missing, or did not start; the message says why, with its log."""


@dataclass(frozen=True)
class MailUser:
    """A mailbox on the test server: log in with ``login``/``password``."""
    login: str
    password: str
    home: Path

    @property
    def address(self) -> str:
        return self.login

    @property
    def maildir(self) -> Path:
        """The Maildir++ root: the inbox's ``cur/ new/ tmp/``, other folders as ``.Name``."""
        return self.home / "Maildir"

    def folder_path(self, folder: str) -> Path:
        return self.maildir if folder.upper() == "INBOX" else self.maildir / f".{folder}"


class StoredMessage(NamedTuple):
    """One message as the server holds it."""
    uid: int
    flags: tuple[str, ...]
    internaldate: dt.datetime
    data: bytes


@dataclass
class MailServer:
    """A running Dovecot (see the module docstring); made by ``dovecot_server()``."""
    root: Path
    imaps_port: int
    imap_port: int
    ca: Pair
    cert: Pair
    mail_uid: int
    mail_gid: int
    pid: int | None = None  # Dovecot's master process (not a child of the test process)
    host: str = HOST
    user: MailUser | None = None
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ca_file(self) -> Path:
        """The PEM file of the throwaway CA: trust it to verify this server."""
        return self.ca.cert

    @property
    def log_file(self) -> Path:
        return self.root / "dovecot.log"

    def log(self) -> str:
        """Dovecot's log so far (errors, logins, disconnections)."""
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def ssl_context(self) -> ssl.SSLContext:
        """A client context as cadence makes by default (verification on), trusting the CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def connect(self, user: MailUser | None = None, *, timeout: float = 10.0,
                login: bool = True) -> imaplib.IMAP4_SSL:
        """An implicit-TLS connection, verified against the CA, logged in as ``user``."""
        imap = imaplib.IMAP4_SSL(self.host, self.imaps_port, ssl_context=self.ssl_context(),
                                 timeout=timeout)
        if login:
            user = user or self.user
            imap.login(user.login, user.password)
        return imap

    def connect_starttls(self, user: MailUser | None = None, *, timeout: float = 10.0,
                         login: bool = True) -> imaplib.IMAP4:
        """A plain connection upgraded with STARTTLS (verified), logged in as ``user``."""
        imap = imaplib.IMAP4(self.host, self.imap_port, timeout=timeout)
        imap.starttls(ssl_context=self.ssl_context())
        if login:
            user = user or self.user
            imap.login(user.login, user.password)
        return imap

    def add_user(self, login: str | None = None, password: str = PASSWORD, *,
                 materialize: bool = True) -> MailUser:
        """A new mail user (``eva.N@konsult.example`` unless ``login`` is given).

        Each user has a passwd-file of its own (``users/<login>``), so Dovecot knows the user at
        once: it rereads a shared passwd-file at most once a second.  With ``materialize``,
        every folder is opened once, so its Maildir++ folder exists on disk."""
        with self._lock:
            if login is None:
                login = f"eva.{next(self._counter)}@{DOMAIN}"
            login = login.lower()
            entry = self.root / "users" / login
            if entry.exists():
                raise ValueError(f"user {login} exists already")
            if ":" in password or "\n" in password:
                raise ValueError("a passwd-file password holds no ':' nor newline")
            home = self.root / "homes" / login
            home.mkdir(parents=True)
            _chown(home, self.mail_uid, self.mail_gid)
            tmp = entry.with_name(entry.name + ".tmp")
            tmp.write_text(f"{login}:{{PLAIN}}{password}:{self.mail_uid}:{self.mail_gid}::"
                           f"{home}::\n", encoding="utf-8")
            tmp.chmod(0o644)
            tmp.rename(entry)
        user = MailUser(login, password, home)
        if materialize:
            with self.connect(user) as imap:
                for folder in FOLDERS:
                    _ok(imap.select(_quote(folder), readonly=True), "SELECT", folder)
        return user


# --- starting and stopping ------------------------------------------------------------------

def find_dovecot() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _chown(path: Path, uid: int, gid: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, uid, gid)


def _accounts() -> dict:
    """Who runs what.  As root: Dovecot's own ``dovecot``/``dovenull`` users (made by the Debian
    package) for its internal and login processes, and ``nobody`` for the mail (Dovecot refuses
    mail access as root).  As anyone else: that user for everything."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        group = grp.getgrgid(os.getgid()).gr_name
        return dict(internal_user=me.pw_name, internal_group=group, login_user=me.pw_name,
                    mail_uid=me.pw_uid, mail_gid=me.pw_gid)
    try:
        internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
    except KeyError as exc:
        raise DovecotError(f"the system user {exc} is missing; it comes with the Debian package: "
                           f"reinstall it (`apt-get install --reinstall dovecot-core`)") from None
    nobody = pwd.getpwnam("nobody")
    return dict(internal_user=internal.pw_name,
                internal_group=grp.getgrgid(internal.pw_gid).gr_name,
                login_user=login.pw_name, mail_uid=nobody.pw_uid, mail_gid=nobody.pw_gid)


CONFIG = """\
# Written by tests/mail/server.py for one test session; nothing here is shared with a system
# Dovecot (own base_dir, state_dir, instance name, log, ports on 127.0.0.1 only).
base_dir = {root}/run
state_dir = {root}/state
instance_name = cadence-test-{pid}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = {host}
shutdown_clients = yes

default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
last_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
last_valid_gid = {mail_gid}

ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2

auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {root}/users/%Lu
}}
userdb {{
  driver = passwd-file
  args = username_format=%Lu {root}/users/%Lu
}}

mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
{mailboxes}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delay for 127.0.0.1 after a test's wrong password (Dovecot's auth penalty).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _mailboxes() -> str:
    return "\n".join(f"  mailbox {name} {{\n    auto = create\n    special_use = {use}\n  }}"
                     for name, use in SPECIAL_FOLDERS.items())


def _wait_listening(server: MailServer, deadline: float) -> None:
    pending = {server.imap_port, server.imaps_port}
    while pending:
        if not _alive(server.pid):
            raise DovecotError(_start_failure(server, "dovecot exited"))
        if time.monotonic() > deadline:
            raise DovecotError(_start_failure(server, f"ports {sorted(pending)} not open after "
                                                      f"{START_TIMEOUT:g} s"))
        for port in sorted(pending):
            with contextlib.suppress(OSError), socket.create_connection((server.host, port), 0.5):
                pending.discard(port)
        if pending:
            time.sleep(0.02)


def _start_failure(server: MailServer, what: str) -> str:
    stderr = (server.root / "dovecot.stderr").read_text(errors="replace")
    return (f"Dovecot did not start: {what}.\n--- stderr ---\n{stderr}\n"
            f"--- {server.log_file} ---\n{server.log()}\n--- config {server.root / 'dovecot.conf'}")


def _new_root() -> Path:
    root = tempfile.mkdtemp(prefix="cadence-dovecot-")
    if len(root) > 60:  # Dovecot's sockets live below it; a Unix socket path has 107 bytes
        os.rmdir(root)
        root = tempfile.mkdtemp(prefix="cadence-dovecot-", dir="/tmp")
    return Path(root)


# Dovecot is started by a small watcher shell that the launching shell leaves behind, so it
# is not a child of the test process: tests may wait for their own children (os.waitpid(-1))
# and must not find Dovecot there.  The watcher stops Dovecot when the test process is gone
# without its teardown (killed), so no server outlives a test run.
_LAUNCH = """(
  "$1" -F -c "$2" </dev/null >>"$3" 2>&1 &
  dovecot=$!
  echo "$dovecot"
  exec >/dev/null
  while kill -0 "$4" 2>/dev/null; do sleep 1; done
  kill -TERM "$dovecot" 2>/dev/null
  wait "$dovecot"
) &"""


def _launch(binary: str, config: Path, output: Path) -> int:
    output.write_bytes(b"")
    with subprocess.Popen(["/bin/sh", "-c", _LAUNCH, "sh", binary, str(config), str(output),
                           str(os.getpid())], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          start_new_session=True) as launcher:
        pid = int(launcher.stdout.readline())
        launcher.stdout.close()
    return pid


def _alive(pid: int | None) -> bool:
    """Running, and not a zombie waiting for its parent (the watcher) to reap it."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _stop(server: MailServer) -> None:
    """SIGTERM, Dovecot's clean stop (it ends its own processes), then SIGKILL after 10 s."""
    pid = server.pid
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        if not _alive(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)


@contextlib.contextmanager
def dovecot_server(root: Path | None = None, *, keep: bool = False) -> Iterator[MailServer]:
    """Start Dovecot in ``root`` (a new temporary folder by default), yield the ``MailServer``,
    stop it and (unless ``keep``) remove the folder.  Raises ``DovecotError`` if the binary is
    missing or the server does not come up (with Dovecot's stderr and log)."""
    binary = find_dovecot()
    if binary is None:
        raise DovecotError(INSTALL_HINT)
    made = root is None
    root = _new_root() if made else Path(root)
    root.mkdir(parents=True, exist_ok=True)
    # Dovecot's unprivileged processes walk through it to their sockets and the mail.
    root.chmod(0o755)
    accounts = _accounts()
    for sub in ("run", "state", "users", "homes", "tls"):
        (root / sub).mkdir(exist_ok=True)
        (root / sub).chmod(0o755)
    ca = make_ca(root / "tls")
    cert = make_cert(root / "tls", "server", ca, ["localhost", HOST])
    server = None
    try:
        for attempt in range(3):  # a free port can be taken between the probe and the bind
            server = MailServer(root, _free_port(), _free_port(), ca, cert,
                                accounts["mail_uid"], accounts["mail_gid"])
            config = root / "dovecot.conf"
            config.write_text(CONFIG.format(
                root=root, pid=os.getpid(), host=HOST, cert=cert.cert, key=cert.key,
                imap_port=server.imap_port, imaps_port=server.imaps_port,
                mailboxes=_mailboxes(), **accounts), encoding="utf-8")
            server.log_file.unlink(missing_ok=True)
            server.pid = _launch(binary, config, root / "dovecot.stderr")
            try:
                _wait_listening(server, time.monotonic() + START_TIMEOUT)
                break
            except DovecotError as exc:
                _stop(server)
                if attempt == 2 or "Address already in use" not in str(exc):
                    raise
        server.user = server.add_user(DEFAULT_LOGIN)
        yield server
    finally:
        if server is not None:
            _stop(server)
        if made and not keep:
            shutil.rmtree(root, ignore_errors=True)


# --- pytest fixtures ------------------------------------------------------------------------

_SHARED: dict = {}


def shared_server(config: pytest.Config) -> MailServer:
    """The one Dovecot of this test process, started on first use, stopped at session end."""
    if "server" not in _SHARED:
        if find_dovecot() is None:
            pytest.fail(INSTALL_HINT, pytrace=False)
        manager = dovecot_server()
        try:
            server = manager.__enter__()
        except DovecotError as exc:
            pytest.fail(str(exc), pytrace=False)
        _SHARED["server"] = server

        def stop() -> None:
            _SHARED.pop("server", None)
            manager.__exit__(None, None, None)
        config.add_cleanup(stop)
    return _SHARED["server"]


@pytest.fixture(scope="session")
def mail_server(request: pytest.FixtureRequest) -> MailServer:
    """The running Dovecot (see ``MailServer``)."""
    return shared_server(request.config)


@pytest.fixture
def mail_user(mail_server: MailServer) -> MailUser:
    """A fresh user with empty folders, for this test alone."""
    return mail_server.add_user()


# --- helpers --------------------------------------------------------------------------------

def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple, command: str, *args: object) -> list:
    typ, data = answer
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{command} {' '.join(map(str, args))}: {typ} {data!r}")
    return data


def _internaldate(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)  # never the machine's zone
    return value


def append(server: MailServer, user: MailUser, folder: str, message: bytes,
           flags: Iterable[str] = (), date: dt.datetime | None = None) -> int:
    """APPEND ``message`` to ``folder`` with ``flags`` (e.g. ``[r"\\Seen"]``) and INTERNALDATE
    ``date`` (naive means UTC; None: now); returns the new message's UID."""
    when = _internaldate(date)
    with server.connect(user) as imap:
        data = _ok(imap.append(_quote(folder), "(" + " ".join(flags) + ")" if flags else None,
                               imaplib.Time2Internaldate(when) if when else None, message),
                   "APPEND", folder)
    found = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0] or b"")
    if not found:
        raise imaplib.IMAP4.error(f"APPEND {folder}: no APPENDUID in {data!r}")
    return int(found.group(2))


_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def parse_internaldate(text: str) -> dt.datetime:
    """``"03-Dec-2026 10:15:00 +0100"`` -> aware datetime (no locale involved)."""
    found = re.fullmatch(r" ?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)",
                         text)
    if not found:
        raise ValueError(f"not an INTERNALDATE: {text!r}")
    day, month, year, hh, mm, ss, sign, zh, zm = found.groups()
    offset = dt.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    return dt.datetime(int(year), _MONTHS[month], int(day), int(hh), int(mm), int(ss),
                       tzinfo=dt.timezone(offset))


def fetch_all(imap: imaplib.IMAP4) -> list[StoredMessage]:
    """UID, FLAGS, INTERNALDATE and bytes of every message of the selected folder."""
    typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    _ok((typ, data), "UID FETCH")
    found = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, body = item
        uid = int(re.search(rb"\bUID (\d+)", head).group(1))
        flags = [flag for flag in re.search(rb"\bFLAGS \(([^)]*)\)", head).group(1).decode().split()
                 if flag.lower() != "\\recent"]  # session-dependent, and APPEND refuses it
        when = parse_internaldate(re.search(rb'\bINTERNALDATE "([^"]+)"', head).group(1).decode())
        found.append(StoredMessage(uid, tuple(flags), when, body))
    return sorted(found)


def messages(server: MailServer, user: MailUser, folder: str) -> list[StoredMessage]:
    """Every message of ``folder``, by UID, without setting ``\\Seen``."""
    with server.connect(user) as imap:
        typ, data = imap.select(_quote(folder), readonly=True)
        _ok((typ, data), "SELECT", folder)
        if int(data[0]) == 0:
            return []
        return fetch_all(imap)


def status(server: MailServer, user: MailUser, folder: str) -> dict[str, int]:
    """STATUS of ``folder``: MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN."""
    with server.connect(user) as imap:
        data = _ok(imap.status(_quote(folder), "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"),
                   "STATUS", folder)
    items = re.search(rb"\(([^)]*)\)\s*$", data[0]).group(1).split()
    return {items[i].decode(): int(items[i + 1]) for i in range(0, len(items), 2)}


def uidvalidity(server: MailServer, user: MailUser, folder: str) -> int:
    return status(server, user, folder)["UIDVALIDITY"]


def special_use(server: MailServer, user: MailUser) -> dict[str, str]:
    """``{"\\Junk": "Junk", ...}`` from ``LIST (SPECIAL-USE) "" "*"`` (RFC 6154)."""
    with server.connect(user) as imap:
        typ, data = imap._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
        data = _ok(imap._untagged_response(typ, data, "LIST"), "LIST (SPECIAL-USE)")
        found = {}
        for line in data:
            if not line:
                continue
            attrs, _, name = parse_list_line(line)
            for attr in attrs:
                if attr in SPECIAL_FOLDERS.values() or attr in (r"\All", r"\Flagged"):
                    found[attr] = name
        return found


def parse_list_line(line: bytes) -> tuple[tuple[str, ...], str | None, str]:
    """``b'(\\HasNoChildren \\Junk) "." Junk'`` ->
    ``(("\\HasNoChildren", "\\Junk"), ".", "Junk")``."""
    found = re.fullmatch(rb'\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)") (.+)', line)
    if not found:
        raise ValueError(f"not a LIST line: {line!r}")
    attrs = tuple(found.group(1).decode().split())
    delim = None if found.group(2) == b"NIL" else found.group(2)[1:-1].decode()
    name = found.group(3).decode()
    if name.startswith('"'):
        name = re.sub(r'\\(.)', r"\1", name[1:-1])
    return attrs, delim, name


def change_uidvalidity(server: MailServer, user: MailUser, folder: str) -> int:
    """Give ``folder`` a new, greater UIDVALIDITY and renumber its messages from UID 1, as a
    server does when it rebuilds a folder; returns the new UIDVALIDITY.

    The messages stay (same bytes, flags, INTERNALDATE).  For a folder other than INBOX this
    is done over IMAP: DELETE, CREATE, APPEND again (Dovecot keeps the next UIDVALIDITY of the
    user in ``dovecot-uidvalidity``, so the new one is always greater).  INBOX cannot be
    deleted, so its ``dovecot-uidlist`` and indexes are removed on disk and Dovecot rebuilds
    them with a new UIDVALIDITY; no connection of ``user`` may be open meanwhile."""
    before = uidvalidity(server, user, folder)
    if folder.upper() == "INBOX":
        _rebuild_inbox(user)
    else:
        with server.connect(user) as imap:
            _ok(imap.select(_quote(folder), readonly=True), "SELECT", folder)
            kept = fetch_all(imap)
            imap.close()
            _ok(imap.delete(_quote(folder)), "DELETE", folder)
            _ok(imap.create(_quote(folder)), "CREATE", folder)
            for message in kept:
                _ok(imap.append(_quote(folder), "(" + " ".join(message.flags) + ")"
                                if message.flags else None,
                                imaplib.Time2Internaldate(message.internaldate), message.data),
                    "APPEND", folder)
    after = uidvalidity(server, user, folder)
    if after <= before:
        raise AssertionError(f"UIDVALIDITY of {folder} did not grow: {before} -> {after}")
    return after


def _rebuild_inbox(user: MailUser) -> None:
    # Without its uidlist and indexes Dovecot rescans cur/ and new/, numbers the messages from
    # UID 1 again and takes the next UIDVALIDITY from the user's `dovecot-uidvalidity` counter.
    # Flags live in the file names and INTERNALDATE in their mtimes, so both stay.
    for path in user.folder_path("INBOX").iterdir():
        if path.is_file() and (path.name == "dovecot-uidlist"
                               or path.name.startswith("dovecot.index")):
            path.unlink()


def empty_folders(server: MailServer, user: MailUser) -> None:
    """Expunge every message of ``user`` and delete the folders that are not standard: the
    alternative to a fresh ``mail_user`` for a test that must use one fixed login."""
    with server.connect(user) as imap:
        typ, data = imap.list('""', '"*"')
        names = [parse_list_line(line)[2] for line in _ok((typ, data), "LIST")]
        for name in sorted(names, key=len, reverse=True):  # children before their parents
            if name not in FOLDERS:
                _ok(imap.delete(_quote(name)), "DELETE", name)
        for folder in FOLDERS:
            typ, data = imap.select(_quote(folder))
            if int(_ok((typ, data), "SELECT", folder)[0]):
                _ok(imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)"), "STORE", folder)
                _ok(imap.expunge(), "EXPUNGE", folder)
            imap.close()

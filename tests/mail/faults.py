"""Servers that misbehave, for the failure paths of ``sync`` and ``push`` (exit 74 and 77).

Fixtures (``from mail.fixtures import *`` brings them with ``mail_server``, which they use)::

    def test_an_interrupted_sync_appends_nothing(mail_server, mail_user, imap_proxy):
        append(mail_server, mail_user, "INBOX", make("gmail_reply"))
        proxy = imap_proxy(cut_after_command="FETCH", then_bytes=300, cut_connections=1)
        # cadence.yaml: imap: <proxy.address>; SSL_CERT_FILE=mail_server.ca_file
        ...  # first sync: exit 74, journal unchanged; second sync (not cut): the reply
        assert proxy.cuts == 1
        assert not {"STORE", "UID STORE", "EXPUNGE", "UID MOVE", "DELETE"} \
            & set(proxy.command_names)                      # sync never changes the mailbox

``refused_port`` -> ``Endpoint``
    a port of 127.0.0.1 that refuses every connection (a socket is bound there and never
    listens, so no other process takes the port meanwhile): ``ConnectionRefusedError``.
``silent_server`` -> ``Endpoint``
    accepts connections and never sends a byte: no greeting, no TLS handshake.  A client with a
    timeout gets ``TimeoutError`` (``socket.timeout``); without one it hangs.
``imap_proxy`` -> ``make(**options) -> Proxy``
    a factory of proxies in front of the test Dovecot (``mail_server``).  By default a proxy
    speaks implicit TLS with the server's own certificate (so it verifies against
    ``mail_server.ca_file``) and passes everything through.  Options (see ``Proxy``):
    ``cut_after_command="FETCH"`` (also matches ``UID FETCH``), ``occurrence=2``,
    ``then_bytes=200`` (bytes of the answer let through before the cut), ``cut_after_bytes=N``
    (from the connection's start), ``stall=True`` (stop relaying instead of closing: the client
    times out), ``reset=True`` (close with a TCP RST), ``security="starttls"`` or ``"plain"``.
    After the test, ``proxy.commands`` lists the IMAP commands the client sent with their
    arguments (``"LOGIN eva.3@konsult.example ***"``, ``"EXAMINE Junk"``: passwords masked),
    ``proxy.command_names`` the names alone (``"UID FETCH"``), ``proxy.cuts`` how many
    connections were cut, ``proxy.connections`` how many were made.
``untrusted_tls`` / ``untrusted_starttls`` -> ``Proxy`` (session)
    Dovecot (through a ``Proxy``, which does the TLS) behind a self-signed certificate for ``localhost``/``127.0.0.1`` that no CA
    vouches for: a verifying client fails with ``ssl.SSLCertVerificationError``; one that
    does not verify (``tls_verify: false``) reaches the real server and logs in.
``wrong_host_tls`` -> ``Proxy`` (session)
    a certificate signed by the trusted test CA but for ``mail.other.example`` only: fails
    hostname verification (``ssl.SSLCertVerificationError`` too).

``WRONG_PASSWORD`` (a constant): a password no test user has; Dovecot answers ``NO [AUTHENTICATIONFAILED]
Authentication failed.``

Everything runs on 127.0.0.1 in threads of the test process, is deterministic (cuts count
plaintext bytes and commands, not time) and is closed when the fixture ends.  ``Proxy``,
``SilentServer`` and ``refused_endpoint()`` work outside pytest as context managers.

How a cut looks to imaplib: ``imaplib.IMAP4.abort`` ("socket error: EOF ...") or an ``OSError``
(``ssl.SSLEOFError`` when TLS ends without close_notify, ``ConnectionResetError`` after an RST);
a client must treat both as a network failure.
"""
from __future__ import annotations

import contextlib
import re
import select
import socket
import ssl
import struct
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from .server import HOST, MailServer
from .tls import Pair, make_cert, make_self_signed

WRONG_PASSWORD = "pigeon-post-1999"

__all__ = ["WRONG_PASSWORD", "Endpoint", "Proxy", "SilentServer", "refused_endpoint",
           "refused_port", "silent_server", "imap_proxy", "untrusted_tls", "untrusted_starttls",
           "wrong_host_tls"]


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: str = "plain"  # "tls" (implicit), "starttls" or "plain"

    @property
    def address(self) -> str:
        """``host:port``, as cadence.yaml's ``imap:`` takes it."""
        return f"{self.host}:{self.port}"


# --- a port that refuses ---------------------------------------------------------------------

@contextlib.contextmanager
def refused_endpoint() -> Iterator[Endpoint]:
    """A port that answers every connection with a reset (bound, never listening)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, 0))
        yield Endpoint(HOST, sock.getsockname()[1], "tls")
    finally:
        sock.close()


@pytest.fixture
def refused_port() -> Iterator[Endpoint]:
    with refused_endpoint() as endpoint:
        yield endpoint


# --- a server that never answers -------------------------------------------------------------

class SilentServer:
    """Accepts connections and holds them open without a word until closed."""

    def __init__(self) -> None:
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self.endpoint = Endpoint(HOST, self._listener.getsockname()[1], "tls")
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for conn in self._held:
            conn.close()

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def silent_server() -> Iterator[Endpoint]:
    with SilentServer() as server:
        yield server.endpoint


# --- a proxy that can cut --------------------------------------------------------------------

_COMMAND = re.compile(rb"^[^\s]+ +((?:UID +)?[A-Za-z]+)(?: +(.*))?$")


class _Cut(Exception):
    """The connection is to end now."""


class _TLS:
    """The server end of TLS over memory buffers, so that one thread drives both directions."""

    def __init__(self, context: ssl.SSLContext, sock: socket.socket) -> None:
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def handshake(self, pending: bytes = b"") -> bytes:
        """Complete the handshake; returns the plaintext that came along with it."""
        if pending:
            self.incoming.write(pending)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if not data:
                    raise _Cut("client closed during the TLS handshake") from None
                self.incoming.write(data)
            except ssl.SSLError:
                self._flush()  # the alert, if any
                raise
        self._flush()
        return self.feed(b"")

    def feed(self, raw: bytes) -> bytes:
        """Raw bytes from the client -> plaintext (possibly empty)."""
        if raw:
            self.incoming.write(raw)
        plain = bytearray()
        while True:
            try:
                chunk = self.obj.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                raise _Cut("client ended TLS") from None
            if not chunk:
                break
            plain += chunk
        self._flush()
        return bytes(plain)

    def send(self, plain: bytes) -> None:
        self.obj.write(plain)
        self._flush()


class Proxy:
    """A TCP proxy in front of an IMAP server that terminates TLS and can cut or stall.

    ``upstream`` is a plain IMAP endpoint (Dovecot's ``imap_port``); the proxy speaks to the
    client with ``security`` "tls" (implicit, the default), "starttls" (answers the client's
    STARTTLS itself, then relays) or "plain", with certificate ``cert``.  Dovecot sees a
    plain connection from 127.0.0.1, which it trusts, so LOGIN works as over TLS.

    A cut happens at the first of:
    * ``cut_after_bytes``: that many plaintext bytes have gone from the server to the client;
    * ``cut_after_command``: the client sent that command (name like "FETCH", "SELECT",
      "APPEND", "LOGIN"; "FETCH" also matches "UID FETCH") for the ``occurrence``-th time, and
      then ``then_bytes`` bytes of what follows from the server went through (0: none).
    It closes both sides (``reset``: with an RST to the client), or with ``stall`` it stops
    relaying and holds the connection open until the proxy closes.  Only the first
    ``cut_connections`` connections (all by default) are cut; later ones pass through, so a
    second run after an interrupted one can succeed.
    """

    def __init__(self, upstream: tuple[str, int], *, security: str = "tls",
                 cert: Pair | None = None, cut_after_bytes: int | None = None,
                 cut_after_command: str | None = None, occurrence: int = 1,
                 then_bytes: int = 0, stall: bool = False, reset: bool = False,
                 cut_connections: int | None = None) -> None:
        if security not in ("tls", "starttls", "plain"):
            raise ValueError(f"security is tls, starttls or plain, not {security!r}")
        if security != "plain" and cert is None:
            raise ValueError("a TLS proxy needs a certificate")
        self.upstream = upstream
        self.security = security
        self.cut_after_bytes = cut_after_bytes
        # "UID FETCH" and "FETCH" both name FETCH
        self.cut_after_command = cut_after_command.upper().split()[-1] if cut_after_command \
            else None
        self.occurrence = occurrence
        self.then_bytes = then_bytes
        self.stall = stall
        self.reset = reset
        self.cut_connections = cut_connections
        self.context = None
        if cert is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(str(cert.cert), str(cert.key))
        self.commands: list[str] = []
        self.command_names: list[str] = []
        self.connections = 0
        self.cuts = 0
        self.handshake_failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self.host, self.port = HOST, self._listener.getsockname()[1]
        self.endpoint = Endpoint(self.host, self.port, security)
        self._accepting = threading.Thread(target=self._accept, name="imap-proxy", daemon=True)
        self._accepting.start()

    @property
    def address(self) -> str:
        return self.endpoint.address

    def __enter__(self) -> "Proxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, end every connection (each notices within 0.1 s) and wait for them."""
        self._stop.set()
        self._accepting.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                number = self.connections
                self._sockets.add(client)
            thread = threading.Thread(target=self._serve, args=(client, number),
                                      name=f"imap-proxy-{number}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket, number: int) -> None:
        upstream = None
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
            with self._lock:
                self._sockets.add(upstream)
            self._relay(client, upstream, cuts=self.cut_connections is None
                        or number <= self.cut_connections)
        except _Cut:
            pass
        except ssl.SSLError as exc:
            self.handshake_failures.append(f"{type(exc).__name__}: {exc}")
        except (OSError, ValueError):  # ValueError: a socket closed under select()
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
                    with self._lock:
                        self._sockets.discard(sock)

    def _relay(self, client: socket.socket, upstream: socket.socket, *, cuts: bool) -> None:
        client.settimeout(10)  # a handshake never hangs the proxy
        tls = None
        if self.security == "tls":
            tls = _TLS(self.context, client)
            pending = tls.handshake()
        else:
            pending = b""
        client.settimeout(None)
        upstream.settimeout(None)
        state = {"seen": 0, "budget": self.cut_after_bytes if cuts else None, "armed": False,
                 "line": b"", "forwarded": 0, "stalled": False}

        def to_client(data: bytes) -> None:
            if tls is not None:
                tls.send(data)
            else:
                client.sendall(data)

        if pending:
            tls = self._from_client(pending, client, upstream, tls, to_client, state, cuts)
        while not self._stop.is_set():
            readable, _, _ = select.select([client, upstream], [], [], 0.1)
            if client in readable:
                raw = client.recv(65536)
                if not raw:
                    return
                if state["stalled"]:
                    continue
                plain = tls.feed(raw) if tls is not None else raw
                if plain:
                    tls = self._from_client(plain, client, upstream, tls, to_client, state, cuts)
            if upstream in readable:
                data = upstream.recv(65536)
                if not data:
                    return
                if state["stalled"]:
                    continue
                budget = state["budget"]
                if budget is not None and len(data) >= budget:
                    if budget:
                        to_client(data[:budget])
                    self._cut(client, upstream, state)
                    continue
                if budget is not None:
                    state["budget"] = budget - len(data)
                to_client(data)

    def _from_client(self, plain: bytes, client: socket.socket, upstream: socket.socket,
                     tls: _TLS | None, to_client, state: dict, cuts: bool) -> _TLS | None:
        """Forward the client's plaintext, noting its commands; returns the TLS end in use."""
        state["line"] += plain
        forward = bytearray()
        while b"\n" in state["line"]:
            line, state["line"] = state["line"].split(b"\n", 1)
            line += b"\n"
            # the start of a line that came in an earlier read went on then (a client may
            # send a command in pieces: IMAPClient sends its CRLF apart); it is noted whole
            already, state["forwarded"] = state["forwarded"], 0
            command, args = self._note(line)
            if command == "STARTTLS" and self.security == "starttls" and tls is None:
                # Answer for the server, which never learns TLS was spoken.
                upstream.sendall(bytes(forward))
                forward.clear()
                tag = line.split(None, 1)[0]
                client.sendall(tag + b" OK Begin TLS negotiation now.\r\n")
                tls = _TLS(self.context, client)
                client.settimeout(10)
                rest, state["line"] = state["line"], b""
                more = tls.handshake(rest)
                client.settimeout(None)
                if more:
                    tls = self._from_client(more, client, upstream, tls, to_client, state, cuts)
                continue
            forward += line[already:]
            if cuts and command is not None and self.cut_after_command is not None \
                    and command.split()[-1] == self.cut_after_command:
                state["seen"] += 1
                if state["seen"] == self.occurrence:
                    upstream.sendall(bytes(forward))
                    forward.clear()
                    state["budget"] = self.then_bytes
                    if self.then_bytes == 0:
                        self._cut(client, upstream, state)
                        return tls
        # a partial line (or a literal's bytes) goes on as it is, and is kept to be noted once
        # its line ends
        forward += state["line"][state["forwarded"]:]
        state["forwarded"] = len(state["line"])
        if forward:
            upstream.sendall(bytes(forward))
        return tls

    def _note(self, line: bytes) -> tuple[str | None, str]:
        found = _COMMAND.match(line.rstrip(b"\r\n"))
        if not found:
            return None, ""
        command = " ".join(found.group(1).decode("ascii", "replace").upper().split())
        args = (found.group(2) or b"").decode("utf-8", "replace")
        if command in ("LOGIN", "AUTHENTICATE"):
            args = args.split(" ", 1)[0] + " ***" if command == "LOGIN" else args.split(" ")[0]
        with self._lock:
            self.commands.append(f"{command} {args}".rstrip())
            self.command_names.append(command)
        return command, args

    def _cut(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        with self._lock:
            self.cuts += 1
        state["budget"] = None
        if self.stall:
            state["stalled"] = True
            return
        if self.reset:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise _Cut("cut")


@pytest.fixture
def imap_proxy(mail_server: MailServer) -> Iterator:
    """``make(**options) -> Proxy`` in front of ``mail_server`` (see ``Proxy``)."""
    made: list[Proxy] = []

    def make(**options) -> Proxy:
        options.setdefault("cert", mail_server.cert)
        proxy = Proxy((mail_server.host, mail_server.imap_port), **options)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@contextlib.contextmanager
def _session_proxy(mail_server: MailServer, name: str, make_pair, security: str) -> Iterator[Proxy]:
    folder = Path(tempfile.mkdtemp(prefix=f"cadence-{name}-", dir=mail_server.root / "tls"))
    with Proxy((mail_server.host, mail_server.imap_port), security=security,
               cert=make_pair(folder)) as proxy:
        yield proxy


def _rogue(folder: Path) -> Pair:
    return make_self_signed(folder, "rogue", ["localhost", HOST])


@pytest.fixture(scope="session")
def untrusted_tls(mail_server: MailServer) -> Iterator[Proxy]:
    with _session_proxy(mail_server, "untrusted", _rogue, "tls") as proxy:
        yield proxy


@pytest.fixture(scope="session")
def untrusted_starttls(mail_server: MailServer) -> Iterator[Proxy]:
    with _session_proxy(mail_server, "untrusted", _rogue, "starttls") as proxy:
        yield proxy


@pytest.fixture(scope="session")
def wrong_host_tls(mail_server: MailServer) -> Iterator[Proxy]:
    def other(folder: Path) -> Pair:
        return make_cert(folder, "other", mail_server.ca, ["mail.other.example"])
    with _session_proxy(mail_server, "wronghost", other, "tls") as proxy:
        yield proxy

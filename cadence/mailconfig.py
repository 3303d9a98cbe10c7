"""The `mail:` section of cadence.yaml (SPEC section 10), parsed: which mailbox `sync` reads and
`push` writes to, and how to log in. cadence.config calls it; nothing here opens a file.

A password is never taken from the file (it is committed to git): `password:` is an error that
says how to give one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from .model import Source

if TYPE_CHECKING:
    from yaml.nodes import Node

    from .yamlnodes import Checker

KEYS = ("maildir", "imap", "user", "password_command", "folders", "security", "tls_verify",
        "timeout")
ROLES = ("inbox", "junk", "sent", "drafts")
SECURITY = ("tls", "starttls")
PASSWORD_VARIABLE = "CADENCE_IMAP_PASSWORD"
DEFAULT_TIMEOUT = 30  # seconds a connection may stay silent before sync gives up (exit 74)
PORTS = {"tls": 993, "starttls": 143}
# the Maildir++ names of the folders when `folders` does not name them
MAILDIR_FOLDERS = {"inbox": "", "junk": "Junk", "sent": "Sent", "drafts": "Drafts"}

EXAMPLE = ("mail:\n    imap: imap.example.com\n    user: eva@konsult.example\n"
           "    password_command: pass show mail/eva\n"
           "  or\n  mail:\n    maildir: ~/Mail/work")
PASSWORD_HINT = ("a password in cadence.yaml would be committed with the book: name a command "
                 "that prints it (password_command: pass show mail/eva), or set the "
                 f"{PASSWORD_VARIABLE} environment variable")


@dataclass(frozen=True, slots=True)
class Mail:
    """The mailbox: a Maildir++ tree (`maildir`, an absolute path) or an IMAP server."""

    source: Source  # where the `mail:` section stands, for messages about it
    maildir: str = ""
    host: str = ""
    port: int = 0
    security: str = "tls"
    user: str = ""
    password_command: str = ""
    folders: tuple = ()  # (role, folder name) as written; IMAP finds the others by SPECIAL-USE
    tls_verify: bool = True
    timeout: int = DEFAULT_TIMEOUT
    typed: str = ""  # a `maildir` given from the home folder (`~/Mail/work`), as written
    places: tuple = ()  # (key, Source) of the keys a message may point at (`folders.junk`)

    def at(self, key: str) -> Source:
        """Where `key` stands in cadence.yaml (`user`, `password_command`, `folders.junk`),
        else the `mail:` section."""
        return next((where for name, where in self.places if name == key), self.source)

    def folder(self, role: str) -> Optional[str]:
        """The folder named for `role` in `folders`, else None."""
        for name, folder in self.folders:
            if name == role:
                return folder
        return None

    @property
    def where(self) -> str:
        """The mailbox in words, for messages: a path, or user@host:port."""
        if self.maildir:
            return self.typed or self.maildir
        return f"{self.user} on {self.host}:{self.port}" if self.user else f"{self.host}:{self.port}"


def read_mail(c: Checker, key_node: Node, node: Node, root: str, home: str) -> Optional[Mail]:
    """The `mail:` section; None after reporting what is wrong with it."""
    from .yamlnodes import is_empty, source_of

    fields = c.mapping(node, "`mail`", hint="keys: " + ", ".join(KEYS))
    if fields is None:
        return None
    if "password" in fields:
        c.report(fields["password"][0], "mail: a password is never read from cadence.yaml",
                 PASSWORD_HINT)
        del fields["password"]
    fields = c.restrict(fields, KEYS)
    values = {key: value for key, (_, value) in fields.items() if not is_empty(value)}
    where = source_of(key_node)
    settings: dict = {"source": where}
    if ("maildir" in values) == ("imap" in values):
        message = ("mail: name either `maildir` or `imap`, not both" if "maildir" in values
                   else "mail: name the mailbox with `maildir` or `imap`")
        c.report(where, message, "for example\n  " + EXAMPLE)
        return None
    if "maildir" in values:
        path = c.text("mail.maildir", values["maildir"])
        if path is None:
            return None
        path = path.strip()
        if home and (path == "~" or path.startswith("~/")):
            settings["typed"] = os.path.normpath(path)
            path = home + path[1:]
        settings["maildir"] = os.path.normpath(os.path.join(root, path))
        for key in ("user", "password_command", "security", "tls_verify"):
            if key in values:
                c.report(fields[key][0], f"mail: `{key}` is for an IMAP server, not a Maildir")
    else:
        _imap(c, values, settings)
    settings["places"] = tuple((key, source_of(values[key]))
                               for key in ("user", "password_command") if key in values)
    if "folders" in values:
        settings["folders"], places = _folders(c, values["folders"])
        settings["places"] += places
        for role, name in settings["folders"] if "maildir" in settings else ():
            if any(not part or part.startswith(".") for part in name.split("/")):
                c.report(values["folders"], f"mail.folders.{role}: {name!r} is not a Maildir "
                         "folder name", "name the folder without a leading dot: Junk for .Junk "
                         "(Maildir++) or for Junk/ (one Maildir a folder); a folder in a folder "
                         "is Archive.2026 in Maildir++, [Gmail]/Sent Mail in a tree of folders")
    if "timeout" in values:
        seconds = c.positive_int("mail.timeout", values["timeout"])
        if seconds is not None:
            settings["timeout"] = seconds
    return Mail(**settings)


def _imap(c: Checker, values: dict, settings: dict) -> None:
    address = c.text("mail.imap", values["imap"])
    if "security" in values:
        security = c.scalar("mail.security", values["security"], "tls or starttls")
        if security is not None and security.lower() not in SECURITY:
            c.report(values["security"], f"mail.security must be tls or starttls, got {security!r}",
                     "tls: implicit TLS (port 993); starttls: plain IMAP upgraded (port 143)")
        elif security is not None:
            settings["security"] = security.lower()
    if address is not None:
        host, port = _host_port(address.strip())
        if not host or port is None:
            c.report(values["imap"], f"mail.imap must be a host or host:port, got {address!r}",
                     "for example imap.example.com or imap.example.com:993")
        else:
            settings["host"] = host
            settings["port"] = port or PORTS[settings.get("security", "tls")]
    if "user" in values:
        user = c.text("mail.user", values["user"])
        if user is not None:
            settings["user"] = user.strip()
    else:
        c.report(settings["source"], "mail: an IMAP server needs `user` (the login)",
                 "for example user: eva@konsult.example")
    if "password_command" in values:
        command = c.text("mail.password_command", values["password_command"])
        if command is not None:
            settings["password_command"] = command.strip()
    if "tls_verify" in values:
        verify = c.boolean("mail.tls_verify", values["tls_verify"])
        if verify is not None:
            settings["tls_verify"] = verify


def _host_port(text: str) -> tuple:
    """(host, port or 0) of `host`, `host:port` or `[v6]:port`; (host, None) for a bad port."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("" if not rest else None)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
        if ":" in host and not _is_v6(host):  # `host:993:99`: no host, and no port either
            return "", None
    if any(ch.isspace() or ch in "/@" for ch in host) or host.isdigit():
        return "", None  # `imap: 993` is a port with no host
    if port is None or (port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536)):
        return host, None
    return host, int(port) if port else 0


def _is_v6(text: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def _folders(c: Checker, node: Node) -> tuple:
    """((role, folder name), ...), ((`folders.ROLE`, its Source), ...)."""
    from .yamlnodes import source_of

    fields = c.mapping(node, "`mail.folders`", ROLES, hint="roles: " + ", ".join(ROLES))
    found, places = [], []
    for role, (_, value) in (fields or {}).items():
        places.append((f"folders.{role}", source_of(value)))
        name = c.text(f"mail.folders.{role}", value)
        if name is not None:
            name = name.strip()
            if any(ord(ch) < 32 or ch in '\x7f"\\' for ch in name):
                c.report(value, f"mail.folders.{role}: a folder name cannot hold quotes, "
                         "backslashes or control characters")
                continue
            found.append((role, name))
    return tuple(sorted(found, key=lambda pair: ROLES.index(pair[0]))), tuple(places)

"""Email drafts assembled from the stdlib's encoders, for speed.

`email.message.EmailMessage` parses and refolds every header it is given: about 2.5 ms a
message on a modest machine, which for a day of thousands of drafts cost more than all the
rest of `run`. A draft has one fixed shape (a few headers, a text part, maybe its HTML twin),
so `message` writes that shape directly: words are encoded by `email.header.Header` and
`email.utils.formataddr`, bodies by `quopri` and `base64`, never by hand. It declines (returns
None) whatever lies outside that shape, such as an address it does not vouch for, and the
caller then builds the message with `EmailMessage`, whose errors name the problem.
tests/test_mime.py parses the drafts of both ways with the stdlib and finds the same message.
"""
from __future__ import annotations

import base64
import quopri
import re
from typing import Optional

MAX_LINE = 78  # RFC 5322's recommended limit, as email.policy.SMTP has it
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")


def address(name: str, addr: str) -> Optional[str]:
    """`Name <addr>` with the name encoded as it needs; None for an address not plain ASCII."""
    if not _PLAIN_ADDRESS.fullmatch(addr) or "=?" in name:
        return None
    if not name:
        return addr
    from email.utils import formataddr

    line = formataddr((name, addr), charset=_utf8())
    return line if len(line) <= 990 else None  # no line may pass 998: the stdlib folds it


def header(name: str, value: str) -> Optional[str]:
    """One header, folded and encoded as it needs; None when it does not fit the fast path."""
    if "\r" in value or "\n" in value or "=?" in value:
        return None  # never given one (fold()); and text that looks encoded stays the stdlib's
    if value.isascii():
        return _folded(name, value)
    from email.header import Header

    return f"{name}: " + Header(value, _utf8(), header_name=name).encode(linesep="\r\n")


_CHARSET = []


def _utf8():
    """UTF-8 whose encoded words are always base64: the stdlib's default weighs base64
    against quoted-printable character by character, which cost more than the whole draft."""
    if not _CHARSET:
        from email.charset import BASE64, Charset

        charset = Charset("utf-8")
        charset.header_encoding = BASE64
        _CHARSET.append(charset)
    return _CHARSET[0]


def _folded(name: str, value: str) -> Optional[str]:
    """An ASCII header, broken before spaces into lines of at most MAX_LINE where it can be:
    unfolding (RFC 5322 3.2.2) gives `value` back."""
    lines, current = [], f"{name}:"
    for word in value.split(" "):
        if len(current) + 1 + len(word) > MAX_LINE and current.strip() and current != f"{name}:":
            lines.append(current)
            current = ""
        current += " " + word
    lines.append(current)
    if max(len(line) for line in lines) > 998:
        return None  # a word too long for any line
    return "\r\n".join(lines)


def body(text: str) -> tuple:
    """(Content-Transfer-Encoding, payload with CRLF line ends) of a UTF-8 text part."""
    lines = text.encode("utf-8").splitlines()
    payload = b"\r\n".join(lines) + b"\r\n"
    if max((len(line) for line in lines), default=0) <= MAX_LINE:
        return ("7bit" if payload.isascii() else "8bit"), payload
    printable = quopri.encodestring(b"\n".join(lines) + b"\n").replace(b"\n", b"\r\n")
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    if len(printable) <= len(encoded):
        return "quoted-printable", printable
    return "base64", encoded


def message(headers: list, text: str, html: Optional[str], boundary: str) -> Optional[bytes]:
    """The draft's bytes: `headers` ([(name, value)], values on one line), the text part and
    its HTML twin (or None) under `boundary`; None when anything declines the fast path."""
    lines = []
    for name, value in headers:
        if name in ("From", "To"):
            shown, addr = value
            line = address(shown, addr)
            line = None if line is None else f"{name}: {line}"
        else:
            line = header(name, value)
        if line is None:
            return None
        lines.append(line)
    cte, payload = body(text)
    if html is None:
        lines += ['Content-Type: text/plain; charset="utf-8"',
                  f"Content-Transfer-Encoding: {cte}", "MIME-Version: 1.0", "", ""]
        return "\r\n".join(lines).encode("ascii") + payload
    html_cte, html_payload = body(html)
    mark = f"--{boundary}".encode("ascii")
    lines += ["MIME-Version: 1.0", "Content-Type: multipart/alternative;",
              f' boundary="{boundary}"', "", ""]
    return b"".join((
        "\r\n".join(lines).encode("ascii"),
        mark, b'\r\nContent-Type: text/plain; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: ", cte.encode("ascii"), b"\r\n\r\n", payload, b"\r\n",
        mark, b'\r\nContent-Type: text/html; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: ", html_cte.encode("ascii"), b"\r\n\r\n", html_payload,
        b"\r\n", mark, b"--\r\n",
    ))

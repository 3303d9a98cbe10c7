"""An email draft's bytes: an RFC 5322 message that mail clients open as a draft.

Built with the stdlib's `email.mime` classes and written by its generator under the compat32
policy, which takes about a seventh of the time of `EmailMessage` with the SMTP policy (0.25 ms
against 1.8 ms a message here; a Monday has thousands of drafts). Every byte comes from the
inputs: the Date is the day's 09:00 in the book's timezone, the Message-ID and the MIME
boundary derive from the contact, step and day.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timezone
from email.charset import QP, Charset
from email.encoders import encode_7or8bit
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from typing import Optional

from .addresses import idna_domain

MAX_LINE = 998  # octets a line may hold (RFC 5322 section 2.1.1)
_ONE_LINE = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, one space apart


class _Policy(Compat32):
    """compat32, but a header that is one short line of printable ASCII words is written as
    it stands: what compat32's Header folding writes for it, without the folding's cost.

    Measured: the folding took a quarter of a draft's cost (about 150 us of 520 on the
    benchmark's 5,000-email morning, docs/benchmarks.md), for the dozen short ASCII headers
    every draft has. Anything else (a long line, an encoded word, 8-bit text) goes through
    compat32 unchanged; test_emails.py holds the two to the same bytes on random headers.
    """

    def _fold(self, name, value, sanitize):
        limit = self.max_line_length
        if isinstance(value, str) and (not limit or len(name) + 2 + len(value) <= limit) \
                and _ONE_LINE.fullmatch(value):
            return f"{name}: {value}{self.linesep}"
        if isinstance(value, Header):
            # encoded words: lines of at most 76 characters, so that no word passes the 75
            # of RFC 2047 section 2 (compat32 fills a line of 78 with one)
            return Compat32._fold(_ENCODED, name, value, sanitize)
        return super()._fold(name, value, sanitize)


_POLICY = _Policy(linesep="\r\n")
_ENCODED = Compat32(linesep="\r\n", max_line_length=76)
_LONG_WORD = 900  # a word this long cannot be folded: encoded words can (RFC 5322's 998)


_CONTROLS = dict.fromkeys((*range(0x20), 0x7f, *range(0x80, 0xa0)), " ")


_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|])")
# a list item (`- x`, `+ x`, `1. x`, `1) x`) or a setext underline (`---`, `===`)
_LINE_START = re.compile(r"^(?:[-+]|[0-9]{1,9}[.)])(?=[ \t]|$)|^[-=](?=[-=]*[ \t]*$)")


def markdown_text(text) -> str:
    """Ledger data in a Markdown file (the day's index, a call sheet, a letter), folded to
    one line: shown as text, never as a heading, list, link, emphasis or HTML."""
    return _LINE_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1],
                           _MARKDOWN.sub(r"\\\1", fold(text)))


def fold(text) -> str:
    """One line: a line break in ledger data never becomes a header or a new line, and no
    other control character (a terminal escape in a name) goes into a header."""
    text = str(text)
    if not text.isprintable():
        text = text.translate(_CONTROLS)
    return " ".join(text.split())


def ascii_address(address: str) -> str:
    """An address whose domain is in IDNA form: a header has no room for `bücher.de`.
    Raises UnicodeError when the domain cannot be written so."""
    local, at, domain = fold(address).rpartition("@")
    if not local.isascii():
        raise UnicodeError("local-part contains non-ASCII characters")
    if at:
        domain = idna_domain(domain)
    return f"{local}{at}{domain}"


def domain_of(address: str) -> str:
    """The right-hand side of Message-IDs and calendar UIDs: the sender's domain."""
    domain = fold(address.rpartition("@")[2]).replace(" ", "")
    try:
        return ascii_address("@" + domain)[1:] if domain else "cadence.invalid"
    except UnicodeError:
        return "cadence.invalid"


def nine_am(day: date, zone) -> datetime:
    """09:00 of the day in the book's timezone (UTC without one): the drafts' timestamp."""
    return datetime.combine(day, time(9, 0), tzinfo=zone or timezone.utc)


def message_id(contact: str, playbook: str, step: str, day: date, domain: str) -> str:
    """The Message-ID of the draft of one touch: the same inputs, the same id, so that a
    reply naming it in In-Reply-To is known for the touch it answers."""
    return f"<{message_key(contact, playbook, step, day)}@{domain}>"


def message_key(contact: str, playbook: str, step: str, day: date) -> str:
    """The part of a draft's Message-ID before the `@`."""
    seed = "\x1f".join((contact, playbook, step, day.isoformat()))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 part: 8bit while every line fits, quoted-printable when one does not.

    The bytes of `MIMEText(text, subtype, charset)`. For the 8bit part it is made the way
    MIMEText's own steps make it, minus one: MIMEText writes the Content-Type with its
    charset, then `set_charset` parses that header again to set the same parameter. Measured
    on the benchmark's 5,000-email morning: a message built in 61 us instead of 115, a draft's
    CPU 452 us instead of 526 (docs/benchmarks.md, "Latest run"); test_emails.py holds the
    two to the same bytes on random texts.
    """
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    if any(len(line.encode("utf-8")) > MAX_LINE for line in text.splitlines()):
        charset = Charset("utf-8")
        charset.body_encoding = QP
        part.set_payload(text, charset)
    else:
        # what set_payload(text, charset) keeps: the UTF-8 bytes, as the generator reads them
        part.set_payload(text.encode("utf-8").decode("ascii", "surrogateescape"))
        encode_7or8bit(part)
    return part


def build(sender: tuple, to: tuple, subject: str, moment: datetime, msgid: str,
          headers: list, text: str, html: Optional[str]) -> bytes:
    """The draft's bytes. `sender` and `to` are (name, address) with the address already in
    ASCII form (or "" to leave the header out); `headers` are more (name, value) pairs."""
    if html is None:
        message = _text_part(text, "plain")
    else:
        message = MIMEMultipart("alternative", boundary=_boundary(msgid, text + html))
        message.attach(_text_part(text, "plain"))
        message.attach(_text_part(html, "html"))
        for part in message.get_payload():
            del part["MIME-Version"]  # once, at the top, is what RFC 2045 asks for
    for name, (shown, address) in (("From", sender), ("To", to)):
        if address:
            message[name] = _address_header(name, fold(shown), address)
    message["Subject"] = _text_header("Subject", subject)
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = msgid
    for name, value in headers:
        message[name] = _text_header(name, value)
    return message.as_bytes(policy=_POLICY)


def _address_header(name: str, shown: str, address: str):
    """`Name <address>`, the name in one encoded word when it is not ASCII (formataddr's), or
    in several when the line would pass RFC 2047's 76 characters (a Russian name and
    patronymic of some 24 letters does): compat32 folds a Header's encoded words, never
    formataddr's one word."""
    value = formataddr((shown, address), charset="utf-8")
    if shown.isascii() or len(name) + 2 + len(value) <= 76:
        return value
    header = Header(shown, "utf-8", header_name=name)
    header.append(f"<{address}>", "us-ascii")
    return header


def _text_header(name: str, value: str):
    """An unstructured header's value: as it stands when it is ASCII that a reader takes
    literally, else encoded words (RFC 2047): 8-bit text, text that would read as an encoded
    word (`=?utf-8?q?...?=` typed in a subject), a word too long to fold."""
    value = fold(value)
    if value.isascii() and "=?" not in value and \
            (len(value) < _LONG_WORD or max(map(len, value.split()), default=0) < _LONG_WORD):
        return value
    return Header(value, "utf-8", header_name=name)


def _boundary(msgid: str, text: str) -> str:
    """A MIME boundary from the message's id (the library's default is random)."""
    boundary = "=_cadence_" + hashlib.sha256(msgid.encode("utf-8")).hexdigest()[:24]
    while boundary in text:
        boundary += "_"
    return boundary

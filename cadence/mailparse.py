"""A message read from the mailbox, parsed into what `sync` weighs (SPEC section 10): its id, the
ids it answers, its sender, date and subject, whether it is an automatic answer, and, for a
delivery report (RFC 3464), what failed.

Mail comes from strangers: every header is read defensively. Values are capped before they are
parsed, control and direction characters never leave this module, a header that does not parse
counts as missing, and a report's body is read only as far as the caller fetched it (the
headers and the first part of the body: never an attachment whole).

Longer than most: the header readers and a delivery report's readers share the limits and the
guards above, and a report's returned headers are read by the same functions as a message's.
"""
from __future__ import annotations

import base64
import codecs
import binascii
import hashlib
import quopri
import re
import unicodedata
from datetime import date, datetime, timezone
from email.errors import HeaderParseError, MissingHeaderBodySeparatorDefect
from email.header import decode_header
from email.headerregistry import HeaderRegistry
from email.message import Message as EmailMessage
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import NamedTuple, Optional

from .addresses import address_key, key_of

HEADER_LIMIT = 256 * 1024  # bytes of a message's header block that are read at most
REPORT_LIMIT = 256 * 1024  # bytes of a delivery report that are read (its parts come first)
VALUE_LIMIT = 8192  # characters of one header value that are parsed
SUBJECT_LIMIT = 200  # characters of a subject kept for the journal
IDS_LIMIT = 100  # ids read from In-Reply-To and References
PARTS_LIMIT = 100  # parts of a report looked at
DIGEST_DOMAIN = "digest.cadence.invalid"

_UNSTRUCTURED = HeaderRegistry()
_CHARSET = re.compile(rb'(?im)^content-type:(?:[^\n]|\n[ \t]){0,500}?[;\s]\s*charset="?([a-z0-9_.:-]{1,40})')
# the 8-bit charsets a message may declare for raw header bytes: no codec that escapes or
# runs a transform (raw-unicode-escape, idna, rot13) reads a stranger's bytes
_TEXT_CODECS = frozenset(codecs.lookup(name).name for name in (
    "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257", "koi8-r", "koi8-u",
    "iso8859-1", "iso8859-2", "iso8859-5", "iso8859-15", "cp866", "mac-cyrillic"))
_ID = re.compile(r"<([^<>\s@]{1,250}@[^<>\s@]{1,250})>")
_BIDI = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)),
         *map(chr, range(0x2066, 0x206A))}


class Report(NamedTuple):
    """A delivery status report: did delivery fail, to whom, and what came back of the message
    (the ids and recipients of the returned headers)."""

    failed: bool
    recipients: tuple  # addresses of the recipients whose Action is `failed`
    returned_ids: tuple  # the returned message's Message-ID (left parts, see `key_of`)
    returned_to: tuple  # the returned message's To addresses
    # each failed recipient's (Final-Recipient, Original-Recipient), "" for one not given:
    # the address mail went to, and the one it was sent to before an alias or forward
    failures: tuple = ()
    others: tuple = ()  # recipients listed with another Action (delayed, relayed, delivered)
    returned_cc: tuple = ()  # the returned message's Cc addresses


OTHER_REPORT = Report(False, (), (), ())


class Message(NamedTuple):
    """What `sync` needs of one message."""

    id: str  # "<left@right>" as written, or a digest of its header bytes when it has none
    refs: tuple  # keys (`key_of`) of the ids in In-Reply-To and References, in order
    sender: str  # the From address, normalised (`address_key`); "" when there is none
    name: str  # the From name, cleaned
    date: Optional[datetime]  # aware; None when neither the Date nor the fallback is usable
    dated_by: str  # "" (its Date), "internaldate" or "file": where the date came from
    subject: str
    auto: bool  # an automatic answer (RFC 3834 and the common vendor headers)
    report: Optional[Report]


def needs_body(head: bytes) -> bool:
    """Does a message with these header bytes need its body read: is it a delivery report?"""
    lowered = head.lower()
    return b"multipart/report" in lowered and b"delivery-status" in lowered


def header_block(data: bytes) -> bytes:
    """The header block at the start of `data` (up to the first empty line), at most
    HEADER_LIMIT bytes."""
    data = data[:HEADER_LIMIT]
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    return data[:min(ends)] if ends else data


def digest_id(head: bytes) -> str:
    """The id of a message without a Message-ID: a digest of its header bytes, line ends
    made LF (IMAP gives CRLF, a Maildir file often LF: one message, one id)."""
    data = head.replace(b"\r\n", b"\n").rstrip(b"\n")
    return f"<{hashlib.sha256(data).hexdigest()[:32]}@{DIGEST_DOMAIN}>"


def parse(data: bytes, fallback: Optional[datetime] = None, fallback_kind: str = "") -> Message:
    """The message in `data`: its header block, and for a delivery report as much of its body
    as the caller read. `fallback` (aware) dates it when its Date is unusable, and
    `fallback_kind` says where that date came from ("internaldate" or "file")."""
    head = header_block(data)
    headers = HeaderParser(policy=compat32).parsestr(_text_of(head), headersonly=True)
    message_id = _first_id(_value(headers, "Message-ID"))
    refs = []
    for name in ("In-Reply-To", "References"):
        for found in _ids(_value(headers, name)):
            key = key_of(found)
            if key not in refs and len(refs) < IDS_LIMIT:
                refs.append(key)
    name, sender = _sender(_value(headers, "From"))
    date, dated_by = _date(_value(headers, "Date")), ""
    if date is None and fallback is not None:
        date, dated_by = fallback, fallback_kind
    report = None
    if _is_report(headers):
        report = _report(data)
    elif headers.get_content_type() == "multipart/report":
        report = OTHER_REPORT  # a read receipt (RFC 8098) or another report: left alone
    return Message(
        id=message_id or digest_id(head), refs=tuple(refs), sender=sender, name=name,
        date=date, dated_by=dated_by, subject=clean(_decoded(_value(headers, "Subject")),
                                                    SUBJECT_LIMIT),
        auto=_automatic(headers), report=report)


def clean(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """One line of printable text: control, format and direction characters dropped,
    whitespace folded, at most `limit` characters (an ellipsis marks the cut)."""
    kept = []
    for ch in text[:limit * 4]:
        if ch in _BIDI or (unicodedata.category(ch)[0] == "C" and ch not in "\t\n\r"):
            continue
        kept.append(ch)
    text = " ".join("".join(kept).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- headers ----------------------------------------------------------------------------------

def _text_of(data: bytes) -> str:
    """Header bytes as text: UTF-8 where it is (RFC 6532); else 8-bit bytes written in the
    charset the message declares (old mail programs wrote a cp1251 or koi8-r subject so), or in
    windows-1252 (`€`, `–`); else each byte as itself."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(data)
    for name in ((declared.group(1).decode("ascii"),) if declared else ()) + ("cp1252",):
        try:
            if codecs.lookup(name).name in _TEXT_CODECS or name == "cp1252":
                return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _value(headers: EmailMessage, name: str) -> str:
    """A header's value as written; raw UTF-8 in it (RFC 6532, an SMTPUTF8 report's
    addresses) read as UTF-8."""
    name = name.lower()
    for key, value in headers.raw_items():
        if key.lower() == name:
            value = str(value)[:VALUE_LIMIT]
            if not value.isascii():  # the parser keeps bytes beyond ASCII as surrogates
                value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return value
    return ""


def _decoded(value: str) -> str:
    """An RFC 2047 header value decoded; an unknown charset or bad bytes do not stop it."""
    if not value:
        return ""
    try:
        parts = decode_header(value)
    except (ValueError, IndexError, AssertionError, LookupError, HeaderParseError):
        return value  # a truncated encoded word (`=?UTF-8?B?0J/RgNC40LLQtdGCL?=`) among them
    if not any(charset for _, charset in parts):
        return value  # no encoded word: the value as it is (a raw UTF-8 subject included)
    if any(isinstance(part, bytes) and b"\\" in part for part, charset in parts if not charset):
        try:
            # the text beside the encoded words as written: decode_header hands it back as
            # `raw-unicode-escape` bytes, which cannot tell `C:\users` or a literal `\u00e9`
            # from what it escaped itself
            return str(_UNSTRUCTURED("subject", value))
        except (ValueError, IndexError, AssertionError, LookupError, HeaderParseError,
                TypeError, AttributeError):
            pass
    out = []
    for part, charset in parts:
        if isinstance(part, bytes):
            # the plain text beside an encoded word comes back as the str's
            # `raw-unicode-escape` bytes (`по поводу`, `Müller`), which ASCII would garble
            try:
                part = part.decode(charset or "raw-unicode-escape", "replace")
            except (LookupError, ValueError):  # a charset unknown, or one holding a NUL
                part = part.decode("utf-8", "replace")
        out.append(part)
    # decode_header drops the space between an encoded word and plain text
    return "".join(out)


def _ids(value: str) -> list:
    """The message ids in a header value; one holding a control, format or direction character
    (a NUL, an escape, U+202E) is no id: it would reach the journal and the terminal."""
    return ["<" + found + ">" for found in _ID.findall(value) if found.isprintable()][:IDS_LIMIT]


def _first_id(value: str) -> str:
    found = _ids(value)
    return found[0] if found else ""


_ANGLED = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")


def _sender(value: str) -> tuple:
    """(name, address key) of a From header; ("", "") when it holds no address."""
    if not value:
        return "", ""
    try:
        pairs = getaddresses([value])
    except (ValueError, IndexError, TypeError):
        return "", ""
    pairs = [(name, address) for name, address in pairs if "@" in address]
    if len(pairs) > 1:
        # `ann@example.com <eve@evil.example>`: an unquoted name that looks like an address
        # splits in two, and the first is not the sender: the angle address is, the one a
        # mail program replies to
        angled = _ANGLED.findall(value)
        pairs = [pair for pair in pairs if pair[1] in angled] or pairs
    if not pairs:
        return "", ""
    name, address = pairs[0]
    return clean(_decoded(name), 100), address_key(clean(address, 320))


_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")  # a comment (RFC 5322 3.2.2), unnested
# the tokens of a Date: split at spaces and commas, and at a dash between a number and a
# month's name (`9-Dec-0001`); a zone (`+0100`) keeps its sign, a time its colons
_TOKENS = re.compile(r"[\s,]+|(?<=[A-Za-z.])-(?=\d)|(?<=\d)-(?=[A-Za-z])")
_EPOCH = date(1970, 1, 1)


def _date(value: str) -> Optional[datetime]:
    """The moment a `Date` names; None when it is unusable: it does not parse, lies outside
    1970-2999, or falls on the first day of 1970 (the clock's zero: a sender with no clock)
    in its own zone or in UTC."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None or not 1970 <= moment.year <= 2999:
        return None
    for token in _TOKENS.split(_COMMENT.sub(" ", value)):
        if len(token) > 2 and token.isdigit() and not 1970 <= int(token) <= 2999:
            # `0001`, however the date is written: the parser reads any year below 100 as
            # two digits (2001)
            return None
    if moment.tzinfo is None:  # "-0000": the zone is unknown; RFC 5322 says read it as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    if _EPOCH in (moment.date(), moment.astimezone(timezone.utc).date()):
        return None
    return moment


def _automatic(headers: EmailMessage) -> bool:
    """RFC 3834's Auto-Submitted (anything but `no`), what autoresponders write instead, and
    a null Return-Path."""
    # RFC 3834 3.1.7: a keyword, then parameters after `;`; comments in parentheses anywhere
    submitted = _COMMENT.sub(" ", _value(headers, "Auto-Submitted")).split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return True
    if headers.get("X-Autoreply") is not None or headers.get("X-Autorespond") is not None:
        return True
    if _value(headers, "X-Autogenerated").strip().lower() in ("reply", "forward"):
        return True
    for name in ("Precedence", "X-Precedence"):
        # `auto_reply`, and what RFC 3834 (2) has responders not answer: mail to many
        # (`bulk`, `list`, `junk`), how vacation programs mark their own answers too
        if _value(headers, name).strip().lower() in ("auto_reply", "bulk", "list", "junk"):
            return True
    # a null reverse path: RFC 5321 (4.5.5) has mail systems send their notices so, a bounce
    # written as plain text among them, so that nobody answers them; a person's mail never is
    return "".join(_value(headers, "Return-Path").split()) == "<>"


# --- delivery reports (RFC 3464) --------------------------------------------------------------

# RFC 3464's report, and RFC 6533's for mail to or from UTF-8 addresses (Postfix sends it for
# SMTPUTF8 mail), with their parts: the status, and the returned message or its headers
STATUS_REPORTS = ("delivery-status", "global-delivery-status")
STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")
RETURNED_PARTS = ("text/rfc822-headers", "message/rfc822", "message/global-headers",
                  "message/global")


def _is_report(headers: EmailMessage) -> bool:
    if headers.get_content_type() != "multipart/report":
        return False
    kind = headers.get_param("report-type", "")
    return isinstance(kind, str) and kind.strip().lower() in STATUS_REPORTS


def _report(data: bytes) -> Report:
    """What a delivery report says, read from as much of it as `data` holds."""
    try:
        message = BytesParser(policy=compat32).parsebytes(data[:REPORT_LIMIT])
        return _reported(_parts(message))
    except (RecursionError, ValueError, IndexError, TypeError, LookupError):
        # RecursionError: the parser and the generator recurse into every message a part
        # holds, and a stranger's report can nest hundreds of them
        return Report(False, (), (), ())


def _reported(parts: list) -> Report:
    failed, recipients, failures, ids, to, others, cc = False, [], [], [], [], [], []
    for part in parts:
        kind = part.get_content_type()
        if kind in STATUS_PARTS:
            for block in _status_blocks(part):
                action = _value(block, "Action").strip().lower()
                pair = (_typed_address(_value(block, "Final-Recipient")),
                        _typed_address(_value(block, "Original-Recipient")))
                if not action.startswith("failed"):
                    others.extend(a for a in pair if a and action)
                    continue
                failed = True
                if any(pair) and pair not in failures:
                    failures.append(pair)
                address = pair[0] or pair[1]
                if address and address not in recipients:
                    recipients.append(address)
        elif kind in RETURNED_PARTS:
            returned = _returned(part)
            if returned is not None:
                ids.extend(key_of(i) for i in _ids(_value(returned, "Message-ID")))
                to.extend(address_key(a) for _, a in _addresses(_value(returned, "To")))
                cc.extend(address_key(a) for _, a in _addresses(_value(returned, "Cc")))
    return Report(failed, tuple(recipients), tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(to)),
                  tuple(failures), tuple(dict.fromkeys(others)), tuple(dict.fromkeys(cc)))


def _parts(message: EmailMessage) -> list:
    """The message's parts, breadth first, at most PARTS_LIMIT of them."""
    found, queue = [], [message]
    while queue and len(found) < PARTS_LIMIT:
        part = queue.pop(0)
        found.append(part)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list) and \
                part.get_content_type() not in STATUS_PARTS:
            queue.extend(p for p in payload if isinstance(p, EmailMessage))
    return found


def _status_blocks(part: EmailMessage) -> list:
    """The header blocks of a message/delivery-status part: per message, then per recipient."""
    payload = _encoded(part)
    if payload is None:
        payload = part.get_payload()
    if part.get_content_type() != "message/delivery-status" and isinstance(payload, list) \
            and len(payload) == 1 and isinstance(payload[0], EmailMessage):
        # the parser knows only RFC 3464's part: RFC 6533's it reads as one message whose
        # headers are the first block and whose body holds the rest
        try:
            payload = payload[0].as_bytes().decode("utf-8", "replace")
        except (ValueError, LookupError, TypeError, IndexError):
            return []
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, EmailMessage)]
    if isinstance(payload, str):  # a part the parser left as text
        return [HeaderParser(policy=compat32).parsestr(block.strip() + "\n")
                for block in re.split(r"\r?\n\s*\r?\n", payload[:REPORT_LIMIT]) if block.strip()]
    return []


def _encoded(part: EmailMessage) -> Optional[str]:
    """The text of a report's part the parser left as text (raw UTF-8 in it read as UTF-8),
    or sent in base64 or quoted-printable (RFC 6533 allows it for its global types, which
    pass 7-bit relays so), decoded; None for a part parsed into messages, not encoded."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    payload = part.get_payload()
    try:
        if isinstance(payload, str):
            data = part.get_payload(decode=True) or b""
        elif encoding in ("base64", "quoted-printable"):
            # the parser read the encoded text as a message (or blocks) with no headers
            raw = "".join(_source(p) for p in payload if isinstance(p, EmailMessage))
            raw = raw[:REPORT_LIMIT].encode("ascii", "replace")
            data = base64.b64decode(b"".join(raw.split())) if encoding == "base64" \
                else quopri.decodestring(raw)
        else:
            return None
    except (ValueError, LookupError, TypeError, IndexError, binascii.Error):
        return ""
    return data[:REPORT_LIMIT].decode("utf-8", "replace")


def _source(block: EmailMessage) -> str:
    """The text a block the parser read as headers came from. A line that is no header (the
    rest of a quoted-printable line broken softly) ends the headers there, and the parser
    says so with a defect: the blank line the generator puts after the headers was not in
    the text, and would break the soft line break in two."""
    text = block.as_string()
    if any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in block.defects):
        text = text.replace("\n\n", "\n", 1)
    return text


def _returned(part: EmailMessage) -> Optional[EmailMessage]:
    payload = _encoded(part)
    if payload is None:
        payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], EmailMessage) else None
    if isinstance(payload, str):
        return HeaderParser(policy=compat32).parsestr(payload[:HEADER_LIMIT], headersonly=True)
    return None


def _typed_address(value: str) -> str:
    """The address of an `rfc822; addr` field (or RFC 6533's `utf-8; addr`)."""
    kind, _, address = value.partition(";")
    if not address or kind.strip().lower() not in ("rfc822", "utf-8"):
        return ""
    address = clean(address.strip().strip("<>"), 320)
    return address_key(address) if "@" in address else ""


def _addresses(value: str) -> list:
    if not value:
        return []
    try:
        return [(n, a) for n, a in getaddresses([value]) if "@" in a]
    except (ValueError, IndexError, TypeError):
        return []

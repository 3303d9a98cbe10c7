"""Headers from strangers, read defensively (SPEC section 10: mail is untrusted input)."""
from __future__ import annotations

import pytest

from cadence.addresses import key_of
from cadence.mailparse import parse


@pytest.mark.parametrize("raw", [b"<n\x00ul@x>", b"<a\x1b[2J@x>", "<a\u202eb@x>".encode()])
def test_an_id_with_a_control_or_direction_character_is_no_id(raw):
    """Such an id would reach the journal (a NUL stops every later command) and the terminal:
    the message is known by its digest instead."""
    message = parse(b"From: p@lund.example\nSubject: x\nMessage-ID: " + raw +
                    b"\nIn-Reply-To: " + raw + b"\n\nbody")
    assert message.id.endswith("@digest.cadence.invalid>") and message.refs == ()
    assert message.id.isprintable()


@pytest.mark.parametrize("subject, read", [
    ("Re: =?UTF-8?B?0J7RgtCy0LXRgg==?= по поводу", "Re: Ответ по поводу"),
    ("Frågor om =?UTF-8?Q?pris?=", "Frågor om pris"),
    ("=?UTF-8?Q?Hans?= Müller", "Hans Müller"),
    ("x =?bogus?Q?a?= y", "x a y"),
])
def test_encoded_words_beside_plain_text_beyond_ascii(subject, read):
    message = parse(f"From: p@lund.example\nSubject: {subject}\n\nbody".encode())
    assert message.subject == read


@pytest.mark.parametrize("subject, read", [
    # a base64 word cut short, as list software leaves it: kept as written
    ("=?UTF-8?B?0J/RgNC40LLQtdGCL?=", "=?UTF-8?B?0J/RgNC40LLQtdGCL?="),
    ("=?utf\x00-8?Q?hi?=", "hi"),  # a NUL in the charset's name: read as UTF-8
    ("=?x-no-such-charset?Q?hi?=", "hi"),
])
def test_an_encoded_word_that_does_not_decode_is_no_internal_error(subject, read):
    data = ("From: Boris <boris@example.ru>\r\nSubject: " + subject +
            "\r\nDate: Tue, 1 Dec 2026 12:00:00 +0100\r\nMessage-ID: <t@example.ru>\r\n\r\nx\r\n")
    message = parse(data.encode("utf-8"))
    assert (message.sender, message.id, message.subject) == ("boris@example.ru", "<t@example.ru>",
                                                             read)


@pytest.mark.parametrize("subject, read", [
    # the plain text beside an encoded word is kept as written, backslashes and all
    ("C:\\users\\jonas =?utf-8?q?caf=C3=A9?=", "C:\\users\\jonas café"),
    ("lit \\u00e9 =?utf-8?q?x?=", "lit \\u00e9 x"),
    ("Прайс \\ =?utf-8?q?2027?=", "Прайс \\ 2027"),
])
def test_backslashes_beside_an_encoded_word_are_text(subject, read):
    message = parse(f"From: p@lund.example\nSubject: {subject}\n\nbody".encode())
    assert message.subject == read


@pytest.mark.parametrize("head, read", [
    # 8-bit header bytes that are not UTF-8: in the charset the message declares ...
    ("Subject: Привет по поводу\nContent-Type: text/plain; charset=windows-1251", "Привет по поводу"),
    ('Subject: Ответ\nContent-Type: text/plain;\r\n\tcharset="KOI8-R"', "Ответ"),
    # ... else windows-1252, whose € and – latin-1 lacks
    ("Subject: Offer €500 – ok\nContent-Type: text/plain", "Offer €500 – ok"),
    ("Subject: Frågor\nContent-Type: text/plain; charset=x-no-such", "Frågor"),
    # a codec that transforms is never used to read a stranger's bytes
    ("Subject: Frågor\nContent-Type: text/plain; charset=rot13", "Frågor"),
])
def test_raw_8_bit_headers_are_read_in_the_declared_charset(head, read):
    codec = "koi8-r" if "KOI8" in head else "cp1251" if "1251" in head else "cp1252"
    message = parse(("From: p@lund.example\n" + head + "\n\nbody").encode(codec))
    assert message.subject == read and message.sender == "p@lund.example"


def test_a_read_receipt_is_a_report_left_alone():
    """RFC 8098: a disposition notification is no reply (SPEC 10: other reports are left
    alone), however it is threaded."""
    message = parse(b"From: karin@example.com\nSubject: Read: Hello\n"
                    b"In-Reply-To: <x@cadence>\nContent-Type: multipart/report; "
                    b"report-type=disposition-notification; boundary=b\n\n--b\n\nread\n--b--\n")
    assert message.report is not None and not message.report.failed
    assert not message.auto


@pytest.mark.parametrize("value, auto", [
    ("no", False),
    ("No (sent by a person)", False),
    ("(a person wrote this) no", False),
    ("no; owner-email=eva@konsult.example", False),
    ("auto-replied", True),
    ("auto-replied (vacation)", True),
    ("auto-generated; owner-email=x@y", True),
    ("(comment only)", False),
])
def test_auto_submitted_is_read_as_rfc_3834_writes_it(value, auto):
    """SPEC 10: an automatic answer has `Auto-Submitted` other than `no`; RFC 3834's field
    may carry comments and parameters around its keyword."""
    message = parse(f"From: p@lund.example\nSubject: x\nAuto-Submitted: {value}\n\nbody".encode())
    assert message.auto is auto


@pytest.mark.parametrize("header, auto", [
    ("Precedence: auto_reply", True),
    ("Precedence: bulk", True),  # the vacation program's mark on its answers
    ("Precedence: Junk", True),
    ("Precedence: list", True),  # a list's mail from a contact's address answers nothing
    ("X-Precedence: bulk", True),
    ("Precedence: first-class", False),
    ("X-Autogenerated: Reply", True),
    ("X-Autogenerated: Forward", True),
    ("X-Autogenerated: Mirror", False),
    ("X-Autoreply: yes", True),
    ("Importance: high", False),
])
def test_what_marks_an_automatic_answer(header, auto):
    """README "Which contact" and RFC 3834 (2): besides Auto-Submitted, the marks
    responders write, and the Precedence values responders leave unanswered."""
    message = parse(f"From: p@lund.example\nSubject: x\n{header}\n\nbody".encode())
    assert message.auto is auto


@pytest.mark.parametrize("return_path, auto", [
    ("<>", True),
    ("< >", True),
    ("<MAILER-DAEMON@mail.example>", False),
    ("<p@lund.example>", False),
    (None, False),  # a copy in the sent folder has none
])
def test_a_null_return_path_is_a_mail_systems_notice(return_path, auto):
    """A bounce written as plain text (qmail's "failure notice") that quotes the draft's id
    in In-Reply-To is no reply: its null reverse path says a mail system sent it."""
    head = f"Return-Path: {return_path}\n" if return_path is not None else ""
    message = parse((head + "From: MAILER-DAEMON@mail.example\nSubject: failure notice\n"
                     "In-Reply-To: <x@konsult.example>\n\nHi. This is the qmail-send program."
                     ).encode())
    assert message.auto is auto
    assert message.report is None


@pytest.mark.parametrize("value, sender", [
    ("Karin Dahl <karin@example.com>", "karin@example.com"),
    ("karin@example.com", "karin@example.com"),
    # an unquoted name that looks like a contact's address: the sender is the angle address,
    # the one a mail program replies to, never the name (SPEC 10: "a message from a
    # contact's `email`")
    ("karin@example.com <eve@evil.example>", "eve@evil.example"),
    ("karin@example.com < eve@evil.example >", "eve@evil.example"),
    ('"karin@example.com" <eve@evil.example>', "eve@evil.example"),
    # a list of authors without angle addresses: the first, as before
    ("karin@example.com, eve@evil.example", "karin@example.com"),
])
def test_the_sender_is_the_mailbox_a_reply_would_go_to(value, sender):
    message = parse(f"From: {value}\nSubject: x\n\nbody".encode())
    assert message.sender == sender


# long enough that quoted-printable breaks its line softly, in the middle of the address
LONG = "b\u00f6ris.lindqvist.at.the.regional.office@subdomain.example-mail-provider.com"
STATUS = ("Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: {kind}; {address}\r\n"
          "Action: failed\r\nStatus: 5.1.1\r\n")
RETURNED = "From: me@mycorp.example\r\nTo: {address}\r\nMessage-ID: <d1@mycorp.example>\r\n"


@pytest.mark.parametrize("report", ["delivery-status", "global-delivery-status"])
@pytest.mark.parametrize("encoding", ["8bit", "base64", "quoted-printable"])
@pytest.mark.parametrize("address", ["b\u00f6ris@example.com", LONG])
def test_a_reports_parts_are_read_in_any_transfer_encoding(report, encoding, address):
    """RFC 6533 (3, 6.2): the global report's parts may be sent in base64 or quoted-printable
    to pass 7-bit relays; RFC 3464's are read the same way."""
    import base64
    import quopri

    def body(text: str) -> str:
        data = text.encode("utf-8")
        if encoding == "base64":
            return base64.encodebytes(data).decode("ascii")
        if encoding == "quoted-printable":
            return quopri.encodestring(data).decode("ascii")
        return text

    kind = "utf-8" if report.startswith("global") else "rfc822"
    returned = "message/global-headers" if report.startswith("global") else "text/rfc822-headers"
    data = (f"From: MAILER-DAEMON@mx.example\r\nMessage-ID: <dsn@mx>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type={report}; boundary=BB\r\n\r\n"
            f"--BB\r\nContent-Type: text/plain\r\n\r\nfailed.\r\n"
            f"--BB\r\nContent-Type: message/{report}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
            f"{body(STATUS.format(kind=kind, address=address))}\r\n"
            f"--BB\r\nContent-Type: {returned}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
            f"{body(RETURNED.format(address=address))}\r\n--BB--\r\n").encode("utf-8")
    if address == LONG and encoding == "quoted-printable":
        assert b"=\r\n" in data  # the soft line break this case is for
    found = parse(data).report
    assert found.failed and found.recipients == (address,)
    assert found.returned_ids == (key_of("<d1@mycorp.example>"),)
    assert found.returned_to == (address,)


@pytest.mark.parametrize("kind, encoding", [
    ("message/global-delivery-status", "7bit"),
    ("message/global-delivery-status", "base64"),
    ("message/delivery-status", "quoted-printable"),
])
def test_a_report_nesting_messages_deeper_than_python_recurses_is_no_report(kind, encoding):
    """A stranger's report may nest hundreds of messages in its status part: read as a report
    that failed nobody, never an internal error (the parser recurses into each)."""
    inner = b"X: y\r\n\r\nbody\r\n"
    for _ in range(800):
        inner = b"Content-Type: message/rfc822\r\n\r\n" + inner
    data = (b"From: M@x\r\nContent-Type: multipart/report; report-type=global-delivery-status; "
            b"boundary=BB\r\n\r\n--BB\r\nContent-Type: " + kind.encode() +
            b"\r\nContent-Transfer-Encoding: " + encoding.encode() + b"\r\n\r\n" + inner +
            b"\r\n--BB--\r\n")
    found = parse(data).report
    assert found is not None and not found.failed and found.recipients == ()


@pytest.mark.parametrize("value, read", [
    ("Wed, 09 Dec 2026 10:00:00 +0100", "2026-12-09T10:00:00+01:00"),
    ("Wed, 09 Dec 26 10:00:00 +0100", "2026-12-09T10:00:00+01:00"),  # RFC 5322's two digits
    ("Thu, 09 Dec 99 10:00:00 +0000", "1999-12-09T10:00:00+00:00"),
    ("Thu, 09 Dec 126 10:00:00 +0000", None),
    ("Mon, 01 Jan 0001 00:00:00 +0000", None),  # not 2001
    ("Sat, 01 Jan 0050 00:00:00 +0000", None),  # not 2050
    ("Sat, 01 Jan 02026 00:00:00 +0000", "2026-01-01T00:00:00+00:00"),
    ("Thu, 01 Jan 1970 00:00:00 +0000", None),  # the clock's zero: a sender with no clock
    ("Thu, 01 Jan 1970 01:00:00 +0100", None),
    ("Thu, 01 Jan 1970 00:00:00 +0300", None),  # the first day in its own zone
    ("Thu, 01 Jan 1970 23:00:00 -0500", None),  # and in UTC the second: still unusable
    ("Fri, 02 Jan 1970 00:00:00 +0000", "1970-01-02T00:00:00+00:00"),
    # a year of three or four digits, however the date is written
    ("Thu Dec  9 10:00:00 0001", None),  # asctime's order
    ("Thu Dec  9 10:00:00 2026", "2026-12-09T10:00:00+00:00"),
    ("9 Dec 0001 10:00:00 +0000", None),
    ("Thu, 9 December 0050 10:00 +0000", None),
    ("Thu, 9 Dec. 0001 10:00 +0000", None),
    ("Thu, 9-Dec-0001 10:00 +0000", None),
    ("Thu, 9-Dec-2026 10:00 +0000", "2026-12-09T10:00:00+00:00"),
    ("Thu, 09 Dec 0099 10:00:00 +0000 (0001)", None),
    ("Thu, 09 Dec 2026 10:00:00 +0000 (0001)", "2026-12-09T10:00:00+00:00"),  # a comment
    ("Fri, 01 Jan 3000 00:00:00 +0000", None),
])
def test_a_date_is_read_as_written_or_is_unusable(value, read):
    """README "Dates of mail": a Date outside 1970-2999 is unusable (the message is dated by
    its file's time), however its year is written."""
    from cadence.mailparse import _date

    moment = _date(value)
    assert (moment.isoformat() if moment else None) == read

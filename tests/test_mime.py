"""The drafts `mime` assembles read back, through the stdlib's parser, as what was written."""
from __future__ import annotations

import email
from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st

from cadence import mime
from cadence.render import fold

BOUNDARY = "=_cadence_0123456789abcdef01234567"
WORDS = st.sampled_from(["Anna", "Ольга", "Åsa", "Öberg", "Дмитрий", "naïve", "O'Brien", "Holm,",
                         "(co)", "\"q\"", "a.b", "x" * 90, "tab\there", "€", "日本", "=?", ""])
TEXT = st.lists(WORDS, max_size=12).map(" ".join)
BODY = st.lists(st.one_of(TEXT, st.text(max_size=200)), max_size=8).map("\n".join)


def _read(data: bytes) -> dict:
    message = email.message_from_bytes(data, policy=default)
    seen = {name: str(message[name]) for name in
            ("Subject", "Date", "Message-ID", "X-Unsent", "X-Cadence-Contact", "X-Cadence-Step")}
    for name in ("From", "To"):
        found = message[name].addresses[0]
        seen[name] = (found.display_name, found.addr_spec)
    plain = message.get_body(("plain",))
    seen["text"] = plain.get_content().replace("\r\n", "\n")
    html = message.get_body(("html",))
    seen["html"] = None if html is None or html is plain else html.get_content().replace("\r\n", "\n")
    seen["multipart"] = message.is_multipart()
    seen["defects"] = [type(d).__name__ for part in message.walk() for d in part.defects]
    return seen


def _headers(name, to, subject, step):
    return [("From", ("Eva Holm", "eva@konsult.example")), ("To", (fold(name), to)),
            ("Subject", fold(subject)), ("Date", "Mon, 23 Nov 2026 09:00:00 +0100"),
            ("Message-ID", "<9d5007b9c5328577873d20a6841e8cc4@konsult.example>"),
            ("X-Unsent", "1"), ("X-Cadence-Contact", "c1"), ("X-Cadence-Step", fold(step))]


def _lines(text: str) -> str:
    """A text part as a reader gets it back: its lines (split at CR, LF or CRLF), each ended
    by one line break."""
    return b"\n".join(text.encode("utf-8").splitlines()).decode("utf-8") + "\n"


@settings(max_examples=300, deadline=None)
@given(name=TEXT, subject=TEXT, step=TEXT, text=BODY,
       html=st.one_of(st.none(), BODY.map(lambda b: f"<p>{b}</p>")),
       to=st.sampled_from(["ann@example.com", "a.b+c@sub.example.org", "x_y@xn--bcher-kva.example"]))
def test_the_fast_draft_reads_back_as_written(name, subject, step, text, html, to):
    headers = _headers(name, to, subject, step)
    fast = mime.message(headers, text, html, BOUNDARY)
    if fast is None:  # declined: the stdlib writes it (an encoded-looking word, say)
        assert any("=?" in str(v) for _, v in headers)
        return
    assert max(len(line) for line in fast.split(b"\r\n")) <= 998
    assert b"\n" not in fast.replace(b"\r\n", b"")  # every line ends in CRLF
    ours = _read(fast)
    assert ours["defects"] == []
    assert ours["From"] == ("Eva Holm", "eva@konsult.example")
    assert ours["To"] == (fold(name), to)
    assert (ours["Subject"], ours["X-Cadence-Step"]) == (fold(subject), fold(step))
    assert ours["text"] == _lines(text)
    assert ours["html"] == (None if html is None else _lines(html))
    assert ours["multipart"] == (html is not None)


def test_a_short_plain_message_is_as_expected():
    data = mime.message(_headers("Ann Lind", "ann@example.com", "Hi Ann", "decide-1"),
                        "Hello Ann\n", None, BOUNDARY)
    assert data == (
        b"From: Eva Holm <eva@konsult.example>\r\nTo: Ann Lind <ann@example.com>\r\n"
        b"Subject: Hi Ann\r\nDate: Mon, 23 Nov 2026 09:00:00 +0100\r\n"
        b"Message-ID: <9d5007b9c5328577873d20a6841e8cc4@konsult.example>\r\nX-Unsent: 1\r\n"
        b"X-Cadence-Contact: c1\r\nX-Cadence-Step: decide-1\r\n"
        b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit\r\n'
        b"MIME-Version: 1.0\r\n\r\nHello Ann\r\n")


def test_bodies_pick_the_shortest_safe_encoding():
    assert mime.body("short\n")[0] == "7bit"
    assert mime.body("kort för dig\n")[0] == "8bit"
    assert mime.body("Grattis på födelsedagen! " * 5)[0] == "quoted-printable"  # mostly ASCII
    assert mime.body("Ольга " * 30)[0] == "base64"  # long line, all Cyrillic


def test_what_it_declines():
    assert mime.address("Ann", "åsa@example.se") is None  # non-ASCII local part: the stdlib says why
    assert mime.address("Ann", "ann@bücher.example") is None  # IDNA first
    assert mime.address("=?utf-8?q?x?=", "ann@example.com") is None
    assert mime.header("Subject", "=?utf-8?q?x?=") is None
    assert mime.header("Subject", "a\r\nBcc: x@example.com") is None
    assert mime.header("X-Cadence-Step", "x" * 990) is None  # no line could hold it


def test_long_ascii_headers_fold_before_spaces():
    value = " ".join(["word"] * 40)
    folded = mime.header("Subject", value)
    assert all(len(line) <= mime.MAX_LINE for line in folded.split("\r\n"))
    assert folded.replace("\r\n", "") == "Subject: " + value


def test_an_address_too_long_for_a_line_goes_to_the_stdlib():
    assert mime.address("x" * 1200, "ann@example.com") is None
    assert mime.address("Ann Lind", "ann@example.com") == "Ann Lind <ann@example.com>"

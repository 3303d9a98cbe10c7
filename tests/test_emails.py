"""The drafts' email policy (cadence.emails._Policy) writes every header exactly as the
stdlib's compat32 policy does: its short-line path only skips work, never changes a byte."""
from __future__ import annotations

from email.header import Header
from email.policy import compat32

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cadence import emails

_COMPAT = compat32.clone(linesep="\r\n")
_NAMES = st.sampled_from(["From", "To", "Subject", "Message-ID", "X-Cadence-Contact",
                          "X-Cadence-Playbook", "In-Reply-To", "X"])
_WORDS = st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=0,
                          max_size=30), max_size=8)


@given(_NAMES, _WORDS, st.sampled_from([" ", "  ", "\t", ", ", "; "]))
def test_a_header_is_folded_as_compat32_folds_it(name, words, gap):
    value = gap.join(words)
    assert emails._POLICY.fold_binary(name, value) == _COMPAT.fold_binary(name, value)
    assert emails._POLICY.fold(name, value) == _COMPAT.fold(name, value)


@given(_NAMES, st.integers(1, 120))
def test_the_line_length_boundary_is_compat32_s(name, length):
    value = ("word " * 40)[:length].strip() or "w"
    assert emails._POLICY.fold_binary(name, value) == _COMPAT.fold_binary(name, value)


def test_other_headers_go_through_compat32():
    for value in ("Åsa Öberg <asa@example.se>", "line\r\nbreak", "x" * 200, " lead", "trail ",
                  "tab\there", "bytes \udcff"):
        assert emails._POLICY.fold_binary("Subject", value) == _COMPAT.fold_binary(
            "Subject", value)
    encoded = Header("Привет", "utf-8")
    assert emails._POLICY.fold("Subject", encoded) == _COMPAT.fold("Subject", encoded)


def test_a_draft_is_the_bytes_compat32_writes():
    from datetime import datetime, timezone

    args = (("Eva Konsult", "eva@konsult.example"), ("Åsa Öberg", "asa@example.se"),
            "Tack – och vad händer nu", datetime(2026, 11, 24, 9, tzinfo=timezone.utc),
            "<id@konsult.example>", [("X-Cadence-Contact", "c1"), ("X-Unsent", "1")],
            "Hej Åsa,\n\n" + "ord " * 400 + "\n", "<p>Hej</p>")
    fast = emails.build(*args)
    saved = emails._POLICY
    try:
        emails._POLICY = _COMPAT
        assert emails.build(*args) == fast
    finally:
        emails._POLICY = saved


def _mimetext(text: str, subtype: str) -> bytes:
    from email.charset import QP, Charset
    from email.mime.text import MIMEText

    charset = Charset("utf-8")
    charset.body_encoding = None
    if any(len(line.encode("utf-8")) > emails.MAX_LINE for line in text.splitlines()):
        charset.body_encoding = QP
    return MIMEText(text, subtype, charset).as_bytes(policy=_COMPAT)


_TEXTS = st.lists(st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["\n", "\r\n", "\r", "From me", ".", "=", " ", "\t", "Åsa", "Привіт",
                     "x" * 999, "ä" * 500, "\x00", "\udcff".encode("utf-8", "surrogatepass")
                     .decode("utf-8", "replace")])), max_size=12).map("".join)


@given(_TEXTS, st.sampled_from(["plain", "html"]))
def test_a_text_part_is_the_bytes_mimetext_writes(text, subtype):
    assert emails._text_part(text, subtype).as_bytes(policy=_COMPAT) == _mimetext(text, subtype)


def test_text_parts_of_each_kind_are_mimetext_s():
    for text in ("", "ascii only\n", "Hej Åsa,\n\nTack.\n", "x" * 1200 + "\n", "Привет " * 300,
                 "line\r\nbreaks\rmixed\n"):
        part = emails._text_part(text, "plain")
        assert part.as_bytes(policy=_COMPAT) == _mimetext(text, "plain")
    assert emails._text_part("Åsa", "plain")["Content-Transfer-Encoding"] == "8bit"
    assert emails._text_part("Asa", "plain")["Content-Transfer-Encoding"] == "7bit"
    assert emails._text_part("Å" * 600, "plain")["Content-Transfer-Encoding"] == \
        "quoted-printable"


@pytest.mark.parametrize("text, header", [
    ("Ann\nLind", "Ann Lind"),  # a line break never starts a header
    ("Ann \x1b[31mLind\x07", "Ann [31mLind"),  # a terminal escape never reaches one
    ("Ann\x9b2J Lind", "Ann 2J Lind"),
    ("Åsa  Öberg", "Åsa Öberg"),
])
def test_a_header_value_is_one_line_of_printable_text(text, header):
    assert emails.fold(text) == header


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=400))
def test_a_subject_keeps_rfc_2047_s_and_5322_s_line_limits(subject):
    """RFC 2047 section 2: an encoded word is at most 75 characters, on a line of at most 76;
    RFC 5322 section 2.1.1: no line past 998 (a word too long to fold is encoded, and so is
    text that would read as an encoded word). A reader gets the subject back."""
    import email
    import email.policy
    import re
    from datetime import datetime, timezone

    data = emails.build(("Eva", "eva@x.se"), ("Ann", "ann@x.se"), subject,
                        datetime(2026, 12, 6, 9, tzinfo=timezone.utc), "<a@x>", [], "x", None)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = head.split("\r\n")
    assert all(len(line) <= 998 for line in lines)
    words = re.findall(r"=\?utf-8\?[bq]\?[^?]*\?=", head)
    assert all(len(word) <= 75 for word in words)
    assert all(len(line) <= 76 for line in lines if "=?utf-8?" in line)
    read = email.message_from_bytes(data, policy=email.policy.default)["Subject"]
    assert read == emails.fold(subject)


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=120))
@example("Александра Константиновна Петрова-Водкина")  # a name, patronymic and surname
@example("Åsa Öberg")
def test_a_name_keeps_rfc_2047_s_limits_in_from_and_to(name):
    """RFC 2047 section 2: each encoded word of a non-ASCII name is at most 75 characters, on
    a line of at most 76; a reader decoding the words (RFC 2047 section 6.2) gets the name
    and the address back."""
    import email
    import re
    from datetime import datetime, timezone
    from email.header import decode_header, make_header
    from email.utils import getaddresses

    data = emails.build((name, "eva@x.se"), (name, "ann@x.se"), "Hej",
                        datetime(2026, 12, 6, 9, tzinfo=timezone.utc), "<a@x>", [], "x", None)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    words = re.findall(r"=\?utf-8\?[bq]\?[^?]*\?=", head)
    assert all(len(word) <= 75 for word in words)
    assert all(len(line) <= 76 for line in head.split("\r\n") if "=?utf-8?" in line)
    read = email.message_from_bytes(data, policy=_COMPAT)
    for header, address in (("From", "eva@x.se"), ("To", "ann@x.se")):
        [(shown, found)] = getaddresses([read[header]])
        assert found == address
        if not emails.fold(name).isascii():
            assert str(make_header(decode_header(shown))) == emails.fold(name)


@pytest.mark.parametrize("subject", ["x" * 1200, "Re: =?utf-8?q?hello_world?= fake"])
def test_a_subject_a_reader_would_misread_is_encoded(subject):
    import email
    import email.policy
    from datetime import datetime, timezone

    data = emails.build(("Eva", "eva@x.se"), ("Ann", "ann@x.se"), subject,
                        datetime(2026, 12, 6, 9, tzinfo=timezone.utc), "<a@x>", [], "x", None)
    assert b"Subject: =?utf-8?" in data
    assert email.message_from_bytes(data, policy=email.policy.default)["Subject"] == subject

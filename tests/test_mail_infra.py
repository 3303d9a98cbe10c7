"""The mail test harness works: a real Dovecot over verified TLS, its failure modes, the Maildir
trees and the message corpus that ``sync`` and ``push`` will be tested with (tests/mail/)."""
from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import email.utils
import imaplib
import mailbox
import socket
import ssl
import time

import pytest

from mail import messages as corpus
from mail import server as mailserver
from mail.faults import WRONG_PASSWORD
from mail.fixtures import *  # noqa: F401,F403  (pytest fixtures)
from mail.maildir import build_maildir, make_maildir
from mail.messages import CADENCE_ID, KINDS, make
from mail.server import (FOLDERS, append, change_uidvalidity, messages,
                         parse_list_line, special_use, status, uidvalidity)

UTC = dt.timezone.utc
DRAFT = (b"From: Eva Lind <eva@konsult.example>\r\nTo: Jonas Ek <jonas.ek@nordbygg.example>\r\n"
         b"Subject: Thank you for the meeting\r\nDate: Thu, 03 Dec 2026 09:00:00 +0100\r\n"
         b"Message-ID: " + CADENCE_ID.encode() + b"\r\nX-Unsent: 1\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Jonas,\r\n\r\nthank you.\r\n")


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def text(part: email.message.EmailMessage) -> str:
    """A text part's content with LF line ends (the parser keeps the CRLF of the wire)."""
    return part.get_content().replace("\r\n", "\n")


@contextlib.contextmanager
def connected(imap: imaplib.IMAP4):
    """Close the socket whatever happened; imaplib's own exit logs out, which raises again
    on a connection that was cut."""
    try:
        yield imap
    finally:
        with contextlib.suppress(OSError):
            imap.shutdown()


def lines_of(imap: imaplib.IMAP4, typ: str, data: list, name: str) -> list[bytes]:
    assert typ == "OK", data
    return [line for line in imap._untagged_response(typ, data, name)[1] if line]


# --- the server ------------------------------------------------------------------------------

def test_implicit_tls_verifies_against_the_throwaway_ca(mail_server, mail_user):
    for host in ("127.0.0.1", "localhost"):  # both names are in the certificate
        context = ssl.create_default_context(cafile=str(mail_server.ca_file))
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        with imaplib.IMAP4_SSL(host, mail_server.imaps_port, ssl_context=context,
                               timeout=10) as imap:
            names = dict(imap.sock.getpeercert()["subjectAltName"])
            assert names == {"DNS": "localhost", "IP Address": "127.0.0.1"}
            assert imap.login(mail_user.login, mail_user.password)[0] == "OK"


def test_the_machine_trust_store_does_not_know_the_test_ca(mail_server):
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(mail_server.host, mail_server.imaps_port,
                          ssl_context=ssl.create_default_context(), timeout=10)


def test_ssl_cert_file_makes_the_default_context_trust_the_ca(mail_server, mail_user,
                                                               monkeypatch):
    # How a test lets cadence's own ssl.create_default_context() verify the test server.
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_server.ca_file))
    with imaplib.IMAP4_SSL(mail_server.host, mail_server.imaps_port,
                           ssl_context=ssl.create_default_context(), timeout=10) as imap:
        assert imap.login(mail_user.login, mail_user.password)[0] == "OK"


def test_starttls_on_the_plain_port(mail_server, mail_user):
    with imaplib.IMAP4(mail_server.host, mail_server.imap_port, timeout=10) as imap:
        assert "STARTTLS" in imap.capabilities
        assert not isinstance(imap.sock, ssl.SSLSocket)
        imap.starttls(ssl_context=mail_server.ssl_context())
        assert isinstance(imap.sock, ssl.SSLSocket)
        assert imap.login(mail_user.login, mail_user.password)[0] == "OK"
    with mail_server.connect_starttls(mail_user) as imap:
        assert imap.state == "AUTH"


def test_special_use_folders_are_listed_with_their_attributes(mail_server, mail_user):
    expected = {"Junk": r"\Junk", "Sent": r"\Sent", "Drafts": r"\Drafts",
                "Archive": r"\Archive", "Trash": r"\Trash"}
    with mail_server.connect(mail_user) as imap:
        assert "SPECIAL-USE" in imap.capabilities or \
            "SPECIAL-USE" in imap.capability()[1][0].decode().split()
        # RFC 6154 selection option: only the special-use folders
        typ, data = imap._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
        only = {parse_list_line(line)[2]: parse_list_line(line)[0]
                for line in lines_of(imap, typ, data, "LIST")}
        uses = {name: [a for a in attrs if a in expected.values()] for name, attrs in only.items()}
        assert uses == {name: [use] for name, use in expected.items()}
        # RFC 6154 return option: every folder, with the attributes
        typ, data = imap._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
        returned = {parse_list_line(line)[2]: parse_list_line(line)[0]
                    for line in lines_of(imap, typ, data, "LIST")}
        assert set(returned) == set(FOLDERS)
        # and a plain LIST, as imaplib sends it, shows them too; "." separates levels
        plain = [parse_list_line(line) for line in imap.list()[1]]
        assert {name: use for attrs, _, name in plain for use in attrs
                if use in expected.values()} == expected
        assert {delimiter for _, delimiter, _ in plain} == {"."}
    assert special_use(mail_server, mail_user) == {use: name for name, use in expected.items()}


def test_append_and_fetch_round_trip_with_the_draft_flag(mail_server, mail_user):
    when = dt.datetime(2026, 12, 3, 9, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    uid = append(mail_server, mail_user, "Drafts", DRAFT, flags=[r"\Draft"], date=when)
    assert uid == 1
    [stored] = messages(mail_server, mail_user, "Drafts")
    assert stored == (1, (r"\Draft",), when, DRAFT)
    assert parse(stored.data)["Message-ID"] == CADENCE_ID
    # Dovecot's own Maildir++ files: .Drafts/cur/<name>:2,D, stored with LF line ends
    drafts = mailbox.Maildir(mail_user.maildir, factory=None, create=False).get_folder("Drafts")
    [(key, message)] = drafts.items()
    assert message.get_flags() == "D" and message.get_subdir() == "cur"
    assert drafts.get_bytes(key) == DRAFT.replace(b"\r\n", b"\n")
    assert message.get_date() == when.timestamp()  # INTERNALDATE is the file's mtime


def test_uid_and_uidvalidity_are_visible(mail_server, mail_user):
    before = status(mail_server, mail_user, "INBOX")
    assert before["MESSAGES"] == 0 and before["UIDNEXT"] == 1 and before["UIDVALIDITY"] > 0
    first = append(mail_server, mail_user, "INBOX", make("gmail_reply"))
    second = append(mail_server, mail_user, "INBOX", make("outlook_reply"), flags=[r"\Seen"])
    assert (first, second) == (1, 2)
    after = status(mail_server, mail_user, "INBOX")
    assert after == {"MESSAGES": 2, "UIDNEXT": 3, "UIDVALIDITY": before["UIDVALIDITY"],
                     "UNSEEN": 1}
    with mail_server.connect(mail_user) as imap:
        typ, data = imap.select("INBOX", readonly=True)
        assert (typ, data) == ("OK", [b"2"])
        assert imap.response("UIDVALIDITY")[1] == [str(before["UIDVALIDITY"]).encode()]
        typ, data = imap.uid("SEARCH", None, "UNSEEN")
        assert data == [b"1"]
    assert [m.flags for m in messages(mail_server, mail_user, "INBOX")] == [(), (r"\Seen",)]


@pytest.mark.parametrize("folder", ["Junk", "INBOX"])
def test_uidvalidity_change_keeps_the_messages(mail_server, mail_user, folder):
    when = dt.datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    for kind, flags in (("junk_reply", [r"\Seen"]), ("gmail_reply", []),
                        ("outlook_reply", [r"\Flagged", r"\Seen"])):
        append(mail_server, mail_user, folder, make(kind), flags=flags, date=when)
    before = messages(mail_server, mail_user, folder)
    old = uidvalidity(mail_server, mail_user, folder)
    new = change_uidvalidity(mail_server, mail_user, folder)
    assert new > old and uidvalidity(mail_server, mail_user, folder) == new
    after = messages(mail_server, mail_user, folder)
    assert [m.uid for m in after] == [1, 2, 3]
    assert sorted((m.data, set(m.flags), m.internaldate) for m in after) == \
        sorted((m.data, set(m.flags), m.internaldate) for m in before)
    assert change_uidvalidity(mail_server, mail_user, folder) > new  # again, within the second


def test_each_mail_user_starts_empty(mail_server, mail_user):
    other = mail_server.add_user()
    assert other.login != mail_user.login and other.home != mail_user.home
    append(mail_server, other, "INBOX", make("stranger"))
    for folder in FOLDERS:
        assert messages(mail_server, mail_user, folder) == []
        assert mail_user.folder_path(folder).joinpath("cur").is_dir()  # materialized on disk
    mailserver.empty_folders(mail_server, other)
    assert messages(mail_server, other, "INBOX") == []


def test_wrong_password_is_refused_with_the_server_words(mail_server, mail_user):
    with imaplib.IMAP4_SSL(mail_server.host, mail_server.imaps_port,
                           ssl_context=mail_server.ssl_context(), timeout=10) as imap:
        with pytest.raises(imaplib.IMAP4.error) as refused:
            imap.login(mail_user.login, WRONG_PASSWORD)
    words = refused.value.args[0]
    words = words.decode() if isinstance(words, bytes) else words
    assert words == "[AUTHENTICATIONFAILED] Authentication failed."
    assert f"user=<{mail_user.login}>" in mail_server.log()


def test_missing_dovecot_fails_the_test_instead_of_skipping(monkeypatch, pytestconfig):
    monkeypatch.setattr(mailserver, "find_dovecot", lambda: None)
    monkeypatch.setattr(mailserver, "_SHARED", {})
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install dovecot-imapd"):
        mailserver.shared_server(pytestconfig)
    with pytest.raises(mailserver.DovecotError, match=r"apt-get install dovecot-imapd"):
        with mailserver.dovecot_server():
            pass


def test_a_server_that_cannot_start_says_why_with_its_output(monkeypatch, tmp_path):
    monkeypatch.setattr(mailserver, "CONFIG", mailserver.CONFIG + "no_such_setting = 1\n")
    with pytest.raises(mailserver.DovecotError) as failed:
        with mailserver.dovecot_server(tmp_path / "broken"):
            pass
    assert "Dovecot did not start" in str(failed.value)
    assert "no_such_setting" in str(failed.value)


# --- failures --------------------------------------------------------------------------------

def test_refused_port(refused_port):
    with pytest.raises(ConnectionRefusedError):
        imaplib.IMAP4_SSL(refused_port.host, refused_port.port, timeout=5)


def test_silent_server_times_out(silent_server, mail_server):
    started = time.monotonic()
    with pytest.raises(socket.timeout):  # TimeoutError: the TLS handshake gets no answer
        imaplib.IMAP4_SSL(silent_server.host, silent_server.port,
                          ssl_context=mail_server.ssl_context(), timeout=0.3)
    with pytest.raises(TimeoutError):    # the greeting never comes
        imaplib.IMAP4(silent_server.host, silent_server.port, timeout=0.3)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_an_untrusted_certificate_fails_verification(mail_server, mail_user, untrusted_tls,
                                                     untrusted_starttls, security):
    endpoint = untrusted_tls if security == "tls" else untrusted_starttls
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        if security == "tls":
            imaplib.IMAP4_SSL(endpoint.host, endpoint.port,
                              ssl_context=mail_server.ssl_context(), timeout=10)
        else:
            with connected(imaplib.IMAP4(endpoint.host, endpoint.port, timeout=10)) as imap:
                imap.starttls(ssl_context=mail_server.ssl_context())
    # without verification (`tls_verify: false`) the same endpoint is the real server
    lax = ssl.create_default_context()
    lax.check_hostname, lax.verify_mode = False, ssl.CERT_NONE
    if security == "tls":
        imap = imaplib.IMAP4_SSL(endpoint.host, endpoint.port, ssl_context=lax, timeout=10)
    else:
        imap = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=10)
        imap.starttls(ssl_context=lax)
    with imap:
        imap.login(mail_user.login, mail_user.password)
        assert imap.select("Junk", readonly=True) == ("OK", [b"0"])


def test_a_certificate_for_another_host_fails_verification(mail_server, wrong_host_tls):
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        imaplib.IMAP4_SSL(wrong_host_tls.host, wrong_host_tls.port,
                          ssl_context=mail_server.ssl_context(), timeout=10)


def test_the_proxy_passes_through_and_notes_the_commands(mail_server, mail_user, imap_proxy):
    proxy = imap_proxy()
    append(mail_server, mail_user, "Junk", make("junk_reply"))
    with imaplib.IMAP4_SSL(proxy.host, proxy.port, ssl_context=mail_server.ssl_context(),
                           timeout=10) as imap:
        imap.login(mail_user.login, mail_user.password)
        imap.select("Junk", readonly=True)
        typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
        assert data[0][1] == make("junk_reply")
    assert proxy.commands == ["CAPABILITY", f"LOGIN {mail_user.login} ***", "EXAMINE Junk",
                              "UID FETCH 1:* (BODY.PEEK[])", "LOGOUT"]
    assert mail_user.password not in repr(proxy.commands)
    assert proxy.command_names == ["CAPABILITY", "LOGIN", "EXAMINE", "UID FETCH", "LOGOUT"]
    assert proxy.cuts == 0


def test_the_proxy_cuts_the_connection_mid_fetch(mail_server, mail_user, imap_proxy):
    big = make("huge", size=300_000)
    append(mail_server, mail_user, "INBOX", big)
    proxy = imap_proxy(cut_after_command="FETCH", then_bytes=4096, cut_connections=1)
    with connected(imaplib.IMAP4_SSL(proxy.host, proxy.port, timeout=10,
                                     ssl_context=mail_server.ssl_context())) as imap:
        imap.login(mail_user.login, mail_user.password)
        imap.select("INBOX", readonly=True)
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert proxy.cuts == 1
    # the next connection is not cut: a second run can finish
    with imaplib.IMAP4_SSL(proxy.host, proxy.port, ssl_context=mail_server.ssl_context(),
                           timeout=10) as imap:
        imap.login(mail_user.login, mail_user.password)
        imap.select("INBOX", readonly=True)
        assert imap.uid("FETCH", "1", "(BODY.PEEK[])")[1][0][1] == big
    assert proxy.cuts == 1 and proxy.connections == 2


def test_the_proxy_cuts_after_a_count_of_bytes(mail_server, mail_user, imap_proxy):
    proxy = imap_proxy(cut_after_bytes=10, reset=True)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        imaplib.IMAP4_SSL(proxy.host, proxy.port, ssl_context=mail_server.ssl_context(),
                          timeout=10)
    assert proxy.cuts == 1


def test_the_proxy_can_stall_a_command(mail_server, mail_user, imap_proxy):
    proxy = imap_proxy(cut_after_command="SELECT", occurrence=2, stall=True)
    with connected(imaplib.IMAP4_SSL(proxy.host, proxy.port, timeout=0.5,
                                     ssl_context=mail_server.ssl_context())) as imap:
        imap.login(mail_user.login, mail_user.password)
        assert imap.select("INBOX")[0] == "OK"
        with pytest.raises(TimeoutError):
            imap.select("Junk")
    assert proxy.commands[-1] == "SELECT Junk" and proxy.cuts == 1


def test_the_proxy_speaks_starttls(mail_server, mail_user, imap_proxy):
    proxy = imap_proxy(security="starttls")
    with imaplib.IMAP4(proxy.host, proxy.port, timeout=10) as imap:
        imap.starttls(ssl_context=mail_server.ssl_context())
        imap.login(mail_user.login, mail_user.password)
        assert imap.select("Sent", readonly=True)[0] == "OK"
    assert proxy.commands[:2] == ["CAPABILITY", "STARTTLS"]


# --- Maildir trees ---------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["mbsync", "offlineimap", "dovecot"])
def test_a_maildir_tree_reads_with_the_mailbox_module(tmp_path, style):
    dated = dt.datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    tree = build_maildir(tmp_path / "Mail", {
        "INBOX": [make("gmail_reply"), (make("broken_date"), {"flags": "S", "mtime": dated})],
        "Junk": [(make("junk_reply"), {"flags": "S"})],
        "Sent": [(make("sent_copy"), {"flags": "S"})],
        "Drafts": [(DRAFT, {"flags": "D"})],
        "Projects.Acme": [make("stranger")],
    }, style=style)
    tree.add("INBOX", make("no_message_id"), subdir="tmp")  # half-written: not a message
    inbox = mailbox.Maildir(tree.root, factory=None, create=False)
    assert sorted(inbox.list_folders()) == ["Drafts", "Junk", "Projects.Acme", "Sent"]
    found = sorted((m.get_subdir(), m.get_flags(), m.get_date(), parse(bytes(m))["Subject"])
                   for m in inbox)
    assert found == [("cur", "S", dated.timestamp(), "Re: Thank you for the meeting"),
                     ("new", "", found[1][2], "Re: Thank you for the meeting")]
    assert parse(bytes(inbox.get_folder("Junk").values()[0]))["X-Spam-Flag"] == "YES"
    [draft] = inbox.get_folder("Drafts")
    assert draft.get_flags() == "D" and parse(bytes(draft))["Message-ID"] == CADENCE_ID
    assert [parse(bytes(m))["Message-ID"] for m in inbox.get_folder("Sent")] == [CADENCE_ID]
    assert len(inbox.get_folder("Projects.Acme")) == 1
    assert len(list(tree)) == 6
    names = [path.name for path in tree.files("INBOX")]
    assert names[1].endswith(":2,S") and ":2," not in names[0]
    if style == "mbsync":
        assert (tree.root / ".Junk" / ".mbsyncstate").is_file()


def test_a_maildir_tree_is_the_same_on_every_build(tmp_path):
    first = build_maildir(tmp_path / "a", {"INBOX": [make("gmail_reply")]})
    second = build_maildir(tmp_path / "b", {"INBOX": [make("gmail_reply")]})
    assert [p.name for p in first] == [p.name for p in second]
    assert make_maildir(tmp_path / "c").files("Drafts") == []


def test_the_maildir_tree_fixture(maildir_tree):
    path = maildir_tree.add("Drafts", DRAFT, flags="D")
    assert path.parent == maildir_tree.root / ".Drafts" / "cur" and path.name.endswith(":2,D")


# --- the corpus ------------------------------------------------------------------------------

# kind -> (From address, Subject, Message-ID check, In-Reply-To)
HEADERS = {
    "gmail_reply": ("anna.berg@gmail.com", "Re: Thank you for the meeting", "@mail.gmail.com>",
                    CADENCE_ID),
    "outlook_reply": ("jonas.ek@nordbygg.example", "RE: Thank you for the meeting",
                      ".prod.outlook.com>", CADENCE_ID),
    "autoreply_exchange": ("jonas.ek@nordbygg.example", "Automatic reply: Thank you for the "
                           "meeting", ".prod.outlook.com>", CADENCE_ID),
    "autoreply_x_autoreply": ("karin@dahlredovisning.example", "Re: Thank you for the meeting",
                              "@dahlredovisning.example>", CADENCE_ID),
    "autoreply_x_autorespond": ("karin@dahlredovisning.example", "Autoreply: Thank you for the "
                                "meeting", "@dahlredovisning.example>", CADENCE_ID),
    "autoreply_precedence": ("karin@dahlredovisning.example", "Out of Office: Thank you for the "
                             "meeting", "@dahlredovisning.example>", CADENCE_ID),
    "auto_submitted_no": ("karin@dahlredovisning.example", "Re: Thank you for the meeting",
                          "@dahlredovisning.example>", CADENCE_ID),
    "postfix_bounce": ("MAILER-DAEMON@mail.konsult.example", "Undelivered Mail Returned to "
                       "Sender", "@mail.konsult.example>", None),
    "gmail_bounce": ("mailer-daemon@googlemail.com", "Delivery Status Notification (Failure)",
                     ".GMR@mx.google.com>", CADENCE_ID),
    "delayed_dsn": ("MAILER-DAEMON@mail.konsult.example", "Delayed Mail (still being retried)",
                    "@mail.konsult.example>", None),
    "junk_reply": ("jonas.ek@nordbygg.example", "Re: Thank you for the meeting",
                   "@nordbygg.example>", CADENCE_ID),
    "stranger": ("lars.holm@nordbygg.example", "Question about your workshops",
                 "@nordbygg.example>", None),
    "russian_reply": ("anna.smirnova@yandex.ru", "Re: Спасибо за встречу", "@mail.yandex.ru>",
                      CADENCE_ID),
    "ukrainian_reply": ("olena.kovalenko@budinvest.example", "ВІДП: Дякуємо за зустріч",
                        ".prod.outlook.com>", CADENCE_ID),
    "swedish_reply": ("asa.oberg@bygghandel.example", "Sv: Tack för mötet",
                      "@bygghandel.example>", CADENCE_ID),
    "idn_sender": ("juergen@xn--mller-bau-q9a.example", "Re: Thank you for the meeting",
                   "@xn--mller-bau-q9a.example>", CADENCE_ID),
    "sent_copy": ("eva@konsult.example", "Thank you for the meeting", CADENCE_ID, None),
    "hyperlink_subject": ("anna.berg@gmail.com", corpus.HYPERLINK, "@gmail.com>", CADENCE_ID),
    "broken_date": ("anna.berg@gmail.com", "Re: Thank you for the meeting", "@gmail.com>",
                    CADENCE_ID),
    "no_message_id": ("anna.berg@gmail.com", "Re: Thank you for the meeting", None, CADENCE_ID),
    "deep_multipart": ("anna.berg@gmail.com", "Re: Thank you for the meeting", "@gmail.com>",
                       CADENCE_ID),
}
# checked one by one below
SPECIAL = {"idn_sender_utf8", "header_injection", "huge"}


def test_every_kind_is_checked():
    assert set(HEADERS) | SPECIAL == set(KINDS)


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_corpus_message_parses_with_its_key_headers(kind):
    data = make(kind)
    assert data == make(kind)  # the same bytes every time
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only
    message = parse(data)
    sender, subject, message_id, in_reply_to = HEADERS[kind]
    assert message["From"].addresses[0].addr_spec == sender
    assert message["Subject"] == subject
    if message_id is None:
        assert message["Message-ID"] is None
    else:
        assert message["Message-ID"].endswith(message_id)
    assert message["In-Reply-To"] == in_reply_to
    if in_reply_to is not None and kind != "gmail_bounce":
        assert message["References"] == in_reply_to
    if kind == "broken_date":
        assert message["Date"].datetime is None and message["Date"].defects
    else:
        assert message["Date"].datetime is not None
        assert message["Date"].datetime.astimezone(UTC) == corpus.DATE.astimezone(UTC)
    assert message.get_body(("plain", "html")) is not None


def test_fields_fill_the_templates():
    data = make("gmail_reply", from_addr="kim@gmail.com", from_name="Kim Ng",
                to_addr="eva@example.org", date=dt.datetime(2027, 1, 4, 8, 0, tzinfo=UTC),
                message_id="<x1@mail.gmail.com>", in_reply_to="abc@konsult.example",
                references=["first@konsult.example", "abc@konsult.example"],
                subject="Offer", body="Yes, please.")
    message = parse(data)
    assert str(message["From"]) == "Kim Ng <kim@gmail.com>"
    assert message["To"].addresses[0].addr_spec == "eva@example.org"
    assert message["Date"].datetime == dt.datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    assert message["Message-ID"] == "<x1@mail.gmail.com>"
    assert message["In-Reply-To"] == "<abc@konsult.example>"
    assert message["References"] == "<first@konsult.example> <abc@konsult.example>"
    assert message["Subject"] == "Re: Offer"
    assert text(message.get_body(("plain",))).startswith("Yes, please.\n")
    with pytest.raises(TypeError, match="recipient"):
        make("gmail_reply", recipient="x@example.org")
    with pytest.raises(ValueError, match="unknown kind"):
        make("fax")


def test_gmail_reply_is_multipart_alternative_with_the_quote():
    message = parse(make("gmail_reply"))
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert "wrote:\n\n> Thank you for the meeting" in text(plain)
    assert 'class="gmail_quote"' in rich.get_content()
    assert message["DKIM-Signature"] and message["X-Gm-Message-State"]


def test_outlook_reply_carries_exchange_threading():
    message = parse(make("outlook_reply"))
    assert message["Thread-Topic"] == "Thank you for the meeting"
    assert len(__import__("base64").b64decode(message["Thread-Index"])) == 22
    assert message["X-MS-Has-Attach"] == ""
    assert "Tack för senast" in message.get_body(("plain",)).get_content()
    assert message.get_body(("plain",)).get_content_charset() == "iso-8859-1"


@pytest.mark.parametrize("kind,header,value", [
    ("autoreply_exchange", "Auto-Submitted", "auto-replied"),
    ("autoreply_exchange", "X-Auto-Response-Suppress", "All"),
    ("autoreply_x_autoreply", "X-Autoreply", "yes"),
    ("autoreply_x_autorespond", "X-Autorespond", "Thank you for your message"),
    ("autoreply_precedence", "Precedence", "auto_reply"),
    ("auto_submitted_no", "Auto-Submitted", "no"),
    ("postfix_bounce", "Auto-Submitted", "auto-replied"),
    ("junk_reply", "X-Spam-Flag", "YES"),
])
def test_automatic_answers_carry_their_mark(kind, header, value):
    assert parse(make(kind))[header] == value


def test_each_autoreply_variant_has_one_mark_only():
    marks = ("Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence")
    for kind, mark in (("autoreply_x_autoreply", "X-Autoreply"),
                       ("autoreply_x_autorespond", "X-Autorespond"),
                       ("autoreply_precedence", "Precedence")):
        message = parse(make(kind))
        assert [m for m in marks if message[m] is not None] == [mark]


def delivery_status(message):
    [part] = [p for p in message.walk() if p.get_content_type() == "message/delivery-status"]
    per_message, *per_recipient = part.get_payload()
    return per_message, per_recipient


@pytest.mark.parametrize("kind,action,status", [("postfix_bounce", "failed", "5.1.1"),
                                                ("gmail_bounce", "failed", "5.1.1"),
                                                ("delayed_dsn", "delayed", "4.4.1")])
def test_delivery_reports_follow_rfc_3464(kind, action, status):
    message = parse(make(kind, recipient="kim@nordbygg.example"))
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    per_message, [recipient] = delivery_status(message)
    assert per_message["Reporting-MTA"].startswith("dns; ")
    assert recipient["Final-Recipient"] == "rfc822; kim@nordbygg.example"
    assert (recipient["Action"], recipient["Status"]) == (action, status)
    assert recipient["Diagnostic-Code"].split(";")[0] in ("smtp", "X-Postfix")
    first = next(message.iter_parts())
    assert first.get_content_type() in ("text/plain", "multipart/related")


def test_bounces_return_the_original_message_id():
    headers = next(p for p in parse(make("postfix_bounce")).walk()
                   if p.get_content_type() == "text/rfc822-headers")
    returned = email.message_from_string(headers.get_content(), policy=email.policy.default)
    assert returned["Message-ID"] == CADENCE_ID and returned["X-Unsent"] == "1"
    for kind, options in (("postfix_bounce", {"returned": "message"}), ("gmail_bounce", {})):
        [original] = [p for p in parse(make(kind, **options)).walk()
                      if p.get_content_type() == "message/rfc822"]
        assert original.get_content()["Message-ID"] == CADENCE_ID
    delayed = next(p for p in parse(make("delayed_dsn")).walk()
                   if p.get_content_type() == "text/rfc822-headers")
    assert CADENCE_ID in delayed.get_content()


def test_international_replies_decode():
    russian = parse(make("russian_reply"))
    assert russian["From"].addresses[0].display_name == "Анна Смирнова"
    assert "Спасибо за встречу" in russian.get_content()
    assert b"=?utf-8?b?" in make("russian_reply")
    ukrainian = parse(make("ukrainian_reply"))
    assert ukrainian["From"].addresses[0].display_name == "Олена Коваленко"
    assert ukrainian.get_content_charset() == "windows-1251"
    assert "Ґрунтовна" in ukrainian.get_content()
    assert b"=?windows-1251?b?" in make("ukrainian_reply")
    swedish = parse(make("swedish_reply"))
    assert swedish["From"].addresses[0].display_name == "Åsa Öberg"
    assert swedish["Mime-Version"].startswith("1.0 (Mac OS X Mail")
    assert "Tack för mötet i går" in swedish.get_content()
    assert b"=?utf-8?q?Sv=3A_Tack_f=C3=B6r_m=C3=B6tet?=" in make("swedish_reply")
    for kind in ("russian_reply", "ukrainian_reply", "swedish_reply"):
        assert make(kind).isascii()  # every non-ASCII character is encoded, as clients do


def test_idn_sender_in_punycode_and_in_utf8():
    address = parse(make("idn_sender"))["From"].addresses[0]
    assert address.domain == "xn--mller-bau-q9a.example"
    assert address.domain.encode("ascii").decode("idna") == "müller-bau.example"
    assert address.display_name == "Jürgen Müller"
    raw = make("idn_sender_utf8")
    assert "jürgen@müller-bau.example".encode() in raw
    message = parse(raw)
    assert str(message["From"]) == "Jürgen Müller <jürgen@müller-bau.example>"
    assert message["Subject"] == "Re: Thank you for the meeting"
    spec = message["From"].addresses[0].addr_spec  # surrogate escapes, as documented
    assert spec.encode("utf-8", "surrogateescape").decode("utf-8") == "jürgen@müller-bau.example"


def test_sent_copy_keeps_the_draft_message_id():
    message = parse(make("sent_copy", message_id="<0123abcd@konsult.example>",
                         to_addr="kim@nordbygg.example", to_name="Kim Ng"))
    assert message["Message-ID"] == "<0123abcd@konsult.example>"
    assert message["From"].addresses[0].addr_spec == corpus.USER
    assert str(message["To"]) == "Kim Ng <kim@nordbygg.example>"
    assert message["User-Agent"] == "Mozilla Thunderbird"


def test_header_injection_stays_inside_its_header():
    message = parse(make("header_injection"))
    assert message["Subject"] == "Re: Thank you for the meeting\r\n" + corpus.INJECTED
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert [name for name, _ in message.raw_items()].count("From") == 1
    # the decoded display name holds CR LF, which the address parser refuses outright:
    with pytest.raises(ValueError, match="CR or LF"):
        message["From"]
    raw = dict(message.raw_items())["From"]
    assert email.utils.parseaddr(raw)[1] == "anna.berg@gmail.com"


def test_deep_multipart_parses_two_hundred_levels():
    message = parse(make("deep_multipart"))
    depth, part = 0, message
    while part.is_multipart():
        [part] = part.get_payload()
        depth += 1
    assert depth == corpus.DEEP == 200
    assert text(part) == "the bottom of the nest\n"


def test_huge_message_with_a_fifty_megabyte_attachment():
    data = make("huge")
    assert make("huge") is not data and make("huge") == data  # the same bytes every time
    assert corpus.HUGE_SIZE == 50 * 1024 * 1024 and len(data) > corpus.HUGE_SIZE * 4 // 3
    # What a client reads first (BODY.PEEK[HEADER]): the headers alone parse at once.
    head = parse(data[:data.index(b"\r\n\r\n") + 4])
    assert head["Subject"] == "Re: Thank you for the meeting"
    assert head["In-Reply-To"] == CADENCE_ID and head.get_content_type() == "multipart/mixed"
    assert data.endswith(f"--{head.get_boundary()}--\r\n".encode())
    # The body's shape, parsed whole: the same message with a smaller attachment (parsing all
    # 50 MiB takes the email package several seconds).
    small = parse(make("huge", size=3 * 1024 * 1024))
    body, attachment = small.iter_parts()
    assert text(body).startswith("Hi Eva,")
    assert attachment.get_filename() == "offer-signed.pdf"
    assert len(attachment.get_content()) == 3 * 1024 * 1024


def test_the_corpus_survives_a_trip_through_dovecot(mail_server, mail_user):
    kinds = sorted(set(KINDS) - {"huge"})
    with mail_server.connect(mail_user) as imap:
        for kind in kinds:
            typ, data = imap.append("INBOX", None, None, make(kind))
            assert typ == "OK", (kind, data)
    stored = messages(mail_server, mail_user, "INBOX")
    assert [m.data for m in stored] == [make(kind) for kind in kinds]
